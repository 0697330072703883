#define _POSIX_C_SOURCE 200809L
#include "cmapss.h"
#include "sha1.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const cmapss_canonical CANONICAL[CMAPSS_N_CANONICAL] = {
    {"train_FD001.txt", "d2809918c8b75fa3319714658ae994deb2017a89"},
    {"test_FD001.txt", "7844fbf8d6ad32176f92544ad4f4c456481d930d"},
    {"RUL_FD001.txt", "e8dd7cfeee96d2dfd55166f5758227d36c096dd3"},
    {"train_FD002.txt", "694e39f99609f098025ef444d6fe89828ca74cbc"},
    {"test_FD002.txt", "9799aaeb4b4960f28089e8e46cb1565dd1680f55"},
    {"RUL_FD002.txt", "f0c8ec24dbdc9d981ddec636a7a96d74344a0d2c"},
    {"train_FD003.txt", "0f2ef76638aee1e182850e5c4a79b142bbebb7b5"},
    {"test_FD003.txt", "ed4f6f67a44f9962f2f95c6cbfab08f07617bd78"},
    {"RUL_FD003.txt", "221785454fae67554713aa3ee66bb26ba56ef4e1"},
    {"train_FD004.txt", "a7ab3c7897db150cb061099bce7b426500c90ab8"},
    {"test_FD004.txt", "228c6ee54591218b3f4e7981d6ff7d77ff3506be"},
    {"RUL_FD004.txt", "263ab77cfc0ae3a63b20715bd1488b437f9b0f43"},
};

const cmapss_canonical *cmapss_canonical_files(void) { return CANONICAL; }

static const char *WHERE =
    "C-MAPSS is NASA's \"Turbofan Engine Degradation Simulation\" data set (PCoE data repository); "
    "FD001 ships in datasets/cmapss, and datasets/fetch copies or downloads the rest";

/* Exact powers of ten representable in a double. */
static const double POW10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Parses one token [s, e). Plain decimals with at most 19 digits take a fast path that
 * is correctly rounded (exact integer mantissa divided by an exact power of ten); other
 * spellings (exponents, long mantissas) go through strtod. Returns 0 when the whole token
 * is a finite number. */
