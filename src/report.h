/* The statistics behind `mtlbench report` (the subcommands themselves are in cli.h). */
#ifndef MTL_REPORT_H
#define MTL_REPORT_H

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

/* Sort key of a canonical method name: fixed:λ (ascending), uw, uw-o, uw-so:T (ascending),
 * then anything else alphabetically. Negative, zero or positive like strcmp. */
int report_method_cmp(const char *a, const char *b);

#endif
