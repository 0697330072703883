/* The machine's own single-precision FMA peak on one thread: independent chains of fused
 * multiply-adds on the widest vectors the compiler targets (-march=native), enough chains to
 * cover the FMA latency on every port. Prints GFLOP/s (a multiply-add counts 2), the median
 * of several timed rounds.
 *
 * usage: bench_fma_peak [--json] */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__AVX512F__)
#define VEC_BYTES 64
#elif defined(__AVX__)
#define VEC_BYTES 32
#else
#define VEC_BYTES 16
#endif
#define LANES (VEC_BYTES / 4)
#define CHAINS 16

typedef float vec __attribute__((vector_size(VEC_BYTES)));

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* iters x CHAINS vector FMAs; the result is returned so that nothing is optimised away */
static float __attribute__((noinline)) run(long iters, float seed)
{
    vec acc[CHAINS], a, b;
    for (int l = 0; l < LANES; l++) a[l] = 0.999999f, b[l] = 1e-7f * seed;
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < LANES; l++) acc[c][l] = seed + (float)c;
    for (long i = 0; i < iters; i++) {
        __asm__ volatile("" : "+x"(a)); /* a stays opaque: no algebra on the chains */
#pragma GCC unroll 16
        for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b;
    }
    vec s = acc[0];
    for (int c = 1; c < CHAINS; c++) s += acc[c];
    float r = 0;
    for (int l = 0; l < LANES; l++) r += s[l];
    return r;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 1 && !json) {
        puts("usage: bench_fma_peak [--json]");
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    const long iters = 20000000;
    double g[7];
    float sink = 0;
    run(iters / 10, 1.0f); /* warm-up: clocks up */
    for (int k = 0; k < 7; k++) {
        double t0 = now();
        sink += run(iters, 1.0f + (float)k);
        g[k] = 2.0 * LANES * CHAINS * (double)iters / (now() - t0) / 1e9;
    }
    qsort(g, 7, sizeof g[0], cmp);
    if (json)
        printf("{\"gflops\":%.2f,\"min\":%.2f,\"max\":%.2f,\"vector_bits\":%d,\"check\":%g}\n", g[3], g[0], g[6],
               VEC_BYTES * 8, (double)sink);
    else
        printf("FP32 FMA peak, one thread, %d-bit vectors: %.1f GFLOP/s (median of 7; min %.1f, max %.1f)\n",
               VEC_BYTES * 8, g[3], g[0], g[6]);
    return 0;
}
