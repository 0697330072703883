/* Tests of the run record's HDF5 storage (src/results.c). */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <hdf5.h>

#include <dirent.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "results.h"
#include "sandbox.h"

/* ------------------------------------------------------------------ helpers */

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || !base[0]) base = "/tmp";
    size_t n = strlen(base) + 32;
    char *d = malloc(n);
    cr_assert_not_null(d);
    snprintf(d, n, "%s/mtl_results_XXXXXX", base);
    cr_assert_not_null(mkdtemp(d), "mkdtemp failed");
    return d;
}

static char *path_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    cr_assert_not_null(p);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Removes dir and everything in it (one level of subdirectories is enough here). */
static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char *p = path_in(dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) rm_tree(p);
        else unlink(p);
        free(p);
    }
    closedir(d);
    rmdir(dir);
}

/* Drops the 512-byte checksum header of a file written by results_write_all, leaving a plain
 * HDF5 file as older versions wrote them. */
static void strip_header(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    cr_assert_gt(n, 512);
    cr_assert_eq(memcmp(buf, "mtlbench results file\n", 22), 0);
    f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(buf + 512, 1, n - 512, f), n - 512);
    fclose(f);
}

/* Number of entries in dir whose name contains ".tmp.". */
static int count_tmp_files(const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    mtl_err err;
    size_t len;
    char *s = mtl_read_file(path, &len, &err);
    cr_assert_not_null(s, "%s", err.msg);
    return s;
}

/* A configuration only (metadata zero), as run_config_id sees it. */
static void base_config(run_record *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->model, "dcnn");
    strcpy(r->protocol, "spec");
    strcpy(r->norm, "z");
    strcpy(r->norm_scope, "regime");
    strcpy(r->data_digest, "0123456789abcdef");
    strcpy(r->lr_step, "none");
    strcpy(r->subset, "FD001");
    strcpy(r->method, "uw-so:2");
    r->seed = 1;
    r->epochs = 100;
    r->window = 30;
    r->batch = 512;
    r->lr = 0.001;
    r->dropout = 0.5;
    r->val_frac = 0.2;
    r->patience = 0;
    r->deterministic = 0;
}

/* A record with every field set to a distinct value; owns hist (3 rows) and test (4 rows). */
static void full_record(run_record *r, long seed)
{
    base_config(r);
    strcpy(r->subset, "FD004");
    strcpy(r->method, "fixed:0.25");
    strcpy(r->model, "cnn1d");
    strcpy(r->protocol, "li2018");
    strcpy(r->norm, "minmax");
    strcpy(r->norm_scope, "global");
    strcpy(r->data_digest, "fedcba9876543210");
    strcpy(r->lr_step, "200:0.1");
    r->seed = seed;
    r->epochs = 150;
    r->window = 40;
    r->batch = 256;
    r->patience = 17;
    r->deterministic = 1;
    r->lr = 3e-4;
    r->dropout = 0.125;
    r->val_frac = 0.15;
    run_config_id(r, r->run_id);
    strcpy(r->status, "diverged");
    r->ranks = 4;
    r->threads = 12;
    r->wall_s = 1234.5678;
    strcpy(r->git, "0123456789ab-dirty");
    strcpy(r->version, "0.1.0");
    strcpy(r->build, "GNU 12.2.0, Release -O3 -DNDEBUG, -march=native (znver4), -ffp-contract=fast, sanitizers: none");
    memset(r->host, 'h', sizeof r->host - 1); /* longest host that fits: 127 chars */
    r->host[sizeof r->host - 1] = '\0';
    r->host[0] = 'n';
    strcpy(r->start_time, "2024-05-01T12:34:56Z");
    r->rmse = 13.25;
    r->rmse_uncapped = 17.0625;
    r->mae = 9.75;
    r->score = 321.125;
    r->acc = 0.875;
    r->f1 = 0.8125;
    r->best_val_rmse = 12.0625;
    r->best_epoch = 42;
    r->epochs_run = 3; /* one history row per epoch run */
    r->samples_per_s = 98765.4321;
    r->comm_fraction = 0.0625;
    r->w_rul = 0.7;
    r->w_health = 0.3;
    strcpy(r->param_digest, "fedcba9876543210");

    r->n_hist = 3;
    r->hist = calloc(3, sizeof *r->hist);
    cr_assert_not_null(r->hist);
    for (int i = 0; i < 3; i++) {
        run_epoch *e = &r->hist[i];
        e->epoch = i + 1;
        e->loss_rul = 100.0 / (i + 1);
        e->loss_health = 0.5 + 0.01 * i;
        e->w_rul = 0.6 + 0.1 * i;
        e->w_health = 0.4 - 0.1 * i;
        e->s_rul = i == 0 ? NAN : -0.25 * i;
        e->s_health = 0.125 * i;
        e->val_rmse = 20.0 - i;
        e->val_acc = 0.7 + 0.05 * i;
        e->seconds = 1.5 + i;
        e->comm_seconds = 0.1 * (i + 1);
        e->compute_seconds = 0.9 * (i + 1);
        e->samples_per_s = 5000.0 + 100.0 * i;
    }
    r->n_test = 4;
    r->test = calloc(4, sizeof *r->test);
    cr_assert_not_null(r->test);
    for (int i = 0; i < 4; i++) {
        run_test_row *t = &r->test[i];
        t->unit = 10 + i;
        t->pred_rul = 50.5f + (float)i;
        t->true_rul = 48.0f + 2.0f * (float)i;
        t->true_rul_raw = 148.0f + (float)i;
        t->pred_health = i % 3;
        t->true_health = (i + 1) % 3;
    }
}

