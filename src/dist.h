/* MPI collectives used by training, with the time spent inside them accounted.
 * A context with comm == MPI_COMM_NULL is a single process: every call is a no-op
 * (used by the unit tests, which never initialise MPI). */
#ifndef MTL_DIST_H
#define MTL_DIST_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    MPI_Comm comm;
    int rank, size;
    double comm_seconds;   /* accumulated wall time inside MPI calls */
} dist_ctx;

void dist_single(dist_ctx *d);
void dist_from_comm(dist_ctx *d, MPI_Comm comm);

/* In-place sums over all ranks. Return 0, or -1 when MPI reports an error. */
int dist_sum_float(dist_ctx *d, float *buf, size_t n);
int dist_sum_double(dist_ctx *d, double *buf, size_t n);
int dist_sum_int64(dist_ctx *d, int64_t *buf, size_t n);
/* Logical OR of flag over all ranks. */
int dist_any(dist_ctx *d, int flag);
/* Gathers each rank's part (counts[r] items of `width` floats, in rank order) into all. */
int dist_allgather_float(dist_ctx *d, const float *part, int n_part, float *all, const int *counts, int width);
void dist_barrier(dist_ctx *d);
/* Collective over comm: the index of the first of the n values that is not the same on every
 * rank, -1 when all agree, -2 when MPI fails (or n is out of range). */
int dist_first_difference(MPI_Comm comm, const uint64_t *v, int n);
/* Rank 0's n bytes to every rank. */
int dist_bcast_bytes(dist_ctx *d, void *buf, size_t n);

/* Contiguous share of n items for rank r of p: [lo, hi), sizes differ by at most one. */
static inline void dist_share(long n, int r, int p, long *lo, long *hi)
{
    *lo = n * r / p;
    *hi = n * (r + 1) / p;
}

#endif
