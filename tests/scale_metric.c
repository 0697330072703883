/* scale_metric FACTOR METRIC FILE...: multiplies the test metric METRIC (rmse, rmse_uncapped,
 * mae, score, acc or f1) of every run in each results FILE by FACTOR, and writes the file
 * again through mtlbench's writer (so its checksum block is current). The Slurm test uses it
 * to make a baseline that is better than what the code can reach, so that the regression job
 * must fail. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

static const struct {
    const char *name;
    size_t off;
} METRICS[] = {
    {"rmse", offsetof(run_record, rmse)},   {"rmse_uncapped", offsetof(run_record, rmse_uncapped)},
    {"mae", offsetof(run_record, mae)},     {"score", offsetof(run_record, score)},
    {"acc", offsetof(run_record, acc)},     {"f1", offsetof(run_record, f1)},
};

static int scale_file(const char *path, size_t off, double factor, const char *metric)
{
    run_record *runs = NULL;
    int n = 0;
    mtl_err err;
    if (results_read_file(path, &runs, &n, &err)) {
        fprintf(stderr, "scale_metric: %s\n", err.msg);
        return 1;
    }
    for (int i = 0; i < n; i++) *(double *)((char *)&runs[i] + off) *= factor;
    int rc = results_write_all(path, runs, n, &err);
    if (rc) fprintf(stderr, "scale_metric: %s\n", err.msg);
    else printf("%s: %s x %g in %d run(s)\n", path, metric, factor, n);
    for (int i = 0; i < n; i++) run_record_free(&runs[i]);
    free(runs);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fputs("usage: scale_metric FACTOR METRIC FILE...\n", stderr);
        return 2;
    }
    char *end;
    double factor = strtod(argv[1], &end);
    if (*end || end == argv[1]) {
        fprintf(stderr, "scale_metric: '%s' is not a number\n", argv[1]);
        return 2;
    }
    size_t k = 0, nk = sizeof METRICS / sizeof METRICS[0];
    while (k < nk && strcmp(METRICS[k].name, argv[2]) != 0) k++;
    if (k == nk) {
        fprintf(stderr, "scale_metric: unknown metric '%s'\n", argv[2]);
        return 2;
    }
    int status = 0;
    for (int i = 3; i < argc; i++) status |= scale_file(argv[i], METRICS[k].off, factor, argv[2]);
    return status;
}