static void assert_same_run(const run_record *a, const run_record *b)
{
    cr_assert_str_eq(a->subset, b->subset);
    cr_assert_str_eq(a->method, b->method);
    cr_assert_str_eq(a->model, b->model);
    cr_assert_eq(a->seed, b->seed);
    cr_assert_eq(a->epochs, b->epochs);
    cr_assert_eq(a->window, b->window);
    cr_assert_eq(a->batch, b->batch);
    cr_assert_eq(a->patience, b->patience);
    cr_assert_eq(a->deterministic, b->deterministic);
    cr_assert(a->lr == b->lr);
    cr_assert(a->dropout == b->dropout);
    cr_assert(a->val_frac == b->val_frac);
    cr_assert_str_eq(a->run_id, b->run_id);
    cr_assert_str_eq(a->status, b->status);
    cr_assert_eq(a->ranks, b->ranks);
    cr_assert_eq(a->threads, b->threads);
    cr_assert(a->wall_s == b->wall_s);
    cr_assert_str_eq(a->git, b->git);
    cr_assert_str_eq(a->version, b->version);
    cr_assert_str_eq(a->build, b->build);
    cr_assert_str_eq(a->host, b->host);
    cr_assert_str_eq(a->start_time, b->start_time);
    cr_assert(a->rmse == b->rmse);
    cr_assert(a->rmse_uncapped == b->rmse_uncapped);
    cr_assert(a->mae == b->mae);
    cr_assert(a->score == b->score);
    cr_assert(a->acc == b->acc);
    cr_assert(a->f1 == b->f1);
    cr_assert(a->best_val_rmse == b->best_val_rmse);
    cr_assert_eq(a->best_epoch, b->best_epoch);
    cr_assert_eq(a->epochs_run, b->epochs_run);
    cr_assert(a->samples_per_s == b->samples_per_s);
    cr_assert(a->comm_fraction == b->comm_fraction);
    cr_assert(a->w_rul == b->w_rul);
    cr_assert(a->w_health == b->w_health);
    cr_assert_str_eq(a->param_digest, b->param_digest);

    cr_assert_eq(a->n_hist, b->n_hist);
    for (int i = 0; i < a->n_hist; i++) {
        const run_epoch *x = &a->hist[i], *y = &b->hist[i];
        cr_assert_eq(x->epoch, y->epoch);
        cr_assert(x->loss_rul == y->loss_rul);
        cr_assert(x->loss_health == y->loss_health);
        cr_assert(x->w_rul == y->w_rul);
        cr_assert(x->w_health == y->w_health);
        cr_assert((isnan(x->s_rul) && isnan(y->s_rul)) || x->s_rul == y->s_rul, "row %d s_rul", i);
        cr_assert(x->s_health == y->s_health);
        cr_assert(x->val_rmse == y->val_rmse);
        cr_assert(x->val_acc == y->val_acc);
        cr_assert(x->seconds == y->seconds);
        cr_assert(x->comm_seconds == y->comm_seconds);
        cr_assert(x->compute_seconds == y->compute_seconds);
        cr_assert(x->samples_per_s == y->samples_per_s);
    }
    cr_assert_eq(a->n_test, b->n_test);
    for (int i = 0; i < a->n_test; i++) {
        const run_test_row *x = &a->test[i], *y = &b->test[i];
        cr_assert_eq(x->unit, y->unit);
        cr_assert(x->pred_rul == y->pred_rul);
        cr_assert(x->true_rul == y->true_rul);
        cr_assert(x->true_rul_raw == y->true_rul_raw);
        cr_assert_eq(x->pred_health, y->pred_health);
        cr_assert_eq(x->true_health, y->true_health);
    }
}

static void free_runs(run_record *runs, int n)
{
    for (int i = 0; i < n; i++) run_record_free(&runs[i]);
    free(runs);
}

/* ------------------------------------------------------------------ tests */

