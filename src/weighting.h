/* Loss-weighting methods: how the RUL loss L_r (MSE, cycles^2) and the health loss L_h
 * (cross-entropy) are combined. A method is a small table of functions; a new one is a
 * new table and one line in the registry (weighting.c).
 *
 * Everything a method computes comes from global quantities (the global batch losses, the
 * epoch's global mean losses, GradNorm's norms of the global per-task gradients) and from
 * the run's state below, which every rank updates the same way; so P ranks train the same
 * model as one process. */
#ifndef MTL_WEIGHTING_H
#define MTL_WEIGHTING_H

#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define WEIGHTING_TASKS 2 /* K: RUL and health */

typedef struct weighting weighting;

/* The grid a sweep expands a method over when it is named without an argument: the kind of
 * its argument. A method of kind WEIGHTING_GRID_NONE runs at its default setting. The
 * report plots the test RMSE of the first family of kind T (in display order) against T. */
typedef enum {
    WEIGHTING_GRID_NONE,
    WEIGHTING_GRID_LAMBDA,   /* λ, a weight in [0, 1]: sweep --lambdas */
    WEIGHTING_GRID_T,        /* T, a temperature: sweep --temperatures */
    WEIGHTING_GRID_ALPHA,    /* α, GradNorm's asymmetry: sweep --alphas */
    WEIGHTING_GRIDS
} weighting_grid;

typedef struct {
    const char *sym;       /* its symbol in tables and plots: "λ", "T", "α" */
    const char *option;    /* the sweep option listing its values, without the "--" */
    const char *values;    /* the sweep's default values, a comma list */
    const char *axis;      /* its name as an axis title: "temperature T" */
} weighting_grid_kind;

/* What a method may know of the run beyond its parameters. Owned by the run (the step
 * engine), never global; the same on every rank. */
typedef struct {
    uint64_t seed;           /* the run's seed: RLW's random numbers */
    int epoch;               /* current epoch, from 1 */
    long step;               /* step within the epoch, from 0 */
    int epochs_done;         /* epochs whose mean losses are in mean[] (counts up, no cap) */
    double mean[2][2];       /* epoch mean training losses (L_r, L_h): [0] epoch e-1, [1] e-2 */
    int have_first;
    double first[2];         /* global batch losses (L_r, L_h) of the run's first step */
} weighting_state;

