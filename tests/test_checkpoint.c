/* Checkpoint files: encode/decode round trip, refusal of foreign, damaged and truncated
 * files, the atomic write; and a training run stopped and resumed through its checkpoint. */
#include "helpers.h"

#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <unistd.h>

#include "checkpoint.h"
#include "cli.h"
#include "train.h"

#define NP 5

static float P[NP] = {1.5f, -2.25f, 3e-8f, 0.0f, 1e9f}, M[NP] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f},
             V[NP] = {1e-6f, 2e-6f, 3e-6f, 4e-6f, 5e-6f}, BEST[NP] = {9, 8, 7, 6, 5};

static checkpoint sample(run_epoch hist[2], unsigned char state[3])
{
    checkpoint c;
    memset(&c, 0, sizeof c);
    snprintf(c.config, sizeof c.config, "run 0123456789abcdef, data 42, ranks any");
    c.epoch = 2;
    c.step = 54;
    c.lr = 1e-4;
    c.best_epoch = 1;
    c.since_best = 1;
    c.best_val = 17.25;
    c.samples = 27510;
    c.train_time = 0.5;
    c.comm_time = 0.125;
    c.wall_s = 0.75;
    c.w_rul = 0.4;
    c.w_health = 0.6;
    c.n_params = NP;
    c.params = P, c.adam_m = M, c.adam_v = V, c.best = BEST;
    memset(hist, 0, 2 * sizeof *hist);
    hist[0].epoch = 1, hist[0].val_rmse = 17.25, hist[0].s_rul = NAN;
    hist[1].epoch = 2, hist[1].val_rmse = 18.5, hist[1].loss_rul = 402.71;
    c.n_hist = 2;
    c.hist = hist;
    state[0] = 7, state[1] = 0, state[2] = 255;
    c.method_state = state;
    c.method_len = 3;
    return c;
}

Test(checkpoint, round_trip_keeps_every_field)
{
    run_epoch hist[2];
    unsigned char state[3];
    checkpoint c = sample(hist, state), d;
    unsigned char *buf;
    size_t len;
    mtl_err err;
    cr_assert_eq(ckpt_encode(&c, &buf, &len, &err), 0, "%s", err.msg);
    cr_assert_eq(ckpt_decode(buf, len, c.config, "x.ckpt", &d, &err), CKPT_OK, "%s", err.msg);
    cr_assert_str_eq(d.config, c.config);
    cr_assert_eq(d.epoch, 2);
    cr_assert_eq(d.step, 54);
    cr_assert_eq(d.lr, 1e-4);
    cr_assert_eq(d.best_epoch, 1);
    cr_assert_eq(d.since_best, 1);
    cr_assert_eq(d.best_val, 17.25);
    cr_assert_eq(d.samples, 27510);
    cr_assert_eq(d.train_time, 0.5);
    cr_assert_eq(d.comm_time, 0.125);
    cr_assert_eq(d.wall_s, 0.75);
    cr_assert_eq(d.w_rul, 0.4);
    cr_assert_eq(d.w_health, 0.6);
    cr_assert_eq(d.n_params, NP);
    cr_assert_arr_eq(d.params, P, sizeof P);
    cr_assert_arr_eq(d.adam_m, M, sizeof M);
    cr_assert_arr_eq(d.adam_v, V, sizeof V);
    cr_assert_arr_eq(d.best, BEST, sizeof BEST);
    cr_assert_eq(d.n_hist, 2);
    cr_assert_eq(d.hist[1].epoch, 2);
    cr_assert_eq(d.hist[1].loss_rul, 402.71);
    cr_assert(isnan(d.hist[0].s_rul));
    cr_assert_eq(d.method_len, 3);
    cr_assert_arr_eq(d.method_state, state, 3);
    ckpt_free(&d);
    free(buf);
}

