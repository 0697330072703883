#define _POSIX_C_SOURCE 200809L
#include "sweep.h"
#include "cli.h"
#include "results.h"

#include <dirent.h>
#include <errno.h>
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

enum { TAG_REQ = 101, TAG_IDX = 102 };

void sweep_options_defaults(sweep_options *o)
{
    memset(o, 0, sizeof *o);
    o->data = cli_default_data();
    o->out = "results";
    snprintf(o->methods, sizeof o->methods, "fixed,uw,uw-o,uw-so");
    snprintf(o->lambdas, sizeof o->lambdas, "0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9");
    snprintf(o->temperatures, sizeof o->temperatures, "0.5,1,2,5,10,20");
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
    char path[4096];
    snprintf(path, sizeof path, "%s/train_%s.txt", dir, subset);
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
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
    /* methods, expanded over lambdas and temperatures */
    char methods[128][48];
    int nm = 0;
    snprintf(buf, sizeof buf, "%s", o->methods);
    char *mt[64];
    int k = split_list(buf, mt, 64);
    if (k < 0) return mtl_fail(err, "--methods: more than 64 entries");
    if (k == 0) return mtl_fail(err, "--methods: empty list");
    for (int i = 0; i < k; i++) {
        const char *list = strcmp(mt[i], "fixed") == 0 ? o->lambdas : strcmp(mt[i], "uw-so") == 0 ? o->temperatures : NULL;
        char vbuf[512], *vt[64];
        int nv = 1;
        if (list) {
            snprintf(vbuf, sizeof vbuf, "%s", list);
            nv = split_list(vbuf, vt, 64);
            if (nv < 0) return mtl_fail(err, "--%s: more than 64 values", list == o->lambdas ? "lambdas" : "temperatures");
            if (nv == 0) return mtl_fail(err, "--methods %s: its value list is empty", mt[i]);
        }
        for (int v = 0; v < nv; v++) {
            char spec[96];
            if (list) snprintf(spec, sizeof spec, "%s:%s", mt[i], vt[v]);
            else snprintf(spec, sizeof spec, "%s", mt[i]);
            weighting w;
            if (weighting_parse(spec, &w, err)) return -1;
            int dup = 0;
            for (int j = 0; j < nm; j++) dup |= strcmp(methods[j], w.canon) == 0;
            if (dup) continue;
            if (nm == 128) return mtl_fail(err, "--methods: more than 128 methods");
            snprintf(methods[nm++], sizeof methods[0], "%s", w.canon);
        }
    }
    /* seeds */
    long seeds[64];
    int nseed = 0;
    snprintf(buf, sizeof buf, "%s", o->seeds);
    k = split_list(buf, tok, 64);
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
                train_config tc = o->base;
                weighting_parse(x->method, &tc.method, NULL);
                tc.seed = x->seed;
                run_record r;
                train_config_record(&tc, x->subset, x->window, &r);
                memcpy(x->run_id, r.run_id, sizeof x->run_id);
            }
    *items = it;
    *n = c;
    return 0;
}

/* ---------------------------------------------------------------- execution */

typedef struct {
    int next, n, leaders_done, n_leaders;
} dispatcher;

static int dispatch_next(dispatcher *d) { return d->next < d->n ? d->next++ : -1; }

