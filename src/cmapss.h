/* NASA C-MAPSS turbofan files: strict parsing and canonical-file verification.
 *
 * A data file has one row per engine cycle: 26 whitespace-separated numbers
 * (unit, cycle, setting1..3, s1..s21). Units appear in increasing order, each
 * starting at cycle 1 and increasing by exactly one. Trailing blanks and CRLF are
 * accepted; anything else that is off is an error "file:line: what was expected". */
#ifndef MTL_CMAPSS_H
#define MTL_CMAPSS_H

#include "util.h"

#define CMAPSS_COLS 26
#define CMAPSS_COL_SETTING 2   /* settings are columns 2,3,4 */
#define CMAPSS_COL_SENSOR1 5   /* sensor s_k is column 4+k */

typedef struct {
    int n_rows;
    int n_units;
    double *x;          /* n_rows x 26, row-major, as in the file */
    int *unit_start;    /* n_units + 1 row offsets */
    int *unit_id;       /* n_units ids as written */
} cmapss_table;

typedef struct {
    char subset[16];
    cmapss_table train, test;
    int *rul;           /* test.n_units true RULs, in unit order */
    char warning[512];  /* empty, or why the data is readable but suspect (cmapss_load) */
} cmapss_set;

/* Data files larger than this are refused (the largest C-MAPSS file is about 20 MB). */
#define CMAPSS_MAX_BYTES ((size_t)256 << 20)
/* A value at least this large is refused: squares and sums of it over any file stay finite. */
#define CMAPSS_MAX_ABS 1e15

/* Parses a train_/test_ file already in memory (`path` only names it in errors). */
int cmapss_parse_rows(const char *path, const char *text, size_t len, cmapss_table *out, mtl_err *err);
int cmapss_read_rows(const char *path, cmapss_table *out, mtl_err *err);
/* RUL file: one non-negative integer per line, exactly n_units lines. */
int cmapss_parse_rul(const char *path, const char *text, size_t len, int n_units, int **out, mtl_err *err);
/* Loads train_X, test_X and RUL_X from dir: regular files only. A test file with fewer units
 * than RUL values is reported as the incomplete one. A train file under a canonical name
 * whose content is not canonical fills out->warning. */
int cmapss_load(const char *dir, const char *subset, cmapss_set *out, mtl_err *err);
void cmapss_table_free(cmapss_table *t);
/* 64-bit FNV-1a of every number of the set (train and test rows, RULs): equal digests mean
 * the same data, whatever the files' paths or spelling. */
uint64_t cmapss_set_digest(const cmapss_set *s);
void cmapss_set_free(cmapss_set *s);

/* The longest file name under a data folder, with its slash: "/train_FD001.txt". */
#define CMAPSS_NAME_MAX 16
/* 0 when every file name fits under dir within PATH_MAX; else -1 and a message saying so
 * (err may be NULL). cmapss_load checks it; the others treat such a folder as one holding
 * nothing they can read. */
int cmapss_dir_room(const char *dir, mtl_err *err);
/* True when dir holds the three files of subset. */
int cmapss_subset_present(const char *dir, const char *subset);
/* Valid subset name (FD001..FD004)? */
int cmapss_subset_valid(const char *subset);

/* The 12 canonical file names and their git blob SHA-1. */
#define CMAPSS_N_CANONICAL 12
typedef struct { const char *name; const char *blob_sha1; } cmapss_canonical;
const cmapss_canonical *cmapss_canonical_files(void);

typedef enum { VERIFY_OK, VERIFY_MISSING, VERIFY_DIFFERS, VERIFY_UNREADABLE } cmapss_verify_status;
/* Checks one canonical file in dir; got_sha1 (41 bytes) receives the hash when readable. */
cmapss_verify_status cmapss_verify_file(const char *dir, const cmapss_canonical *c, char got_sha1[41]);

#endif