Test(checkpoint, foreign_damaged_and_truncated_files_are_refused)
{
    run_epoch hist[2];
    unsigned char state[3];
    checkpoint c = sample(hist, state), d;
    unsigned char *buf;
    size_t len;
    mtl_err err;
    cr_assert_eq(ckpt_encode(&c, &buf, &len, &err), 0, "%s", err.msg);
    /* another configuration: refused, and the message names both */
    cr_assert_eq(ckpt_decode(buf, len, "run fedcba9876543210, data 42, ranks any", "x.ckpt", &d, &err), CKPT_FOREIGN);
    cr_assert(strstr(err.msg, "x.ckpt is a checkpoint of another configuration") != NULL, "%s", err.msg);
    cr_assert(strstr(err.msg, "run 0123456789abcdef") && strstr(err.msg, "run fedcba9876543210"), "%s", err.msg);
    /* one flipped bit anywhere: damaged */
    for (size_t at = 0; at < len; at += 97) {
        buf[at] ^= 0x10;
        int st = ckpt_decode(buf, len, c.config, "x.ckpt", &d, &err);
        cr_assert_eq(st, -1, "byte %zu flipped: %d", at, st);
        buf[at] ^= 0x10;
    }
    /* cut short */
    cr_assert_eq(ckpt_decode(buf, len - 9, c.config, "x.ckpt", &d, &err), -1);
    cr_assert_eq(ckpt_decode(buf, 20, c.config, "x.ckpt", &d, &err), -1);
    cr_assert(strstr(err.msg, "not an mtlbench checkpoint") != NULL, "%s", err.msg);
    cr_assert_eq(ckpt_decode(buf, len, c.config, "x.ckpt", &d, &err), CKPT_OK);
    ckpt_free(&d);
    free(buf);
}

Test(checkpoint, file_written_atomically_and_read_back)
{
    char dir[64], path[128];
    th_tmpdir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    unsigned char *buf, *got;
    size_t glen;
    mtl_err err;
    cr_assert_eq(ckpt_read_file(path, 1 << 20, &got, &glen, &err), CKPT_MISSING);
    const char a[] = "first image", b[] = "second, longer image";
    cr_assert_eq(ckpt_write_file(path, (const unsigned char *)a, sizeof a, &err), 0, "%s", err.msg);
    cr_assert_eq(ckpt_write_file(path, (const unsigned char *)b, sizeof b, &err), 0, "%s", err.msg);
    cr_assert_eq(ckpt_read_file(path, 1 << 20, &got, &glen, &err), CKPT_OK, "%s", err.msg);
    cr_assert_eq(glen, sizeof b);
    cr_assert_arr_eq(got, b, sizeof b);
    free(got);
    /* no temporary file is left behind */
    char cmd[256];
    snprintf(cmd, sizeof cmd, "test \"$(ls %s | wc -l)\" = 1", dir);
    cr_assert_eq(th_system(cmd), 0);
    /* a folder that does not exist: an error naming the file */
    snprintf(path, sizeof path, "%s/missing/run.ckpt", dir);
    buf = (unsigned char *)"x";
    cr_assert_eq(ckpt_write_file(path, buf, 1, &err), -1);
    cr_assert(strstr(err.msg, "run.ckpt") != NULL, "%s", err.msg);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}

/* Anything but a regular file within the size bound is refused at once, naming the file:
 * a FIFO (no writer: a blocking open would wait forever), a folder, a device behind a
 * symlink (an endless read), a file larger than the bound. */
Test(checkpoint, only_regular_files_within_the_bound_are_read)
{
    char dir[64], path[128], cmd[256];
    th_tmpdir(dir, sizeof dir);
    unsigned char *got;
    size_t glen;
    mtl_err err;
    const char *cases[][2] = {{"fifo", "a FIFO"}, {"folder", "a directory"}, {"zero", "a device"}};
    snprintf(cmd, sizeof cmd, "mkfifo %s/fifo && mkdir %s/folder && ln -s /dev/zero %s/zero", dir, dir, dir);
    cr_assert_eq(th_system(cmd), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, cases[i][0]);
        cr_assert_eq(ckpt_read_file(path, 1 << 20, &got, &glen, &err), -1, "%s", path);
        cr_assert(strstr(err.msg, cases[i][1]) && strstr(err.msg, path), "%s", err.msg);
    }
    snprintf(path, sizeof path, "%s/big", dir);
    th_write(path, "0123456789");
    cr_assert_eq(ckpt_read_file(path, 9, &got, &glen, &err), -1);
    cr_assert(strstr(err.msg, "more than the limit") && strstr(err.msg, path), "%s", err.msg);
    cr_assert_eq(ckpt_read_file(path, 10, &got, &glen, &err), CKPT_OK, "%s", err.msg);
    cr_assert_eq(glen, 10);
    free(got);
    /* the bound of a run: its arrays, history and method state, and a header */
    cr_assert_eq(ckpt_max_size(100, 5, 8), 4096 + 1600 + 5 * sizeof(run_epoch) + 8);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}