Test(results, round_trip_every_field)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "one.h5");
    run_record r;
    full_record(&r, 7);
    mtl_err err = {{0}};
    cr_assert_eq(results_write_all(path, &r, 1, &err), 0, "%s", err.msg);

    run_record *got = NULL;
    int n = -1;
    cr_assert_eq(results_read_file(path, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    assert_same_run(&r, &got[0]);
    /* spot checks against literals, independent of the writer's input struct */
    cr_assert_str_eq(got[0].status, "diverged");
    cr_assert_eq(strlen(got[0].host), 127);
    cr_assert_eq(got[0].hist[2].epoch, 3);
    cr_assert(isnan(got[0].hist[0].s_rul));
    cr_assert(got[0].hist[1].s_rul == -0.25);
    cr_assert(got[0].test[3].true_rul_raw == 151.0f);
    cr_assert_eq(got[0].test[3].unit, 13);
    cr_assert_eq(count_tmp_files(dir), 0);

    /* results_read on the file itself gives the same */
    run_record *again = NULL;
    int n2 = 0;
    cr_assert_eq(results_read(path, &again, &n2, &err), 0, "%s", err.msg);
    cr_assert_eq(n2, 1);
    assert_same_run(&r, &again[0]);

    free_runs(again, n2);
    free_runs(got, n);
    run_record_free(&r);
    cr_assert_null(r.hist);
    cr_assert_null(r.test);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, empty_history_is_an_empty_dataset)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "e.h5");
    run_record r;
    full_record(&r, 3);
    free(r.hist);
    r.hist = NULL;
    r.n_hist = 0;
    mtl_err err = {{0}};
    cr_assert_eq(results_append(path, &r, &err), 0, "%s", err.msg);

    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    char link[64];
    snprintf(link, sizeof link, "runs/%s/history", r.run_id);
    hid_t d = H5Dopen2(f, link, H5P_DEFAULT);
    cr_assert_geq(d, 0, "history dataset missing");
    hid_t s = H5Dget_space(d);
    hsize_t dims[1] = {99};
    cr_assert_eq(H5Sget_simple_extent_ndims(s), 1);
    H5Sget_simple_extent_dims(s, dims, NULL);
    cr_assert_eq(dims[0], 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);

    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read_file(path, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_eq(got[0].n_hist, 0);
    cr_assert_null(got[0].hist);
    cr_assert_eq(got[0].n_test, 4);
    assert_same_run(&r, &got[0]);
    free_runs(got, n);
    run_record_free(&r);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, append_keeps_the_first_run)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "runs.h5");
    run_record a, b;
    full_record(&a, 1);
    full_record(&b, 2);
    cr_assert_str_neq(a.run_id, b.run_id);
    b.rmse = 99.5;
    mtl_err err = {{0}};
    cr_assert_eq(results_append(path, &a, &err), 0, "%s", err.msg);
    cr_assert_eq(results_append(path, &b, &err), 0, "%s", err.msg);
    cr_assert_eq(count_tmp_files(dir), 0);

    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read_file(path, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    int ia = strcmp(got[0].run_id, a.run_id) == 0 ? 0 : 1;
    assert_same_run(&a, &got[ia]);
    assert_same_run(&b, &got[1 - ia]);
    cr_assert(got[1 - ia].rmse == 99.5);
    cr_assert(got[ia].rmse == 13.25);
    free_runs(got, n);
    run_record_free(&a);
    run_record_free(&b);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, append_same_id_replaces)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "runs.h5");
    run_record a;
    full_record(&a, 5);
    mtl_err err = {{0}};
    cr_assert_eq(results_append(path, &a, &err), 0, "%s", err.msg);
    a.rmse = 11.5;
    strcpy(a.status, "ok");
    a.hist[1].val_rmse = -3.0;
    a.n_test = 2;
    cr_assert_eq(results_append(path, &a, &err), 0, "%s", err.msg);

    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read_file(path, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert(got[0].rmse == 11.5);
    cr_assert_str_eq(got[0].status, "ok");
    cr_assert(got[0].hist[1].val_rmse == -3.0);
    cr_assert_eq(got[0].n_test, 2);
    assert_same_run(&a, &got[0]);
    cr_assert_eq(count_tmp_files(dir), 0);
    free_runs(got, n);
    a.n_test = 4;
    run_record_free(&a);
    rm_tree(dir);
    free(path);
    free(dir);
}

/* FNV-1a 64 of the text in run_ids_are_stable, computed independently (Python, the FNV
 * reference parameters: offset 0xcbf29ce484222325, prime 0x100000001b3). */
#define RUN_ID_V3 "8629f8d89cca37b0"

Test(results, run_ids_are_stable)
{
    run_record r;
    base_config(&r);
    char id[17], id2[17];
    run_config_id(&r, id);
    /* FNV-1a of "model=dcnn;subset=FD001;method=uw-so:2;seed=1;epochs=100;window=30;
     * batch=512;lr=0.001;dropout=0.5;val_frac=0.20000000000000001;patience=0;deterministic=0;
     * protocol=spec;norm=z;lr_step=none;norm_scope=regime;data=0123456789abcdef" */
    cr_assert_str_eq(id, RUN_ID_V3);

    /* metadata and metrics do not change it */
    r.ranks = 16;
    r.threads = 3;
    strcpy(r.host, "node042");
    strcpy(r.start_time, "2030-01-01T00:00:00Z");
    strcpy(r.git, "deadbeef");
    strcpy(r.status, "ok");
    r.rmse = 12.5;
    r.wall_s = 99.0;
    strcpy(r.run_id, "ffffffffffffffff");
    run_config_id(&r, id2);
    cr_assert_str_eq(id2, RUN_ID_V3);

    /* a run of format 2 (no data digest) hashes as it did then */
    base_config(&r);
    r.data_digest[0] = '\0';
    run_config_id(&r, id2);
    cr_assert_str_eq(id2, "a2eb055fd2869d9c");

    /* every configuration field does, the model and every protocol option among them */
    for (int field = 0; field < 12; field++) {
        base_config(&r);
        switch (field) {
        case 0: r.seed = 2; break;
        case 1: strcpy(r.method, "uw"); break;
        case 2: r.lr = 0.002; break;
        case 3: strcpy(r.subset, "FD002"); break;
        case 4: r.deterministic = 1; break;
        case 5: strcpy(r.model, "cnn1d"); break;
        case 6: strcpy(r.protocol, "li2018"); break;
        case 7: strcpy(r.norm, "minmax"); break;
        case 8: r.val_frac = 0; break;
        case 9: strcpy(r.norm_scope, "global"); break;
        case 10: strcpy(r.data_digest, "0123456789abcdee"); break;
        default: strcpy(r.lr_step, "200:0.1"); break;
        }
        run_config_id(&r, id2);
        cr_assert_str_neq(id2, id, "field %d does not change the id", field);
        cr_assert_eq(strlen(id2), 16);
    }
}

