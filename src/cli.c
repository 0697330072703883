#define _POSIX_C_SOURCE 200809L
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli.h"
#include "json.h"

#include <limits.h>
#include <math.h>
#include <omp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by the stop handler, read at epoch boundaries: the signal that asked to stop. */
static volatile sig_atomic_t stop_signal;

/* A repeated SIGTERM or SIGUSR1 changes nothing: launchers and batch systems often deliver
 * one more than once (to mpirun or srun and to the ranks). A second SIGINT is a person
 * pressing Ctrl-C again. */
static void on_stop(int sig)
{
    if (stop_signal && sig == SIGINT) {
        static const char msg[] = "mtlbench: second interrupt, stopping at once\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(CLI_INTERRUPTED);
    }
    if (!stop_signal) stop_signal = sig;
}

int cli_stop_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    const int sigs[] = {SIGTERM, SIGINT, SIGUSR1};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) < 0) return -1;
    return 0;
}

int cli_stop_signal(void) { return stop_signal; }

int cli_stop_poll(void *ctx)
{
    (void)ctx;
    return stop_signal != 0;
}

int cli_installed_data(char *buf, size_t n)
{
    char exe[PATH_MAX], where[PATH_MAX + sizeof MTL_DATA_REL + 1], real[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash) return -1;
    *slash = '\0';
    snprintf(where, sizeof where, "%s/%s", exe, MTL_DATA_REL);
    struct stat st;
    if (!realpath(where, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) return -1;
    return (size_t)snprintf(buf, n, "%s", real) < n ? 0 : -1;
}

const char *cli_default_data(void)
{
    const char *env = getenv("MTLBENCH_DATA");
    return env && *env ? env : MTL_DATA_DIR;
}

int cli_load(const char *dir, const char *subset, const prep_options *po, prep_data *d, mtl_err *err)
{
    uint64_t digest;
    return cli_load_digest(dir, subset, po, d, &digest, NULL, err);
}

int cli_load_digest(const char *dir, const char *subset, const prep_options *po, prep_data *d, uint64_t *digest,
                    FILE *warn, mtl_err *err)
{
    cmapss_set set;
    if (cmapss_load(dir, subset, &set, err)) return -1;
    *digest = cmapss_set_digest(&set);
    if (warn && set.warning[0]) fprintf(warn, "warning: %s\n", set.warning);
    int rc = prep_build(&set, po, d, err);
    cmapss_set_free(&set);
    return rc;
}

void cli_print_run_json(const run_record *r, FILE *f)
{
    json_w j;
    json_open(&j, f);
    json_str(&j, "run_id", r->run_id);
    json_str(&j, "subset", r->subset);
    json_str(&j, "method", r->method);
    json_str(&j, "model", r->model);
    json_str(&j, "protocol", r->protocol);
    json_str(&j, "norm", r->norm);
    json_str(&j, "norm_scope", r->norm_scope);
    json_str(&j, "data_digest", r->data_digest);
    json_num(&j, "val_frac", r->val_frac);
    json_str(&j, "lr_step", r->lr_step);
    json_int(&j, "epochs", r->epochs);
    json_int(&j, "seed", r->seed);
    json_str(&j, "status", r->status);
    json_num(&j, "rmse", r->rmse);
    json_num(&j, "rmse_uncapped", r->rmse_uncapped);
    json_num(&j, "mae", r->mae);
    json_num(&j, "score", r->score);
    json_num(&j, "acc", r->acc);
    json_num(&j, "f1", r->f1);
    json_num(&j, "best_val_rmse", r->best_val_rmse);
    json_int(&j, "best_epoch", r->best_epoch);
    json_int(&j, "epochs_run", r->epochs_run);
    json_num(&j, "samples_per_s", r->samples_per_s);
    json_num(&j, "comm_fraction", r->comm_fraction);
    json_num(&j, "w_rul", r->w_rul);
    json_num(&j, "w_health", r->w_health);
    json_str(&j, "param_digest", r->param_digest);
    json_str(&j, "git", r->git);
    json_str(&j, "build", r->build);
    json_int(&j, "ranks", r->ranks);
    json_int(&j, "threads", r->threads);
    json_int(&j, "deterministic", r->deterministic);
    json_num(&j, "wall_s", r->wall_s);
    json_int(&j, "resumed_from_epoch", r->resumed_from_epoch);
    json_close(&j);
}

/* " key=value" of a string: blanks, '=' and control characters become '_'. */
static void result_str(FILE *f, const char *key, const char *v)
{
    fprintf(f, " %s=", key);
    if (!*v) fputc('_', f);
    for (; *v; v++) fputc((unsigned char)*v <= ' ' || *v == '=' ? '_' : *v, f);
}

static void result_num(FILE *f, const char *key, double v, int decimals)
{
    if (isnan(v)) fprintf(f, " %s=nan", key);
    else if (isinf(v)) fprintf(f, " %s=%sinf", key, v < 0 ? "-" : "");
    else fprintf(f, " %s=%.*f", key, decimals, v);
}

void cli_print_result_line(const run_record *r, FILE *f)
{
    fputs(CLI_RESULT_PREFIX " format=1", f);
    result_str(f, "run_id", r->run_id);
    result_str(f, "subset", r->subset);
    result_str(f, "model", r->model);
    result_str(f, "protocol", r->protocol);
    result_str(f, "method", r->method);
    fprintf(f, " seed=%ld", r->seed);
    result_str(f, "status", r->status);
    result_num(f, "rmse", r->rmse, 4);
    result_num(f, "score", r->score, 3);
    result_num(f, "acc", r->acc, 4);
    result_num(f, "f1", r->f1, 4);
    result_num(f, "samples_per_s", r->samples_per_s, 1);
    result_num(f, "comm_fraction", r->comm_fraction, 6);
    result_num(f, "wall_s", r->wall_s, 3);
    fprintf(f, " ranks=%d threads=%d\n", r->ranks, r->threads);
    fflush(f);
}

int cli_train_option(int code, const char *arg, train_config *c, int *window)
{
    long lv;
    double dv;
    switch (code) {
    case 'x': c->deterministic = 1; return 0;
    case 'e':
        if (mtl_parse_long(arg, &lv) || lv < 1 || lv > 1000000) return 1;
        c->epochs = (int)lv;
        c->given |= GIVEN_EPOCHS;
        return 0;
    case 'b':
        if (mtl_parse_long(arg, &lv) || lv < 1 || lv > 1 << 20) return 1;
        c->batch = (int)lv;
        return 0;
    case 'w':
        if (mtl_parse_long(arg, &lv) || lv < 1 || lv > 1000) return 1;
        *window = (int)lv;
        return 0;
    case 'p':
        if (mtl_parse_long(arg, &lv) || lv < 0 || lv > 1000000) return 1;
        c->patience = (int)lv;
        return 0;
    case 't':
        if (mtl_parse_long(arg, &lv) || lv < 1 || lv > 1024) return 1;
        omp_set_num_threads((int)lv);
        return 0;
    case 'l':
        if (mtl_parse_double(arg, &dv) || !(dv > 0 && dv < 10)) return 1;
        c->lr = dv;
        c->given |= GIVEN_LR;
        return 0;
    case 'D':
        if (mtl_parse_double(arg, &dv) || !(dv >= 0 && dv < 1)) return 1;
        c->dropout = dv;
        return 0;
    case 'M': return model_parse(arg, &c->model) ? 1 : 0;
    case 'P': return protocol_parse(arg, &c->protocol) ? 1 : 0;
    case 'N':
        if (prep_norm_parse(arg, &c->norm)) return 1;
        c->given |= GIVEN_NORM;
        return 0;
    case 'G':
        if (prep_scope_parse(arg, &c->norm_scope)) return 1;
        c->given |= GIVEN_NORM_SCOPE;
        return 0;
    case 'V':
        if (mtl_parse_double(arg, &dv) || !(dv >= 0 && dv < 1)) return 1;
        c->val_frac = dv;
        c->given |= GIVEN_VAL_FRAC;
        return 0;
    case 'Z': {
        /* E:F, or "none" */
        c->given |= GIVEN_LR_STEP;
        if (strcmp(arg, "none") == 0) {
            c->lr_step_epoch = 0;
            c->lr_step_factor = 1.0;
            return 0;
        }
        const char *colon = strchr(arg, ':');
        char ebuf[24];
        if (!colon || (size_t)(colon - arg) >= sizeof ebuf) return 1;
        memcpy(ebuf, arg, (size_t)(colon - arg));
        ebuf[colon - arg] = '\0';
        if (mtl_parse_long(ebuf, &lv) || lv < 1 || lv > 1000000) return 1;
        if (mtl_parse_double(colon + 1, &dv) || !(dv > 0 && dv <= 1e6)) return 1;
        c->lr_step_epoch = (int)lv;
        c->lr_step_factor = dv;
        return 0;
    }
    default: return -1;
    }
}

const char CLI_TRAIN_HELP[] =
    "  --model M         dcnn (Li et al. 2018 as published: 10x1 convolutions per sensor) or\n"
    "                    cnn1d (sensors as channels of 1-D convolutions, 10x cheaper) (default dcnn)\n"
    "  --protocol P      spec (z-score per regime, 20% validation units, best-validation epoch,\n"
    "                    100 epochs) or li2018 (global min-max, no validation, last epoch, 250\n"
    "                    epochs, lr x0.1 after epoch 200) (default spec); the options below\n"
    "                    override it\n"
    "  --norm N          z or minmax (spec z, li2018 minmax)\n"
    "  --norm-scope S    regime: statistics per operating regime and sensor; global: per sensor\n"
    "                    over all training rows (spec regime, li2018 global)\n"
    "  --val-frac F      fraction of training units held out for validation, in [0, 1); 0: none,\n"
    "                    the last epoch's parameters are evaluated\n"
    "  --lr-step E:F     multiply the learning rate by F after epoch E ('none': never)\n"
    "  --epochs N        epochs (spec 100, li2018 250)\n"
    "  --batch B         global batch size, split over the ranks (default 512)\n"
    "  --lr X            Adam learning rate (default 0.001)\n"
    "  --dropout X       dropout before the dense layer (default 0.5)\n"
    "  --window W        window length (default 30 FD001/FD003, 20 FD002, 15 FD004)\n"
    "  --patience N      stop after N epochs without a better validation RMSE (default 0: off)\n"
    "  --deterministic   exact fixed-point gradient sums: bitwise identical results for any\n"
    "                    number of ranks and threads\n"
    "  --threads N       OpenMP threads per rank, 1..1024 (default: OMP_NUM_THREADS, which must\n"
    "                    be 1..1024 too, or all cores)\n";