/* ------------------------------------------------------------------ train_run */

typedef struct {
    int calls, stop_at;
} stopper;

/* Asks to stop at the start of epoch stop_at (calls are made once per epoch, from 1). */
static int stop_at_epoch(void *ctx)
{
    stopper *s = ctx;
    return ++s->calls >= s->stop_at;
}

static int train_opt(const char *data, const char *method, long seed, const char *ckpt, int replace, stopper *stop,
                     run_record *r, mtl_err *err)
{
    train_config c;
    train_config_defaults(&c);
    c.epochs = 6;
    c.seed = seed;
    c.quiet = 1;
    c.deterministic = 1;
    c.model = MODEL_CNN1D;
    c.lr_step_epoch = 1; /* the learning rate is state too: it is stepped before the stop */
    c.lr_step_factor = 0.5;
    c.checkpoint = ckpt;
    c.checkpoint_replace = replace;
    if (stop) {
        c.stop = stop_at_epoch;
        c.stop_ctx = stop;
    }
    cr_assert_eq(weighting_parse(method, &c.method, err), 0);
    prep_data d;
    prep_options po = train_prep_options(&c, 0);
    cr_assert_eq(cli_load(data, "FD001", &po, &d, err), 0, "%s", err->msg);
    dist_ctx one;
    dist_single(&one);
    int rc = train_run(&c, &d, &one, r, err);
    prep_free(&d);
    return rc;
}

static int train(const char *data, const char *method, long seed, const char *ckpt, stopper *stop, run_record *r,
                 mtl_err *err)
{
    return train_opt(data, method, seed, ckpt, 0, stop, r, err);
}

static void small_fleet(char *dir, size_t n)
{
    char cmd[512];
    th_tmpdir(dir, n);
    snprintf(cmd, sizeof cmd, "%s --out %s --subset FD001 --regimes 1 --train-units 12 --test-units 5 --min-cycles 45 "
             "--max-cycles 60 --seed 1 >/dev/null", MTL_GENCMAPSS, dir);
    cr_assert_eq(th_system(cmd), 0);
}

/* A checkpoint that cannot be used: refused without blocking by a plain run (exit 2 in
 * train); with checkpoint_replace (the sweep) moved into bad/ beside it, and the run starts
 * afresh, to the result of a run without one. */
Test(checkpoint, unusable_checkpoint_refused_or_moved_aside)
{
    omp_set_num_threads(1);
    char dir[64], path[128], cmd[512];
    small_fleet(dir, sizeof dir);
    mtl_err err;
    run_record ref, r;
    cr_assert_eq(train(dir, "uw", 3, NULL, NULL, &ref, &err), 0, "%s", err.msg);
    const char *make[] = {"mkfifo %s", "mkdir %s", "ln -s /dev/zero %s", "printf junk > %s"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/run%d.ckpt", dir, i);
        char mk[256];
        snprintf(mk, sizeof mk, make[i], path);
        cr_assert_eq(th_system(mk), 0);
        cr_assert_eq(train(dir, "uw", 3, path, NULL, &r, &err), TRAIN_REFUSED, "%s", mk);
        cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
        run_record_free(&r);
        cr_assert_eq(train_opt(dir, "uw", 3, path, 1, NULL, &r, &err), 0, "%s: %s", mk, err.msg);
        cr_assert_str_eq(r.param_digest, ref.param_digest);
        cr_assert_eq(r.resumed_from_epoch, 0);
        run_record_free(&r);
        snprintf(cmd, sizeof cmd, "test -e %s/bad/run%d.ckpt || test -L %s/bad/run%d.ckpt", dir, i, dir, i);
        cr_assert_eq(th_system(cmd), 0, "%s was not moved aside", path);
    }
    run_record_free(&ref);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}

