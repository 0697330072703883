#include "optim.h"

#include <math.h>
#include <stdlib.h>

int adam_init(adam *a, size_t n, double lr, mtl_err *err)
{
    a->lr = lr;
    a->beta1 = 0.9;
    a->beta2 = 0.999;
    a->eps = 1e-8;
    a->t = 0;
    a->n = n;
    a->m = mtl_calloc(n, sizeof(float), err);
    a->v = mtl_calloc(n, sizeof(float), err);
    if (!a->m || !a->v) {
        adam_free(a);
        return -1;
    }
    return 0;
}

void adam_step(adam *a, float *restrict p, const float *restrict g)
{
    a->t++;
    const float b1 = (float)a->beta1, b2 = (float)a->beta2;
    const float step = (float)(a->lr / (1.0 - pow(a->beta1, (double)a->t)));
    const float rbc2 = (float)(1.0 / sqrt(1.0 - pow(a->beta2, (double)a->t)));
    const float eps = (float)a->eps;
    float *restrict m = a->m, *restrict v = a->v;
    for (size_t i = 0; i < a->n; i++) {
        m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] -= step * m[i] / (sqrtf(v[i]) * rbc2 + eps);
    }
}

void adam_free(adam *a)
{
    free(a->m);
    free(a->v);
    a->m = a->v = NULL;
}
