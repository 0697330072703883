#define _POSIX_C_SOURCE 200809L
#include "sweep.h"
#include "cli.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { TAG_REQ = 101, TAG_IDX = 102, TAG_STOP = 103 };

/* The most characters the sweep adds to --out:
 * "/checkpoints/bad/<run_id>.ckpt.999", "/runs/<run_id>.h5.tmp.<pid>.<hex>" */
#define SWEEP_PATH_EXTRA 64

/* Answers of the dispatcher: a run's index, or one of these. */
enum { NO_RUN_LEFT = -1, STOPPING = -2 };

void sweep_options_defaults(sweep_options *o)
{
    memset(o, 0, sizeof *o);
    o->data = cli_default_data();
    o->out = "results";
    snprintf(o->methods, sizeof o->methods, "fixed,uw,uw-o,uw-so");
    for (int g = 0; g < WEIGHTING_GRIDS; g++) {
        const weighting_grid_kind *kind = weighting_grid_kind_of((weighting_grid)g);
        if (kind) snprintf(o->grid[g], sizeof o->grid[g], "%s", kind->values);
    }
    o->registry = weighting_registry();
    snprintf(o->seeds, sizeof o->seeds, "1,2,3,4,5");
    train_config_defaults(&o->base);
    o->base.quiet = 1;
}

/* Splits a comma list in place into at most max tokens; -1 when there are more. */
static int split_list(char *s, char **tok, int max)
{
    int n = 0;
    for (char *p = strtok(s, ","); p; p = strtok(NULL, ",")) {
        if (n == max) return -1;
        tok[n++] = p;
    }
    return n;
}

static long file_size(const char *dir, const char *subset)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/train_%s.txt", dir, subset);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

#define MAX_METHODS 128

/* Adds the canonical spelling of spec to methods[0..*nm) unless it is there already. */
static int add_method(const sweep_options *o, const char *spec, char (*methods)[48], int *nm, mtl_err *err)
{
    weighting w;
    if (weighting_parse_in(o->registry, spec, &w, err)) return -1;
    for (int j = 0; j < *nm; j++)
        if (strcmp(methods[j], w.canon) == 0) return 0;
    if (*nm == MAX_METHODS) return mtl_fail(err, "--methods: more than %d methods", MAX_METHODS);
    snprintf(methods[(*nm)++], sizeof methods[0], "%s", w.canon);
    return 0;
}

/* Adds one --methods entry: a setting as given, a bare name with a grid over its values. */
static int add_entry(const sweep_options *o, const char *name, char (*methods)[48], int *nm, mtl_err *err)
{
    const weighting_method *def = strchr(name, ':') ? NULL : weighting_find(o->registry, name);
    const weighting_grid_kind *kind = def ? weighting_grid_kind_of(def->grid) : NULL;
    if (!kind) return add_method(o, name, methods, nm, err);
    char vbuf[512], *vt[64];
    snprintf(vbuf, sizeof vbuf, "%s", o->grid[def->grid]);
    int nv = split_list(vbuf, vt, 64);
    if (nv < 0) return mtl_fail(err, "--%s: more than 64 values", kind->option);
    if (nv == 0) return mtl_fail(err, "--methods %s: its value list --%s is empty", name, kind->option);
    for (int v = 0; v < nv; v++) {
        char spec[96];
        snprintf(spec, sizeof spec, "%s:%s", name, vt[v]);
        if (add_method(o, spec, methods, nm, err)) return -1;
    }
    return 0;
}

/* The methods of o->methods, canonical and without repeats, into methods[0..*nm). "all" is
 * every registered method, each over its grid or at its default setting. */
static int plan_methods(const sweep_options *o, char (*methods)[48], int *nm, mtl_err *err)
{
    char buf[512], *tok[64];
    snprintf(buf, sizeof buf, "%s", o->methods);
    int k = split_list(buf, tok, 64);
    if (k < 0) return mtl_fail(err, "--methods: more than 64 entries");
    if (k == 0) return mtl_fail(err, "--methods: empty list");
    for (int i = 0; i < k; i++) {
        if (strcmp(tok[i], "all") != 0) {
            if (add_entry(o, tok[i], methods, nm, err)) return -1;
            continue;
        }
        for (weighting_registry_list def = o->registry; *def; def++)
            if (add_entry(o, (*def)->name, methods, nm, err)) return -1;
    }
    return 0;
}

int sweep_plan(const sweep_options *o, sweep_item **items, int *n, mtl_err *err)
{
    *items = NULL;
    *n = 0;
    char buf[512], *tok[64];
    /* subsets, largest first */
    const char *subs[4];
    int ns = 0;
    if (o->subsets[0]) {
        snprintf(buf, sizeof buf, "%s", o->subsets);
        int k = split_list(buf, tok, 64);
        if (k < 0) return mtl_fail(err, "--subsets: more than 64 entries");
        for (int i = 0; i < k; i++) {
            if (!cmapss_subset_valid(tok[i]))
                return mtl_fail(err, "--subsets: unknown subset '%s', expected FD001..FD004", tok[i]);
            static const char *names[4] = {"FD001", "FD002", "FD003", "FD004"};
            const char *nm = names[tok[i][4] - '1'];
            int dup = 0;
            for (int j = 0; j < ns; j++) dup |= subs[j] == nm;
            if (!dup) subs[ns++] = nm;
        }
        if (ns == 0) return mtl_fail(err, "--subsets: empty list");
    } else {
        static const char *names[4] = {"FD001", "FD002", "FD003", "FD004"};
        for (int i = 0; i < 4; i++)
            if (cmapss_subset_present(o->data, names[i])) subs[ns++] = names[i];
        if (ns == 0)
            return mtl_fail(err, "%s: no complete C-MAPSS subset (train_X, test_X, RUL_X) found; see datasets/fetch",
                            o->data);
    }
    long size[4];
    for (int i = 0; i < ns; i++) size[i] = file_size(o->data, subs[i]);
    for (int i = 1; i < ns; i++) /* insertion sort, stable, by size descending */
        for (int j = i; j > 0 && size[j] > size[j - 1]; j--) {
            long t = size[j];
            size[j] = size[j - 1], size[j - 1] = t;
            const char *u = subs[j];
            subs[j] = subs[j - 1], subs[j - 1] = u;
        }
    char methods[MAX_METHODS][48];
    int nm = 0;
    if (plan_methods(o, methods, &nm, err)) return -1;
    /* seeds */
    long seeds[64];
    int nseed = 0;
    snprintf(buf, sizeof buf, "%s", o->seeds);
    int k = split_list(buf, tok, 64);
    if (k < 0) return mtl_fail(err, "--seeds: more than 64 seeds");
    for (int i = 0; i < k; i++) {
        long s;
        if (mtl_parse_long(tok[i], &s)) return mtl_fail(err, "--seeds: '%s' is not an integer", tok[i]);
        int dup = 0;
        for (int j = 0; j < nseed; j++) dup |= seeds[j] == s;
        if (!dup) seeds[nseed++] = s;
    }
    if (nseed == 0) return mtl_fail(err, "--seeds: empty list");
    sweep_item *it = mtl_calloc((size_t)ns * nm * nseed, sizeof *it, err);
    if (!it) return -1;
    int c = 0;
    for (int a = 0; a < ns; a++)
        for (int b = 0; b < nm; b++)
            for (int s = 0; s < nseed; s++) {
                sweep_item *x = &it[c++];
                snprintf(x->subset, sizeof x->subset, "%s", subs[a]);
                memcpy(x->method, methods[b], sizeof x->method);
                x->seed = seeds[s];
                x->window = o->window > 0 ? o->window : prep_default_window(subs[a]);
            }
    *items = it;
    *n = c;
    return 0;
}

