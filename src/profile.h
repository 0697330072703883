/* Wall time of the training step, phase by phase (bench_throughput --profile).
 *
 * A phase_clock (zero-initialised) keeps one running total per phase. Whoever times a
 * stretch of work calls phase_start once, then phase_end(clock, P) after each piece: the time
 * since the previous mark goes to phase P, so consecutive marks cover the stretch without
 * gaps and the phases add up to its wall time. Every call accepts a NULL clock and then does
 * nothing. Timed, the training step reads the clock about 150 times per dcnn tile of 16
 * samples, and runs each convolution row by row with its tanh as a pass of its own (the same
 * results, the tanh's cost visible; see model_forward).
 *
 * The phases are one table, PHASES(X): X(id, name); the names are what the benchmark prints. */
#ifndef MTL_PROFILE_H
#define MTL_PROFILE_H

#include "util.h"

#define PHASES(X)                                                                                               \
    X(PHASE_GATHER, "gather")                                                                                   \
    X(PHASE_CONV1_FWD, "conv1 forward")                                                                         \
    X(PHASE_CONV2_FWD, "conv2 forward")                                                                         \
    X(PHASE_CONV3_FWD, "conv3 forward")                                                                         \
    X(PHASE_CONV4_FWD, "conv4 forward")                                                                         \
    X(PHASE_CONV5_FWD, "conv5 forward")                                                                         \
    X(PHASE_TANH, "tanh (conv outputs)")                                                                        \
    X(PHASE_DROPOUT, "dropout")                                                                                 \
    X(PHASE_DENSE_FWD, "dense forward")                                                                         \
    X(PHASE_HEADS_LOSS, "heads and loss")                                                                       \
    X(PHASE_METHOD, "method (weights, own gradients)")                                                          \
    X(PHASE_DENSE_BWD, "dense backward")                                                                        \
    X(PHASE_CONV5_BWD, "conv5 backward")                                                                        \
    X(PHASE_CONV4_BWD, "conv4 backward")                                                                        \
    X(PHASE_CONV3_BWD, "conv3 backward")                                                                        \
    X(PHASE_CONV2_BWD, "conv2 backward")                                                                        \
    X(PHASE_CONV1_BWD, "conv1 backward")                                                                        \
    X(PHASE_LANE_SUMS, "per-sample sums")                                                                       \
    X(PHASE_ALLREDUCE, "tile sums and allreduce")                                                               \
    X(PHASE_ADAM, "adam")

#define PHASE_ID(id, name) id,
typedef enum { PHASES(PHASE_ID) PHASE_COUNT } phase_id;
#undef PHASE_ID

typedef struct {
    double seconds[PHASE_COUNT];
    double last; /* the previous mark */
} phase_clock;

/* "conv3 forward", ...; NULL out of range */
static inline const char *phase_name(int p)
{
#define PHASE_NAME(id, name) name,
    static const char *const names[] = {PHASES(PHASE_NAME)};
#undef PHASE_NAME
    return p >= 0 && p < PHASE_COUNT ? names[p] : NULL;
}

static inline void phase_start(phase_clock *c)
{
    if (c) c->last = mtl_now();
}

static inline void phase_end(phase_clock *c, phase_id p)
{
    if (!c) return;
    double t = mtl_now();
    c->seconds[p] += t - c->last;
    c->last = t;
}

/* The forward and backward phases of convolution i (0-based). */
static inline phase_id phase_conv_fwd(int i) { return (phase_id)(PHASE_CONV1_FWD + i); }
static inline phase_id phase_conv_bwd(int i) { return (phase_id)(PHASE_CONV1_BWD - i); }

#endif
