/* Training throughput of a network (dcnn or cnn1d): samples per second of the training
 * step alone (forward, backward, gradient sums, Adam; evaluation excluded), median of several
 * epochs, for each thread count asked for, and the arithmetic rate that makes (the kernels'
 * floating-point operations per sample, model_flops, times samples per second). One
 * process, no MPI communication.
 *
 * With --both-modes, each thread count is measured in the default mode, then with
 * --deterministic, and the cost of the deterministic mode is printed.
 * With --profile, one thread: then the time of each phase of the step (profile.h) as a table,
 * taken over the same epochs with the engine's clock, beside the untimed throughput.
 *
 * usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5]
 *                         [--threads 1,2] [--model dcnn|cnn1d] [--deterministic] [--json]
 *                         [--both-modes] [--profile] */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "optim.h"
#include "rng.h"
#include "train.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median samples/s over `epochs` epochs of training steps with t threads; with a clock, the
 * phases of those epochs (after the warm-up) go into it, and *timed the epochs' wall time. */
static double measure(model_kind kind, const prep_data *d, const weighting *w, int deterministic, int epochs, int t,
                      double *min, double *max, double *flops, phase_clock *clock, double *timed)
{
    omp_set_num_threads(t);
    model m;
    mtl_err err;
    dist_ctx one;
    dist_single(&one);
    train_engine *e = NULL;
    adam opt = {0};
    const int B = 512, N = d->train.n_win;
    if (model_init(&m, kind, d->W, 0.5f, (size_t)w->def->n_params, &err) ||
        engine_create(&m, w, deterministic, B, &one, &e, &err) || adam_init(&opt, m.n_params, 1e-3, &err)) {
        fprintf(stderr, "bench_throughput: %s\n", err.msg);
        exit(2);
    }
    float *p = calloc(m.n_params, sizeof(float)), *g = calloc(m.n_params, sizeof(float));
    int *perm = malloc(sizeof(int) * (size_t)N);
    double *sps = malloc(sizeof(double) * (size_t)(epochs + 1));
    model_init_params(&m, p, 1);
    if (w->def->init) w->def->init(w, p + m.n_net);
    *flops = model_flops(&m, 1);
    if (timed) *timed = 0;
    for (int ep = 0; ep <= epochs; ep++) { /* epoch 0 warms caches and page-faults in */
        if (ep == 1 && clock && engine_set_clock(e, clock, &err)) {
            fprintf(stderr, "bench_throughput: %s\n", err.msg);
            exit(2);
        }
        for (int i = 0; i < N; i++) perm[i] = i;
        for (int i = N - 1; i > 0; i--) {
            int j = (int)rng_below(1, RNG_SHUFFLE, (uint64_t)ep, (uint64_t)i, 0, (uint32_t)(i + 1));
            int tmp = perm[i];
            perm[i] = perm[j], perm[j] = tmp;
        }
        double t0 = mtl_now();
        for (int i = 0; i < N; i += B) {
            train_batch b = {.split = &d->train, .windows = perm + i, .n = N - i < B ? N - i : B, .seed = 1, .epoch = ep};
            step_losses sl;
            engine_step(e, p, &opt, &b, g, &sl);
        }
        if (ep > 0) sps[ep - 1] = N / (mtl_now() - t0);
        if (ep > 0 && timed) *timed += N / sps[ep - 1];
    }
    qsort(sps, (size_t)epochs, sizeof(double), cmp_double);
    double med = epochs % 2 ? sps[epochs / 2] : 0.5 * (sps[epochs / 2 - 1] + sps[epochs / 2]);
    *min = sps[0];
    *max = sps[epochs - 1];
    free(p), free(g), free(perm), free(sps);
    engine_free(e);
    adam_free(&opt);
    return med;
}

