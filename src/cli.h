/* Subcommands of the mtlbench program. Each returns the process exit status:
 * 0 success, 1 a failed check (a regression, a missing run), 2 bad usage or input,
 * 3 interrupted, resumable: run the same command again (train, sweep). */
#ifndef MTL_CLI_H
#define MTL_CLI_H

#include "prep.h"
#include "train.h"

int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* Loads and preprocesses a subset; err names the file and line on bad data. */
int cli_load(const char *dir, const char *subset, const prep_options *po, prep_data *d, mtl_err *err);
/* The same; *digest gets cmapss_set_digest of the files read, and warnings (data that is
 * readable but suspicious) go to warn when it is not NULL. */
int cli_load_digest(const char *dir, const char *subset, const prep_options *po, prep_data *d, uint64_t *digest,
                    FILE *warn, mtl_err *err);
/* Prints the one-object JSON of a finished run. */
void cli_print_run_json(const run_record *r, FILE *f);
/* Prints the result line of a finished run, one line of space-separated key=value pairs
 * after the fixed prefix CLI_RESULT_PREFIX, keys in this order: format (1), run_id, subset,
 * model, protocol, method, seed, status, rmse, score, acc, f1, samples_per_s,
 * comm_fraction, wall_s, ranks, threads. Values never contain blanks or '='; numbers are
 * fixed-point (no exponent), "nan" or "inf" when not finite. The format is stable: keys
 * may be added at the end, none is removed or renamed without a new format number. */
#define CLI_RESULT_PREFIX "MTLBENCH_RESULT"
void cli_print_result_line(const run_record *r, FILE *f);
/* The training options shared by train and sweep, by getopt code: x --deterministic,
 * e --epochs, b --batch, w --window, p --patience, t --threads, l --lr, D --dropout,
 * M --model, P --protocol, N --norm, G --norm-scope, V --val-frac, Z --lr-step. Options a protocol sets are
 * marked in c->given; call train_config_apply_protocol once all are parsed.
 * Returns 0 when applied, 1 for an invalid value, -1 when code is not one of them. */
int cli_train_option(int code, const char *arg, train_config *c, int *window);
/* getopt_long entries of those options (to be copied into a command's option table). */
#define CLI_TRAIN_OPTIONS                                                                                      \
    {"epochs", 1, 0, 'e'}, {"batch", 1, 0, 'b'}, {"lr", 1, 0, 'l'}, {"dropout", 1, 0, 'D'},                   \
        {"window", 1, 0, 'w'}, {"patience", 1, 0, 'p'}, {"deterministic", 0, 0, 'x'}, {"threads", 1, 0, 't'},  \
        {"model", 1, 0, 'M'}, {"protocol", 1, 0, 'P'}, {"norm", 1, 0, 'N'}, {"val-frac", 1, 0, 'V'},           \
        {"lr-step", 1, 0, 'Z'}, {"norm-scope", 1, 0, 'G'}
/* The --help text of those options. */
extern const char CLI_TRAIN_HELP[];
/* Default data folder: $MTLBENCH_DATA, else the source tree's datasets/cmapss. */
const char *cli_default_data(void);
/* The data installed with the running executable, <its folder>/MTL_DATA_REL (i.e.
 * <prefix>/share/mtlbench/datasets/cmapss, found through /proc/self/exe, so a moved
 * installation still finds it): 0 with its canonical path in buf when that folder exists,
 * else -1. The program sets MTLBENCH_DATA to it when unset, so that an installed binary
 * reads its own data. */
#define CLI_PATH_MAX 4096
int cli_installed_data(char *buf, size_t n);

/* Graceful stop of train and sweep. After cli_stop_install (call it after MPI_Init, which
 * may install handlers of its own), SIGTERM, SIGINT and SIGUSR1 set a flag that the
 * command polls at epoch boundaries; a second SIGINT ends the process at once with
 * CLI_INTERRUPTED (repeated SIGTERM/SIGUSR1 are ignored). The flag is the only state a
 * signal handler touches. */
#define CLI_INTERRUPTED 3
int cli_stop_install(void);
/* The signal that asked to stop, 0 when none did. */
int cli_stop_signal(void);
/* cli_stop_signal() != 0, in the shape of train_config.stop (ctx unused). */
int cli_stop_poll(void *ctx);

#endif
