/* mtlbench: how should the two losses of a multi-task network be weighted?
 * The program's entry point and its data and train subcommands. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <signal.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmapss.h"
#include "json.h"
#include "prep.h"
#include "results.h"
#include "train.h"
#include "version.h"

/* The most characters added to a --out or --checkpoint path: ".tmp.<pid>.<hex>", ".lock", bad/ */
#define TRAIN_PATH_EXTRA 48

static const char USAGE_HEAD[] =
    "usage: mtlbench COMMAND [OPTIONS]\n"
    "\n"
    "Trains multi-task networks (RUL regression + health classification) on NASA C-MAPSS\n"
    "and compares loss-weighting methods: fixed weights, uncertainty weighting (uw, uw-o,\n"
    "uw-so), equal, dynamic (dwa), random (rlw), IMTL-L, geometric (gls) and GradNorm\n"
    "weighting ('mtlbench train --help' lists them).\n"
    "\n"
    "commands:\n";
static const char USAGE_TAIL[] =
    "\n"
    "  --version print the version, the git commit and the build options that change the\n"
    "            arithmetic (every run records the same text)\n"
    "\n"
    "'mtlbench COMMAND --help' describes each command, 'man mtlbench' all of them. Exit\n"
    "status: 0 success, 1 a failed check or run, 2 bad usage or input, 3 interrupted,\n"
    "resumable: run the same command again (train, sweep: SIGTERM, SIGINT or SIGUSR1 stop\n"
    "them at the next epoch boundary).\n";

static const char DATA_USAGE[] =
    "usage: mtlbench data [--data DIR] [--subset FD001] [--window W] [--seed S] [--json]\n"
    "       mtlbench data verify [DIR]\n"
    "\n"
    "Parses train_X, test_X and RUL_X of one subset, validates every row, and prints what\n"
    "preprocessing makes of it: units, rows, operating regimes (k-means on the settings,\n"
    "FD002/FD004), windows of the training/validation/test splits and health labels.\n"
    "\n"
    "  --data DIR     folder with the C-MAPSS files (default: $MTLBENCH_DATA, else the\n"
    "                 bundled data: share/mtlbench/datasets/cmapss of an installed binary,\n"
    "                 else the source tree's datasets/cmapss)\n"
    "  --subset X     FD001, FD002, FD003 or FD004 (default FD001)\n"
    "  --window W     window length (default 30 for FD001/FD003, 20 FD002, 15 FD004)\n"
    "  --seed S       seed of the validation split (default 1)\n"
    "  --json         print one JSON object instead of the summary\n"
    "\n"
    "verify prints, for each of the 12 canonical file names, ok, missing or differs (git\n"
    "blob SHA-1 against NASA's originals); exit 0 only when every file present is canonical.\n";

static const char TRAIN_USAGE_HEAD[] =
    "usage: [mpirun -np P] mtlbench train [OPTIONS]\n"
    "\n"
    "Trains a two-head network (RUL + health state) on one subset with one loss-weighting\n"
    "method, evaluates the best-validation parameters (or, without validation, the last\n"
    "epoch's) on the test units, and records the run.\n"
    "\n"
    "  --data DIR        C-MAPSS folder (default: $MTLBENCH_DATA, else the bundled data;\n"
    "                    see 'mtlbench data --help')\n"
    "  --subset X        FD001..FD004 (default FD001)\n"
    "  --method M        loss-weighting method, see below (default uw)\n"
    "  --seed S          seed of initialisation, split, shuffling, dropout (default 1)\n";
static const char TRAIN_USAGE_TAIL[] =
    "  --out FILE.h5     add the run to this HDF5 file (crash-safe, locked through FILE.h5.lock\n"
    "                    against concurrent writers; other runs are kept)\n"
    "  --checkpoint FILE save the training state after every epoch; the same command started\n"
    "                    again resumes from the last complete epoch, with the result of an\n"
    "                    uninterrupted run. A checkpoint that cannot be used (damaged, of\n"
    "                    another configuration, not a regular file) is refused, and so is a\n"
    "                    FILE whose folder is missing or not writable; one that cannot be\n"
    "                    written later (a full disk) stops the run. Removed when the run is\n"
    "                    complete.\n"
    "  --json            print one JSON object with the results at the end (instead of the\n"
    "                    summary and the result line)\n"
    "  --quiet           no per-epoch progress lines (the result line stays)\n"
    "  --no-result-line  leave out the result line\n"
    "\n"
    "methods (K = 2 tasks; every weight is formed from global quantities, so P ranks train\n"
    "the same model as one process):\n";