/* The profile: the untimed throughput, then the timed epochs phase by phase. */
static void profile(model_kind kind, const prep_data *d, const weighting *w, int det, int epochs, int json)
{
    model m;
    mtl_err err;
    if (model_init(&m, kind, d->W, 0.5f, (size_t)w->def->n_params, &err)) {
        fprintf(stderr, "bench_throughput: %s\n", err.msg);
        exit(2);
    }
    phase_clock clock = {0};
    double lo, hi, flops, timed;
    const double untimed = measure(kind, d, w, det, epochs, 1, &lo, &hi, &flops, NULL, NULL);
    const double med = measure(kind, d, w, det, epochs, 1, &lo, &hi, &flops, &clock, &timed);
    const double samples = (double)d->train.n_win * epochs, steps = samples / 512.0;
    double sum = 0;
    for (int p = 0; p < PHASE_COUNT; p++) sum += clock.seconds[p];
    if (!json) {
        printf("| phase | ms per step | share | GFLOP/s |\n|---|---|---|---|\n");
    }
    for (int p = 0; p < PHASE_COUNT; p++) {
        double sec = clock.seconds[p], f = model_phase_flops(&m, (phase_id)p);
        double gf = f > 0 && sec > 0 ? f * samples / sec / 1e9 : 0;
        if (json)
            printf("{\"phase\":\"%s\",\"ms_per_step\":%.4f,\"share\":%.4f,\"gflops\":%.2f}\n", phase_name(p),
                   1e3 * sec / steps, sec / sum, gf);
        else if (f > 0)
            printf("| %s | %.3f | %.1f %% | %.1f |\n", phase_name(p), 1e3 * sec / steps, 100 * sec / sum, gf);
        else
            printf("| %s | %.3f | %.1f %% | |\n", phase_name(p), 1e3 * sec / steps, 100 * sec / sum);
    }
    const double step_ms = 1e3 * timed / steps;
    if (json) {
        printf("{\"phases_ms_per_step\":%.4f,\"step_ms\":%.4f,\"profiled_samples_per_s\":%.1f,"
               "\"samples_per_s\":%.1f,\"gflops\":%.2f}\n",
               1e3 * sum / steps, step_ms, med, untimed, untimed * flops / 1e9);
        return;
    }
    printf("| **all phases** | **%.3f** | %.1f %% of the timed steps' %.3f ms | %.1f |\n\n", 1e3 * sum / steps,
           100 * sum / timed, step_ms, flops * samples / sum / 1e9);
    printf("timed steps: %.0f samples/s (median of %d epochs); the same steps untimed, just before: %.0f samples/s "
           "(%.1f GFLOP/s)\n",
           med, epochs, untimed, untimed * flops / 1e9);
}

int main(int argc, char **argv)
{
    const char *dir = cli_default_data(), *subset = "FD001", *method = "uw-so:1";
    char threads[128] = "1,2";
    int epochs = 5, json = 0, det = 0, both = 0, prof = 0, o;
    model_kind kind = MODEL_DCNN;
    static const struct option opts[] = {{"data", 1, 0, 'd'},   {"subset", 1, 0, 's'}, {"method", 1, 0, 'm'},
                                         {"epochs", 1, 0, 'e'}, {"threads", 1, 0, 't'}, {"json", 0, 0, 'j'},
                                         {"deterministic", 0, 0, 'x'}, {"model", 1, 0, 'M'}, {"help", 0, 0, 'h'},
                                         {"profile", 0, 0, 'p'}, {"both-modes", 0, 0, 'b'},
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
        case 'M':
            if (model_parse(optarg, &kind)) {
                fprintf(stderr, "bench_throughput: --model '%s', expected dcnn or cnn1d\n", optarg);
                return 2;
            }
            break;
        case 'h':
            puts("usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5] "
                 "[--threads 1,2] [--model dcnn|cnn1d] [--deterministic] [--json] [--both-modes] [--profile]");
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
        if (!json)
            printf("step profile, %s %s %s, %d training windows, batch 512, 1 thread, %d epochs%s\n\n",
                   model_name(kind), subset, method, d.train.n_win, epochs, det ? ", --deterministic" : "");
        omp_set_num_threads(1);
        profile(kind, &d, &w, det, epochs, json);
        prep_free(&d);
        return 0;
    }
    if (!json) {
        printf("training throughput, %s %s %s, %d training windows, batch 512, median of %d epochs%s\n\n",
               model_name(kind), subset, method, d.train.n_win, epochs,
               both ? ", both modes" : det ? ", --deterministic" : "");
        printf("| threads | mode | samples/s (median) | min | max | speed-up | GFLOP/s |\n"
               "|---|---|---|---|---|---|---|\n");
    }
    double base = 0;
    for (char *tok = strtok(threads, ","); tok; tok = strtok(NULL, ",")) {
        int t = atoi(tok);
        if (t < 1) continue;
        double by_mode[2] = {0, 0};
        for (int mode = both ? 0 : det; mode <= (both ? 1 : det); mode++) {
            double lo, hi, flops, med = measure(kind, &d, &w, mode, epochs, t, &lo, &hi, &flops, NULL, NULL);
            by_mode[mode] = med;
            if (base == 0) base = med;
            if (json)
                printf("{\"model\":\"%s\",\"threads\":%d,\"samples_per_s\":%.1f,\"min\":%.1f,\"max\":%.1f,"
                       "\"flops_per_sample\":%.0f,\"gflops\":%.2f,\"deterministic\":%d}\n",
                       model_name(kind), t, med, lo, hi, flops, med * flops / 1e9, mode);
            else
                printf("| %d | %s | %.0f | %.0f | %.0f | %.2fx | %.1f |\n", t, mode ? "deterministic" : "default", med,
                       lo, hi, med / base, med * flops / 1e9);
        }
        if (both && !json)
            printf("| %d | deterministic cost | %.1f %% | | | | |\n", t, 100.0 * (1.0 - by_mode[1] / by_mode[0]));
    }
    prep_free(&d);
    return 0;
}
