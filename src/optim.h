/* Adam (Kingma & Ba 2015), with the bias correction written as PyTorch does. */
#ifndef MTL_OPTIM_H
#define MTL_OPTIM_H

#include <stddef.h>

#include "util.h"

typedef struct {
    double lr, beta1, beta2, eps;
    long t;
    size_t n;
    float *m, *v;
} adam;

int adam_init(adam *a, size_t n, double lr, mtl_err *err);
/* One step: p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void adam_step(adam *a, float *params, const float *grad);
void adam_free(adam *a);

#endif