/* A checkpoint that cannot be written ends the run at the next epoch with its own status. */
Test(checkpoint, unwritable_checkpoint_stops_the_run)
{
    omp_set_num_threads(1);
    char dir[64], path[128], cmd[256];
    small_fleet(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/missing/run.ckpt", dir);
    mtl_err err;
    run_record r;
    cr_assert_eq(train(dir, "uw", 3, path, NULL, &r, &err), TRAIN_CKPT_FAILED);
    cr_assert(strstr(err.msg, "run.ckpt") != NULL, "%s", err.msg);
    cr_assert_eq(r.n_hist, 1);
    run_record_free(&r);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}

/* Stopped after three epochs and resumed: the uninterrupted run's digest, history and
 * metrics. Methods with state of their own: DWA (loss history), GradNorm (weights trained
 * with their own gradient), uw (log-variances). */
static void stop_and_resume(const char *method)
{
    omp_set_num_threads(1);
    char dir[64], path[128], cmd[512];
    th_tmpdir(dir, sizeof dir);
    snprintf(cmd, sizeof cmd, "%s --out %s --subset FD001 --regimes 1 --train-units 12 --test-units 5 --min-cycles 45 "
             "--max-cycles 60 --seed 1 >/dev/null", MTL_GENCMAPSS, dir);
    cr_assert_eq(th_system(cmd), 0);
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    mtl_err err;
    run_record ref, r;
    cr_assert_eq(train(dir, method, 3, NULL, NULL, &ref, &err), 0, "%s", err.msg);
    cr_assert_eq(ref.resumed_from_epoch, 0);

    stopper s = {0, 4}; /* three epochs, then stop */
    cr_assert_eq(train(dir, method, 3, path, &s, &r, &err), TRAIN_STOPPED, "%s", err.msg);
    cr_assert_eq(r.n_hist, 3);
    run_record_free(&r);
    cr_assert_eq(access(path, F_OK), 0);

    /* a run of another configuration refuses the checkpoint and leaves it alone */
    cr_assert_eq(train(dir, method, 4, path, NULL, &r, &err), TRAIN_REFUSED);
    cr_assert(strstr(err.msg, "is a checkpoint of another configuration") != NULL, "%s", err.msg);
    run_record_free(&r);

    cr_assert_eq(train(dir, method, 3, path, NULL, &r, &err), 0, "%s", err.msg);
    cr_assert_eq(r.resumed_from_epoch, 3);
    cr_assert_eq(r.n_hist, 6);
    cr_assert_str_eq(r.param_digest, ref.param_digest, "%s", method);
    cr_assert_eq(r.best_epoch, ref.best_epoch);
    cr_assert_eq(r.rmse, ref.rmse);
    cr_assert_eq(r.w_rul, ref.w_rul);
    cr_assert_eq(r.samples_per_s > 0, 1);
    for (int e = 0; e < 6; e++) {
        cr_assert_eq(r.hist[e].epoch, e + 1);
        cr_assert_eq(r.hist[e].loss_rul, ref.hist[e].loss_rul, "%s epoch %d", method, e + 1);
        cr_assert_eq(r.hist[e].w_rul, ref.hist[e].w_rul, "%s epoch %d", method, e + 1);
        cr_assert_eq(r.hist[e].val_rmse, ref.hist[e].val_rmse, "%s epoch %d", method, e + 1);
    }
    run_record_free(&r);
    run_record_free(&ref);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    th_system(cmd);
}

Test(checkpoint, stopped_uw_run_resumes_to_the_uninterrupted_result) { stop_and_resume("uw"); }
Test(checkpoint, stopped_dwa_run_resumes_to_the_uninterrupted_result) { stop_and_resume("dwa:2"); }
Test(checkpoint, stopped_gradnorm_run_resumes_to_the_uninterrupted_result) { stop_and_resume("gradnorm:1.5"); }
