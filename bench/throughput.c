/* Training throughput of a network (dcnn or cnn1d): samples per second of the training
 * step alone (forward, backward, gradient sums, Adam; evaluation excluded), median of several
 * epochs, for each thread count asked for, and the arithmetic rate that makes (the kernels'
 * floating-point operations per sample, model_flops, times samples per second). One
 * process, no MPI communication.
 *
 * With --both-modes, each thread count trains a run in the default mode and one with
 * --deterministic, an epoch of each in turns, and the cost of the deterministic mode is
 * printed.
 * With --profile, one thread: epochs untimed and timed with the engine's clock in turns, and
 * the time of each phase of the step (profile.h) as a table, beside the untimed throughput.
 *
 * --batch sets the batch (512, the protocols' own, by default): a batch of 16 is one tile,
 * whose activations stay in the L2 cache from its forward to its backward pass, so that the
 * profile at --batch 16 beside the one at 512 shows what the cache costs each phase.
 *
 * usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5]
 *                         [--threads 1,2] [--model dcnn|cnn1d] [--batch 512] [--deterministic]
 *                         [--json] [--both-modes] [--profile] */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "optim.h"
#include "train.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const mtl_err *err)
{
    fprintf(stderr, "bench_throughput: %s\n", err->msg);
    exit(2);
}

/* A training run of the benchmark: one engine, its parameters and optimiser, the epochs so far. */
typedef struct {
    const prep_data *d;
    model m;
    train_engine *e;
    adam opt;
    float *params, *grad;
    int *perm;
    int epoch;
    int batch;
} bench_run;

static void bench_open(bench_run *r, model_kind kind, const prep_data *d, const weighting *w, int deterministic,
                       int batch)
{
    mtl_err err;
    dist_ctx one;
    dist_single(&one);
    memset(r, 0, sizeof *r);
    r->d = d;
    r->batch = batch;
    if (model_init(&r->m, kind, d->W, 0.5f, (size_t)w->def->n_params, &err) ||
        engine_create(&r->m, w, deterministic, batch, &one, &r->e, &err) || adam_init(&r->opt, r->m.n_params, 1e-3, &err))
        die(&err);
    r->params = calloc(r->m.n_params, sizeof(float));
    r->grad = calloc(r->m.n_params, sizeof(float));
    r->perm = malloc(sizeof(int) * (size_t)d->train.n_win);
    if (!r->params || !r->grad || !r->perm) {
        fprintf(stderr, "bench_throughput: out of memory\n");
        exit(2);
    }
    model_init_params(&r->m, r->params, 1);
    if (w->def->init) w->def->init(w, r->params + r->m.n_net);
}

/* One epoch of training steps (shuffled as training does); its samples/s. */
static double bench_epoch(bench_run *r)
{
    const int B = r->batch, N = r->d->train.n_win, ep = r->epoch++;
    train_shuffle(r->perm, N, 1, ep);
    double t0 = mtl_now();
    for (int i = 0; i < N; i += B) {
        train_batch b = {.split = &r->d->train, .windows = r->perm + i, .n = N - i < B ? N - i : B, .seed = 1, .epoch = ep};
        step_losses sl;
        engine_step(r->e, r->params, &r->opt, &b, r->grad, &sl);
    }
    return N / (mtl_now() - t0);
}

static void bench_close(bench_run *r)
{
    free(r->params), free(r->grad), free(r->perm);
    engine_free(r->e);
    adam_free(&r->opt);
}

/* Samples/s of `epochs` epochs of each of the n runs, taken in turns (run 0, 1, ..., 0, 1,
 * ...) after one warm-up epoch each, so that a slow stretch of a shared machine falls on all
 * of them; sps[k * epochs + i] is run k's epoch i. With a clock, run 0's epochs alternate
 * untimed and timed instead (n = 1): the timed ones go to sps[epochs + i]. */
static void take_turns(bench_run *runs, int n, int epochs, phase_clock *clock, double *sps)
{
    mtl_err err;
    for (int k = 0; k < n; k++) bench_epoch(&runs[k]); /* caches warm, pages faulted in */
    for (int i = 0; i < epochs; i++) {
        if (clock) {
            sps[i] = bench_epoch(&runs[0]);
            if (engine_set_clock(runs[0].e, clock, &err)) die(&err);
            sps[epochs + i] = bench_epoch(&runs[0]);
            engine_set_clock(runs[0].e, NULL, &err);
            continue;
        }
        for (int k = 0; k < n; k++) sps[k * epochs + i] = bench_epoch(&runs[k]);
    }
}

