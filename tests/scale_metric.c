/* scale_metric FACTOR ATTR FILE...: multiplies the double attribute ATTR of every run group
 * /runs/<run_id> in each results FILE by FACTOR, in place. The Slurm test uses it to make a
 * baseline that is better than what the code can reach, so that the regression job must fail. */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const char *attr;
    double factor;
    int runs, bad;
} scale_job;

static herr_t scale_run(hid_t runs, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    scale_job *job = data;
    hid_t g = H5Gopen2(runs, name, H5P_DEFAULT);
    hid_t a = g < 0 ? -1 : H5Aopen(g, job->attr, H5P_DEFAULT);
    double v;
    if (a < 0 || H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) {
        fprintf(stderr, "scale_metric: run %s has no readable attribute %s\n", name, job->attr);
        job->bad = 1;
    } else {
        v *= job->factor;
        if (H5Awrite(a, H5T_NATIVE_DOUBLE, &v) < 0) job->bad = 1;
        job->runs++;
    }
    if (a >= 0) H5Aclose(a);
    if (g >= 0) H5Gclose(g);
    return job->bad ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fputs("usage: scale_metric FACTOR ATTR FILE...\n", stderr);
        return 2;
    }
    char *end;
    double factor = strtod(argv[1], &end);
    if (*end || end == argv[1]) {
        fprintf(stderr, "scale_metric: '%s' is not a number\n", argv[1]);
        return 2;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int status = 0;
    for (int i = 3; i < argc; i++) {
        scale_job job = {argv[2], factor, 0, 0};
        hid_t f = H5Fopen(argv[i], H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t runs = f < 0 ? -1 : H5Gopen2(f, "runs", H5P_DEFAULT);
        if (runs < 0 || H5Literate(runs, H5_INDEX_NAME, H5_ITER_INC, NULL, scale_run, &job) < 0 || job.bad) {
            fprintf(stderr, "scale_metric: cannot scale %s in %s\n", argv[2], argv[i]);
            status = 1;
        } else {
            printf("%s: %s x %g in %d run(s)\n", argv[i], argv[2], factor, job.runs);
        }
        if (runs >= 0) H5Gclose(runs);
        if (f >= 0) H5Fclose(f);
    }
    return status;
}