/* ---------------------------------------------------------------- execution */

typedef struct {
    int next, n, leaders_done, n_leaders;
    /* The stop: once asked (a signal on rank 0, or a group that stopped on its own), no run
     * is handed out any more, and every leader not yet told NO_RUN_LEFT gets exactly one
     * TAG_STOP notice, which it receives at an epoch boundary or after its STOPPING answer. */
    int stopping, R;          /* R: ranks per group; leader of group g is world rank g * R */
    unsigned char *finished;  /* [group]: was answered NO_RUN_LEFT or STOPPING */
    MPI_Request *notice;      /* [group]: the TAG_STOP notice sent to its leader */
} dispatcher;

static int dispatch_next(dispatcher *d)
{
    if (d->stopping) return STOPPING;
    return d->next < d->n ? d->next++ : NO_RUN_LEFT;
}

static void dispatch_stop(dispatcher *d)
{
    if (d->stopping) return;
    d->stopping = 1;
    for (int g = 1; g <= d->n_leaders; g++)
        if (!d->finished[g]) MPI_Isend(&d->stopping, 1, MPI_INT, g * d->R, TAG_STOP, MPI_COMM_WORLD, &d->notice[g]);
}

/* Answers one request of a group leader: the next run's index, NO_RUN_LEFT or STOPPING.
 * A request of 1 says that the leader's group was stopped by a signal. */
static void dispatch_answer(dispatcher *d, int source)
{
    int stop, idx;
    MPI_Recv(&stop, 1, MPI_INT, source, TAG_REQ, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (stop) dispatch_stop(d);
    idx = dispatch_next(d);
    if (idx < 0) {
        d->leaders_done++;
        d->finished[source / d->R] = 1;
    }
    MPI_Send(&idx, 1, MPI_INT, source, TAG_IDX, MPI_COMM_WORLD);
}

/* World rank 0 answers other group leaders between its own training steps. */
static void dispatch_poll(void *ctx)
{
    dispatcher *d = ctx;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &flag, &st);
        if (!flag) return;
        dispatch_answer(d, st.MPI_SOURCE);
    }
}

static void run_path(char *buf, size_t n, const char *out, const char *id)
{
    snprintf(buf, n, "%s/runs/%s.h5", out, id);
}

/* OUT/checkpoints/<run_id>.ckpt: the state of a run in flight, removed once its file is written. */
static void checkpoint_path(char *buf, size_t n, const char *out, const char *id)
{
    snprintf(buf, n, "%s/checkpoints/%s.ckpt", out, id);
}


/* Temporary files of writers killed mid-write (older than a minute) are removed. */
static void remove_stale_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    time_t now = time(NULL);
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".tmp.")) continue;
        char p[4096 + 512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && now - st.st_mtime > 60) unlink(p);
    }
    closedir(d);
}

static const char USAGE[] =
    "usage: [mpirun -np P] mtlbench sweep [OPTIONS]\n"
    "\n"
    "Trains every configuration of the grid subsets x methods x seeds. Groups of\n"
    "--ranks-per-run ranks each train one run at a time, data-parallel; runs are handed out\n"
    "dynamically, largest subset first. Each finished run is written at once to\n"
    "OUT/runs/<run_id>.h5 (atomically); a sweep started again with the same OUT skips every\n"
    "complete run. At the end all runs are merged into OUT/sweep.h5 (with any run added to it\n"
    "by train --out; skipped when nothing changed) and the report printed. One sweep at a\n"
    "time per folder: OUT is locked (OUT/.lock), and every rank must see the same OUT (a\n"
    "marker file written by rank 0), or no rank trains.\n"
    "Runs in flight are checkpointed after every epoch in OUT/checkpoints/<run_id>.ckpt and\n"
    "resume from there; a checkpoint is removed when its run's file is written. A checkpoint\n"
    "that cannot be used is moved to OUT/checkpoints/bad/ and its run starts afresh; a run\n"
    "file or a checkpoint that cannot be written stops the sweep (status 2).\n"
    "\n"
    "SIGTERM, SIGINT or SIGUSR1 (on any rank, or forwarded by mpirun/srun) stop every run at\n"
    "its next epoch boundary; finished runs are merged and the sweep exits with status 3:\n"
    "interrupted, resumable: run the same command again. A second SIGINT stops at once.\n"
    "Under mpirun send SIGUSR1 to mpirun (it forwards it); SIGTERM to mpirun itself makes\n"
    "Open MPI kill the ranks about two seconds later (status 1, still resumable).\n"
    "\n"
    "  --data DIR            C-MAPSS folder (default: $MTLBENCH_DATA, else the bundled data;\n"
    "                        see 'mtlbench data --help')\n"
    "  --subsets LIST        e.g. FD001,FD002 (default: every subset present in --data)\n"
    "  --methods LIST        method names: a method with a grid (below) expands over its\n"
    "                        values, the others take their default setting; single\n"
    "                        settings such as fixed:0.3, uw-so:2, dwa:1 or gradnorm:0.5;\n"
    "                        'all' = every method ('mtlbench train --help' lists them)\n"
    "                        (default fixed,uw,uw-o,uw-so)\n";