/* The profile: epochs untimed and timed in turns, then the timed ones phase by phase. */
static void profile(model_kind kind, const prep_data *d, const weighting *w, int det, int batch, int epochs,
                    int json)
{
    bench_run r;
    phase_clock clock = {0};
    double *sps = malloc(sizeof(double) * 2 * (size_t)epochs);
    if (!sps) {
        fprintf(stderr, "bench_throughput: out of memory\n");
        exit(2);
    }
    omp_set_num_threads(1);
    bench_open(&r, kind, d, w, det, batch);
    take_turns(&r, 1, epochs, &clock, sps);
    double timed = 0; /* the timed epochs' wall time */
    for (int i = 0; i < epochs; i++) timed += d->train.n_win / sps[epochs + i];
    const double untimed = median(sps, epochs), med = median(sps + epochs, epochs);
    const int N = d->train.n_win;
    const double samples = (double)N * epochs, steps = (double)epochs * ((N + batch - 1) / batch), flops = model_flops(&r.m, 1);
    double sum = 0;
    for (int p = 0; p < PHASE_COUNT; p++) sum += clock.seconds[p];
    if (!json) printf("| phase | ms per step | share | GFLOP/s |\n|---|---|---|---|\n");
    for (int p = 0; p < PHASE_COUNT; p++) {
        double sec = clock.seconds[p], f = model_phase_flops(&r.m, (phase_id)p);
        double gf = f > 0 && sec > 0 ? f * samples / sec / 1e9 : 0;
        if (json)
            printf("{\"phase\":\"%s\",\"ms_per_step\":%.4f,\"share\":%.4f,\"gflops\":%.2f}\n", phase_name(p),
                   1e3 * sec / steps, sec / sum, gf);
        else if (f > 0)
            printf("| %s | %.3f | %.1f %% | %.1f |\n", phase_name(p), 1e3 * sec / steps, 100 * sec / sum, gf);
        else
            printf("| %s | %.3f | %.1f %% | |\n", phase_name(p), 1e3 * sec / steps, 100 * sec / sum);
    }
    const double untimed_ms = 1e3 * (N / untimed) / ((N + batch - 1) / batch); /* per step */
    if (json) {
        printf("{\"phases_ms_per_step\":%.4f,\"timed_step_ms\":%.4f,\"untimed_step_ms\":%.4f,"
               "\"profiled_samples_per_s\":%.1f,\"samples_per_s\":%.1f,\"gflops\":%.2f}\n",
               1e3 * sum / steps, 1e3 * timed / steps, untimed_ms, med, untimed, untimed * flops / 1e9);
    } else {
        printf("| **all phases** | **%.3f** | %.1f %% of the timed steps (%.3f ms), %.1f %% of the untimed (%.3f ms) "
               "| %.1f |\n\n",
               1e3 * sum / steps, 100 * sum / timed, 1e3 * timed / steps, 1e3 * sum / steps / untimed_ms * 100,
               untimed_ms, flops * samples / sum / 1e9);
        printf("untimed epochs: %.0f samples/s, %.1f GFLOP/s; timed epochs, in turns with them: %.0f samples/s "
               "(medians of %d epochs each)\n",
               untimed, untimed * flops / 1e9, med, epochs);
    }
    bench_close(&r);
    free(sps);
}

