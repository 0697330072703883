/* Training of one configuration (SPEC section 4), data-parallel over the ranks of a
 * dist_ctx and OpenMP threads inside each rank.
 *
 * One step on a global batch of B windows: every rank takes a contiguous shard, runs the
 * forward pass, the task-loss sums are allreduced so that the weights come from the
 * global batch losses, the backward pass gives per-sample gradients that are summed in a
 * fixed order (or exactly, in fixed point, with `deterministic`), one allreduce moves the
 * whole gradient buffer (network + weighting parameters), and every rank applies the same
 * Adam step. */
#ifndef MTL_TRAIN_H
#define MTL_TRAIN_H

#include <stdio.h>

#include "dist.h"
#include "model.h"
#include "profile.h"
#include "optim.h"
#include "prep.h"
#include "results.h"
#include "weighting.h"

/* Protocols (SPEC section 4): presets of the options below; an option given explicitly wins. */
typedef enum { PROTOCOL_SPEC, PROTOCOL_LI2018 } protocol_kind;
const char *protocol_name(protocol_kind p);
int protocol_parse(const char *name, protocol_kind *p);

/* Options a protocol sets, as bits of train_config.given. */
enum { GIVEN_EPOCHS = 1, GIVEN_NORM = 2, GIVEN_VAL_FRAC = 4, GIVEN_LR_STEP = 8, GIVEN_LR = 16, GIVEN_NORM_SCOPE = 32 };

typedef struct {
    weighting method;
    model_kind model;   /* default dcnn */
    protocol_kind protocol;
    int norm;           /* PREP_NORM_Z / PREP_NORM_MINMAX */
    int norm_scope;     /* PREP_SCOPE_REGIME / PREP_SCOPE_GLOBAL */
    double val_frac;    /* validation units; 0 = none, the last epoch is evaluated */
    int lr_step_epoch;  /* after this epoch the learning rate is multiplied by lr_step_factor; 0 = never */
    double lr_step_factor;
    unsigned given;     /* GIVEN_* bits: options set explicitly, which the protocol leaves alone */
    long seed;
    int epochs;         /* >= 1 */
    int batch;          /* global batch, default 512 */
    int patience;       /* early stopping; 0 = off */
    double lr;          /* Adam learning rate, default 1e-3 */
    double dropout;     /* default 0.5 */
    int deterministic;  /* exact fixed-point gradient sums: identical for any ranks/threads */
    int quiet;          /* no progress lines */
    FILE *progress;     /* where progress lines go (rank 0 only); stderr when NULL */
    const char *label;  /* prefix of progress lines, may be NULL */
    void (*poll)(void *ctx);  /* called after every step when set (the sweep's dispatcher) */
    void *poll_ctx;
    /* Checkpoint file, written by rank 0 after every epoch and read at the start: a run
     * finds its own checkpoint and goes on from its last complete epoch, with the result of
     * an uninterrupted run. NULL: none. */
    const char *checkpoint;
    int checkpoint_replace;   /* a checkpoint that cannot be used is moved into bad/ beside it
                                 (with a warning) instead of refused */
    /* Asked on every rank at the start of each epoch (set on every rank or on none); a
     * nonzero answer on any rank stops the run there (TRAIN_STOPPED). */
    int (*stop)(void *ctx);
    void *stop_ctx;
} train_config;

enum { TRAIN_STOPPED = 1, TRAIN_REFUSED = 2, TRAIN_CKPT_FAILED = 3 };

void train_config_defaults(train_config *c);
/* Sets the options of c's protocol that were not given explicitly. */
void train_config_apply_protocol(train_config *c);
/* "E:F" or "none" */
void train_lr_step_text(const train_config *c, char *buf, size_t n);
/* The preprocessing options of a run: window, validation fraction, split seed, norm and its scope. */
prep_options train_prep_options(const train_config *c, int window);
/* Fills the configuration fields and run_id of r (everything else zeroed) for a run on data
 * whose cmapss_set_digest is data_digest; a sweep uses it to know a run's id before training it. */
void train_config_record(const train_config *c, const char *subset, int W, uint64_t data_digest, run_record *r);

