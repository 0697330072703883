/* The run record and its HDF5 storage.
 *
 * Layout of every results file (readable with h5dump and h5py):
 *   format                      attribute "mtlbench-results-3" (versions 1 and 2: see results_read)
 *   /runs/<run_id>              group, one per run; run_id = 16 hex digits of the config hash
 *       attributes              the configuration, the run's metadata and its test metrics
 *                               (names as the fields of run_record below)
 *       history                 compound dataset, one row per epoch (run_epoch)
 *       test                    compound dataset, one row per test unit (run_test_row)
 * Files are never modified in place: a writer builds the new file beside the old one,
 * flushes and fsyncs it, then renames it over the old one, so a crash at any moment
 * leaves either the old complete file or the new complete file. */
#ifndef MTL_RESULTS_H
#define MTL_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "util.h"

typedef struct {
    int epoch;
    double loss_rul, loss_health;   /* epoch means of the global batch losses */
    double w_rul, w_health;         /* mean weights used over the epoch */
    double s_rul, s_health;         /* learnable method parameters at epoch end: uw log-variances,
                                     * imtl-l s, gradnorm weights (NaN for other methods) */
    double val_rmse, val_acc;
    double seconds;                 /* training time of the epoch (evaluation excluded) */
    double comm_seconds;            /* of which inside MPI calls */
    double compute_seconds;         /* the rest: seconds - comm_seconds */
    double samples_per_s;
} run_epoch;

typedef struct {
    int unit;
    float pred_rul, true_rul, true_rul_raw;
    int pred_health, true_health;
} run_test_row;

typedef struct {
    /* configuration (hashed into run_id) */
    char subset[16];
    char method[48];       /* canonical: fixed:0.5, uw, uw-o, uw-so:2, dwa:2, gradnorm:1.5, ... */
    char model[16];        /* dcnn | cnn1d */
    char protocol[16];     /* spec | li2018 (its options are recorded below, as run) */
    char norm[8];          /* z | minmax */
    char norm_scope[8];    /* regime | global: statistics per (regime, feature) or per feature */
    char data_digest[17];  /* 16 hex digits of the subset's data (cmapss_set_digest): a run is
                            * tied to the files it trained and was tested on */
    char lr_step[32];      /* E:F (lr times F after epoch E) | none */
    long seed;
    int epochs, window, batch, patience, deterministic;
    double lr, dropout, val_frac;
    /* identity and metadata */
    char run_id[17];
    char status[16];       /* ok | diverged */
    int ranks, threads;
    double wall_s;
    char git[48], version[16], host[128], start_time[32];
    char build[256];       /* the build options that change the arithmetic (mtl_build); empty
                            * in files written before it was recorded */
    /* test metrics at the best-validation parameters */
    double rmse, rmse_uncapped, mae, score, acc, f1;
    double best_val_rmse;
    int best_epoch, epochs_run;
    double samples_per_s, comm_fraction;
    double w_rul, w_health;   /* weights at the last step */
    char param_digest[17];
    int resumed_from_epoch;   /* of this process: its first epoch - 1 (not stored) */
    /* tables */
    int n_hist;
    run_epoch *hist;
    int n_test;
    run_test_row *test;
} run_record;

/* run_id from the configuration fields (stable across versions of the program). A run of
 * format 2 (no data_digest) hashes to the id it was given then. */
void run_config_id(const run_record *r, char out[17]);
/* The configuration fields that run_config_id hashes, i in [0, run_config_count()): field i
 * of r as text into buf (as hashed), and the name of the option that sets it (NULL for the
 * data digest, which comes from the data). */
int run_config_count(void);
const char *run_config_field(const run_record *r, int i, char *buf, size_t n);
void run_record_free(run_record *r);

/* Adds (or replaces, same run_id) run r in the file at path, creating it if missing.
 * Crash-safe as described above. */
int results_append(const char *path, const run_record *r, mtl_err *err);
/* Writes n runs into a new file at path (replacing it atomically). */
int results_write_all(const char *path, const run_record *runs, int n, mtl_err *err);

/* Files of format version 1 (before models and protocols were options) hold runs of the
 * network now called cnn1d under the name dcnn, trained under the spec protocol; they are
 * read with model "cnn1d", protocol "spec", norm "z", lr_step "none" and their original
 * run_id, so they are never grouped or compared with runs of the published dcnn.
 * Files of format version 2 (before the normalisation scope and the data digest were
 * recorded) are read with norm_scope "regime", an empty data_digest (data unknown) and
 * their original run_id.
 *
 * Reads every run of a results file (path ends in .h5) or of every *.h5 file in a
 * directory's runs/ subdirectory and then the directory itself (the first copy of a run
 * id wins, so per-run files take precedence over a merged file). *runs is malloc'd, free each with run_record_free. */
int results_read(const char *path, run_record **runs, int *n, mtl_err *err);
/* Reads one file only. */
int results_read_file(const char *path, run_record **runs, int *n, mtl_err *err);
/* 0 when a run can be added to path: its folder exists and is writable, and the file, if
 * it exists, is a readable results file. Checked before training, so no run is lost. */
int results_check_target(const char *path, mtl_err *err);
/* 1 when path is (or leads to) a regular file that starts like a results file or any HDF5
 * file: such a file is never overwritten by other output (report --csv, --svg). */
int results_is_results_file(const char *path);
/* 1 if path holds a whole run (results_run_whole) with this id, 0 if not. */
int results_has_run(const char *path, const char *run_id);

/* 1 when r's configuration hashes to its run_id (a file's own claim is not trusted); a
 * format-1 run is checked with the text its id was hashed from then. */
int results_id_consistent(const run_record *r);
/* 0 when r is a whole run: consistent run_id, status ok or diverged, one history row per
 * epoch run, test rows for an ok run. Otherwise -1 and why. */
int results_run_whole(const run_record *r, mtl_err *err);
/* Checks every results file directly in dir (a sweep's runs/ folder): each must be readable
 * and hold exactly one whole run, the one its name says. With tidy set, any other file is
 * moved into dir/bad/ with one warning line on log. When ids is not NULL, *ids gets the
 * malloc'd, sorted (strcmp) ids of the whole runs, *n_ids of them. A missing dir holds none.
 * Returns the number of files moved, or -1. */
int results_scan_runs(const char *dir, int tidy, FILE *log, char (**ids)[17], int *n_ids, mtl_err *err);
/* results_scan_runs(dir, 1, log, NULL, NULL, err) */
int results_tidy_runs(const char *dir, FILE *log, mtl_err *err);
/* Merges a sweep's folder: every run of the run files in dir/runs and every run of dir/sweep.h5 that is in
 * no run file (one added by train --out, say) into dir/sweep.h5, under the lock of
 * results_append. When neither the run files nor sweep.h5 changed since the last merge
 * (recorded in dir/.sweep.h5.state: names, sizes, inodes and times), nothing is read or
 * written and *unchanged is set. A sweep.h5 that cannot be read is moved to dir/bad/ with a
 * warning on log. *n gets the number of runs in sweep.h5. 0, or -1 (err says why). */
int results_merge_dir(const char *dir, FILE *log, int *n, int *unchanged, mtl_err *err);


#endif
