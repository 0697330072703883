#include "helpers.h"

#include <criterion/criterion.h>

#include "cmapss.h"
#include "sha1.h"

/* Three valid rows: unit 1 cycles 1-2, unit 2 cycle 1. */
#define ROW(u, c) #u " " #c " -0.0007 -0.0004 100.0 518.67 641.82 1589.70 1400.60 14.62 21.61 554.36 2388.06 9046.19 1.30 47.47 521.66 2388.02 8138.62 8.4195 0.03 392 2388 100.00 39.06 23.4190"

static int parse(const char *text, cmapss_table *t, mtl_err *err)
{
    return cmapss_parse_rows("f.txt", text, strlen(text), t, err);
}

static void expect_error(const char *text, const char *needle)
{
    cmapss_table t;
    mtl_err err = {{0}};
    cr_assert_eq(parse(text, &t, &err), -1, "accepted bad input, expected error '%s'", needle);
    cr_assert(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
}

Test(cmapss, accepts_good_rows_trailing_blanks_and_crlf)
{
    cmapss_table t;
    mtl_err err;
    cr_assert_eq(parse(ROW(1, 1) "  \r\n" ROW(1, 2) " \r\n" ROW(2, 1) "\r\n", &t, &err), 0, "%s", err.msg);
    cr_assert_eq(t.n_rows, 3);
    cr_assert_eq(t.n_units, 2);
    cr_assert_eq(t.unit_id[1], 2);
    cr_assert_eq(t.unit_start[1], 2);
    cr_assert_float_eq(t.x[2], -0.0007, 1e-15);
    cr_assert_float_eq(t.x[25], 23.4190, 1e-12);
    cmapss_table_free(&t);
    /* last line without newline, and blank lines at the end */
    cr_assert_eq(parse(ROW(1, 1) "\n" ROW(1, 2) "\n\n  \n", &t, &err), 0, "%s", err.msg);
    cr_assert_eq(t.n_rows, 2);
    cmapss_table_free(&t);
}

Test(cmapss, number_parsing_is_exact)
{
    cmapss_table t;
    mtl_err err;
    cr_assert_eq(parse("1 1 0.1 -1e-3 1.5E2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 123456789.123456789\n", &t, &err),
                 0, "%s", err.msg);
    cr_assert_eq(t.x[2], 0.1);
    cr_assert_eq(t.x[3], -1e-3);
    cr_assert_eq(t.x[4], 150.0);
    cr_assert_eq(t.x[25], 123456789.123456789);
    cmapss_table_free(&t);
}

Test(cmapss, rejects_wrong_column_count)
{
    expect_error(ROW(1, 1) "\n1 2 3\n", "f.txt:2: 3 columns, expected 26");
    expect_error(ROW(1, 1) " 7\n", "f.txt:1: 27 columns, expected 26");
}

Test(cmapss, rejects_non_numbers)
{
    expect_error("1 1 abc 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "f.txt:1: column 3: 'abc' is not a finite number");
    expect_error("1 1 nan 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3: 'nan'");
    expect_error("1 1 inf 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3: 'inf'");
    expect_error("1 1 1e999 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3");
    expect_error("1 1 0x10 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3");
    expect_error("1 1 1.2.3 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3");
    expect_error("1.5 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "f.txt:1: unit id 1.5, expected a positive integer");
}

/* Bytes that a terminal would not show are written as \xNN; a byte-order mark is named. */
Test(cmapss, invisible_bytes_are_shown)
{
    expect_error("1 1 a\x01\xff 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n", "column 3: 'a\\x01\\xff' is not a finite number");
    expect_error("\xef\xbb\xbf" ROW(1, 1) "\n", "f.txt:1: starts with a UTF-8 byte-order mark (bytes \\xef\\xbb\\xbf)");
}

Test(cmapss, rejects_unit_going_backwards)
{
    expect_error(ROW(2, 1) "\n" ROW(1, 1) "\n", "f.txt:2: unit 1 after unit 2, expected unit ids in increasing order");
}

Test(cmapss, rejects_cycle_gaps_and_repeats)
{
    expect_error(ROW(1, 1) "\n" ROW(1, 3) "\n", "f.txt:2: unit 1 cycle 3, expected cycle 2");
    expect_error(ROW(1, 1) "\n" ROW(1, 1) "\n", "f.txt:2: unit 1 cycle 1, expected cycle 2");
    expect_error(ROW(1, 2) "\n", "f.txt:1: unit 1 starts at cycle 2, expected cycle 1");
}

Test(cmapss, rejects_empty_file_and_inner_blank_lines)
{
    expect_error("", "f.txt: empty file");
    expect_error("  \n\n", "f.txt: empty file");
    expect_error(ROW(1, 1) "\n\n" ROW(1, 2) "\n", "f.txt:2: empty line");
}

Test(cmapss, long_lines_do_not_overflow)
{
    size_t n = 1 << 20;
    char *text = malloc(n + 128);
    strcpy(text, "1 1 ");
    memset(text + 4, '7', n);
    text[n + 4] = '\0';
    for (int i = 0; i < 23; i++) strcat(text + n, " 1");
    strcat(text + n, "\n");
    cmapss_table t;
    mtl_err err;
    cr_assert_eq(parse(text, &t, &err), -1);
    cr_assert(strstr(err.msg, "f.txt:1: column 3: '7777") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "is not a finite number") != NULL, "%s", err.msg);
    /* the same line with one token too many */
    text[strlen(text) - 1] = ' ';
    strcat(text + n, "1 1\n");
    cr_assert_eq(parse(text, &t, &err), -1);
    cr_assert(strstr(err.msg, "f.txt:1: 28 columns, expected 26") != NULL, "%s", err.msg);
    free(text);
}

static int rul_parse(const char *text, int n_units, int **out, mtl_err *err)
{
    return cmapss_parse_rul("r.txt", text, strlen(text), n_units, out, err);
}

Test(cmapss, rul_file_rules)
{
    int *rul;
    mtl_err err;
    cr_assert_eq(rul_parse("112 \n98\r\n69\n", 3, &rul, &err), 0, "%s", err.msg);
    cr_assert_eq(rul[0], 112);
    cr_assert_eq(rul[2], 69);
    free(rul);
    cr_assert_eq(rul_parse("1\n2\n", 3, &rul, &err), -1);
    cr_assert(strstr(err.msg, "r.txt: 2 RUL values, expected 3") != NULL, "%s", err.msg);
    cr_assert_eq(rul_parse("1\n2\n3\n4\n", 3, &rul, &err), -1);
    cr_assert(strstr(err.msg, "r.txt:4: more RUL values") != NULL, "%s", err.msg);
    cr_assert_eq(rul_parse("1\n-2\n3\n", 3, &rul, &err), -1);
    cr_assert(strstr(err.msg, "r.txt:2: RUL -2 is negative") != NULL, "%s", err.msg);
    cr_assert_eq(rul_parse("1\n2.5\n3\n", 3, &rul, &err), -1);
    cr_assert(strstr(err.msg, "r.txt:2: '2.5', expected a non-negative integer") != NULL, "%s", err.msg);
    cr_assert_eq(rul_parse("1 2\n", 1, &rul, &err), -1);
    cr_assert(strstr(err.msg, "r.txt:1: 2 values, expected 1") != NULL, "%s", err.msg);
}

Test(cmapss, load_names_missing_file_and_where_to_get_it)
{
    char dir[64];
    th_tmpdir(dir, sizeof dir);
    cmapss_set s;
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, "FD002", &s, &err), -1);
    cr_assert(strstr(err.msg, "train_FD002.txt: cannot open") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "datasets/fetch") != NULL, "%s", err.msg);
    cr_assert_eq(cmapss_load(dir, "FD009", &s, &err), -1);
    cr_assert(strstr(err.msg, "unknown subset 'FD009'") != NULL, "%s", err.msg);
}

