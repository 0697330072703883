#include "metrics.h"

#include <math.h>

double metric_rmse(const float *pred, const float *truth, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)pred[i] - truth[i];
        s += d * d;
    }
    return n ? sqrt(s / n) : NAN;
}

double metric_mae(const float *pred, const float *truth, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += fabs((double)pred[i] - truth[i]);
    return n ? s / n : NAN;
}

double metric_nasa_score(const float *pred, const float *truth, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) {
        double d = (double)pred[i] - truth[i];
        s += d < 0 ? exp(-d / 13.0) - 1.0 : exp(d / 10.0) - 1.0;
    }
    return s;
}

double metric_accuracy(const int *pred, const int *truth, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += pred[i] == truth[i];
    return n ? (double)k / n : NAN;
}

double metric_macro_f1(const int *pred, const int *truth, int n, int n_classes)
{
    double sum = 0;
    for (int c = 0; c < n_classes; c++) {
        int tp = 0, fp = 0, fn = 0;
        for (int i = 0; i < n; i++) {
            tp += pred[i] == c && truth[i] == c;
            fp += pred[i] == c && truth[i] != c;
            fn += pred[i] != c && truth[i] == c;
        }
        double prec = tp + fp ? (double)tp / (tp + fp) : 0.0;
        double rec = tp + fn ? (double)tp / (tp + fn) : 0.0;
        sum += prec + rec > 0 ? 2 * prec * rec / (prec + rec) : 0.0;
    }
    return n_classes ? sum / n_classes : NAN;
}
