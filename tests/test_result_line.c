/* Tests of the result line (cli_print_result_line, src/cli.c): its exact text for a finished
 * run, a diverged one, and values that would break a key=value parser. */
#define _POSIX_C_SOURCE 200809L
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "results.h"

static void record(run_record *r)
{
    memset(r, 0, sizeof *r);
    strcpy(r->run_id, "4d9596fb659c7394");
    strcpy(r->subset, "FD001");
    strcpy(r->model, "cnn1d");
    strcpy(r->protocol, "spec");
    strcpy(r->method, "uw-so:2");
    r->seed = 3;
    strcpy(r->status, "ok");
    r->rmse = 14.26125;
    r->score = 312.4183;
    r->acc = 0.87;
    r->f1 = 0.83499;
    r->samples_per_s = 41234.56;
    r->comm_fraction = 0.0123454;
    r->wall_s = 245.1184;
    r->ranks = 2;
    r->threads = 4;
}

/* The line cli_print_result_line writes for r (malloc'd). */
static char *line_of(const run_record *r)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cli_print_result_line(r, f);
    fclose(f);
    return buf;
}

Test(result_line, finished_run)
{
    run_record r;
    record(&r);
    char *s = line_of(&r);
    cr_assert_str_eq(s, "MTLBENCH_RESULT format=1 run_id=4d9596fb659c7394 subset=FD001 model=cnn1d protocol=spec "
                        "method=uw-so:2 seed=3 status=ok rmse=14.2613 score=312.418 acc=0.8700 f1=0.8350 "
                        "samples_per_s=41234.6 comm_fraction=0.012345 wall_s=245.118 ranks=2 threads=4\n");
    free(s);
}

Test(result_line, diverged_run_and_large_values)
{
    run_record r;
    record(&r);
    strcpy(r.status, "diverged");
    r.rmse = r.score = r.acc = r.f1 = NAN;
    r.samples_per_s = 1e9;   /* fixed point, no exponent */
    r.wall_s = INFINITY;
    r.comm_fraction = -INFINITY;
    char *s = line_of(&r);
    cr_assert_not_null(strstr(s, " status=diverged rmse=nan score=nan acc=nan f1=nan samples_per_s=1000000000.0 "
                                 "comm_fraction=-inf wall_s=inf ranks=2 "), "%s", s);
    free(s);
}

Test(result_line, values_never_break_the_pairs)
{
    run_record r;
    record(&r);
    strcpy(r.status, "NOT SAVED");
    strcpy(r.subset, "a=b\tc");
    strcpy(r.protocol, "");
    char *s = line_of(&r);
    cr_assert_not_null(strstr(s, " subset=a_b_c model=cnn1d protocol=_ method=uw-so:2 seed=3 status=NOT_SAVED "), "%s",
                       s);
    /* one line: 17 pairs after the prefix, each with one '=' */
    int blanks = 0, eqs = 0, newlines = 0;
    for (const char *p = s; *p; p++) blanks += *p == ' ', eqs += *p == '=', newlines += *p == '\n';
    cr_assert_eq(blanks, 17);
    cr_assert_eq(eqs, 17);
    cr_assert_eq(newlines, 1);
    free(s);
}