Test(cmapss, a_data_folder_too_long_for_its_file_names_is_named_not_cut)
{
    /* CMAPSS_NAME_MAX is the longest file name with its slash */
    size_t longest = 0;
    for (int i = 0; i < CMAPSS_N_CANONICAL; i++) {
        size_t n = 1 + strlen(cmapss_canonical_files()[i].name);
        if (n > longest) longest = n;
    }
    cr_assert_eq(longest, CMAPSS_NAME_MAX);
    /* a folder whose file names would be cut at PATH_MAX (and another, shorter path read) */
    static char dir[PATH_MAX];
    const size_t too_long = PATH_MAX - CMAPSS_NAME_MAX;
    memset(dir, 'd', too_long);
    dir[too_long] = '\0';
    for (size_t i = 100; i < too_long; i += 100) dir[i] = '/'; /* folder names within NAME_MAX */
    cmapss_set s;
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, "FD001", &s, &err), -1);
    cr_assert(strstr(err.msg, "data folder ddd") != NULL, "%.80s", err.msg);
    char want[128];
    snprintf(want, sizeof want, "%zu characters; the files made under it need up to %d more", too_long,
             CMAPSS_NAME_MAX);
    cr_assert(strstr(err.msg, want) != NULL, "%s", err.msg + strlen(err.msg) - 80);
    char got[41];
    cr_assert_eq(cmapss_verify_file(dir, &cmapss_canonical_files()[0], got), VERIFY_UNREADABLE);
    /* the commands refuse it, exit 2 */
    static char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "%s data verify %s >/dev/null 2>&1", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 2);
    /* (sweep starts MPI, whose allocations a sanitizer build would report as leaks) */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=detect_leaks=0 %s sweep --dry-run --data %s 2>&1 | grep -q 'mtlbench sweep: data folder ddd'",
             MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "ASAN_OPTIONS=detect_leaks=0 %s sweep --dry-run --data %s >/dev/null 2>&1", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 2);
    /* one character shorter fits: the file is looked for, and missing */
    dir[too_long - 1] = '\0';
    cr_assert_eq(cmapss_dir_room(dir, &err), 0);
    cr_assert_eq(cmapss_verify_file(dir, &cmapss_canonical_files()[0], got), VERIFY_MISSING);
    cr_assert_eq(cmapss_load(dir, "FD001", &s, &err), -1);
    cr_assert(strstr(err.msg, "train_FD001.txt: cannot open") != NULL, "%s", err.msg + strlen(err.msg) - 80);
}