static int parse_number(const char *s, const char *e, double *out)
{
    const char *p = s;
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+')) neg = (*p++ == '-');
    uint64_t m = 0;
    int digits = 0, frac = 0, seen_dot = 0, has_digit = 0;
    for (; p < e; p++) {
        if (*p >= '0' && *p <= '9') {
            has_digit = 1;
            if (digits < 19) {
                m = m * 10 + (uint64_t)(*p - '0');
                if (m) digits++;
                if (seen_dot) frac++;
            } else {
                break;
            }
        } else if (*p == '.' && !seen_dot) {
            seen_dot = 1;
        } else {
            break;
        }
    }
    if (p == e && has_digit && m < (1ULL << 53) && frac <= 22) {
        double v = (double)m / POW10[frac];
        *out = neg ? -v : v;
        return 0;
    }
    /* slow path */
    char tmp[128];
    size_t n = (size_t)(e - s);
    if (n >= sizeof tmp) return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    for (size_t i = 0; i < n; i++) /* strtod would accept inf, nan and hex */
        if (!strchr("0123456789+-.eE", tmp[i])) return -1;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + n || errno == ERANGE || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* Splits [p, e) into at most max tokens; returns the number of tokens found (which may be
 * more than max: counting goes on so that the error can say how many there were). */
static int tokenize(const char *p, const char *e, const char **tb, const char **te, int max)
{
    int n = 0;
    while (p < e) {
        while (p < e && is_blank(*p)) p++;
        if (p >= e) break;
        const char *b = p;
        while (p < e && !is_blank(*p)) p++;
        if (n < max) {
            tb[n] = b;
            te[n] = p;
        }
        n++;
    }
    return n;
}

/* The token [b, e) for a message: bytes other than printable ASCII as \xNN, cut with "..."
 * when it does not fit in n. */
static void token_copy(const char *b, const char *e, char *out, size_t n)
{
    size_t k = 0;
    for (; b < e; b++) {
        unsigned char c = (unsigned char)*b;
        int w = c >= 0x20 && c < 0x7f ? 1 : 4;
        if (k + w + 4 > n) {
            memcpy(out + k, "...", 4);
            return;
        }
        if (w == 1) out[k++] = (char)c;
        else k += (size_t)snprintf(out + k, n - k, "\\x%02x", c);
    }
    out[k] = '\0';
}

void cmapss_table_free(cmapss_table *t)
{
    free(t->x);
    free(t->unit_start);
    free(t->unit_id);
    memset(t, 0, sizeof *t);
}

/* Lines are split on '\n'; a final line without '\n' counts. Only blank lines at the end of
 * the file are ignored. */
int cmapss_parse_rows(const char *path, const char *text, size_t len, cmapss_table *out, mtl_err *err)
{
    memset(out, 0, sizeof *out);
    size_t cap_rows = len / 60 + 16, cap_units = 64;
    out->x = malloc(cap_rows * CMAPSS_COLS * sizeof(double));
    out->unit_start = malloc((cap_units + 1) * sizeof(int));
    out->unit_id = malloc(cap_units * sizeof(int));
    if (!out->x || !out->unit_start || !out->unit_id) {
        cmapss_table_free(out);
        return mtl_fail(err, "%s: out of memory", path);
    }
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        cmapss_table_free(out);
        return mtl_fail(err, "%s:1: starts with a UTF-8 byte-order mark (bytes \\xef\\xbb\\xbf); expected plain ASCII "
                        "numbers (save the file without it)", path);
    }
    const char *p = text, *end = text + len;
    long line = 0, blank_line = 0;
    long prev_unit = -1, prev_cycle = 0;
    const char *tb[CMAPSS_COLS], *te[CMAPSS_COLS];
    char tok[48];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        int nt = tokenize(p, le, tb, te, CMAPSS_COLS);
        p = nl ? nl + 1 : end;
        if (nt == 0) {
            if (!blank_line) blank_line = line;
            continue;
        }
        if (blank_line) {
            cmapss_table_free(out);
            return mtl_fail(err, "%s:%ld: empty line, expected %d numbers per row (unit, cycle, 3 settings, 21 sensors)",
                            path, blank_line, CMAPSS_COLS);
        }
        if (nt != CMAPSS_COLS) {
            cmapss_table_free(out);
            return mtl_fail(err, "%s:%ld: %d columns, expected %d (unit, cycle, 3 settings, 21 sensors)", path,
                            line, nt, CMAPSS_COLS);
        }
        if ((size_t)out->n_rows == cap_rows) {
            cap_rows *= 2;
            double *nx = realloc(out->x, cap_rows * CMAPSS_COLS * sizeof(double));
            if (!nx) {
                cmapss_table_free(out);
                return mtl_fail(err, "%s: out of memory", path);
            }
            out->x = nx;
        }
        double *row = out->x + (size_t)out->n_rows * CMAPSS_COLS;
        for (int c = 0; c < CMAPSS_COLS; c++) {
            if (parse_number(tb[c], te[c], &row[c])) {
                token_copy(tb[c], te[c], tok, sizeof tok);
                cmapss_table_free(out);
                return mtl_fail(err, "%s:%ld: column %d: '%s' is not a finite number", path, line, c + 1, tok);
            }
            if (fabs(row[c]) >= CMAPSS_MAX_ABS) {
                token_copy(tb[c], te[c], tok, sizeof tok);
                cmapss_table_free(out);
                return mtl_fail(err, "%s:%ld: column %d: %s is out of range (|value| must be below %g, or the "
                                "statistics of the data overflow)", path, line, c + 1, tok, CMAPSS_MAX_ABS);
            }
        }
        double u = row[0], cy = row[1];
        if (u != floor(u) || u < 1 || u > 1e9) {
            cmapss_table_free(out);
            return mtl_fail(err, "%s:%ld: unit id %g, expected a positive integer", path, line, u);
        }
        if (cy != floor(cy) || cy < 1 || cy > 1e9) {
            cmapss_table_free(out);
            return mtl_fail(err, "%s:%ld: cycle %g, expected a positive integer", path, line, cy);
        }
        long unit = (long)u, cycle = (long)cy;
        if (unit != prev_unit) {
            if (unit < prev_unit) {
                cmapss_table_free(out);
                return mtl_fail(err, "%s:%ld: unit %ld after unit %ld, expected unit ids in increasing order",
                                path, line, unit, prev_unit);
            }
            if (cycle != 1) {
                cmapss_table_free(out);
                return mtl_fail(err, "%s:%ld: unit %ld starts at cycle %ld, expected cycle 1", path, line, unit,
                                cycle);
            }
            if ((size_t)out->n_units == cap_units) {
                cap_units *= 2;
                int *ns = realloc(out->unit_start, (cap_units + 1) * sizeof(int));
                if (ns) out->unit_start = ns;
                int *ni = realloc(out->unit_id, cap_units * sizeof(int));
                if (ni) out->unit_id = ni;
                if (!ns || !ni) {
                    cmapss_table_free(out);
                    return mtl_fail(err, "%s: out of memory", path);
                }
            }
            out->unit_start[out->n_units] = out->n_rows;
            out->unit_id[out->n_units] = (int)unit;
            out->n_units++;
        } else if (cycle != prev_cycle + 1) {
            cmapss_table_free(out);
            return mtl_fail(err, "%s:%ld: unit %ld cycle %ld, expected cycle %ld (cycles increase by one)", path,
                            line, unit, cycle, prev_cycle + 1);
        }
        prev_unit = unit;
        prev_cycle = cycle;
        out->n_rows++;
    }
    if (out->n_rows == 0) {
        cmapss_table_free(out);
        return mtl_fail(err, "%s: empty file, expected rows of %d numbers (unit, cycle, 3 settings, 21 sensors)",
                        path, CMAPSS_COLS);
    }
    out->unit_start[out->n_units] = out->n_rows;
    return 0;
}