/* Trains on d and fills r (configuration, metrics, history, test predictions). The test
 * metrics are those of the best-validation parameters, or of the last epoch's when d has no
 * validation units. A diverged run is a success of this function with r->status
 * "diverged". Returns 0; TRAIN_STOPPED when c->stop asked to stop before the last epoch
 * (the checkpoint, if any, holds the last complete epoch; r holds the configuration and
 * the history so far); TRAIN_REFUSED when c->checkpoint cannot be read or belongs to
 * another configuration (err says which; with checkpoint_replace such a file is moved into
 * bad/ beside it instead, with a warning, and the run starts afresh); TRAIN_CKPT_FAILED when
 * rank 0 could not write the checkpoint (a full disk, say: err says why, on rank 0); -1 on
 * other errors (allocation, MPI). The same on every rank. r->param_digest identifies the final parameters bit
 * for bit; r->resumed_from_epoch is the checkpoint's epoch (0 for a fresh start). */
int train_run(const train_config *c, const prep_data *d, dist_ctx *dist, run_record *r, mtl_err *err);

/* Scale of the fixed-point gradient sums of --deterministic: per-sample values are multiplied
 * by 2^TRAIN_FIX_BITS and rounded to int64; a value of magnitude 2^(62-40)/B or more (B the
 * global batch) cannot be represented and stops the run as diverged. */
#define TRAIN_FIX_BITS 40

/* The step engine under train_run, exposed for tests and benchmarks. A training step reads
 * as its phases: forward over this rank's tiles, the global batch losses, the method's task
 * weights, backward over the tiles, the reductions (see train.c). For a method whose weights
 * read no losses (weights_before_forward in its table) the weights come first and each
 * tile's backward pass follows its forward pass, with the same bits. */
typedef struct train_engine train_engine;

/* A global batch: windows[0..n) (dataset window indices into split) of epoch `epoch` of a
 * run with seed `seed` (dropout masks and RLW's weights are drawn from them). Each rank
 * takes its contiguous share of the windows. */
typedef struct {
    const prep_split *split;
    const int *windows;
    int n;
    uint64_t seed;
    int epoch;
} train_batch;

/* The order of epoch `epoch`'s windows [0..n) in a run with seed `seed`, into perm: a
 * Fisher-Yates shuffle drawn from the counter-based generator, the same on every rank. */
void train_shuffle(int *perm, int n, uint64_t seed, int epoch);

/* What a step computed: the global batch losses and the task weights it used. */
typedef struct {
    double rul, health;        /* L_r (MSE, cycles^2), L_h (mean cross-entropy) */
    double w_rul, w_health;    /* the task weights */
} step_losses;

int engine_create(const model *m, const weighting *w, int deterministic, int max_batch, dist_ctx *dist,
                  train_engine **out, mtl_err *err);
void engine_free(train_engine *e);
/* Gradient of the method's objective over the global batch b, summed over ranks, into grad.
 * Successive calls with the same epoch are that epoch's steps 0, 1, ... Returns 1 when a
 * loss or a gradient is not finite (every rank returns the same), 0 otherwise, -1 on MPI
 * errors. */
int engine_grad(train_engine *e, const float *params, const train_batch *b, float *grad, step_losses *out);
/* One training step: engine_grad, then Adam and the method's after-step hook (GradNorm's
 * renormalisation) when the gradient is finite. Returns as engine_grad. */
int engine_step(train_engine *e, float *params, adam *opt, const train_batch *b, float *grad, step_losses *out);
/* From now on the steps of e add each phase's wall time to clock (profile.h; zeroed by the
 * caller), or not when clock is NULL. The same results either way. -1 (err set) when e runs
 * more than one thread: a profile times one, and a step run with more threads later drops
 * the clock. */
int engine_set_clock(train_engine *e, phase_clock *clock, mtl_err *err);
/* End of an epoch: its mean training losses (global) go into the method's history (DWA). */
void engine_epoch_end(train_engine *e, double mean_rul, double mean_health);
/* Predictions for every window of s (sharded over ranks, gathered on all). */
int engine_predict(train_engine *e, const float *params, const prep_split *s, float *pred_rul, int *pred_cls);

#endif
