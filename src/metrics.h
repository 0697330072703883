/* Test metrics of SPEC section 6. d = predicted - true. */
#ifndef MTL_METRICS_H
#define MTL_METRICS_H

double metric_rmse(const float *pred, const float *truth, int n);
double metric_mae(const float *pred, const float *truth, int n);
/* NASA/PHM08 score: sum of e^{-d/13} - 1 for d < 0, e^{d/10} - 1 otherwise. */
double metric_nasa_score(const float *pred, const float *truth, int n);
double metric_accuracy(const int *pred, const int *truth, int n);
/* Unweighted mean over classes of F1 (a class never predicted nor present scores 0). */
double metric_macro_f1(const int *pred, const int *truth, int n, int n_classes);

#endif