static const char TRAIN_USAGE_END[] =
    "\n"
    "At the end rank 0 prints a summary line and the result line, a stable format for\n"
    "harness tools (JUBE, ReFrame): the prefix " CLI_RESULT_PREFIX " and key=value pairs\n"
    "format=1 run_id subset model protocol method seed status rmse score acc f1\n"
    "samples_per_s comm_fraction wall_s ranks threads ('man mtlbench' describes them).\n"
    "\n"
    "SIGTERM, SIGINT or SIGUSR1 (on any rank, or forwarded by mpirun/srun) stop the run at\n"
    "the next epoch boundary, agreed by all ranks; a second SIGINT stops at once.\n"
    "Exit status: 0 done, 1 the run failed, 2 bad usage or input (or a checkpoint that cannot\n"
    "be used or written),\n"
    "3 interrupted, resumable: run the same command again.\n";

static void train_usage(FILE *f)
{
    fputs(TRAIN_USAGE_HEAD, f);
    fputs(CLI_TRAIN_HELP, f);
    fputs(TRAIN_USAGE_TAIL, f);
    weighting_print_help(f, "  ");
    fputs(TRAIN_USAGE_END, f);
}

static int data_verify(const char *dir)
{
    const cmapss_canonical *c = cmapss_canonical_files();
    int bad = 0, present = 0;
    mtl_err err;
    if (cmapss_dir_room(dir, &err)) {
        fprintf(stderr, "mtlbench data verify: %s\n", err.msg);
        return 2;
    }
    for (int i = 0; i < CMAPSS_N_CANONICAL; i++) {
        char got[41];
        cmapss_verify_status st = cmapss_verify_file(dir, &c[i], got);
        switch (st) {
        case VERIFY_OK: printf("ok        %s\n", c[i].name); present++; break;
        case VERIFY_MISSING: printf("missing   %s\n", c[i].name); break;
        case VERIFY_DIFFERS:
            printf("differs   %s (blob %s, canonical %s)\n", c[i].name, got, c[i].blob_sha1);
            present++, bad++;
            break;
        case VERIFY_UNREADABLE: printf("unreadable %s\n", c[i].name); present++, bad++; break;
        }
    }
    if (present == 0) {
        fprintf(stderr, "mtlbench data verify: no C-MAPSS file in %s\n", dir);
        return 2;
    }
    return bad ? 1 : 0;
}