Test(cmapss, rul_count_must_match_test_units)
{
    char dir[64], p[128];
    th_tmpdir(dir, sizeof dir);
    snprintf(p, sizeof p, "%s/train_FD001.txt", dir);
    th_write(p, ROW(1, 1) "\n" ROW(1, 2) "\n" ROW(2, 1) "\n");
    snprintf(p, sizeof p, "%s/test_FD001.txt", dir);
    th_write(p, ROW(1, 1) "\n" ROW(2, 1) "\n");
    snprintf(p, sizeof p, "%s/RUL_FD001.txt", dir);
    th_write(p, "10\n");
    cmapss_set s;
    mtl_err err;
    cr_assert_eq(cmapss_load(dir, "FD001", &s, &err), -1);
    cr_assert(strstr(err.msg, "RUL_FD001.txt: 1 RUL values, expected 2 (one per test unit)") != NULL, "%s", err.msg);
    th_write(p, "10\n20\n");
    cr_assert_eq(cmapss_load(dir, "FD001", &s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.test.n_units, 2);
    cr_assert_eq(s.rul[1], 20);
    cmapss_set_free(&s);
}

Test(cmapss, real_fd001_counts)
{
    cmapss_set s;
    mtl_err err;
    cr_assert_eq(cmapss_load(MTL_TEST_DATA, "FD001", &s, &err), 0, "%s", err.msg);
    cr_assert_eq(s.train.n_units, 100);
    cr_assert_eq(s.train.n_rows, 20631);
    cr_assert_eq(s.test.n_units, 100);
    cr_assert_eq(s.test.n_rows, 13096);
    cr_assert_eq(s.rul[0], 112);
    cmapss_set_free(&s);
}

/* The four subsets of NASA's data, as SPEC section 2 counts them. A folder holding fewer
 * subsets (MTLBENCH_TEST_DATA pointed elsewhere) skips the ones it lacks. */
Test(cmapss, real_subsets_counts)
{
    static const struct {
        const char *subset;
        int train_units, train_rows, test_units, test_rows;
    } want[] = {{"FD001", 100, 20631, 100, 13096}, {"FD002", 260, 53759, 259, 33991},
                {"FD003", 100, 24720, 100, 16596}, {"FD004", 249, 61249, 248, 41214}};
    int present = 0;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!cmapss_subset_present(MTL_TEST_DATA, want[i].subset)) continue;
        present++;
        cmapss_set s;
        mtl_err err;
        cr_assert_eq(cmapss_load(MTL_TEST_DATA, want[i].subset, &s, &err), 0, "%s", err.msg);
        cr_assert_eq(s.train.n_units, want[i].train_units, "%s", want[i].subset);
        cr_assert_eq(s.train.n_rows, want[i].train_rows, "%s", want[i].subset);
        cr_assert_eq(s.test.n_units, want[i].test_units, "%s", want[i].subset);
        cr_assert_eq(s.test.n_rows, want[i].test_rows, "%s", want[i].subset);
        cr_assert_eq(s.warning[0], '\0', "%s: %s", want[i].subset, s.warning);
        cmapss_set_free(&s);
    }
    cr_assert_geq(present, 1);
    if (present < 4) cr_log_warn("%s holds %d of the 4 subsets", MTL_TEST_DATA, present);
}