/* A file of format 2 (before the normalisation scope and the data digest were recorded) is
 * read with the per-regime scope, no data digest, and the run id it was written with. */
Test(results, format_2_runs_keep_their_ids)
{
    run_record *got = NULL;
    int n = 0;
    mtl_err err = {{0}};
    cr_assert_eq(results_read_file(MTL_TEST_FIXTURES "/format2_run.h5", &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(got[0].run_id, "0949ab500a1bb47d");
    cr_assert_str_eq(got[0].method, "uw-o");
    cr_assert_str_eq(got[0].norm_scope, "regime");
    cr_assert_str_eq(got[0].data_digest, "");
    cr_assert_eq(results_id_consistent(&got[0]), 1);
    cr_assert_eq(results_run_whole(&got[0], &err), 0, "%s", err.msg);
    run_record_free(&got[0]);
    free(got);
}

/* A file written before models and protocols were options (format 1) holds runs of the
 * 1-D network under the name dcnn: it is read as cnn1d under the spec protocol, with the
 * run id it was written with, and rewritten in the current format when appended to. */
Test(results, format_1_runs_are_read_as_cnn1d)
{
    run_record *got = NULL;
    int n = 0;
    mtl_err err = {{0}};
    cr_assert_eq(results_read_file(MTL_TEST_FIXTURES "/format1_run.h5", &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(got[0].model, "cnn1d");
    cr_assert_str_eq(got[0].protocol, "spec");
    cr_assert_str_eq(got[0].norm, "z");
    cr_assert_str_eq(got[0].lr_step, "none");
    cr_assert_str_eq(got[0].run_id, "18f07698f0fe8acd");
    cr_assert_eq(got[0].val_frac, 0.2);
    cr_assert_str_eq(got[0].build, "");   /* not recorded then */

    char *dir = make_tmpdir(), *path = path_in(dir, "mixed.h5");
    cr_assert_eq(results_write_all(path, got, 1, &err), 0, "%s", err.msg);
    run_record r;
    full_record(&r, 7);
    cr_assert_eq(results_append(path, &r, &err), 0, "%s", err.msg);
    run_record *all = NULL;
    int m = 0;
    cr_assert_eq(results_read_file(path, &all, &m, &err), 0, "%s", err.msg);
    cr_assert_eq(m, 2);
    int legacy = strcmp(all[0].run_id, "18f07698f0fe8acd") == 0 ? 0 : 1;
    cr_assert_str_eq(all[legacy].model, "cnn1d");
    cr_assert_str_eq(all[1 - legacy].model, r.model);
    cr_assert_str_eq(all[1 - legacy].lr_step, r.lr_step);
    for (int i = 0; i < m; i++) run_record_free(&all[i]);
    free(all);
    run_record_free(&r);
    run_record_free(&got[0]);
    free(got);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, not_hdf5_fails_naming_the_path)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "junk.h5");
    write_text(path, "this is not an HDF5 file\n");
    run_record *got = (run_record *)1;
    int n = 5;
    mtl_err err = {{0}};
    cr_assert_eq(results_read_file(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "cannot open as HDF5"), "message: %s", err.msg);
    cr_assert_null(got);
    cr_assert_eq(n, 0);

    err.msg[0] = '\0';
    cr_assert_eq(results_read(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);

    /* appending must not clobber it */
    run_record r;
    full_record(&r, 1);
    err.msg[0] = '\0';
    cr_assert_eq(results_append(path, &r, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    char *text = read_text(path);
    cr_assert_str_eq(text, "this is not an HDF5 file\n");
    free(text);
    cr_assert_eq(count_tmp_files(dir), 0);
    cr_assert_eq(results_has_run(path, r.run_id), 0);
    run_record_free(&r);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, hdf5_without_runs_group)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "other.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    H5Fclose(f);
    run_record *got = NULL;
    int n = 0;
    mtl_err err = {{0}};
    cr_assert_eq(results_read_file(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "no /runs group"), "message: %s", err.msg);
    rm_tree(dir);
    free(path);
    free(dir);
}

/* Writes r alone into path, then deletes the run's attribute attr (as another program would). */
static void write_without(const char *path, const run_record *r, const char *attr)
{
    mtl_err err = {{0}};
    cr_assert_eq(results_write_all(path, r, 1, &err), 0, "%s", err.msg);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    char link[32];
    snprintf(link, sizeof link, "runs/%s", r->run_id);
    cr_assert_geq(H5Adelete_by_name(f, link, attr, H5P_DEFAULT), 0);
    H5Fclose(f);
}

Test(results, missing_attribute_is_named)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "m.h5");
    run_record r;
    full_record(&r, 9);
    mtl_err err = {{0}};
    write_without(path, &r, "mae");

    /* edited by another program: the checksum no longer matches */
    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read_file(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "checksum mismatch"), "message: %s", err.msg);
    /* without the checksum header (as an older file) the structure is checked */
    strip_header(path);
    cr_assert_eq(results_read_file(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    cr_assert_not_null(strstr(err.msg, "'mae'"), "message: %s", err.msg);
    /* an incomplete run is not a complete run */
    cr_assert_eq(results_has_run(path, r.run_id), 0);
    run_record_free(&r);
    rm_tree(dir);
    free(path);
    free(dir);
}

/* Files written before the build options were recorded have no attribute 'build': they
 * are read with an empty one (any other missing attribute is an error, above). */
Test(results, file_without_build_attribute_reads)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "old.h5");
    run_record r;
    full_record(&r, 9);
    mtl_err err = {{0}};
    write_without(path, &r, "build");
    strip_header(path);   /* as the older program wrote it, without the checksum header */
    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read_file(path, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(got[0].build, "");
    cr_assert_str_eq(got[0].git, r.git);
    cr_assert(got[0].rmse == r.rmse);
    run_record_free(&got[0]);
    free(got);
    run_record_free(&r);
    rm_tree(dir);
    free(path);
    free(dir);
}

Test(results, missing_path_and_unwritable_path)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "nope.h5");
    run_record *got = NULL;
    int n = 0;
    mtl_err err = {{0}};
    cr_assert_eq(results_read(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);
    err.msg[0] = '\0';
    cr_assert_eq(results_read_file(path, &got, &n, &err), -1);
    cr_assert_not_null(strstr(err.msg, path), "message: %s", err.msg);

    char *bad = path_in(dir, "no/such/dir/x.h5");
    run_record r;
    full_record(&r, 1);
    err.msg[0] = '\0';
    cr_assert_eq(results_append(bad, &r, &err), -1);
    cr_assert_not_null(strstr(err.msg, bad), "message: %s", err.msg);
    cr_assert_eq(count_tmp_files(dir), 0);

    /* duplicate ids in one write are refused, nothing is left behind */
    run_record two[2] = {r, r};
    err.msg[0] = '\0';
    cr_assert_eq(results_write_all(path, two, 2, &err), -1);
    cr_assert_not_null(strstr(err.msg, "twice"), "message: %s", err.msg);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0);
    cr_assert_eq(count_tmp_files(dir), 0);
    run_record_free(&r);
    rm_tree(dir);
    free(bad);
    free(path);
    free(dir);
}

