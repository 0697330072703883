/* A run record for the tests of report and compare: one setup (FD001, dcnn, spec, z norm per
 * regime, validation fraction 0.2), ok. */
#ifndef MTL_TEST_RUN_FIXTURE_H
#define MTL_TEST_RUN_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "results.h"

/* r: that setup's run of method with this seed and test RMSE, its validation RMSE 1.5
 * lower (validation follows test, so the choices on validation are the test's); every
 * other field zero. */
static inline void th_run(run_record *r, const char *method, long seed, double rmse)
{
    memset(r, 0, sizeof *r);
    strcpy(r->subset, "FD001");
    snprintf(r->method, sizeof r->method, "%s", method);
    strcpy(r->model, "dcnn");
    strcpy(r->protocol, "spec");
    strcpy(r->norm, "z");
    strcpy(r->norm_scope, "regime");
    strcpy(r->data_digest, "00000000000000d1");
    strcpy(r->lr_step, "none");
    strcpy(r->status, "ok");
    r->seed = seed;
    r->val_frac = 0.2;
    r->rmse = rmse;
    r->best_val_rmse = rmse - 1.5;
}

#endif