Test(sha1, known_vectors)
{
    char hex[41];
    git_blob_sha1("", 0, hex);
    cr_assert_str_eq(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"); /* git's empty blob */
    git_blob_sha1("hello\n", 6, hex);
    cr_assert_str_eq(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
    sha1_ctx c;
    unsigned char d[20];
    sha1_init(&c);
    sha1_update(&c, "abc", 3);
    sha1_final(&c, d);
    sha1_hex(d, hex);
    cr_assert_str_eq(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
}

Test(verify, ok_missing_and_one_byte_changed)
{
    char dir[64], p[128], got[41];
    th_tmpdir(dir, sizeof dir);
    const cmapss_canonical *c = cmapss_canonical_files();
    cr_assert_str_eq(c[2].name, "RUL_FD001.txt");
    cr_assert_eq(cmapss_verify_file(dir, &c[2], got), VERIFY_MISSING);
    size_t len;
    char src[512];
    snprintf(src, sizeof src, "%s/RUL_FD001.txt", MTL_TEST_DATA);
    char *data = mtl_read_file(src, &len, NULL);
    cr_assert_not_null(data);
    snprintf(p, sizeof p, "%s/RUL_FD001.txt", dir);
    th_write(p, data);
    cr_assert_eq(cmapss_verify_file(dir, &c[2], got), VERIFY_OK);
    cr_assert_str_eq(got, c[2].blob_sha1);
    data[0] = data[0] == '1' ? '2' : '1';
    th_write(p, data);
    cr_assert_eq(cmapss_verify_file(dir, &c[2], got), VERIFY_DIFFERS);
    free(data);
    /* the program says so and exits non-zero */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s data verify %s | grep -q '^differs *RUL_FD001.txt'", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s data verify %s >/dev/null", MTL_BIN, dir);
    cr_assert_eq(th_system(cmd), 1);
}