/* Answers one request of a group leader: the next run's index, or -1 when none is left. */
static void dispatch_answer(dispatcher *d, int source)
{
    int dummy, idx;
    MPI_Recv(&dummy, 1, MPI_INT, source, TAG_REQ, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    idx = dispatch_next(d);
    if (idx < 0) d->leaders_done++;
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
    "complete run. At the end all runs are merged into OUT/sweep.h5 and the report printed.\n"
    "\n"
    "  --data DIR            C-MAPSS folder (default: $MTLBENCH_DATA, else bundled)\n"
    "  --subsets LIST        e.g. FD001,FD002 (default: every subset present in --data)\n"
    "  --methods LIST        fixed, uw, uw-o, uw-so, or single fixed:L / uw-so:T\n"
    "                        (default fixed,uw,uw-o,uw-so)\n"
    "  --lambdas LIST        values of L for 'fixed' (default 0.1,0.2,...,0.9)\n"
    "  --temperatures LIST   values of T for 'uw-so' (default 0.5,1,2,5,10,20)\n"
    "  --seeds LIST          (default 1,2,3,4,5)\n"
    "  --ranks-per-run R     ranks per data-parallel group (default 1); must divide P\n"
    "  --out DIR             results folder (default results)\n"
    "  --dry-run             print the plan and the estimated time, train nothing\n"
    "  --quiet               no progress lines and no report at the end\n"
    "\n"
    "Training options, as for 'mtlbench train' (one setting for the whole sweep):\n";

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

int cmd_sweep(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int root = rank == 0;
    sweep_options o;
    sweep_options_defaults(&o);
    int R = 1, dry = 0, quiet = 0, bad = 0, help = 0;
    static const struct option opts[] = {
        {"data", 1, 0, 'd'},         {"subsets", 1, 0, 's'}, {"methods", 1, 0, 'm'},       {"lambdas", 1, 0, 'L'},
        {"temperatures", 1, 0, 'T'}, {"seeds", 1, 0, 'S'},   {"ranks-per-run", 1, 0, 'R'}, {"out", 1, 0, 'o'},
        {"dry-run", 0, 0, 'n'},      {"quiet", 0, 0, 'q'},   {"help", 0, 0, 'h'},          CLI_TRAIN_OPTIONS,
        {0, 0, 0, 0}};
    int c, li = 0;
    long lv;
    optind = 1;
    opterr = root;
    while (!bad && (c = getopt_long(argc, argv, "", opts, &li)) != -1) {
        switch (c) {
        case 'd': o.data = optarg; break;
        case 's': bad = copy_list(o.subsets, sizeof o.subsets, optarg); break;
        case 'm': bad = copy_list(o.methods, sizeof o.methods, optarg); break;
        case 'L': bad = copy_list(o.lambdas, sizeof o.lambdas, optarg); break;
        case 'T': bad = copy_list(o.temperatures, sizeof o.temperatures, optarg); break;
        case 'S': bad = copy_list(o.seeds, sizeof o.seeds, optarg); break;
        case 'o': o.out = optarg; break;
        case 'n': dry = 1; break;
        case 'q': quiet = 1; break;
        case 'h': help = 1; break;
        case 'R': bad = mtl_parse_long(optarg, &lv) || lv < 1 || lv > 1 << 20; R = (int)lv; break;
        default:
            bad = cli_train_option(c, optarg, &o.base, &o.window);
            if (bad < 0) bad = 2;
            break;
        }
        if (bad == 1 && root)
            fprintf(stderr, "mtlbench sweep: --%s '%.60s' is out of range, too long or not a number (see --help)\n",
                    opts[li].name, optarg);
    }
    train_config_apply_protocol(&o.base);
    if (help) {
        if (root) printf("%s%s", USAGE, CLI_TRAIN_HELP);
        MPI_Finalize();
        return 0;
    }
    if (!bad && optind < argc) {
        if (root) fprintf(stderr, "mtlbench sweep: unexpected argument '%s'\n", argv[optind]);
        bad = 1;
    }
    if (!bad && size % R != 0) {
        if (root) fprintf(stderr, "mtlbench sweep: --ranks-per-run %d does not divide the %d ranks\n", R, size);
        bad = 1;
    }
    mtl_err err;
    sweep_item *plan = NULL;
    int n = 0;
    if (!bad && sweep_plan(&o, &plan, &n, &err)) {
        if (root) fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
        bad = 1;
    }
    /* the plan depends on each rank's view of --data: every rank must agree, or none trains */
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any_bad) {
        if (root && !bad) fprintf(stderr, "mtlbench sweep: another rank could not plan the sweep (does it see the same --data?)\n");
        if (root && bad == 2) fputs("try 'mtlbench sweep --help'\n", stderr);
        free(plan);
        MPI_Finalize();
        return 2;
    }

    /* every subset is parsed once, up front, and checked with the first seed's split: bad
     * data fails here, before any training, with one message */
    cmapss_set sets[4];
    int nsets = 0, failed = 0;
    for (int i = 0; i < n && !failed; i++) {
        int have = 0;
        for (int j = 0; j < nsets; j++) have |= strcmp(sets[j].subset, plan[i].subset) == 0;
        if (have) continue;
        if (cmapss_load(o.data, plan[i].subset, &sets[nsets], &err)) {
            failed = 1;
            break;
        }
        nsets++;
        prep_data d;
        prep_options po = train_prep_options(&o.base, plan[i].window);
        po.seed = (uint64_t)plan[i].seed;
        if (prep_build(&sets[nsets - 1], &po, &d, &err)) {
            failed = 1;
        } else {
            failed = prep_check_trainable(&d, &err) != 0;
            prep_free(&d);
        }
    }
    /* and every rank must see the same plan and the same data */
    uint64_t h = mtl_fnv1a(MTL_FNV_INIT, &n, sizeof n);
    for (int i = 0; i < n; i++) h = mtl_fnv1a(h, plan[i].run_id, sizeof plan[i].run_id);
    for (int j = 0; j < nsets; j++) {
        h = mtl_fnv1a(h, sets[j].train.x, sizeof(double) * CMAPSS_COLS * (size_t)sets[j].train.n_rows);
        h = mtl_fnv1a(h, sets[j].test.x, sizeof(double) * CMAPSS_COLS * (size_t)sets[j].test.n_rows);
        h = mtl_fnv1a(h, sets[j].rul, sizeof(int) * (size_t)sets[j].test.n_units);
    }
    unsigned long long hl = h, hmin = 0, hmax = 0;
    MPI_Allreduce(&hl, &hmin, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hl, &hmax, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    int any_failed = 0;
    MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_failed || hmin != hmax) {
        if (root) {
            if (failed) fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            else if (any_failed) fprintf(stderr, "mtlbench sweep: another rank could not load the data\n");
            else fprintf(stderr, "mtlbench sweep: the ranks see different data in %s; every rank needs the same files\n", o.data);
        }
        for (int j = 0; j < nsets; j++) cmapss_set_free(&sets[j]);
        free(plan);
        MPI_Finalize();
        return 2;
    }

    /* pending runs: decided by rank 0 and broadcast, so every rank agrees */
    char runs_dir[4096];
    snprintf(runs_dir, sizeof runs_dir, "%s/runs", o.out);
    int *pending = malloc(sizeof(int) * (size_t)(n + 1));
    int np = 0, mkfail = 0;
    if (root) {
        if (!dry && mtl_mkdir_p(runs_dir, &err)) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            mkfail = 1;
        }
        if (!dry) {
            remove_stale_temps(runs_dir);
            remove_stale_temps(o.out);
        }
        for (int i = 0; i < n; i++) {
            char p[4200];
            run_path(p, sizeof p, o.out, plan[i].run_id);
            if (!results_has_run(p, plan[i].run_id)) pending[np++] = i;
        }
    }
    MPI_Bcast(&mkfail, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(&np, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Bcast(pending, np, MPI_INT, 0, MPI_COMM_WORLD);
    int groups = size / R;
    if (root) {
        printf("sweep: %d runs (%d complete, %d to do) in %s; %d group%s of %d rank%s x %d thread%s\n", n, n - np, np,
               o.out, groups, groups > 1 ? "s" : "", R, R > 1 ? "s" : "", omp_get_max_threads(),
               omp_get_max_threads() > 1 ? "s" : "");
        fflush(stdout);
    }
    if (dry || mkfail) {
        if (root && dry) {
            /* a short timing of this machine gives the estimate */
            double work = 0;
            for (int i = 0; i < np; i++) {
                const sweep_item *it = &plan[pending[i]];
                for (int j = 0; j < nsets && j < 4; j++)
                    if (strcmp(sets[j].subset, it->subset) == 0) work += (double)sets[j].train.n_rows;
            }
            prep_data d;
            double sps = 0;
            train_config tc = o.base;
            weighting_parse("fixed:0.5", &tc.method, NULL);
            int have_d = nsets > 0 && prep_build(&sets[0], &(prep_options){o.window, o.base.val_frac, 1, o.base.norm}, &d, &err) == 0;
            if (have_d && d.train.n_win > 0) {
                tc.epochs = 1;
                model m;
                dist_ctx one;
                dist_single(&one);
                train_engine *e = NULL;
                if (model_init(&m, tc.model, d.W, (float)tc.dropout, 0, &err) == 0 &&
                    engine_create(&m, &tc.method, tc.deterministic, tc.batch, &one, &e, &err) == 0) {
                    float *p = calloc(m.n_params, sizeof(float)), *g = calloc(m.n_params, sizeof(float));
                    int *b = malloc(sizeof(int) * (size_t)tc.batch);
                    model_init_params(&m, p, 1);
                    for (int i = 0; i < tc.batch; i++) b[i] = i % d.train.n_win;
                    double Lr, Lh, wr, wh, t0 = 0;
                    int steps = 6;
                    for (int s = 0; s < steps; s++) {
                        if (s == 1) t0 = mtl_now();
                        engine_grad(e, p, &d.train, b, tc.batch, 1, 1, 1, g, &Lr, &Lh, &wr, &wh);
                    }
                    sps = (steps - 1) * (double)tc.batch / (mtl_now() - t0);
                    free(p), free(g), free(b);
                }
                engine_free(e);
            }
            if (have_d) prep_free(&d);
            /* windows ~ rows; evaluation adds ~15%; groups of R ranks scale at ~90% */
            double secs = sps > 0 ? work * (1.0 - o.base.val_frac) * o.base.epochs * 1.15 / (sps * R * 0.9) / groups : NAN;
            char eta[32];
            mtl_fmt_duration(secs, eta, sizeof eta);
            for (int i = 0; i < n; i++) {
                int todo = 0;
                for (int j = 0; j < np; j++) todo |= pending[j] == i;
                printf("  %-5s %-12s seed %-4ld %s  %s\n", plan[i].subset, plan[i].method, plan[i].seed,
                       plan[i].run_id, todo ? "to do" : "complete");
            }
            printf("estimated time: %s (measured %.0f samples/s per rank here, %d epochs)\n", eta, sps, o.base.epochs);
        }
        for (int j = 0; j < nsets; j++) cmapss_set_free(&sets[j]);
        free(plan), free(pending);
        MPI_Finalize();
        return mkfail ? 2 : 0;
    }

    MPI_Comm gcomm;
    MPI_Comm_split(MPI_COMM_WORLD, rank / R, rank, &gcomm);
    dist_ctx dist;
    dist_from_comm(&dist, gcomm);
    int leader = dist.rank == 0, group = rank / R;
    dispatcher disp = {0, np, 0, groups - 1};
    int status = 0, done = 0;
    double t_start = mtl_now();
    prep_cache cache = {0};
    for (;;) {
        int idx = -1;
        if (leader) {
            if (root) {
                idx = dispatch_next(&disp);
            } else {
                int req = 0;
                MPI_Send(&req, 1, MPI_INT, 0, TAG_REQ, MPI_COMM_WORLD);
                MPI_Recv(&idx, 1, MPI_INT, 0, TAG_IDX, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            }
        }
        MPI_Bcast(&idx, 1, MPI_INT, 0, gcomm);
        if (idx < 0) break;
        const sweep_item *it = &plan[pending[idx]];
        const cmapss_set *set = NULL;
        for (int j = 0; j < nsets && j < 4; j++)
            if (strcmp(sets[j].subset, it->subset) == 0) set = &sets[j];
        if (!cache.valid || strcmp(cache.subset, it->subset) || cache.seed != it->seed || cache.window != it->window) {
            if (cache.valid) prep_free(&cache.d);
            cache.valid = 0;
            prep_options po = train_prep_options(&o.base, it->window);
            po.seed = (uint64_t)it->seed;
            if (prep_build(set, &po, &cache.d, &err)) {
                if (leader) fprintf(stderr, "mtlbench sweep: %s: %s\n", it->subset, err.msg);
                status = 2;
                continue;
            }
            snprintf(cache.subset, sizeof cache.subset, "%s", it->subset);
            cache.seed = it->seed;
            cache.window = it->window;
            cache.valid = 1;
        }
        train_config tc = o.base;
        weighting_parse(it->method, &tc.method, NULL);
        tc.seed = it->seed;
        tc.quiet = 1;
        if (root) {
            tc.poll = dispatch_poll;
            tc.poll_ctx = &disp;
        }
        run_record r;
        double t0 = mtl_now();
        if (train_run(&tc, &cache.d, &dist, &r, &err)) {
            if (leader) fprintf(stderr, "mtlbench sweep: %s %s seed %ld: %s\n", it->subset, it->method, it->seed, err.msg);
            run_record_free(&r);
            status = 1;
            continue;
        }
        if (strcmp(r.run_id, it->run_id) != 0) {
            if (leader) fprintf(stderr, "mtlbench sweep: internal error: run id %s, planned %s\n", r.run_id, it->run_id);
            status = 1;
        } else if (leader) {
            char p[4200];
            run_path(p, sizeof p, o.out, r.run_id);
            if (results_write_all(p, &r, 1, &err)) {
                fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
                snprintf(r.status, sizeof r.status, "NOT SAVED");
                status = 2;
            }
        }
        done++;
        if (leader && !quiet) {
            char eta[32];
            double el = mtl_now() - t_start;
            mtl_fmt_duration(el / (idx + 1) * (np - idx - 1), eta, sizeof eta);
            printf("[%*d/%d] %-5s %-10s seed %-3ld %-8s RMSE %6.2f  score %8.1f  acc %.3f  F1 %.3f  %6.1fs  group %d  ETA %s\n",
                   np >= 100 ? 3 : 2, idx + 1, np, it->subset, it->method, it->seed, r.status, r.rmse, r.score, r.acc,
                   r.f1, mtl_now() - t0, group, eta);
            fflush(stdout);
        }
        run_record_free(&r);
    }
    if (cache.valid) prep_free(&cache.d);
    /* world rank 0 goes on answering the other leaders until each was told to stop */
    if (root)
        while (disp.leaders_done < disp.n_leaders) {
            MPI_Status st;
            MPI_Probe(MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &st);
            dispatch_answer(&disp, st.MPI_SOURCE);
        }
    MPI_Comm_free(&gcomm);
    int all = 0;
    MPI_Allreduce(&status, &all, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    for (int j = 0; j < nsets; j++) cmapss_set_free(&sets[j]);
    free(plan), free(pending);
    int rc = all;
    if (root) {
        run_record *runs = NULL;
        int nr = 0;
        char merged[4200];
        snprintf(merged, sizeof merged, "%s/sweep.h5", o.out);
        if (results_read(runs_dir, &runs, &nr, &err) || results_write_all(merged, runs, nr, &err)) {
            fprintf(stderr, "mtlbench sweep: %s\n", err.msg);
            rc = 2;
        } else {
            char t[32];
            mtl_fmt_duration(mtl_now() - t_start, t, sizeof t);
            printf("sweep: %d runs trained in %s; %d runs in %s\n\n", np, t, nr, merged);
            fflush(stdout);
        }
        for (int i = 0; i < nr; i++) run_record_free(&runs[i]);
        free(runs);
        if (rc == 0 && nr > 0 && !quiet) {
            char *rargv[] = {"report", (char *)o.out, NULL};
            int rr = cmd_report(2, rargv);
            if (rr == 2) rc = 2;
        }
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return rc;
}