int main(int argc, char **argv)
{
    const char *dir = cli_default_data(), *subset = "FD001", *method = "uw-so:1";
    char threads[128] = "1,2";
    int epochs = 5, batch = 512, json = 0, det = 0, both = 0, prof = 0, o;
    model_kind kind = MODEL_DCNN;
    static const struct option opts[] = {{"data", 1, 0, 'd'},   {"subset", 1, 0, 's'}, {"method", 1, 0, 'm'},
                                         {"epochs", 1, 0, 'e'}, {"threads", 1, 0, 't'}, {"json", 0, 0, 'j'},
                                         {"deterministic", 0, 0, 'x'}, {"model", 1, 0, 'M'}, {"help", 0, 0, 'h'},
                                         {"profile", 0, 0, 'p'}, {"both-modes", 0, 0, 'b'}, {"batch", 1, 0, 'B'},
                                         {0, 0, 0, 0}};
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 's': subset = optarg; break;
        case 'm': method = optarg; break;
        case 'e': epochs = atoi(optarg); break;
        case 't': snprintf(threads, sizeof threads, "%s", optarg); break;
        case 'j': json = 1; break;
        case 'x': det = 1; break;
        case 'p': prof = 1; break;
        case 'b': both = 1; break;
        case 'B':
            batch = atoi(optarg);
            if (batch < 1) {
                fprintf(stderr, "bench_throughput: --batch '%s', expected a positive number of samples\n", optarg);
                return 2;
            }
            break;
        case 'M':
            if (model_parse(optarg, &kind)) {
                fprintf(stderr, "bench_throughput: --model '%s', expected dcnn or cnn1d\n", optarg);
                return 2;
            }
            break;
        case 'h':
            puts("usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5] "
                 "[--threads 1,2] [--model dcnn|cnn1d] [--batch 512] [--deterministic] [--json] [--both-modes] "
                 "[--profile]");
            return 0;
        default: return 2;
        }
    }
    if (epochs < 1) epochs = 1;
    mtl_err err;
    weighting w;
    prep_data d;
    if (weighting_parse(method, &w, &err) || cli_load(dir, subset, &(prep_options){.val_frac = 0.2, .seed = 1, .norm = PREP_NORM_Z}, &d, &err)) {
        fprintf(stderr, "bench_throughput: %s\n", err.msg);
        return 2;
    }
    if (prof) {
        if (both || strcmp(threads, "1,2") != 0)
            fprintf(stderr, "bench_throughput: --profile times one thread in the mode asked for (--threads and "
                            "--both-modes do not apply)\n");
        if (!json)
            printf("step profile, %s %s %s, %d training windows, batch %d, 1 thread, %d epochs%s\n\n",
                   model_name(kind), subset, method, d.train.n_win, batch, epochs, det ? ", --deterministic" : "");
        omp_set_num_threads(1);
        profile(kind, &d, &w, det, batch, epochs, json);
        prep_free(&d);
        return 0;
    }
    if (!json) {
        printf("training throughput, %s %s %s, %d training windows, batch %d, median of %d epochs%s\n\n",
               model_name(kind), subset, method, d.train.n_win, batch, epochs,
               both ? ", both modes" : det ? ", --deterministic" : "");
        printf("| threads | mode | samples/s (median) | min | max | speed-up | GFLOP/s |\n"
               "|---|---|---|---|---|---|---|\n");
    }
    double base = 0;
    double *sps = malloc(sizeof(double) * 2 * (size_t)epochs);
    if (!sps) {
        fprintf(stderr, "bench_throughput: out of memory\n");
        return 2;
    }
    for (char *tok = strtok(threads, ","); tok; tok = strtok(NULL, ",")) {
        int t = atoi(tok);
        if (t < 1) continue;
        omp_set_num_threads(t);
        bench_run runs[2];
        const int n = both ? 2 : 1;
        for (int k = 0; k < n; k++) bench_open(&runs[k], kind, &d, &w, both ? k : det, batch);
        take_turns(runs, n, epochs, NULL, sps);
        const double flops = model_flops(&runs[0].m, 1);
        double by_mode[2];
        for (int k = 0; k < n; k++) {
            const int mode = both ? k : det;
            double *v = sps + (size_t)k * epochs, med = median(v, epochs), lo = v[0], hi = v[epochs - 1];
            by_mode[k] = med;
            if (base == 0) base = med;
            if (json)
                printf("{\"model\":\"%s\",\"threads\":%d,\"samples_per_s\":%.1f,\"min\":%.1f,\"max\":%.1f,"
                       "\"flops_per_sample\":%.0f,\"gflops\":%.2f,\"deterministic\":%d}\n",
                       model_name(kind), t, med, lo, hi, flops, med * flops / 1e9, mode);
            else
                printf("| %d | %s | %.0f | %.0f | %.0f | %.2fx | %.1f |\n", t, mode ? "deterministic" : "default", med,
                       lo, hi, med / base, med * flops / 1e9);
            bench_close(&runs[k]);
        }
        if (both && !json)
            printf("| %d | deterministic cost | %.1f %% | | | | |\n", t, 100.0 * (1.0 - by_mode[1] / by_mode[0]));
    }
    free(sps);
    prep_free(&d);
    return 0;
}