Test(results, directory_read_merges_files)
{
    char *dir = make_tmpdir();
    char *a_path = path_in(dir, "a.h5"), *b_path = path_in(dir, "b.h5");
    char *sub = path_in(dir, "runs");
    cr_assert_eq(mkdir(sub, 0755), 0);
    char *c_path = path_in(sub, "c.h5");
    run_record r1, r1b, r2, r3;
    full_record(&r1, 1);
    full_record(&r1b, 1); /* same id as r1, different result: must be skipped */
    r1b.rmse = 77.0;
    full_record(&r2, 2);
    full_record(&r3, 3);
    mtl_err err = {{0}};
    cr_assert_eq(results_append(b_path, &r1b, &err), 0, "%s", err.msg);
    cr_assert_eq(results_append(b_path, &r2, &err), 0, "%s", err.msg);
    cr_assert_eq(results_append(a_path, &r1, &err), 0, "%s", err.msg);
    cr_assert_eq(results_append(c_path, &r3, &err), 0, "%s", err.msg);
    char *notes = path_in(dir, "notes.txt");
    write_text(notes, "not a results file");
    free(notes);

    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read(dir, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 3);
    /* runs/ first (per-run files win over merged ones), then the folder's files by name */
    cr_assert_str_eq(got[0].run_id, r3.run_id);
    cr_assert_str_eq(got[1].run_id, r1.run_id);
    cr_assert(got[1].rmse == 13.25, "the first file's copy of a duplicate must win");
    cr_assert_str_eq(got[2].run_id, r2.run_id);
    assert_same_run(&r3, &got[0]);
    assert_same_run(&r1, &got[1]);
    assert_same_run(&r2, &got[2]);
    free_runs(got, n);

    run_record_free(&r1);
    run_record_free(&r1b);
    run_record_free(&r2);
    run_record_free(&r3);
    rm_tree(dir);
    free(a_path);
    free(b_path);
    free(c_path);
    free(sub);
    free(dir);
}