static int cmd_data(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0) {
        if (argc > 3 || (argc == 3 && argv[2][0] == '-')) {
            if (argc == 3 && strcmp(argv[2], "--help") == 0) {
                fputs(DATA_USAGE, stdout);
                return 0;
            }
            fputs(DATA_USAGE, stderr);
            return 2;
        }
        return data_verify(argc == 3 ? argv[2] : cli_default_data());
    }
    static const struct option opts[] = {{"data", 1, 0, 'd'}, {"subset", 1, 0, 's'}, {"window", 1, 0, 'w'},
                                         {"seed", 1, 0, 'S'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *dir = cli_default_data(), *subset = "FD001";
    long window = 0, seed = 1;
    int json = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 's': subset = optarg; break;
        case 'w':
            if (mtl_parse_long(optarg, &window) || window < 1 || window > 1000) {
                fprintf(stderr, "mtlbench data: --window '%s', expected an integer 1..1000\n", optarg);
                return 2;
            }
            break;
        case 'S':
            if (mtl_parse_long(optarg, &seed)) {
                fprintf(stderr, "mtlbench data: --seed '%s', expected an integer\n", optarg);
                return 2;
            }
            break;
        case 'j': json = 1; break;
        case 'h': fputs(DATA_USAGE, stdout); return 0;
        default: fputs(DATA_USAGE, stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "mtlbench data: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    prep_data d;
    cmapss_set set;
    mtl_err err;
    double t0 = mtl_now();
    if (cmapss_load(dir, subset, &set, &err)) {
        fprintf(stderr, "mtlbench data: %s\n", err.msg);
        return 2;
    }
    double t_parse = mtl_now() - t0;
    if (set.warning[0]) fprintf(stderr, "warning: %s\n", set.warning);
    prep_options po = {.window = (int)window, .val_frac = 0.2, .seed = (uint64_t)seed, .norm = PREP_NORM_Z};
    int rc = prep_build(&set, &po, &d, &err);
    cmapss_set_free(&set);
    if (rc) {
        fprintf(stderr, "mtlbench data: %s\n", err.msg);
        return 2;
    }
    double t_prep = mtl_now() - t0 - t_parse;
    if (json) {
        json_w j;
        json_open(&j, stdout);
        json_str(&j, "subset", d.subset);
        json_int(&j, "train_units", d.train_units);
        json_int(&j, "train_rows", d.train_rows);
        json_int(&j, "test_units", d.test_units);
        json_int(&j, "test_rows", d.test_rows);
        json_int(&j, "regimes", d.n_regimes);
        json_ints(&j, "regime_rows", d.regime_rows, d.n_regimes);
        json_int(&j, "window", d.W);
        json_int(&j, "windows_train", d.train.n_win);
        json_int(&j, "windows_val", d.val.n_win);
        json_int(&j, "windows_test", d.test.n_win);
        json_ints(&j, "label_counts", d.label_counts, 3);
        json_int(&j, "val_units", d.n_val_units);
        json_int(&j, "test_units_padded", d.test_padded);
        json_num(&j, "parse_seconds", t_parse);
        json_num(&j, "prep_seconds", t_prep);
        json_close(&j);
    } else {
        printf("%s from %s (parsed in %.0f ms, preprocessed in %.0f ms)\n", d.subset, dir, t_parse * 1e3,
               t_prep * 1e3);
        printf("  train file   %d units, %d rows\n", d.train_units, d.train_rows);
        printf("  test file    %d units, %d rows (%d shorter than the window, left-padded)\n", d.test_units,
               d.test_rows, d.test_padded);
        printf("  regimes      %d:", d.n_regimes);
        for (int g = 0; g < d.n_regimes; g++) printf(" %d", d.regime_rows[g]);
        printf(" rows\n");
        if (d.n_regimes > 1)
            for (int g = 0; g < d.n_regimes; g++)
                printf("    regime %d at settings (%.3f, %.4f, %.1f)\n", g, d.centers[g][0], d.centers[g][1],
                       d.centers[g][2]);
        printf("  window       %d cycles, %d sensors\n", d.W, PREP_FEATURES);
        printf("  windows      train %d (%d units), validation %d (%d units), test %d\n", d.train.n_win,
               d.train_units - d.n_val_units, d.val.n_win, d.n_val_units, d.test.n_win);
        printf("  health       healthy %d, degrading %d, critical %d (training windows)\n", d.label_counts[0],
               d.label_counts[1], d.label_counts[2]);
    }
    prep_free(&d);
    return 0;
}

/* MPI is initialised for train and sweep only; returns the status of the whole job. */
static int finish_mpi(int status)
{
    int all = status;
    MPI_Allreduce(&status, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return all;
}

/* The train command, stage by stage: parse (local), agree, load, run, finish. */
typedef struct {
    dist_ctx dist;
    int root;
    train_config c;
    const char *dir, *subset, *method, *out;
    int window, json, no_result_line, help;
    char msg[MTL_ERRLEN + 64];   /* why this rank's arguments are bad */
    prep_data d;
    int loaded;
    run_record r;
} train_job;

/* Reads the command line into j (local, no MPI). 0, 1 (a bad value) or 2 (bad usage); the
 * message is in j->msg. */
static int train_parse(train_job *j, int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", 1, 0, 'd'}, {"subset", 1, 0, 's'}, {"method", 1, 0, 'm'}, {"seed", 1, 0, 'S'},
        {"out", 1, 0, 'o'},  {"json", 0, 0, 'j'},   {"quiet", 0, 0, 'q'},  {"help", 0, 0, 'h'},
        {"checkpoint", 1, 0, 'c'}, {"no-result-line", 0, 0, 'r'}, CLI_TRAIN_OPTIONS, {0, 0, 0, 0}};
    int o, bad = 0, li = 0;
    optind = 1;
    opterr = 0; /* messages come from one rank */
    while (!bad && (o = getopt_long(argc, argv, "", opts, &li)) != -1) {
        if (o != '?' && optarg && !optarg[0]) {
            snprintf(j->msg, sizeof j->msg, "--%s is empty", opts[li].name);
            return 1;
        }
        switch (o) {
        case 'd': j->dir = optarg; break;
        case 's': j->subset = optarg; break;
        case 'm': j->method = optarg; break;
        case 'o': j->out = optarg; break;
        case 'c': j->c.checkpoint = optarg; break;
        case 'j': j->json = 1; break;
        case 'q': j->c.quiet = 1; break;
        case 'r': j->no_result_line = 1; break;
        case 'S': bad = mtl_parse_long(optarg, &j->c.seed) != 0; break;
        case 'h': j->help = 1; break;
        case '?':
            snprintf(j->msg, sizeof j->msg, "unknown option or missing value: '%.200s'; try 'mtlbench train --help'",
                     argv[optind - 1]);
            return 2;
        default:
            bad = cli_train_option(o, optarg, &j->c, &j->window);
            if (bad < 0) {
                snprintf(j->msg, sizeof j->msg, "unexpected option; try 'mtlbench train --help'");
                return 2;
            }
        }
        if (bad)
            snprintf(j->msg, sizeof j->msg, "--%s '%.200s' is out of range or not a number (see --help)",
                     opts[li].name, optarg);
    }
    if (bad) return 1;
    if (!j->help && optind < argc) {
        snprintf(j->msg, sizeof j->msg, "unexpected argument '%.200s'", argv[optind]);
        return 1;
    }
    train_config_apply_protocol(&j->c);
    mtl_err err;
    if (j->help) return 0;
    /* beside a results file or a checkpoint go its temporary file, its lock and bad/ */
    if (weighting_parse(j->method, &j->c.method, &err) ||
        (j->out && mtl_path_room(j->out, TRAIN_PATH_EXTRA, "--out", &err)) ||
        (j->c.checkpoint && mtl_path_room(j->c.checkpoint, TRAIN_PATH_EXTRA, "--checkpoint", &err))) {
        snprintf(j->msg, sizeof j->msg, "%s", err.msg);
        return 1;
    }
    return 0;
}

/* Collective: do the ranks accept their arguments, and do they train the same
 * configuration? (Ranks may have been started with different arguments; the collectives
 * of training would not match.) Returns -1 to go on, else the exit status: 0 after --help,
 * 2 when a rank's arguments are bad or differ (the lowest such rank, or rank 0, says why). */
static int train_agree(train_job *j, int bad)
{
    int mine = bad ? 2 : j->help, worst = 0, first_bad = bad ? j->dist.rank : j->dist.size, lowest = 0;
    MPI_Allreduce(&mine, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(&first_bad, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (worst == 2) {
        if (j->dist.rank == lowest) fprintf(stderr, "mtlbench train: %s%s\n", j->root ? "" : "(another rank) ", j->msg);
        return 2;
    }
    if (worst == 1) {
        if (j->root) train_usage(stdout);
        return 0;
    }
    /* the options that shape training (not --out, --threads, --json, --quiet), compared one
     * by one so that the message can name the one that differs; the data come later */
    run_record cr;
    train_config_record(&j->c, j->subset, j->window > 0 ? j->window : prep_default_window(j->subset), 0, &cr);
    enum { MAX_FIELDS = 32 };
    const int nf = run_config_count() < MAX_FIELDS ? run_config_count() : MAX_FIELDS;
    uint64_t hash[MAX_FIELDS];
    for (int i = 0; i < nf; i++) {
        char text[64];
        run_config_field(&cr, i, text, sizeof text);
        hash[i] = mtl_fnv1a(MTL_FNV_INIT, text, strlen(text));
    }
    int differs = dist_first_difference(MPI_COMM_WORLD, hash, nf);
    if (differs == -1) return -1;
    if (j->root) {
        char text[64];
        const char *option = differs >= 0 ? run_config_field(&cr, differs, text, sizeof text) : NULL;
        if (option)
            fprintf(stderr, "mtlbench train: --%s differs between ranks (rank 0: %s); every rank needs the same "
                            "training options\n", option, text);
        else
            fprintf(stderr, "mtlbench train: the ranks could not compare their options\n");
    }
    return 2;
}

/* Collective: loads and checks the data on every rank, and checks that every rank sees the
 * same data and can write --out. -1 to go on, else 2 (said by rank 0). */
static int train_load(train_job *j)
{
    mtl_err err;
    uint64_t digest = 0;
    prep_options po = train_prep_options(&j->c, j->window);
    j->loaded = cli_load_digest(j->dir, j->subset, &po, &j->d, &digest, j->root ? stderr : NULL, &err) == 0;
    int failed = !j->loaded || prep_check_trainable(&j->d, &err) != 0;
    if (!failed && j->root && j->out && results_check_target(j->out, &err)) failed = 1;
    if (!failed && j->root && j->c.checkpoint && mtl_check_folder_writable(j->c.checkpoint, &err)) failed = 1;
    if (dist_any(&j->dist, failed)) {
        if (j->root) fprintf(stderr, "mtlbench train: %s\n", failed ? err.msg : "a rank could not load the data");
        return 2;
    }
    /* node-local copies that differ would train different models */
    if (dist_first_difference(MPI_COMM_WORLD, &digest, 1) != -1) {
        if (j->root)
            fprintf(stderr, "mtlbench train: the ranks see different data for %s in %s; every rank needs the same "
                            "files\n", j->subset, j->dir);
        return 2;
    }
    return -1;
}

/* Collective: trains. -1 when the run is done (j->r holds it), else the exit status. */
static int train_execute(train_job *j)
{
    mtl_err err;
    j->c.stop = cli_stop_poll;
    int rc = train_run(&j->c, &j->d, &j->dist, &j->r, &err);
    if (rc == 0) return -1;
    if (rc == TRAIN_STOPPED) {
        if (j->root)
            fprintf(stderr, "mtlbench train: interrupted by signal %d after epoch %d%s%s; run the same command again%s\n",
                    cli_stop_signal(), j->r.n_hist, j->c.checkpoint ? ", saved in " : "",
                    j->c.checkpoint ? j->c.checkpoint : "", j->c.checkpoint ? " to resume" : "");
        return CLI_INTERRUPTED;
    }
    if (rc == TRAIN_REFUSED || rc == TRAIN_CKPT_FAILED) { /* decided alike on every rank */
        if (j->root) fprintf(stderr, "mtlbench train: %s\n", err.msg);
        return 2;
    }
    /* the other ranks may wait in a collective this rank will never join: stop them all */
    fprintf(stderr, "mtlbench train: %s%s\n", j->dist.size > 1 ? "a rank failed: " : "", err.msg);
    if (j->dist.size > 1) MPI_Abort(MPI_COMM_WORLD, 1);
    return 1;
}

/* Rank 0 adds the run to --out and prints it; the checkpoint of a complete run has served.
 * Returns the exit status. */
static int train_finish(train_job *j)
{
    const run_record *r = &j->r;
    int status = 0;
    mtl_err err;
    if (!j->root) return 0;
    if (j->out && results_append(j->out, r, &err)) {
        fprintf(stderr, "mtlbench train: %s\n", err.msg);
        status = 2;
    }
    if (j->json) cli_print_run_json(r, stdout);
    else
        printf("%s %s %s (%s) seed %ld: %s  test RMSE %.2f (uncapped %.2f)  MAE %.2f  score %.1f  acc %.3f  "
               "F1 %.3f  %s epoch %d  %.0f samples/s\n",
               r->subset, r->model, r->method, r->protocol, r->seed, r->status, r->rmse, r->rmse_uncapped, r->mae,
               r->score, r->acc, r->f1, r->val_frac > 0 ? "best" : "last", r->best_epoch, r->samples_per_s);
    if (!j->json && !j->no_result_line) cli_print_result_line(r, stdout);
    /* the run is complete and reported: its checkpoint has served */
    if (j->c.checkpoint && status == 0) remove(j->c.checkpoint);
    return status;
}

static int cmd_train(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    cli_stop_install(); /* a signal from now on stops training at its first epoch boundary */
    train_job j;
    memset(&j, 0, sizeof j);
    dist_from_comm(&j.dist, MPI_COMM_WORLD);
    j.root = j.dist.rank == 0;
    train_config_defaults(&j.c);
    j.dir = cli_default_data(), j.subset = "FD001", j.method = "uw";
    int status = train_agree(&j, train_parse(&j, argc, argv));
    if (status >= 0) {
        MPI_Finalize();
        return status;
    }
    status = train_load(&j);
    if (status < 0) status = train_execute(&j);
    if (status < 0) status = train_finish(&j);
    if (j.loaded) prep_free(&j.d);
    run_record_free(&j.r);
    return finish_mpi(status);
}

/* The commands, in the order the usage lists them. */
typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);   /* argv[0] is the command's name */
    const char *summary;
} command;

static const command COMMANDS[] = {
    {"data", cmd_data, "summarise a C-MAPSS subset after preprocessing (data verify: check files)"},
    {"train", cmd_train, "train one configuration (data-parallel under mpirun)"},
    {"sweep", cmd_sweep, "train a grid of configurations, resumable, into a results folder"},
    {"report", cmd_report, "tables, CSV, SVG plots and an HTML page from results"},
    {"compare", cmd_compare, "check new results against a baseline; exit 1 on a regression"},
};
#define N_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static void usage(FILE *f)
{
    fputs(USAGE_HEAD, f);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fputs(USAGE_TAIL, f);
}

static const command *find_command(const char *name)
{
    for (int i = 0; i < N_COMMANDS; i++)
        if (strcmp(COMMANDS[i].name, name) == 0) return &COMMANDS[i];
    return NULL;
}

/* OMP_NUM_THREADS is bounded as --threads is (its first value; OpenMP reads a list for
 * nested levels). 0, or 2 with a message. */
static int check_omp_threads(void)
{
    const char *s = getenv("OMP_NUM_THREADS");
    if (!s || !s[0]) return 0;
    char first[32];
    size_t n = strcspn(s, ",");
    long v = 0;
    if (n >= sizeof first) n = sizeof first - 1;
    memcpy(first, s, n);
    first[n] = '\0';
    if (mtl_parse_long(first, &v) == 0 && v >= 1 && v <= 1024) return 0;
    fprintf(stderr, "mtlbench: OMP_NUM_THREADS='%.40s': expected a number of threads, 1..1024 (as --threads)\n", s);
    return 2;
}

int main(int argc, char **argv)
{
    /* a file size limit (ulimit -f) makes a write fail with a message, not kill the process
     * and leave its temporary file behind */
    signal(SIGXFSZ, SIG_IGN);
    if (check_omp_threads()) return 2;
    /* Results files have one writer each and are replaced by rename, so HDF5's file locks
     * are not needed; they fail on many cluster file systems. The user's setting wins. */
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
    /* An installed binary reads the data installed with it, unless told otherwise. */
    const char *data = getenv("MTLBENCH_DATA");
    char installed[CLI_PATH_MAX];
    if (!(data && *data) && cli_installed_data(installed, sizeof installed) == 0) setenv("MTLBENCH_DATA", installed, 1);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("mtlbench %s (%s)\nbuild %s\n", mtl_version(), mtl_git(), mtl_build());
        return 0;
    }
    const command *c = find_command(argv[1]);
    if (c) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "mtlbench: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
