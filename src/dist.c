#include "dist.h"

#include <stdlib.h>
#include <string.h>

void dist_single(dist_ctx *d)
{
    d->comm = MPI_COMM_NULL;
    d->rank = 0;
    d->size = 1;
    d->comm_seconds = 0;
}

void dist_from_comm(dist_ctx *d, MPI_Comm comm)
{
    d->comm = comm;
    MPI_Comm_rank(comm, &d->rank);
    MPI_Comm_size(comm, &d->size);
    d->comm_seconds = 0;
}

static int sum_inplace(dist_ctx *d, void *buf, size_t n, MPI_Datatype t)
{
    if (d->comm == MPI_COMM_NULL || d->size == 1) return 0;
    double t0 = MPI_Wtime();
    int rc = MPI_Allreduce(MPI_IN_PLACE, buf, (int)n, t, MPI_SUM, d->comm);
    d->comm_seconds += MPI_Wtime() - t0;
    return rc == MPI_SUCCESS ? 0 : -1;
}

int dist_sum_float(dist_ctx *d, float *buf, size_t n) { return sum_inplace(d, buf, n, MPI_FLOAT); }
int dist_sum_double(dist_ctx *d, double *buf, size_t n) { return sum_inplace(d, buf, n, MPI_DOUBLE); }
int dist_sum_int64(dist_ctx *d, int64_t *buf, size_t n) { return sum_inplace(d, buf, n, MPI_INT64_T); }

int dist_any(dist_ctx *d, int flag)
{
    if (d->comm == MPI_COMM_NULL || d->size == 1) return flag != 0;
    int in = flag != 0, out = 0;
    double t0 = MPI_Wtime();
    MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, d->comm);
    d->comm_seconds += MPI_Wtime() - t0;
    return out;
}

int dist_allgather_float(dist_ctx *d, const float *part, int n_part, float *all, const int *counts, int width)
{
    if (d->comm == MPI_COMM_NULL || d->size == 1) {
        memcpy(all, part, sizeof(float) * (size_t)n_part * width);
        return 0;
    }
    int *rc = malloc(sizeof(int) * 2 * (size_t)d->size);
    if (!rc) return -1;
    int *displ = rc + d->size, off = 0;
    for (int r = 0; r < d->size; r++) {
        rc[r] = counts[r] * width;
        displ[r] = off;
        off += rc[r];
    }
    double t0 = MPI_Wtime();
    int e = MPI_Allgatherv(part, n_part * width, MPI_FLOAT, all, rc, displ, MPI_FLOAT, d->comm);
    d->comm_seconds += MPI_Wtime() - t0;
    free(rc);
    return e == MPI_SUCCESS ? 0 : -1;
}

void dist_barrier(dist_ctx *d)
{
    if (d->comm == MPI_COMM_NULL || d->size == 1) return;
    double t0 = MPI_Wtime();
    MPI_Barrier(d->comm);
    d->comm_seconds += MPI_Wtime() - t0;
}

int dist_first_difference(MPI_Comm comm, const uint64_t *v, int n)
{
    if (n < 1 || n > 1024) return -2;
    unsigned long long in[1024], lo[1024], hi[1024];
    for (int i = 0; i < n; i++) in[i] = v[i];
    if (MPI_Allreduce(in, lo, n, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(in, hi, n, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm) != MPI_SUCCESS)
        return -2;
    for (int i = 0; i < n; i++)
        if (lo[i] != hi[i]) return i;
    return -1;
}

int dist_bcast_bytes(dist_ctx *d, void *buf, size_t n)
{
    if (d->comm == MPI_COMM_NULL || d->size == 1) return 0;
    double t0 = MPI_Wtime();
    int rc = MPI_SUCCESS;
    for (size_t at = 0; at < n && rc == MPI_SUCCESS; at += 1 << 30) {
        size_t part = n - at < (size_t)1 << 30 ? n - at : (size_t)1 << 30;
        rc = MPI_Bcast((char *)buf + at, (int)part, MPI_BYTE, 0, d->comm);
    }
    d->comm_seconds += MPI_Wtime() - t0;
    return rc == MPI_SUCCESS ? 0 : -1;
}
