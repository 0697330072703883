/* Loss-weighting methods: how the RUL loss L_r (MSE, cycles^2) and the health loss L_h
 * (cross-entropy) are combined. A method is a small table of functions; a new one is a
 * new table and one line in the registry (weighting.c). */
#ifndef MTL_WEIGHTING_H
#define MTL_WEIGHTING_H

#include "util.h"

typedef struct weighting weighting;

typedef struct {
    const char *name;     /* as typed before the ':' */
    const char *help;     /* one line for --help */
    int arg;              /* 0 none, 1 required ":x" */
    int n_params;         /* learnable parameters appended to the model's buffer */
    /* validates the argument (called only when arg == 1) */
    int (*parse)(weighting *w, double x, mtl_err *err);
    /* initial values of the method's parameters */
    void (*init)(const weighting *w, float *params);
    /* weights from the global batch losses (treated as constants in the gradient) */
    void (*weights)(const weighting *w, const float *params, double Lr, double Lh, double *wr, double *wh);
    /* objective value: for methods without parameters, wr Lr + wh Lh */
    double (*total)(const weighting *w, const float *params, double Lr, double Lh);
    /* adds d(total)/d(params) for one sample with losses lr, lh, times inv_b (= 1 / global batch) */
    void (*param_grad)(const weighting *w, const float *params, double lr, double lh, double inv_b, float *grad);
} weighting_method;

struct weighting {
    const weighting_method *m;
    double x;            /* the ":x" argument: lambda or temperature */
    char canon[48];      /* canonical spelling: fixed:0.5, uw, uw-o, uw-so:2 */
};

/* "fixed:0.3", "uw", "uw-o", "uw-so:2". Errors say what was expected. */
int weighting_parse(const char *spec, weighting *out, mtl_err *err);
/* NULL-terminated list of the registered methods. */
const weighting_method *const *weighting_registry(void);

#endif
