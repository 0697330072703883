/* Fuzzing of the results reader: a fixed-seed series of damaged copies of a current file
 * (with its checksum header, with a header forged to match the damage, and without a
 * header, as h5py writes them) and of a format-1 file. Each must be read or refused with a
 * message naming it; libhdf5 may crash or loop on some, but only ever in the reader process.
 * A folder of them all is then tidied in one pass: every file stays (a whole run) or is moved
 * to bad/. MTL_FUZZ_MUTANTS is set by CMake (fewer under the sanitizers). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "results.h"

#ifndef MTL_FUZZ_MUTANTS
#define MTL_FUZZ_MUTANTS 600
#endif

typedef struct {
    unsigned char *b;
    size_t n;
} bytes;

static bytes slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    bytes x = {NULL, 0};
    size_t cap = 0;
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (x.n == cap) x.b = realloc(x.b, cap = cap ? 2 * cap : 1 << 16);
        x.b[x.n++] = (unsigned char)c;
    }
    fclose(f);
    return x;
}

static void spill(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static uint64_t next(uint64_t *s) /* xorshift64* */
{
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* One to four edits: a byte set, a bit flipped, a run of zeros or of 0xff; now and then a cut. */
static size_t mutate(unsigned char *b, size_t n, size_t from, uint64_t *s)
{
    int edits = 1 + (int)(next(s) % 4);
    for (int e = 0; e < edits; e++) {
        size_t at = from + (size_t)(next(s) % (n - from));
        switch (next(s) % 5) {
        case 0: b[at] = (unsigned char)next(s); break;
        case 1: b[at] ^= (unsigned char)(1u << (next(s) % 8)); break;
        case 2:
        case 3: {
            size_t len = 1 + (size_t)(next(s) % 64);
            if (len > n - at) len = n - at;
            memset(b + at, e % 2 ? 0xff : 0, len);
            break;
        }
        default:
            if (next(s) % 4 == 0 && at > from + 64) n = at;
            else b[at] = 0;
        }
    }
    return n;
}

/* The 512-byte header of a current file, recomputed for the bytes after it (FNV-1a 64). */
static void forge_header(unsigned char *b, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 512; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    char text[512];
    memset(text, 0, sizeof text);
    snprintf(text, sizeof text, "mtlbench results file\nbytes %zu\nfnv1a64 %016" PRIx64 "\n", n, h);
    memcpy(b, text, 512);
}

static void make_run(run_record *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->model, "cnn1d"), strcpy(r->protocol, "spec"), strcpy(r->norm, "z"), strcpy(r->lr_step, "none");
    strcpy(r->subset, "FD001"), strcpy(r->method, "uw"), strcpy(r->status, "ok");
    r->seed = 1, r->epochs = 3, r->window = 30, r->batch = 512, r->lr = 1e-3, r->dropout = 0.5, r->val_frac = 0.2;
    run_config_id(r, r->run_id);
    r->epochs_run = 3, r->best_epoch = 2, r->rmse = 15;
    r->n_hist = 3, r->hist = calloc(3, sizeof *r->hist);
    r->n_test = 5, r->test = calloc(5, sizeof *r->test);
    for (int i = 0; i < 3; i++) r->hist[i].epoch = i + 1, r->hist[i].loss_rul = 100.0 / (i + 1);
    for (int i = 0; i < 5; i++) r->test[i].unit = i + 1, r->test[i].pred_rul = 40.0f + (float)i;
}

Test(fuzz, damaged_files_are_read_or_refused_never_crash, .timeout = 900)
{
    char dir[64], path[160], runs[96], cmd[256];
    th_tmpdir(dir, sizeof dir);
    snprintf(runs, sizeof runs, "%s/runs", dir);
    cr_assert_eq(mkdir(runs, 0777), 0);
    snprintf(path, sizeof path, "%s/good.h5", dir);
    run_record r;
    make_run(&r);
    mtl_err err;
    cr_assert_eq(results_write_all(path, &r, 1, &err), 0, "%s", err.msg);
    run_record_free(&r);
    bytes cur = slurp(path), old = slurp(MTL_TEST_FIXTURES "/format1_run.h5");
    cr_assert_gt(cur.n, 1024);
    /* the four kinds: header checked, header forged, no header, format 1 */
    const char *kind[4] = {"current", "forged", "headerless", "format1"};
    int read_ok = 0, refused = 0, reader_stopped = 0;
    uint64_t seed = 0x6d746c62656e6368ULL;
    unsigned char *m = malloc(cur.n > old.n ? cur.n : old.n);
    for (int i = 0; i < MTL_FUZZ_MUTANTS; i++) {
        int k = i % 4;
        const bytes *base = k == 3 ? &old : &cur;
        size_t skip = k == 2 ? 512 : 0, from = k == 0 || k == 1 ? 512 : skip;
        memcpy(m, base->b, base->n);
        size_t n = mutate(m, base->n, from, &seed);
        if (k == 1) forge_header(m, n);
        snprintf(path, sizeof path, "%s/%s_%03d.h5", runs, kind[k], i);
        spill(path, m + skip, n - skip);
        run_record *got = NULL;
        int nr = 0;
        err.msg[0] = '\0';
        int rc = results_read_file(path, &got, &nr, &err);
        cr_assert(rc == 0 || rc == -1);
        if (rc == 0) {
            read_ok++;
            for (int j = 0; j < nr; j++) {
                cr_assert(got[j].n_hist >= 0 && got[j].n_hist <= (int)n);
                cr_assert(got[j].n_test >= 0 && got[j].n_test <= (int)n);
                cr_assert_lt(strnlen(got[j].run_id, sizeof got[j].run_id), sizeof got[j].run_id);
                run_record_free(&got[j]);
            }
            free(got);
        } else {
            refused++;
            reader_stopped += strstr(err.msg, "reader process stopped") != NULL;
            cr_assert(strstr(err.msg, path) != NULL, "%s mutant %d: the message does not name the file: %s", kind[k], i,
                      err.msg);
        }
    }
    printf("fuzz: %d mutants: %d read, %d refused (%d of them stopped the reader process)\n", MTL_FUZZ_MUTANTS,
           read_ok, refused, reader_stopped);
    /* all at once: one tidy pass ends, every file either stays or is in bad/ */
    int moved = results_tidy_runs(runs, NULL, &err);
    cr_assert_geq(moved, 0, "%s", err.msg);
    int left = 0, aside = 0;
    DIR *d = opendir(runs);
    struct dirent *e;
    while ((e = readdir(d))) left += strstr(e->d_name, ".h5") != NULL;
    closedir(d);
    snprintf(path, sizeof path, "%s/bad", runs);
    d = opendir(path);
    while (d && (e = readdir(d))) aside += strstr(e->d_name, ".h5") != NULL;
    if (d) closedir(d);
    cr_assert_eq(aside, moved);
    cr_assert_eq(left, 0, "a mutant was taken for a whole run of its name");
    cr_assert_eq(left + aside, MTL_FUZZ_MUTANTS);
    free(m), free(cur.b), free(old.b);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}