static const char USAGE_TAIL[] =
    "  --seeds LIST          (default 1,2,3,4,5)\n"
    "  --ranks-per-run R     ranks per data-parallel group (default 1); must divide P\n"
    "  --out DIR             results folder (default results)\n"
    "  --no-result-line      leave out the result lines (below)\n"
    "  --dry-run             print the plan and the estimated time, train nothing\n"
    "  --quiet               no progress lines and no report at the end\n"
    "  --no-report           progress lines, but no report at the end\n"
    "\n"
    "Every finished run prints its result line, --quiet or not, as 'mtlbench train' does:\n"
    "the prefix " CLI_RESULT_PREFIX " and key=value pairs (see 'mtlbench train --help').\n"
    "\n"
    "Exit status: 0 every run done, 1 a run failed, 2 bad usage or input, 3 interrupted,\n"
    "resumable: run the same command again.\n"
    "\n"
    "Training options, as for 'mtlbench train' (one setting for the whole sweep):\n";

/* The usage, with one option per grid kind, naming the methods it expands. */
static void print_usage(FILE *f, weighting_registry_list reg)
{
    fputs(USAGE, f);
    for (int g = 0; g < WEIGHTING_GRIDS; g++) {
        const weighting_grid_kind *kind = weighting_grid_kind_of((weighting_grid)g);
        if (!kind) continue;
        char names[256] = "", opt[48];
        size_t len = 0;
        for (weighting_registry_list def = reg; *def && len < sizeof names; def++)
            if ((*def)->grid == (weighting_grid)g)
                len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", (*def)->name);
        snprintf(opt, sizeof opt, "--%s LIST", kind->option);
        fprintf(f, "  %-21s values of %s for %s\n  %-21s (default %s)\n", opt, kind->sym, len ? names : "no method", "",
                kind->values);
    }
    fputs(USAGE_TAIL, f);
    fputs(CLI_TRAIN_HELP, f);
}

/* The option of a grid kind's values: its getopt code is OPT_GRID + the kind. */
#define OPT_GRID 0x200
#define GRID_OPTION(g) {.name = weighting_grid_kind_of(g)->option, .has_arg = 1, .flag = NULL, .val = OPT_GRID + (g)}

/* Copies a list option; 1 (bad) when it does not fit. */
static int copy_list(char *dst, size_t n, const char *src)
{
    return (size_t)snprintf(dst, n, "%s", src) >= n;
}

typedef struct {
    prep_data d;
    char subset[16];
    long seed;
    int window, valid;
} prep_cache;

void sweep_job_init(sweep_job *j, int rank, int size)
{
    memset(j, 0, sizeof *j);
    sweep_options_defaults(&j->o);
    j->ranks_per_run = 1;
    j->rank = rank;
    j->size = size;
    j->t_start = mtl_now();
    j->lock_fd = -1;
}

void sweep_job_free(sweep_job *j)
{
    for (int i = 0; i < j->n_sets; i++) cmapss_set_free(&j->sets[i]);
    free(j->plan), free(j->pending);
    j->plan = NULL, j->pending = NULL;
    if (j->lock_fd >= 0) close(j->lock_fd);
    j->lock_fd = -1;
    j->n_sets = j->n = j->n_pending = 0;
}

int sweep_parse(sweep_job *j, int argc, char **argv)
{
    int root = j->rank == 0, bad = 0;
    sweep_options *o = &j->o;
    /* the grid kinds' options (--lambdas, --temperatures, --alphas) are named by the registry */
    const struct option opts[] = {
        {"data", 1, 0, 'd'},    {"subsets", 1, 0, 's'},   {"methods", 1, 0, 'm'},       {"seeds", 1, 0, 'S'},
        {"out", 1, 0, 'o'},     {"dry-run", 0, 0, 'n'},   {"ranks-per-run", 1, 0, 'R'}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'},    {"no-report", 0, 0, 'Q'},
        {"no-result-line", 0, 0, 'r'}, GRID_OPTION(WEIGHTING_GRID_LAMBDA),
        GRID_OPTION(WEIGHTING_GRID_T), GRID_OPTION(WEIGHTING_GRID_ALPHA), CLI_TRAIN_OPTIONS,
        {0, 0, 0, 0}};
    int c, li = 0;
    long lv;
    optind = 1;
    opterr = root;
    while (!bad && (c = getopt_long(argc, argv, "", opts, &li)) != -1) {
        if (optarg && !optarg[0]) {
            if (root) fprintf(stderr, "mtlbench sweep: --%s is empty\n", opts[li].name);
            bad = 1;
            continue;
        }
        if (c >= OPT_GRID && c < OPT_GRID + WEIGHTING_GRIDS) c = OPT_GRID;
        switch (c) {
        case OPT_GRID: bad = copy_list(o->grid[opts[li].val - OPT_GRID], sizeof o->grid[0], optarg); break;
        case 'd': o->data = optarg; break;
        case 's': bad = copy_list(o->subsets, sizeof o->subsets, optarg); break;
        case 'm': bad = copy_list(o->methods, sizeof o->methods, optarg); break;
        case 'S': bad = copy_list(o->seeds, sizeof o->seeds, optarg); break;
        case 'o': o->out = optarg; break;
        case 'n': j->dry_run = 1; break;
        case 'q': j->quiet = 1; break;
        case 'Q': j->no_report = 1; break;
        case 'h': j->help = 1; break;
        case 'R': bad = mtl_parse_long(optarg, &lv) || lv < 1 || lv > 1 << 20; j->ranks_per_run = (int)lv; break;
        case 'r': j->no_result_line = 1; break;
        default:
            bad = cli_train_option(c, optarg, &o->base, &o->window);
            if (bad < 0) bad = 2;
            break;
        }
        if (bad == 1 && root)
            fprintf(stderr, "mtlbench sweep: --%s '%.60s' is out of range, too long or not a number (see --help)\n",
                    opts[li].name, optarg);
    }
    train_config_apply_protocol(&o->base);
    if (j->help) {
        if (root) print_usage(stdout, o->registry);
        return 0;
    }
    if (!bad && optind < argc) {
        if (root) fprintf(stderr, "mtlbench sweep: unexpected argument '%s'\n", argv[optind]);
        bad = 1;
    }
    mtl_err err;
    if (!bad && (mtl_path_room(o->out, SWEEP_PATH_EXTRA, "--out", &err) || cmapss_dir_room(o->data, &err))) {
        if (root) fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
        bad = 1;
    }
    if (!bad && j->size % j->ranks_per_run != 0) {
        if (root)
            fprintf(stderr, "mtlbench sweep: --ranks-per-run %d does not divide the %d ranks\n", j->ranks_per_run,
                    j->size);
        bad = 1;
    }
    return bad;
}

