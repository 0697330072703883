/* The statistics behind `mtlbench report` (the subcommands themselves are in cli.h). */
#ifndef MTL_REPORT_H
#define MTL_REPORT_H

#include <stdio.h>

#include "results.h"
#include "util.h"
#include "weighting.h"

/* Regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1] (continued
 * fraction, modified Lentz); NaN for invalid arguments. */
double report_incbeta(double a, double b, double x);

/* Cumulative distribution function of Student's t with dof > 0 degrees of freedom. */
double report_t_cdf(double t, double dof);

/* Welch's two-sample t statistic of mean m2 (sample standard deviation s2, n2 values)
 * against m1 (s1, n1): *t = (m2 - m1) / sqrt(s1²/n1 + s2²/n2), and the Welch-Satterthwaite
 * degrees of freedom *dof = (v1 + v2)² / (v1²/(n1 - 1) + v2²/(n2 - 1)), v = s²/n. Both
 * deviations 0: *t = 0 for equal means, else ±infinity, *dof = n1 + n2 - 2. Returns -1
 * (outputs NaN) when n1 or n2 < 2 or an input is not finite. */
int report_welch_t(double m1, double s1, int n1, double m2, double s2, int n2, double *t, double *dof);

/* Two-sided paired t-test on the n differences d (method - reference): *mean and the sample
 * standard deviation *sd (n - 1), *t = mean / (sd / sqrt(n)) and the two-sided p-value *p
 * with n - 1 degrees of freedom. All differences equal (sd = 0): p = 1 when they are 0, else
 * p = 0 (t infinite). Returns -1 (outputs NaN, *mean still set when n = 1) when n < 2. */
int report_paired_t(const double *d, int n, double *mean, double *sd, double *t, double *p);

/* Regularised upper incomplete gamma function Q(a, x) for a > 0, x >= 0; NaN otherwise. */
double report_gamma_q(double a, double x);

/* P(X > x) for X chi-square distributed with dof > 0 degrees of freedom. */
double report_chi2_sf(double x, double dof);

/* Holm-Bonferroni step-down adjustment of the n p-values p: the m finite ones sorted
 * ascending, p_(r) becomes min(1, max over s <= r of (m - s + 1) p_(s)); adj[i] belongs to
 * p[i], NaN where p[i] is not finite. Returns m, or -1 when out of memory. */
int report_holm(const double *p, int n, double *adj);

/* Ranks (1 = the smallest) of the n values v; tied values share the mean of their ranks. */
void report_ranks(const double *v, int n, double *rank);

/* Friedman test of k methods over nb blocks: v is nb x k, row-major, lower is better. Mean
 * ranks into mean_rank[k]; *chi2 = 12 nb / (k (k + 1)) (sum_j R_j^2 - k (k + 1)^2 / 4) (no
 * correction for ties), *p its chi-square tail with k - 1 degrees of freedom. Returns -1
 * (chi2 and p NaN; mean ranks still set when nb >= 1) when nb < 2 or k < 2. */
int report_friedman(const double *v, int nb, int k, double *mean_rank, double *chi2, double *p);

/* The Nemenyi test's q_0.05 (studentized range, infinite dof, over sqrt 2) for k = 2 .. 20
 * methods, NaN otherwise; and the critical difference of mean ranks over nb blocks,
 * q_0.05 sqrt(k (k + 1) / (6 nb)) (Demšar 2006). */
double report_nemenyi_q05(int k);
double report_nemenyi_cd(int k, int nb);

/* Delta m in percent against single-task baselines: 50 (-(rmse - rmse_b) / rmse_b +
 * (f1 - f1_b) / f1_b); higher is better. NaN when a baseline is not positive. */
double report_delta_m(double rmse, double f1, double rmse_b, double f1_b);

/* Report order of two canonical method names: by their methods' display order in the
 * registry (fixed:λ, uw, uw-o, uw-so:T, dwa:T, ew, gls, gradnorm:α, imtl-l, rlw), the
 * settings of one method by their argument (ascending), names the registry does not know
 * last, alphabetically. Negative, zero or positive like strcmp. */
int report_method_cmp(const char *a, const char *b);

/* The Markdown report of the n runs on f, as `mtlbench report` prints it but without plots,
 * the methods as the registry reg knows them (weighting_registry(): the program's):
 * their order, their families and the symbols of their settings. source names the results
 * in the heading. The runs are neither changed nor checked against their run ids.
 * Returns 0, or -1 with err set (no runs, out of memory). */
int report_markdown(FILE *f, const char *source, const run_record *runs, int n, weighting_registry_list reg,
                    mtl_err *err);

#endif
