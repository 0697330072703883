/* Training throughput of a network (dcnn or cnn1d): samples per second of the training
 * step alone (forward, backward, gradient sums, Adam; evaluation excluded), median of several
 * epochs, for each thread count asked for, and the arithmetic rate that makes (the kernels'
 * floating-point operations per sample, model_flops, times samples per second). One
 * process, no MPI communication.
 *
 * usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5]
 *                         [--threads 1,2] [--model dcnn|cnn1d] [--deterministic] [--json] */
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

/* Median samples/s over `epochs` epochs of training steps with t threads. */
static double measure(model_kind kind, const prep_data *d, const weighting *w, int deterministic, int epochs, int t,
                      double *min, double *max, double *flops)
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
    for (int ep = 0; ep <= epochs; ep++) { /* epoch 0 warms caches and page-faults in */
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

int main(int argc, char **argv)
{
    const char *dir = cli_default_data(), *subset = "FD001", *method = "uw-so:1";
    char threads[128] = "1,2";
    int epochs = 5, json = 0, det = 0, o;
    model_kind kind = MODEL_DCNN;
    static const struct option opts[] = {{"data", 1, 0, 'd'},   {"subset", 1, 0, 's'}, {"method", 1, 0, 'm'},
                                         {"epochs", 1, 0, 'e'}, {"threads", 1, 0, 't'}, {"json", 0, 0, 'j'},
                                         {"deterministic", 0, 0, 'x'}, {"model", 1, 0, 'M'}, {"help", 0, 0, 'h'},
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
        case 'M':
            if (model_parse(optarg, &kind)) {
                fprintf(stderr, "bench_throughput: --model '%s', expected dcnn or cnn1d\n", optarg);
                return 2;
            }
            break;
        case 'h':
            puts("usage: bench_throughput [--data DIR] [--subset FD001] [--method uw-so:1] [--epochs 5] "
                 "[--threads 1,2] [--model dcnn|cnn1d] [--deterministic] [--json]");
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
    if (!json) {
        printf("training throughput, %s %s %s, %d training windows, batch 512, median of %d epochs%s\n\n",
               model_name(kind), subset, method, d.train.n_win, epochs, det ? ", --deterministic" : "");
        printf("| threads | samples/s (median) | min | max | speed-up | GFLOP/s |\n|---|---|---|---|---|---|\n");
    }
    double base = 0;
    for (char *tok = strtok(threads, ","); tok; tok = strtok(NULL, ",")) {
        int t = atoi(tok);
        if (t < 1) continue;
        double lo, hi, flops, med = measure(kind, &d, &w, det, epochs, t, &lo, &hi, &flops);
        if (base == 0) base = med;
        if (json)
            printf("{\"model\":\"%s\",\"threads\":%d,\"samples_per_s\":%.1f,\"min\":%.1f,\"max\":%.1f,"
                   "\"flops_per_sample\":%.0f,\"gflops\":%.2f,\"deterministic\":%d}\n",
                   model_name(kind), t, med, lo, hi, flops, med * flops / 1e9, det);
        else
            printf("| %d | %.0f | %.0f | %.0f | %.2fx | %.1f |\n", t, med, lo, hi, med / base, med * flops / 1e9);
    }
    prep_free(&d);
    return 0;
}