int sweep_make_plan(sweep_job *j, int bad)
{
    int root = j->rank == 0;
    mtl_err err;
    if (!bad && sweep_plan(&j->o, &j->plan, &j->n, &err)) {
        if (root) fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
        bad = 1;
    }
    /* the plan depends on each rank's view of --data: every rank must agree, or none trains */
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_bad) {
        if (root && !bad) fprintf(stderr, "mtlbench sweep: another rank could not plan the sweep (does it see the same --data?)\n");
        if (root && bad == 2) fputs("try 'mtlbench sweep --help'\n", stderr);
        return 2;
    }
    return 0;
}

/* The run id of every item of the plan, from its configuration and its subset's data (each
 * subset's digest computed once: it reads every value of the files). */
static void assign_run_ids(sweep_job *j)
{
    uint64_t set_digest[sizeof j->sets / sizeof j->sets[0]];
    for (int k = 0; k < j->n_sets; k++) set_digest[k] = cmapss_set_digest(&j->sets[k]);
    for (int i = 0; i < j->n; i++) {
        sweep_item *x = &j->plan[i];
        uint64_t digest = 0;
        for (int k = 0; k < j->n_sets; k++)
            if (strcmp(j->sets[k].subset, x->subset) == 0) digest = set_digest[k];
        train_config tc = j->o.base;
        weighting_parse_in(j->o.registry, x->method, &tc.method, NULL);
        tc.seed = x->seed;
        run_record r;
        train_config_record(&tc, x->subset, x->window, digest, &r);
        memcpy(x->run_id, r.run_id, sizeof x->run_id);
    }
}

int sweep_load(sweep_job *j)
{
    int root = j->rank == 0;
    mtl_err err;
    /* every subset is parsed once, up front, and checked with the first seed's split: bad
     * data fails here, before any training, with one message */
    int failed = 0;
    for (int i = 0; i < j->n && !failed; i++) {
        const sweep_item *it = &j->plan[i];
        int have = 0;
        for (int k = 0; k < j->n_sets; k++) have |= strcmp(j->sets[k].subset, it->subset) == 0;
        if (have) continue;
        if (cmapss_load(j->o.data, it->subset, &j->sets[j->n_sets], &err)) {
            failed = 1;
            break;
        }
        j->n_sets++;
        if (root && j->sets[j->n_sets - 1].warning[0]) fprintf(stderr, "warning: %s\n", j->sets[j->n_sets - 1].warning);
        prep_data d;
        prep_options po = train_prep_options(&j->o.base, it->window);
        po.seed = (uint64_t)it->seed;
        if (prep_build(&j->sets[j->n_sets - 1], &po, &d, &err)) {
            failed = 1;
        } else {
            failed = prep_check_trainable(&d, &err) != 0;
            prep_free(&d);
        }
    }
    /* and every rank must see the same plan and the same data: the run ids hash both */
    if (!failed) assign_run_ids(j);
    uint64_t h = mtl_fnv1a(MTL_FNV_INIT, &j->n, sizeof j->n);
    for (int i = 0; i < j->n; i++) h = mtl_fnv1a(h, j->plan[i].run_id, sizeof j->plan[i].run_id);
    unsigned long long hl = h, hmin = 0, hmax = 0;
    MPI_Allreduce(&hl, &hmin, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hl, &hmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_failed || hmin != hmax) {
        if (root) {
            if (failed) fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            else if (any_failed) fprintf(stderr, "mtlbench sweep: another rank could not load the data\n");
            else fprintf(stderr, "mtlbench sweep: the ranks see different data in %s; every rank needs the same files\n", j->o.data);
        }
        return 2;
    }
    return 0;
}

/* Rank 0: creates and locks OUT, and creates the marker OUT/.marker.<token>. */
static int claim_root(sweep_job *j, char token[17], mtl_err *err)
{
    if (mtl_mkdir_p(j->o.out, err) < 0) return -1;
    int no_locks = 0;
    if ((j->lock_fd = mtl_lock_folder(j->o.out, "a sweep", &no_locks, err)) < 0) return -1;
    if (no_locks)
        fprintf(stderr, "warning: %s: its file system has no locks; a second sweep on it would not be refused\n",
                j->o.out);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long pid = (long)getpid();
    uint64_t h = mtl_fnv1a(mtl_fnv1a(MTL_FNV_INIT, &ts, sizeof ts), &pid, sizeof pid);
    snprintf(token, 17, "%016llx", (unsigned long long)h);
    char p[4200];
    snprintf(p, sizeof p, "%s/.marker.%s", j->o.out, token);
    /* empty: its name is the token (a full disk still takes it) */
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd < 0) return mtl_fail(err, "%s: cannot create %s: %s", j->o.out, p, mtl_errno_text(errno));
    close(fd);
    return 0;
}

