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
    char run_id[17];        /* set by sweep_load, from the configuration and the subset's data */
} sweep_item;

typedef struct {
    const char *data, *out;
    char subsets[256], methods[512], seeds[512];
    /* the values of each grid kind (--lambdas, --temperatures, --alphas), a comma list */
    char grid[WEIGHTING_GRIDS][512];
    weighting_registry_list registry;   /* the methods --methods names (weighting_registry()) */
    int window;             /* 0: per-subset default */
    train_config base;      /* epochs, batch, lr, dropout, patience, deterministic */
} sweep_options;

void sweep_options_defaults(sweep_options *o);
/* Expands the grid, largest subset first (by size of its training file), then method, then
 * seed. A method named without an argument is expanded over the values of its grid kind
 * (o->grid), one without a grid runs at its default setting. Subsets default to every subset present in o->data. The run ids are left empty:
 * they hash the data too, which sweep_load reads. */
int sweep_plan(const sweep_options *o, sweep_item **items, int *n, mtl_err *err);

/* The sweep command (cmd_sweep in cli.h), step by step:
 *   parse -> make_plan -> load -> find_pending -> estimate (--dry-run) | run -> merge.
 * Every step after parse is collective over MPI_COMM_WORLD and returns the same value on
 * every rank: 0 to go on, else the command's exit status. Messages come from rank 0 (or,
 * for a run, from its group's leader). */
typedef struct {
    sweep_options o;
    int ranks_per_run, dry_run, quiet, no_report, help;
    int rank, size;                  /* in MPI_COMM_WORLD */
    sweep_item *plan;                /* the whole grid, n items */
    int n;
    int *pending;                    /* indices into plan of the runs without a complete file */
    int n_pending;
    cmapss_set sets[4];              /* each subset of the plan, parsed once */
    int n_sets;
    double t_start;
    int save_failed;                 /* set by sweep_run on every rank: a run or a checkpoint could not be written */
    int no_result_line;              /* --no-result-line: finished runs print no result line */
    int lock_fd;                     /* rank 0: the lock of OUT (sweep_claim_out), -1 when none */
} sweep_job;

void sweep_job_init(sweep_job *j, int rank, int size);
void sweep_job_free(sweep_job *j);
/* Reads the command line into j; --help prints the usage (rank 0) and sets j->help.
 * Local, no MPI. Returns 0, 1 (a bad value or argument, said by rank 0) or 2 (an
 * unknown option). */
int sweep_parse(sweep_job *j, int argc, char **argv);
/* Expands the plan; `bad` is this rank's parse result. 2 when any rank could not parse
 * or plan, so that no rank trains a plan another rank does not share. */
int sweep_make_plan(sweep_job *j, int bad);
/* Parses every subset of the plan once and checks it with the first seed's split, gives
 * every item its run id (configuration and data digest), then checks that every rank sees
 * the same plan and the same data. 0 or 2. */
int sweep_load(sweep_job *j);
/* Rank 0 creates OUT and locks it for the rest of the sweep (OUT/.lock; a second sweep on the
 * folder is refused), then creates a marker file named by a fresh token in it, and every
 * rank checks that it finds that file through its own --out: a node-local folder, or a relative
 * --out from another working directory, names another folder on some ranks, whose runs would
 * be lost. 0, or 2 with a message naming the ranks and hosts that differ. Not for a dry run. */
int sweep_claim_out(sweep_job *j);
/* Rank 0 creates OUT/runs, removes stale temporary files, and lists the runs without a
 * complete file; every rank gets the list. Prints the plan line. 0 or 2. */
int sweep_find_pending(sweep_job *j);
/* --dry-run: rank 0 prints the plan and a time estimate from a short timing. */
void sweep_estimate(const sweep_job *j);
/* Trains the pending runs: groups of ranks_per_run ranks, runs handed out by world rank 0,
 * each finished run written at once to OUT/runs/<run_id>.h5 by its group's leader.
 * A run or a checkpoint that cannot be written (a full disk, say) stops the sweep like a
 * signal: no run is handed out any more, runs in flight stop at their next epoch boundary. Returns the worst
 * status of all ranks: 0, 1 (a run failed), 2 (data or a file; always 2 after a failed
 * write), CLI_INTERRUPTED (stopped, resumable). */
int sweep_run(sweep_job *j);
/* The ETA a group prints when it finishes a run and is handed the next: `elapsed` seconds
 * since the sweep started, in which it finished `done` runs; `left` runs are not handed out
 * yet (the next among them), for `groups` groups training side by side, each at this
 * group's pace: whole rounds of runs. (Runs in flight on other groups overlap them.) */
double sweep_eta(double elapsed, int done, int groups, int left);
/* Rank 0 merges OUT/runs into OUT/sweep.h5 and prints the report (unless quiet); after a
 * failed write (save_failed) it does neither, the error has been said. Returns the final
 * exit status, the same on every rank. */
int sweep_merge(sweep_job *j, int status);

#endif