Test(results, leftover_temp_files_are_ignored)
{
    char *dir = make_tmpdir();
    char *a_path = path_in(dir, "x.h5"), *t_path = path_in(dir, "x.h5.tmp.123");
    char *t2_path = path_in(dir, "y.tmp.9.h5");
    run_record r1, r2;
    full_record(&r1, 1);
    full_record(&r2, 2);
    mtl_err err = {{0}};
    cr_assert_eq(results_append(a_path, &r1, &err), 0, "%s", err.msg);
    /* a complete-looking leftover and a garbage one: neither may be read */
    cr_assert_eq(results_write_all(t_path, &r2, 1, &err), 0, "%s", err.msg);
    write_text(t2_path, "half-written garbage");

    run_record *got = NULL;
    int n = 0;
    cr_assert_eq(results_read(dir, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(got[0].run_id, r1.run_id);
    free_runs(got, n);

    /* an append next to them leaves them alone and adds no temp file of its own */
    cr_assert_eq(results_append(a_path, &r2, &err), 0, "%s", err.msg);
    cr_assert_eq(count_tmp_files(dir), 2);
    cr_assert_eq(results_read(dir, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    free_runs(got, n);

    run_record_free(&r1);
    run_record_free(&r2);
    rm_tree(dir);
    free(a_path);
    free(t_path);
    free(t2_path);
    free(dir);
}

Test(results, has_run_true_and_false)
{
    char *dir = make_tmpdir(), *path = path_in(dir, "h.h5");
    char *junk = path_in(dir, "junk.h5"), *missing = path_in(dir, "missing.h5");
    run_record r, other;
    full_record(&r, 4);
    full_record(&other, 5);
    mtl_err err = {{0}};
    cr_assert_eq(results_append(path, &r, &err), 0, "%s", err.msg);
    write_text(junk, "nope");

    cr_assert_eq(results_has_run(path, r.run_id), 1);
    cr_assert_eq(results_has_run(path, other.run_id), 0);
    cr_assert_eq(results_has_run(path, ""), 0);
    cr_assert_eq(results_has_run(path, "a/b"), 0);
    cr_assert_eq(results_has_run(missing, r.run_id), 0);
    cr_assert_eq(results_has_run(junk, r.run_id), 0);
    cr_assert_eq(results_has_run(dir, r.run_id), 0);

    cr_assert_eq(results_append(path, &other, &err), 0, "%s", err.msg);
    cr_assert_eq(results_has_run(path, other.run_id), 1);
    cr_assert_eq(results_has_run(path, r.run_id), 1);

    run_record_free(&r);
    run_record_free(&other);
    rm_tree(dir);
    free(path);
    free(junk);
    free(missing);
    free(dir);
}

Test(results, empty_directory_reads_zero_runs)
{
    char *dir = make_tmpdir();
    run_record *got = NULL;
    int n = -1;
    mtl_err err = {{0}};
    cr_assert_eq(results_read(dir, &got, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 0);
    free(got);
    rm_tree(dir);
    free(dir);
}

/* ------------------------------------------------------------------ hostile files */

/* A run file without the checksum header (as h5py or older versions write them), changed
 * with libhdf5 itself: what replaces /runs/<id>/history, or /runs/<id> itself. */
enum { T_EXTERNAL_RUN, T_SOFT_RUN, T_EXTERNAL_HISTORY, T_EXTERNAL_STORAGE, T_HUGE_HISTORY, T_UNSTORED_HISTORY };

static char *hostile_file(const char *dir, int kind, const char *other)
{
    char *path = path_in(dir, "hostile.h5");
    run_record r;
    full_record(&r, 7);
    mtl_err err;
    cr_assert_eq(results_write_all(path, &r, 1, &err), 0, "%s", err.msg);
    strip_header(path);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    cr_assert_geq(f, 0);
    hid_t runs = H5Gopen2(f, "runs", H5P_DEFAULT);
    hid_t g = H5Gopen2(runs, r.run_id, H5P_DEFAULT);
    cr_assert_geq(g, 0);
    if (kind == T_EXTERNAL_RUN || kind == T_SOFT_RUN) {
        H5Gclose(g);
        cr_assert_geq(H5Ldelete(runs, r.run_id, H5P_DEFAULT), 0);
        if (kind == T_EXTERNAL_RUN) cr_assert_geq(H5Lcreate_external(other, "/runs/x", runs, r.run_id, H5P_DEFAULT, H5P_DEFAULT), 0);
        else cr_assert_geq(H5Lcreate_soft("/elsewhere", runs, r.run_id, H5P_DEFAULT, H5P_DEFAULT), 0);
    } else {
        hid_t old = H5Dopen2(g, "history", H5P_DEFAULT), type = H5Dget_type(old);
        H5Dclose(old);
        cr_assert_geq(H5Ldelete(g, "history", H5P_DEFAULT), 0);
        if (kind == T_EXTERNAL_HISTORY) {
            cr_assert_geq(H5Lcreate_external(other, "/history", g, "history", H5P_DEFAULT, H5P_DEFAULT), 0);
        } else {
            hsize_t rows = kind == T_HUGE_HISTORY ? 30000000 : 3;
            hid_t sp = H5Screate_simple(1, &rows, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE);
            if (kind == T_EXTERNAL_STORAGE) cr_assert_geq(H5Pset_external(dcpl, other, 0, H5F_UNLIMITED), 0);
            if (kind != T_EXTERNAL_STORAGE) cr_assert_geq(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_LATE), 0);
            hid_t ds = H5Dcreate2(g, "history", type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            cr_assert_geq(ds, 0);
            H5Dclose(ds), H5Pclose(dcpl), H5Sclose(sp);
        }
        H5Tclose(type);
        H5Gclose(g);
    }
    H5Gclose(runs);
    H5Fclose(f);
    run_record_free(&r);
    return path;
}

/* Links other than hard links are not followed, a dataset's bytes must be in the file, and
 * its rows must fit in it: each is an error naming the file, quickly (the FIFO that a link
 * names is never opened: opening it would block). */
Test(results, links_external_storage_and_claimed_rows_are_refused, .timeout = 60)
{
    char *dir = make_tmpdir(), *fifo = path_in(dir, "fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    const struct {
        int kind;
        const char *why;
    } cases[] = {
        {T_EXTERNAL_RUN, "is an external link; only plain (hard) links are read"},
        {T_SOFT_RUN, "is a soft link; only plain (hard) links are read"},
        {T_EXTERNAL_HISTORY, "'history' is an external link"},
        {T_EXTERNAL_STORAGE, "dataset 'history' keeps its data in other files"},
        {T_HUGE_HISTORY, "dataset 'history' claims 30000000 rows, more than the file's"},
        {T_UNSTORED_HISTORY, "dataset 'history' has 3 rows but only 0 bytes of data"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *path = hostile_file(dir, cases[i].kind, fifo);
        run_record *got = NULL;
        int n = 0;
        mtl_err err = {{0}};
        cr_assert_eq(results_read_file(path, &got, &n, &err), -1, "case %zu", i);
        cr_assert(strstr(err.msg, path) && strstr(err.msg, cases[i].why), "case %zu: %s", i, err.msg);
        /* the sweep's tidy pass moves it to bad/ */
        char *runs = path_in(dir, "runs"), *moved = path_in(runs, "bad/0000000000000000.h5");
        char *in = path_in(runs, "0000000000000000.h5");
        mkdir(runs, 0777);
        cr_assert_eq(rename(path, in), 0);
        cr_assert_eq(results_tidy_runs(runs, NULL, &err), 1, "%s", err.msg);
        cr_assert_eq(access(moved, F_OK), 0);
        unlink(moved);
        free(runs), free(moved), free(in), free(path);
    }
    rm_tree(dir);
    free(fifo);
    free(dir);
}

/* ------------------------------------------------------------------ the reader process */

static int body_crash(int fd, void *ctx)
{
    (void)fd, (void)ctx;
    raise(SIGSEGV);
    return 0;
}

static int body_hang(int fd, void *ctx)
{
    (void)fd, (void)ctx;
    for (;;) pause();
    return 0;
}

static int body_greedy(int fd, void *ctx)
{
    (void)ctx;
    size_t n = (size_t)1 << 31;
    char *p = malloc(n); /* beyond the budget: refused */
    int ok = p != NULL;
    free(p);
    return mtl_write_all(fd, &ok, sizeof ok, "pipe", NULL);
}

static int body_answer(int fd, void *ctx)
{
    return mtl_write_all(fd, ctx, strlen(ctx) + 1, "pipe", NULL);
}

Test(results, reader_process_crash_hang_and_memory_become_messages, .timeout = 60)
{
    mtl_sandbox sb;
    mtl_err err;
    char why[128], got[16];
    cr_assert_eq(mtl_sandbox_start(&sb, body_answer, "answer", 1 << 28, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(mtl_sandbox_read(&sb, got, 7, mtl_now() + 10), 0);
    cr_assert_str_eq(got, "answer");
    cr_assert_eq(mtl_sandbox_read(&sb, got, 1, mtl_now() + 10), -1); /* its end */
    cr_assert_eq(mtl_sandbox_finish(&sb, 1, why, sizeof why), 0, "%s", why);

    cr_assert_eq(mtl_sandbox_start(&sb, body_crash, NULL, 1 << 28, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(mtl_sandbox_read(&sb, got, 1, mtl_now() + 10), -1);
    cr_assert_eq(mtl_sandbox_finish(&sb, 1, why, sizeof why), -1);
    /* a sanitizer catches the signal and exits with its own status */
    cr_assert(strstr(why, "killed by signal 11") || strstr(why, "exited with status"), "%s", why);

    double t0 = mtl_now();
    cr_assert_eq(mtl_sandbox_start(&sb, body_hang, NULL, 1 << 28, 10, &err), 0, "%s", err.msg);
    cr_assert_eq(mtl_sandbox_read(&sb, got, 1, mtl_now() + 0.5), -1);
    cr_assert_eq(mtl_sandbox_finish(&sb, 1, why, sizeof why), -1);
    cr_assert(strstr(why, "took longer than its time limit"), "%s", why);
    cr_assert_lt(mtl_now() - t0, 5);

    int ok = 1;
    cr_assert_eq(mtl_sandbox_start(&sb, body_greedy, NULL, 1 << 28, 10, &err), 0, "%s", err.msg);
    int rc = mtl_sandbox_read(&sb, &ok, sizeof ok, mtl_now() + 20);
    mtl_sandbox_finish(&sb, 1, why, sizeof why);
    /* refused (a sanitizer's allocator may end the process instead: no answer) */
    cr_assert(rc == -1 || ok == 0, "a 2 GiB allocation beyond a 256 MiB budget succeeded");
}

/* ------------------------------------------------------------------ merging and scanning */

static void write_run_file(const char *dir, const run_record *r)
{
    char name[32];
    snprintf(name, sizeof name, "%s.h5", r->run_id);
    char *p = path_in(dir, name);
    mtl_err err;
    cr_assert_eq(results_write_all(p, r, 1, &err), 0, "%s", err.msg);
    free(p);
}

static int count_runs(const char *path)
{
    run_record *got = NULL;
    int n = 0;
    mtl_err err;
    cr_assert_eq(results_read(path, &got, &n, &err), 0, "%s", err.msg);
    free_runs(got, n);
    return n;
}

/* A merge keeps the runs that are only in sweep.h5 (added by train --out), a run file wins
 * over its copy, nothing is read again while nothing changed, and an unreadable sweep.h5 is
 * moved to bad/ with a warning. */
Test(results, merge_keeps_every_run_and_is_skipped_when_unchanged)
{
    char *dir = make_tmpdir(), *runs = path_in(dir, "runs"), *merged = path_in(dir, "sweep.h5");
    mkdir(runs, 0777);
    run_record a, b, c;
    full_record(&a, 1);
    full_record(&b, 2);
    full_record(&c, 3);
    write_run_file(runs, &a);
    write_run_file(runs, &b);
    mtl_err err;
    int n = 0, unchanged = 1;
    cr_assert_eq(results_merge_dir(dir, NULL, &n, &unchanged, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_eq(unchanged, 0);
    cr_assert_eq(results_merge_dir(dir, NULL, &n, &unchanged, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert_eq(unchanged, 1);
    /* a run added to sweep.h5 alone is kept by the next merge */
    cr_assert_eq(results_append(merged, &c, &err), 0, "%s", err.msg);
    cr_assert_eq(results_merge_dir(dir, NULL, &n, &unchanged, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 3);
    cr_assert_eq(unchanged, 0);
    cr_assert_eq(count_runs(merged), 3);
    /* a changed run file is merged: its copy replaces the older one */
    a.rmse = 99.5;
    write_run_file(runs, &a);
    cr_assert_eq(results_merge_dir(dir, NULL, &n, &unchanged, &err), 0, "%s", err.msg);
    cr_assert_eq(unchanged, 0);
    run_record *got = NULL;
    int k = 0;
    cr_assert_eq(results_read_file(merged, &got, &k, &err), 0, "%s", err.msg);
    int seen = 0;
    for (int i = 0; i < k; i++)
        if (strcmp(got[i].run_id, a.run_id) == 0) {
            seen = 1;
            cr_assert_eq(got[i].rmse, 99.5);
        }
    cr_assert(seen);
    free_runs(got, k);
    /* reading the folder gives each run once, with or without a current sweep.h5 */
    cr_assert_eq(count_runs(dir), 3);
    /* an unreadable sweep.h5 is moved aside, the run files merged */
    write_text(merged, "not a results file");
    FILE *log = tmpfile();
    cr_assert_eq(results_merge_dir(dir, log, &n, &unchanged, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    rewind(log);
    char line[4096] = "";
    cr_assert_not_null(fgets(line, sizeof line, log));
    fclose(log);
    cr_assert(strstr(line, "warning: ") && strstr(line, merged) && strstr(line, "moved to"), "%s", line);
    char *aside = path_in(dir, "bad/sweep.h5");
    cr_assert_eq(access(aside, F_OK), 0);
    run_record_free(&a), run_record_free(&b), run_record_free(&c);
    rm_tree(runs);
    rm_tree(dir);
    free(aside), free(runs), free(merged), free(dir);
}

/* A run file found whole is not read again while unchanged; a changed one is. */
Test(results, scan_reads_again_only_changed_files)
{
    char *dir = make_tmpdir();
    run_record a, b;
    full_record(&a, 1);
    full_record(&b, 2);
    write_run_file(dir, &a);
    write_run_file(dir, &b);
    mtl_err err;
    char(*ids)[17] = NULL;
    int n = 0;
    cr_assert_eq(results_scan_runs(dir, 1, NULL, &ids, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    cr_assert(strcmp(ids[0], ids[1]) < 0);
    free(ids);
    /* the same bytes again, but a new file: read again and still whole */
    write_run_file(dir, &a);
    cr_assert_eq(results_scan_runs(dir, 1, NULL, &ids, &n, &err), 0, "%s", err.msg);
    cr_assert_eq(n, 2);
    free(ids);
    /* damaged in place: moved aside */
    char name[32];
    snprintf(name, sizeof name, "%s.h5", b.run_id);
    char *p = path_in(dir, name);
    FILE *f = fopen(p, "r+b");
    cr_assert_not_null(f);
    fseek(f, 700, SEEK_SET);
    fputc(0x5a, f);
    fclose(f);
    cr_assert_eq(results_scan_runs(dir, 0, NULL, &ids, &n, &err), 0, "%s", err.msg); /* a look only */
    cr_assert_eq(n, 1);
    free(ids);
    cr_assert_eq(access(p, F_OK), 0);
    cr_assert_eq(results_scan_runs(dir, 1, NULL, &ids, &n, &err), 1, "%s", err.msg);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(ids[0], a.run_id);
    free(ids);
    run_record_free(&a), run_record_free(&b);
    rm_tree(dir);
    free(p), free(dir);
}

Test(results, results_files_are_recognised)
{
    char *dir = make_tmpdir(), *with = path_in(dir, "a.h5"), *without = path_in(dir, "b.h5"), *text = path_in(dir, "c");
    run_record r;
    full_record(&r, 1);
    mtl_err err;
    cr_assert_eq(results_write_all(with, &r, 1, &err), 0, "%s", err.msg);
    cr_assert_eq(results_write_all(without, &r, 1, &err), 0, "%s", err.msg);
    strip_header(without);
    write_text(text, "subset,method\n");
    cr_assert_eq(results_is_results_file(with), 1);
    cr_assert_eq(results_is_results_file(without), 1);
    cr_assert_eq(results_is_results_file(text), 0);
    cr_assert_eq(results_is_results_file(dir), 0);
    run_record_free(&r);
    rm_tree(dir);
    free(with), free(without), free(text), free(dir);
}