typedef struct {
    int differs;
    char host[64];
} rank_view;

/* Rank 0: the line that names the ranks (and their hosts) that see another folder. */
static void say_differing(const sweep_job *j, const rank_view *v)
{
    char list[1024] = "";
    size_t at = 0;
    int shown = 0, n = 0;
    for (int r = 0; r < j->size; r++) {
        if (!v[r].differs) continue;
        n++;
        if (shown < 8 && at < sizeof list) {
            at += (size_t)snprintf(list + at, sizeof list - at, "%s%d (%s)", shown ? ", " : "", r, v[r].host);
            shown++;
        }
    }
    if (at < sizeof list && n > shown) snprintf(list + at, sizeof list - at, " and %d more", n - shown);
    fprintf(stderr,
            "mtlbench sweep: --out %s is not the same folder on every rank: rank%s %s do%s not see the folder of "
            "rank 0 (%s); give every rank one shared folder (not a node-local path, and an absolute one when the "
            "ranks start in other directories)\n",
            j->o.out, n > 1 ? "s" : "", list, n > 1 ? "" : "es", v[0].host);
}

int sweep_claim_out(sweep_job *j)
{
    int root = j->rank == 0, bad = 0;
    mtl_err err;
    char token[17] = "";
    if (root && claim_root(j, token, &err) < 0) {
        fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
        bad = 1;
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (bad) return 2;
    MPI_Bcast(token, sizeof token, MPI_CHAR, 0, MPI_COMM_WORLD);
    /* every rank reads the marker through its own --out */
    char p[4200];
    snprintf(p, sizeof p, "%s/.marker.%s", j->o.out, token);
    struct stat st;
    rank_view mine;
    memset(&mine, 0, sizeof mine);
    mine.differs = !(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
    int hl = 0;
    char host[MPI_MAX_PROCESSOR_NAME];
    MPI_Get_processor_name(host, &hl);
    snprintf(mine.host, sizeof mine.host, "%.*s", (int)sizeof mine.host - 1, host);
    rank_view *all = root ? calloc((size_t)j->size, sizeof *all) : NULL;
    MPI_Gather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (root) {
        unlink(p);
        for (int r = 0; all && r < j->size; r++) bad |= all[r].differs;
        if (!all) fprintf(stderr, "mtlbench sweep: out of memory\n"), bad = 1;
        else if (bad) say_differing(j, all);
        free(all);
    }
    MPI_Bcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return bad ? 2 : 0;
}

static int cmp_run_id(const void *a, const void *b) { return strcmp(a, b); }

int sweep_find_pending(sweep_job *j)
{
    int root = j->rank == 0, mkfail = 0, np = 0;
    mtl_err err;
    /* pending runs: decided by rank 0 and broadcast, so every rank agrees */
    char runs_dir[4096];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", j->o.out);
    j->pending = mtl_alloc((size_t)j->n + 1, sizeof(int), &err);
    int nomem = j->pending == NULL, any_nomem = 0;
    MPI_Allreduce(&nomem, &any_nomem, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_nomem) {
        if (root) fprintf(stderr, "mtlbench sweep: out of memory\n");
        return 2;
    }
    char ckpt_dir[4200];
    snprintf(ckpt_dir, sizeof ckpt_dir, "%s/checkpoints", j->o.out);
    if (root) {
        if (!j->dry_run && (mtl_mkdir_p(runs_dir, &err) || mtl_mkdir_p(ckpt_dir, &err))) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            mkfail = 1;
        }
        if (!j->dry_run) {
            remove_stale_temps(runs_dir);
            remove_stale_temps(j->o.out);
            remove_stale_temps(ckpt_dir);
        }
        /* a file in runs/ that is not one whole run of its name is moved to runs/bad/ (a dry
         * run only looks); the runs left are complete */
        char (*done)[17] = NULL;
        int n_done = 0;
        if (!mkfail && results_scan_runs(runs_dir, !j->dry_run, stderr, &done, &n_done, &err) < 0) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            mkfail = 1;
        }
        for (int i = 0; i < j->n && !mkfail; i++) {
            if (!n_done || !bsearch(j->plan[i].run_id, done, (size_t)n_done, sizeof *done, cmp_run_id)) {
                j->pending[np++] = i;
            } else if (!j->dry_run) { /* a run written just before its checkpoint was removed */
                char p[4200];
                checkpoint_path(p, sizeof p, j->o.out, j->plan[i].run_id);
                remove(p);
            }
        }
        free(done);
    }
    MPI_Bcast(&mkfail, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(&np, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(j->pending, np, MPI_INT, 0, MPI_COMM_WORLD);
    j->n_pending = np;
    int groups = j->size / j->ranks_per_run, R = j->ranks_per_run;
    if (root) {
        printf("sweep: %d runs (%d complete, %d to do) in %s; %d group%s of %d rank%s x %d thread%s\n", j->n,
               j->n - np, np, j->o.out, groups, groups > 1 ? "s" : "", R, R > 1 ? "s" : "", omp_get_max_threads(),
               omp_get_max_threads() > 1 ? "s" : "");
        fflush(stdout);
    }
    return mkfail ? 2 : 0;
}

/* Training samples per second of one rank on this machine, from a few steps of method on
 * the first subset's data; 0 when it cannot be measured. */
static double measure_speed(const sweep_job *j, const char *method)
{
    const sweep_options *o = &j->o;
    mtl_err err;
    prep_data d;
    double sps = 0;
    train_config tc = o->base;
    if (weighting_parse(method, &tc.method, &err)) return 0;
    int have_d = j->n_sets > 0 &&
                 prep_build(&j->sets[0], &(prep_options){.window = o->window, .val_frac = o->base.val_frac, .seed = 1,
                                                 .norm = o->base.norm, .norm_scope = o->base.norm_scope}, &d, &err) == 0;
    if (have_d && d.train.n_win > 0) {
        tc.epochs = 1;
        model m;
        dist_ctx one;
        dist_single(&one);
        train_engine *e = NULL;
        if (model_init(&m, tc.model, d.W, (float)tc.dropout, (size_t)tc.method.def->n_params, &err) == 0 &&
            engine_create(&m, &tc.method, tc.deterministic, tc.batch, &one, &e, &err) == 0) {
            float *p = calloc(m.n_params, sizeof(float)), *g = calloc(m.n_params, sizeof(float));
            int *b = malloc(sizeof(int) * (size_t)tc.batch);
            model_init_params(&m, p, 1);
            if (tc.method.def->init) tc.method.def->init(&tc.method, p + m.n_net);
            /* windows spread over the data, as a shuffled batch gathers them */
            for (int i = 0; i < tc.batch; i++) b[i] = (int)((uint64_t)i * 2654435761u % (uint64_t)d.train.n_win);
            double t0 = 0;
            int steps = 6;
            train_batch batch = {.split = &d.train, .windows = b, .n = tc.batch, .seed = 1, .epoch = 1};
            step_losses sl;
            for (int s = 0; s < steps; s++) {
                if (s == 1) t0 = mtl_now();
                engine_grad(e, p, &batch, g, &sl);
            }
            sps = (steps - 1) * (double)tc.batch / (mtl_now() - t0);
            free(p), free(g), free(b);
        }
        engine_free(e);
    }
    if (have_d) prep_free(&d);
    return sps;
}

void sweep_estimate(const sweep_job *j)
{
    if (j->rank != 0) return;
    /* a short timing of this machine gives the estimate: one per order of the step among
     * the pending runs (weights_before_forward), the first such run's method */
    double sps[2] = {0, 0}, secs = 0;
    int timed[2] = {0, 0};
    for (int i = 0; i < j->n_pending; i++) {
        const sweep_item *it = &j->plan[j->pending[i]];
        weighting w;
        const int order = weighting_parse(it->method, &w, NULL) == 0 && w.def->weights_before_forward;
        if (!timed[order]) sps[order] = measure_speed(j, it->method), timed[order] = 1;
        double work = 0;
        for (int k = 0; k < j->n_sets && k < 4; k++)
            if (strcmp(j->sets[k].subset, it->subset) == 0) work += (double)j->sets[k].train.n_rows;
        secs += sps[order] > 0 ? work / sps[order] : NAN;
    }
    int R = j->ranks_per_run, groups = j->size / R;
    /* windows ~ rows; evaluation adds ~15%; groups of R ranks scale at ~90% */
    secs *= (1.0 - j->o.base.val_frac) * j->o.base.epochs * 1.15 / (R * 0.9) / groups;
    char eta[32];
    mtl_fmt_duration(secs, eta, sizeof eta);
    for (int i = 0; i < j->n; i++) {
        const sweep_item *it = &j->plan[i];
        int todo = 0;
        for (int k = 0; k < j->n_pending; k++) todo |= j->pending[k] == i;
        printf("  %-5s %-12s seed %-4ld %s  %s\n", it->subset, it->method, it->seed, it->run_id,
               todo ? "to do" : "complete");
    }
    if (timed[0] && timed[1])
        printf("estimated time: %s (measured %.0f samples/s per rank here, %.0f for the methods weighted before "
               "their forward passes, %d epochs)\n",
               eta, sps[0], sps[1], j->o.base.epochs);
    else if (timed[0] || timed[1])
        printf("estimated time: %s (measured %.0f samples/s per rank here, %d epochs)\n", eta, sps[timed[1]],
               j->o.base.epochs);
    else
        printf("estimated time: %s (no run to do)\n", eta);
}

/* The time left after `elapsed` seconds in which this group finished `done` runs, with
 * `left` runs not yet handed out and `groups` groups training side by side: each of them
 * takes this group's time per run. */
double sweep_eta(double elapsed, int done, int groups, int left)
{
    if (done < 1 || left < 1) return 0;
    return elapsed / done * ((left + groups - 1) / groups);
}

/* One group's view of the sweep while it runs. */
typedef struct {
    sweep_job *job;
    dist_ctx dist;          /* the group */
    int leader, group, groups;   /* groups: how many train side by side */
    dispatcher disp;        /* world rank 0 only */
    prep_cache cache;       /* the last preprocessed (subset, seed, window) */
    int done;               /* runs this group ended (finished or failed; not stopped) */
    int stopped;            /* a run of this group was stopped (by a signal or rank 0's notice), or
                               could not be written */
    int save_failed;        /* a finished run (leader) or a checkpoint could not be written */
    int notice;             /* leader: rank 0's TAG_STOP notice was received */
    run_record last;        /* leader: the run it finished last, its lines not printed yet */
    int has_last, last_idx; /* ... and its index among the pending runs */
    double last_secs;       /* ... and its wall time */
} sweep_group;

/* Receives rank 0's stop notice (a leader other than rank 0); with wait unset, only when
 * it has arrived. */
static void receive_notice(sweep_group *g, int wait)
{
    int flag = wait, x;
    if (!wait) MPI_Iprobe(0, TAG_STOP, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        MPI_Recv(&x, 1, MPI_INT, 0, TAG_STOP, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        g->notice = 1;
    }
}

/* train_config.stop of a sweep, on every rank at each epoch boundary: this rank got a
 * signal, or (leaders) the sweep is stopping. Rank 0 starts the stop of every group. */
static int group_stop(void *ctx)
{
    sweep_group *g = ctx;
    int signalled = cli_stop_signal() != 0;
    if (g->job->rank == 0) {
        if (signalled) dispatch_stop(&g->disp);
        dispatch_poll(&g->disp);
        return g->disp.stopping;
    }
    if (g->leader && !g->notice) receive_notice(g, 0);
    return signalled || g->notice;
}

/* The waits of ranks whose group has no run left: they poll and sleep between polls, so
 * that a rank with nothing to do does not take a core (or its SMT sibling) from the runs
 * still training; MPI's own blocking calls busy-poll. The end of a sweep is not latency
 * bound: a millisecond per poll is nothing against an epoch. */
static void idle_pause(void)
{
    struct timespec ms = {.tv_sec = 0, .tv_nsec = 1000000};
    nanosleep(&ms, NULL);
}

/* MPI_Probe for a message of tag from any rank, sleeping between polls. */
static void idle_probe(int tag, MPI_Status *st)
{
    int flag = 0;
    for (MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, st); !flag;
         MPI_Iprobe(MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, &flag, st))
        idle_pause();
}

/* MPI_Allreduce (MPI_MAX over MPI_COMM_WORLD) of n ints, sleeping while it waits. */
static void idle_allreduce_max(const int *in, int *out, int n)
{
    MPI_Request req;
    int done = 0;
    MPI_Iallreduce(in, out, n, MPI_INT, MPI_MAX, MPI_COMM_WORLD, &req);
    for (MPI_Test(&req, &done, MPI_STATUS_IGNORE); !done; MPI_Test(&req, &done, MPI_STATUS_IGNORE)) idle_pause();
}

/* The index (into pending) of this group's next run, NO_RUN_LEFT or STOPPING; the group
 * leader asks world rank 0, which answers itself directly. Collective over the group. */
static int next_run(sweep_group *g)
{
    int idx = NO_RUN_LEFT;
    if (g->leader) {
        if (g->job->rank == 0) {
            if (g->stopped) dispatch_stop(&g->disp);
            idx = dispatch_next(&g->disp);
        } else {
            int req = g->stopped;
            MPI_Send(&req, 1, MPI_INT, 0, TAG_REQ, MPI_COMM_WORLD);
            MPI_Recv(&idx, 1, MPI_INT, 0, TAG_IDX, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (idx == STOPPING && !g->notice) receive_notice(g, 1);
        }
    }
    MPI_Bcast(&idx, 1, MPI_INT, 0, g->dist.comm);
    return idx;
}

/* The preprocessed data of a run, from the group's cache when it holds the same subset,
 * seed and window. Returns NULL (the leader says why) when it cannot be built. */
static const prep_data *run_data(sweep_group *g, const sweep_item *it)
{
    prep_cache *cache = &g->cache;
    if (cache->valid && !strcmp(cache->subset, it->subset) && cache->seed == it->seed && cache->window == it->window)
        return &cache->d;
    const cmapss_set *set = NULL;
    for (int k = 0; k < g->job->n_sets && k < 4; k++)
        if (strcmp(g->job->sets[k].subset, it->subset) == 0) set = &g->job->sets[k];
    if (cache->valid) prep_free(&cache->d);
    cache->valid = 0;
    mtl_err err;
    prep_options po = train_prep_options(&g->job->o.base, it->window);
    po.seed = (uint64_t)it->seed;
    if (prep_build(set, &po, &cache->d, &err)) {
        if (g->leader) fprintf(stderr, "mtlbench sweep: %s: %s\n", it->subset, err.msg);
        return NULL;
    }
    snprintf(cache->subset, sizeof cache->subset, "%s", it->subset);
    cache->seed = it->seed;
    cache->window = it->window;
    cache->valid = 1;
    return &cache->d;
}

/* Trains pending run idx with the group, from its checkpoint if it has one, and, on the
 * leader, writes its file, removes the checkpoint and prints its line. Returns this rank's
 * status: 0, 1 (training failed), 2 (data or file), CLI_INTERRUPTED (stopped; the
 * checkpoint holds its last complete epoch). */
static int train_one(sweep_group *g, int idx)
{
    sweep_job *j = g->job;
    const sweep_item *it = &j->plan[j->pending[idx]];
    const prep_data *d = run_data(g, it);
    if (!d) return 2;
    mtl_err err;
    int status = 0;
    train_config tc = j->o.base;
    weighting_parse_in(j->o.registry, it->method, &tc.method, NULL);
    tc.seed = it->seed;
    tc.quiet = 1;
    if (j->rank == 0) {
        tc.poll = dispatch_poll;
        tc.poll_ctx = &g->disp;
    }
    char ckpt[4200];
    checkpoint_path(ckpt, sizeof ckpt, j->o.out, it->run_id);
    tc.checkpoint = ckpt;
    tc.checkpoint_replace = 1;
    tc.stop = group_stop;
    tc.stop_ctx = g;
    run_record r;
    double t0 = mtl_now();
    int rc = train_run(&tc, d, &g->dist, &r, &err);
    if (rc != TRAIN_STOPPED) g->done++; /* failed or not, its time is the group's pace */
    if (rc == TRAIN_STOPPED) {
        g->stopped = 1;
        if (g->leader && !j->quiet) {
            printf("[%*s/%d] %-5s %-10s seed %-3ld interrupted after epoch %d; resumable\n", j->n_pending >= 100 ? 3 : 2,
                   "-", j->n_pending, it->subset, it->method, it->seed, r.n_hist);
            fflush(stdout);
        }
        run_record_free(&r);
        return CLI_INTERRUPTED;
    }
    if (rc) {
        if (g->leader) fprintf(stderr, "mtlbench sweep: %s %s seed %ld: %s\n", it->subset, it->method, it->seed, err.msg);
        run_record_free(&r);
        if (rc != TRAIN_CKPT_FAILED) return 1;
        /* a checkpoint that cannot be written: the next run would fail the same way, so the
         * sweep stops as after a run file that cannot be written */
        g->stopped = 1;
        g->save_failed = 1;
        return 2;
    }
    if (strcmp(r.run_id, it->run_id) != 0) {
        if (g->leader) fprintf(stderr, "mtlbench sweep: internal error: run id %s, planned %s\n", r.run_id, it->run_id);
        status = 1;
    } else if (g->leader) {
        char p[4200];
        run_path(p, sizeof p, j->o.out, r.run_id);
        if (results_write_all(p, &r, 1, &err)) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            snprintf(r.status, sizeof r.status, "NOT SAVED");
            status = 2;
            g->stopped = 1; /* the next run would fail the same way: stop the sweep */
            g->save_failed = 1;
        } else {
            remove(ckpt);
        }
    }
    if (!g->leader) {
        run_record_free(&r);
        return status;
    }
    /* its lines wait for the next index, which tells how many runs are left (say_finished) */
    g->last = r;
    g->has_last = 1;
    g->last_idx = idx;
    g->last_secs = mtl_now() - t0;
    return status;
}

/* The leader's lines of the run it finished last, once next_run has given it `next`: the
 * progress line, with the ETA of the runs not yet handed out (next and those after it, in
 * rounds of the groups), and the result line. Frees the run. */
static void say_finished(sweep_group *g, int next)
{
    if (!g->has_last) return;
    const sweep_job *j = g->job;
    const run_record *r = &g->last;
    if (!j->quiet) {
        char eta[48] = "-", pace[32];
        double el = mtl_now() - j->t_start;
        int np = j->n_pending;
        if (next >= 0) {
            mtl_fmt_duration(sweep_eta(el, g->done, g->groups, np - next), eta, sizeof eta);
        } else if (next == NO_RUN_LEFT) { /* none to hand out: at most the other groups' runs in flight */
            mtl_fmt_duration(el / g->done, pace, sizeof pace); /* done >= 1: it counts the last run */
            snprintf(eta, sizeof eta, g->groups > 1 ? "≤ %s" : "0s", pace);
        }
        char resumed[48] = "";
        if (r->resumed_from_epoch > 0)
            snprintf(resumed, sizeof resumed, "  resumed from epoch %d", r->resumed_from_epoch);
        printf("[%*d/%d] %-5s %-10s seed %-3ld %-8s RMSE %6.2f  score %8.1f  acc %.3f  F1 %.3f  %6.1fs  group %d  ETA %s%s\n",
               np >= 100 ? 3 : 2, g->last_idx + 1, np, r->subset, r->method, r->seed, r->status, r->rmse, r->score,
               r->acc, r->f1, g->last_secs, g->group, eta, resumed);
        fflush(stdout);
    }
    if (!j->no_result_line) cli_print_result_line(r, stdout);
    run_record_free(&g->last);
    g->has_last = 0;
}

int sweep_run(sweep_job *j)
{
    int R = j->ranks_per_run, groups = j->size / R;
    sweep_group g;
    memset(&g, 0, sizeof g);
    g.job = j;
    MPI_Comm gcomm;
    MPI_Comm_split(MPI_COMM_WORLD, j->rank / R, j->rank, &gcomm);
    dist_from_comm(&g.dist, gcomm);
    g.leader = g.dist.rank == 0;
    g.group = j->rank / R;
    g.groups = groups;
    g.disp = (dispatcher){.n = j->n_pending, .n_leaders = groups - 1, .R = R};
    unsigned char *finished = calloc((size_t)groups, 1);
    MPI_Request *notice = malloc(sizeof(MPI_Request) * (size_t)groups);
    int status = 0, nomem = !finished || !notice, any_nomem = 0;
    MPI_Allreduce(&nomem, &any_nomem, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_nomem) {
        if (nomem) fprintf(stderr, "mtlbench sweep: out of memory\n");
        MPI_Comm_free(&gcomm);
        free(finished), free(notice);
        return 2;
    }
    for (int k = 0; k < groups; k++) notice[k] = MPI_REQUEST_NULL;
    g.disp.finished = finished;
    g.disp.notice = notice;
    for (;;) {
        int idx = next_run(&g);
        say_finished(&g, idx);
        if (idx < 0) break;
        int st = train_one(&g, idx);
        if (st > status) status = st;
    }
    if (g.cache.valid) prep_free(&g.cache.d);
    /* world rank 0 goes on answering the other leaders until each was told to stop; runs
     * never handed out make a stopped sweep incomplete even when no run was in flight */
    if (j->rank == 0) {
        while (g.disp.leaders_done < g.disp.n_leaders) {
            MPI_Status st;
            idle_probe(TAG_REQ, &st);
            dispatch_answer(&g.disp, st.MPI_SOURCE);
        }
        MPI_Waitall(groups, notice, MPI_STATUSES_IGNORE);
        if (g.disp.stopping && g.disp.next < g.disp.n && status < CLI_INTERRUPTED) status = CLI_INTERRUPTED;
    }
    MPI_Comm_free(&gcomm);
    free(finished), free(notice);
    int all[2] = {0, 0}, mine[2] = {status, g.save_failed};
    idle_allreduce_max(mine, all, 2);
    j->save_failed = all[1];
    return j->save_failed ? 2 : all[0];
}

int sweep_merge(sweep_job *j, int status)
{
    int rc = status;
    if (j->rank == 0 && !j->save_failed) {
        mtl_err err;
        int nr = 0, unchanged = 0;
        char merged[4200];
        snprintf(merged, sizeof merged, "%s/sweep.h5", j->o.out);
        if (results_merge_dir(j->o.out, stderr, &nr, &unchanged, &err)) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            rc = 2;
        } else if (status == CLI_INTERRUPTED) {
            printf("sweep: interrupted; %d of %d runs complete in %s; run the same command again to resume\n", nr,
                   j->n, merged);
            fflush(stdout);
        } else {
            char t[32];
            mtl_fmt_duration(mtl_now() - j->t_start, t, sizeof t);
            printf("sweep: %d runs trained in %s; %d runs in %s%s\n\n", j->n_pending, t, nr, merged,
                   unchanged ? " (unchanged)" : "");
            fflush(stdout);
        }
        if (rc == 0 && nr > 0 && !j->quiet && !j->no_report) {
            char *rargv[] = {"report", (char *)j->o.out, NULL};
            int rr = cmd_report(2, rargv);
            if (rr == 2) rc = 2;
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    cli_stop_install();
    sweep_job j;
    sweep_job_init(&j, rank, size);
    int rc = sweep_parse(&j, argc, argv);
    if (!j.help) {
        rc = sweep_make_plan(&j, rc);
        if (rc == 0) rc = sweep_load(&j);
        if (rc == 0 && !j.dry_run) rc = sweep_claim_out(&j);
        if (rc == 0) rc = sweep_find_pending(&j);
        if (rc == 0 && j.dry_run) sweep_estimate(&j);
        else if (rc == 0) rc = sweep_merge(&j, sweep_run(&j));
    }
    sweep_job_free(&j);
    MPI_Finalize();
    return rc;
}
