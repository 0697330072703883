/* Preprocessing of one C-MAPSS subset (SPEC section 2): sensor selection, operating
 * regimes by k-means on the settings, z-score or min-max scaling per regime or over all rows, capped RUL, health labels,
 * sliding windows, a unit-level validation split, and one test window per unit.
 * Every statistic is fitted on the training units only. */
#ifndef MTL_PREP_H
#define MTL_PREP_H

#include <stdint.h>

#include "cmapss.h"

#define PREP_FEATURES 14
#define PREP_MAX_REGIMES 8
#define PREP_RUL_CAP 125.0f

/* Health state from the capped RUL: 0 healthy (> 80), 1 degrading (30, 80], 2 critical (<= 30). */
static inline int prep_health(float y) { return y > 80.0f ? 0 : (y > 30.0f ? 1 : 2); }

/* Sensor numbers (s_k) used as features. */
extern const int PREP_SENSORS[PREP_FEATURES];

typedef struct {
    int n_rows;          /* rows of normalised features */
    float *x;            /* n_rows x PREP_FEATURES */
    int n_win;           /* windows: rows [start, start + W) */
    int *win_start;
    float *y;            /* capped RUL of the window's last cycle */
    float *y_raw;        /* uncapped RUL (test: from RUL_X.txt) */
    uint8_t *h;          /* health label */
    int *unit;           /* unit id of each window */
} prep_split;

typedef struct {
    char subset[16];
    int W;
    int n_regimes;
    double centers[PREP_MAX_REGIMES][3];
    int norm;                                             /* PREP_NORM_Z or PREP_NORM_MINMAX */
    int norm_scope;                                       /* PREP_SCOPE_REGIME or PREP_SCOPE_GLOBAL */
    uint64_t data_digest;                                 /* cmapss_set_digest of the files read */
    double mean[PREP_MAX_REGIMES][PREP_FEATURES];
    double std[PREP_MAX_REGIMES][PREP_FEATURES];
    double min[PREP_MAX_REGIMES][PREP_FEATURES];
    double max[PREP_MAX_REGIMES][PREP_FEATURES];
    int train_units, train_rows, test_units, test_rows;  /* of the files */
    int regime_rows[PREP_MAX_REGIMES];                    /* rows of the train file per regime */
    int label_counts[3];                                  /* health labels of training windows */
    int n_val_units;                                      /* 0 with val_frac 0: no validation set */
    int *val_units;                                       /* ids, ascending */
    int test_padded;                                      /* test units shorter than W */
    prep_split train, val, test;
} prep_data;

/* Normalisation, fitted on the training units:
 * z       (x - mean) / (std + 1e-8)
 * minmax  2 (x - min) / (max - min + 1e-8) - 1   (Li et al. 2018) */
enum { PREP_NORM_Z = 0, PREP_NORM_MINMAX = 1 };
const char *prep_norm_name(int norm);
/* 0 and *norm set for "z" / "minmax", -1 otherwise. */
int prep_norm_parse(const char *name, int *norm);
/* Scope of the statistics: per (operating regime, feature), or per feature over all rows
 * (Li et al. 2018). Subsets with one regime give the same numbers either way. */
enum { PREP_SCOPE_REGIME = 0, PREP_SCOPE_GLOBAL = 1 };
const char *prep_scope_name(int scope);
/* 0 and *scope set for "regime" / "global", -1 otherwise. */
int prep_scope_parse(const char *name, int *scope);

typedef struct {
    int window;          /* 0: the subset's default */
    double val_frac;     /* 0.2; 0: no validation units */
    uint64_t seed;       /* chooses the validation units */
    int norm;            /* PREP_NORM_Z (default) or PREP_NORM_MINMAX */
    int norm_scope;      /* PREP_SCOPE_REGIME (default) or PREP_SCOPE_GLOBAL */
} prep_options;

/* The default window length of a subset (30/20/30/15). */
int prep_default_window(const char *subset);
/* Number of operating regimes of a subset (6 for FD002/FD004, else 1). */
int prep_regimes(const char *subset);

int prep_build(const cmapss_set *set, const prep_options *opt, prep_data *out, mtl_err *err);
void prep_free(prep_data *d);
/* 0 when d has training windows, and validation windows unless it has no validation units;
 * otherwise an error saying why. */
int prep_check_trainable(const prep_data *d, mtl_err *err);

/* Deterministic k-means: farthest-point initialisation from the first point (ties to the lowest
 * index), Lloyd iterations to convergence, centres sorted lexicographically. x is n x dim. */
int prep_kmeans(const double *x, int n, int dim, int k, double *centers, mtl_err *err);
/* Index of the nearest centre (ties to the lowest index). */
int prep_nearest(const double *p, const double *centers, int k, int dim);

#endif