static char *read_data_file(const char *path, size_t *len, mtl_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        mtl_fail(err, "%s: cannot open (%s); %s", path, strerror(errno), WHERE);
        return NULL;
    }
    return mtl_read_regular(path, CMAPSS_MAX_BYTES, len, err);
}

int cmapss_read_rows(const char *path, cmapss_table *out, mtl_err *err)
{
    size_t len;
    char *text = read_data_file(path, &len, err);
    if (!text) return -1;
    int rc = cmapss_parse_rows(path, text, len, out, err);
    free(text);
    return rc;
}

int cmapss_parse_rul(const char *path, const char *text, size_t len, int n_units, int **out, mtl_err *err)
{
    *out = NULL;
    int *rul = malloc(sizeof(int) * (size_t)(n_units > 0 ? n_units : 1));
    if (!rul) return mtl_fail(err, "%s: out of memory", path);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
        free(rul);
        return mtl_fail(err, "%s:1: starts with a UTF-8 byte-order mark (bytes \\xef\\xbb\\xbf); expected plain ASCII "
                        "numbers (save the file without it)", path);
    }
    const char *p = text, *end = text + len;
    long line = 0, blank_line = 0;
    int n = 0;
    const char *tb[2], *te[2];
    char tok[48];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        int nt = tokenize(p, le, tb, te, 2);
        p = nl ? nl + 1 : end;
        if (nt == 0) {
            if (!blank_line) blank_line = line;
            continue;
        }
        if (blank_line) {
            free(rul);
            return mtl_fail(err, "%s:%ld: empty line, expected one RUL value per line", path, blank_line);
        }
        if (nt != 1) {
            free(rul);
            return mtl_fail(err, "%s:%ld: %d values, expected 1 integer (the true RUL of test unit %d)", path,
                            line, nt, n + 1);
        }
        double v;
        if (parse_number(tb[0], te[0], &v) || v != floor(v) || v > 1e9) {
            token_copy(tb[0], te[0], tok, sizeof tok);
            free(rul);
            return mtl_fail(err, "%s:%ld: '%s', expected a non-negative integer RUL", path, line, tok);
        }
        if (v < 0) {
            free(rul);
            return mtl_fail(err, "%s:%ld: RUL %g is negative, expected a non-negative integer", path, line, v);
        }
        if (n >= n_units) {
            free(rul);
            return mtl_fail(err, "%s:%ld: more RUL values than the %d test units, expected exactly %d lines", path,
                            line, n_units, n_units);
        }
        rul[n++] = (int)v;
    }
    if (n != n_units) {
        free(rul);
        return mtl_fail(err, "%s: %d RUL values, expected %d (one per test unit)", path, n, n_units);
    }
    *out = rul;
    return 0;
}

int cmapss_subset_valid(const char *subset)
{
    return subset && strlen(subset) == 5 && strncmp(subset, "FD00", 4) == 0 && subset[4] >= '1' &&
           subset[4] <= '4';
}

static void subset_path(char *buf, size_t n, const char *dir, const char *kind, const char *subset)
{
    snprintf(buf, n, "%s/%s_%s.txt", dir, kind, subset);
}

int cmapss_dir_room(const char *dir, mtl_err *err)
{
    return mtl_path_room(dir, CMAPSS_NAME_MAX, "data folder", err);
}

int cmapss_subset_present(const char *dir, const char *subset)
{
    static const char *kinds[3] = {"train", "test", "RUL"};
    char path[PATH_MAX];
    struct stat st;
    if (cmapss_dir_room(dir, NULL)) return 0;
    for (int i = 0; i < 3; i++) {
        subset_path(path, sizeof path, dir, kinds[i], subset);
        if (stat(path, &st) != 0) return 0;
    }
    return 1;
}