typedef struct {
    const char *name;     /* as typed before the ':' */
    const char *help;     /* one line for --help */
    int arg;              /* 0 none, 1 required ":x", 2 optional ":x" (default arg_default) */
    double arg_default;   /* the argument when arg == 2 and none is given */
    /* the argument's symbol in tables and plots ("λ", "T", "α"); every method with an
     * argument is a family tuned over a grid of it, whose setting is chosen on validation */
    const char *arg_sym;
    /* the grid the sweep expands the bare name over (WEIGHTING_GRID_NONE: its default only);
     * a method with a grid takes an argument, whose symbol is the grid kind's */
    weighting_grid grid;
    /* position in reports: methods are listed by it (ascending), the settings of one method
     * by their argument; every registered method has its own */
    int order;
    /* 1 for the one scalarisation every multi-task method is compared with ("vs best fixed",
     * the front of the trade-off plot); its task weights are its setting, never plotted */
    int reference;
    /* 1: drawn as a horizontal reference line in the plot of a family's RMSE against its
     * setting (uw and uw-o beside uw-so:T) */
    int plot_line;
    int n_params;         /* learnable parameters appended to the model's buffer */
    /* 1 when weights() reads neither the step's batch losses (Lr, Lh) nor st->first: the
     * engine then weights the step before its forward passes (Lr = Lh = NaN) and runs each
     * tile's backward pass right after its forward pass, while the tile's activations are
     * in cache. 0 (the default, right for any method): every tile's forward pass ends
     * before the batch losses are formed, the weights are taken from them, then the
     * backward passes run. The same bits either way. */
    int weights_before_forward;
    /* 1 when total() is the objective the network's gradient is exact for (its weights
     * are d total / d L_t); 0 when the weights are detached constants of the step */
    int exact;
    /* validates the argument (called only when arg != 0) */
    int (*parse)(weighting *w, double x, mtl_err *err);
    /* initial values of the method's parameters */
    void (*init)(const weighting *w, float *params);
    /* the step's task weights, from the global batch losses (treated as constants in the
     * gradient); Lr = Lh = NaN, and at the run's first step st->have_first still 0, for a
     * method with weights_before_forward */
    void (*weights)(const weighting *w, const weighting_state *st, const float *params, double Lr, double Lh,
                    double *w_rul, double *w_health);
    /* objective value: for methods without parameters, w_rul Lr + w_health Lh */
    double (*total)(const weighting *w, const float *params, double Lr, double Lh);
    /* adds d(total)/d(params) for one sample with losses loss_rul, loss_health, times inv_b
     * (= 1 / global batch) */
    void (*param_grad)(const weighting *w, const float *params, double loss_rul, double loss_health, double inv_b,
                       float *grad);
    /* Methods trained on the task gradients (GradNorm): when set, the engine forms the norms
     * gn[t] = ||d L_t / dW|| of the global, unweighted per-task gradients on the weights W of
     * the last shared layer (the dense layer), and this sets the gradient of the method's
     * parameters (grad[0..n_params)) after the allreduce, from global values only. */
    void (*shared_grad)(const weighting *w, const weighting_state *st, const float *params, double Lr, double Lh,
                        const double gn[2], float *grad);
    /* after every optimiser step (GradNorm: renormalise the weights to sum to K) */
    void (*after_step)(const weighting *w, float *params);
    /* when set: the one task (0 RUL, 1 health) a setting trains alone because it weights the
     * other by zero by construction (fixed:1, fixed:0), else -1 */
    int (*only_task)(const weighting *w);
} weighting_method;

struct weighting {
    const weighting_method *def;   /* the method's entry in the registry */
    double x;            /* the ":x" argument: lambda, temperature or alpha */
    char canon[48];      /* canonical spelling: fixed:0.5, uw, uw-o, uw-so:2, dwa:2, gradnorm:1.5 */
};

/* A registry is a NULL-terminated list of methods; weighting_registry() is the program's.
 * Every function that takes one (reg) works on any, so that a test can add a method. */
typedef const weighting_method *const *weighting_registry_list;

/* "fixed:0.3", "uw", "uw-o", "uw-so:2", "ew", "dwa" (= dwa:2), "rlw", "imtl-l", "gls",
 * "gradnorm" (= gradnorm:1.5). Errors say what was expected. */
int weighting_parse(const char *spec, weighting *out, mtl_err *err);
/* The same against the methods of reg. */
int weighting_parse_in(weighting_registry_list reg, const char *spec, weighting *out, mtl_err *err);
/* The method of reg called name (the text before any ':'), or NULL. */
const weighting_method *weighting_find(weighting_registry_list reg, const char *name);
/* The grid kind g (WEIGHTING_GRID_LAMBDA .. WEIGHTING_GRIDS - 1); NULL for
 * WEIGHTING_GRID_NONE and anything else. */
const weighting_grid_kind *weighting_grid_kind_of(weighting_grid g);
/* The one task w trains alone (0 RUL, 1 health): a single-task baseline; -1 for a
 * multi-task method. */
int weighting_only_task(const weighting *w);
/* The registered methods, NULL-terminated. */
weighting_registry_list weighting_registry(void);
/* One line per registered method ("  spelling  description"), for --help. */
void weighting_print_help(FILE *f, const char *indent);

/* A fresh state for a run with this seed. */
void weighting_state_init(weighting_state *st, uint64_t seed);
/* Records the epoch's mean training losses (global), at the end of every epoch. */
void weighting_state_epoch_end(weighting_state *st, double mean_Lr, double mean_Lh);

#endif
