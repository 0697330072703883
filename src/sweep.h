/* The sweep: a grid subsets x methods x seeds, trained by groups of ranks, one run at a
 * time per group, each finished run written at once to OUT/runs/<run_id>.h5. */
#ifndef MTL_SWEEP_H
#define MTL_SWEEP_H

#include "train.h"

typedef struct {
    char subset[16];
    char method[48];
    long seed;
    int window;
    char run_id[17];
} sweep_item;

typedef struct {
    const char *data, *out;
    char subsets[256], methods[512], lambdas[512], temperatures[512], seeds[512];
    int window;             /* 0: per-subset default */
    train_config base;      /* epochs, batch, lr, dropout, patience, deterministic */
} sweep_options;

void sweep_options_defaults(sweep_options *o);
/* Expands the grid, largest subset first (by size of its training file), then method, then
 * seed. Subsets default to every subset present in o->data. */
int sweep_plan(const sweep_options *o, sweep_item **items, int *n, mtl_err *err);

#endif