uint64_t cmapss_set_digest(const cmapss_set *s)
{
    uint64_t h = mtl_fnv1a(MTL_FNV_INIT, &s->train.n_rows, sizeof s->train.n_rows);
    h = mtl_fnv1a(h, &s->test.n_rows, sizeof s->test.n_rows);
    h = mtl_fnv1a(h, s->train.x, sizeof(double) * CMAPSS_COLS * (size_t)s->train.n_rows);
    h = mtl_fnv1a(h, s->test.x, sizeof(double) * CMAPSS_COLS * (size_t)s->test.n_rows);
    return mtl_fnv1a(h, s->rul, sizeof(int) * (size_t)s->test.n_units);
}

void cmapss_set_free(cmapss_set *s)
{
    cmapss_table_free(&s->train);
    cmapss_table_free(&s->test);
    free(s->rul);
    s->rul = NULL;
}

int cmapss_load(const char *dir, const char *subset, cmapss_set *out, mtl_err *err)
{
    memset(out, 0, sizeof *out);
    if (!cmapss_subset_valid(subset))
        return mtl_fail(err, "unknown subset '%s', expected one of FD001, FD002, FD003, FD004", subset);
    if (cmapss_dir_room(dir, err)) return -1;
    snprintf(out->subset, sizeof out->subset, "%s", subset);
    char path[PATH_MAX], got[41];
    subset_path(path, sizeof path, dir, "train", subset);
    if (cmapss_read_rows(path, &out->train, err)) return -1;
    subset_path(path, sizeof path, dir, "test", subset);
    if (cmapss_read_rows(path, &out->test, err)) {
        cmapss_set_free(out);
        return -1;
    }
    subset_path(path, sizeof path, dir, "RUL", subset);
    size_t len;
    char *text = read_data_file(path, &len, err);
    if (!text) {
        cmapss_set_free(out);
        return -1;
    }
    /* more RUL values than test units: the test file is the one cut short */
    int values = 0;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t e = nl ? (size_t)(nl - text) : len;
        const char *tb[1], *te[1];
        if (tokenize(text + i, text + e, tb, te, 1) > 0) values++;
        i = e + 1;
    }
    if (values > out->test.n_units) {
        char test_path[PATH_MAX];
        subset_path(test_path, sizeof test_path, dir, "test", subset);
        int units = out->test.n_units;
        free(text);
        cmapss_set_free(out);
        return mtl_fail(err, "%s: %d test units, but %s has %d RUL values (one per unit): the test file is "
                        "incomplete", test_path, units, path, values);
    }
    int rc = cmapss_parse_rul(path, text, len, out->test.n_units, &out->rul, err);
    free(text);
    if (rc) {
        cmapss_set_free(out);
        return rc;
    }
    /* a canonical name with other content: say so (a train file cut at a unit boundary parses,
     * but its last unit no longer runs to failure, so its RUL targets are wrong; a test file
     * cut inside its last unit no longer matches its RUL) */
    for (int i = 0; i < CMAPSS_N_CANONICAL && !out->warning[0]; i++) {
        const char *nm = CANONICAL[i].name, *us = strchr(nm, '_');
        if (strncmp(nm, "RUL_", 4) == 0 || !us || strncmp(us + 1, subset, 5) != 0) continue;
        if (cmapss_verify_file(dir, &CANONICAL[i], got) == VERIFY_DIFFERS)
            snprintf(out->warning, sizeof out->warning,
                     "%.300s/%s is not NASA's original file (git blob %.12s, expected %.12s): if it was cut "
                     "short, its last unit's RUL targets are wrong",
                     dir, nm, got, CANONICAL[i].blob_sha1);
    }
    return 0;
}

cmapss_verify_status cmapss_verify_file(const char *dir, const cmapss_canonical *c, char got_sha1[41])
{
    char path[PATH_MAX];
    got_sha1[0] = '\0';
    if (cmapss_dir_room(dir, NULL)) return VERIFY_UNREADABLE;
    snprintf(path, sizeof path, "%s/%s", dir, c->name);
    struct stat st;
    if (stat(path, &st) != 0) return errno == ENOENT ? VERIFY_MISSING : VERIFY_UNREADABLE;
    size_t len;
    char *data = mtl_read_regular(path, CMAPSS_MAX_BYTES, &len, NULL);
    if (!data) return VERIFY_UNREADABLE;
    git_blob_sha1(data, len, got_sha1);
    free(data);
    return strcmp(got_sha1, c->blob_sha1) == 0 ? VERIFY_OK : VERIFY_DIFFERS;
}
