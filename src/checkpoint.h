/* Per-epoch checkpoints of a training run: everything the rest of the run depends on, so
 * that a run resumed from its last complete epoch ends exactly where an uninterrupted run
 * ends (randomness is keyed by seed, epoch and sample, never by a position in a stream).
 *
 * File format (native byte order; one build on one kind of machine writes and reads it):
 *   "MTLCKPT\0", u32 version, u32 byte-order mark 0x01020304,
 *   u64 key, char config[CKPT_CONFIG_LEN]   the configuration the state belongs to
 *   the scalars of `checkpoint` below, u64 sizes of the arrays,
 *   params, adam_m, adam_v, best (n_params floats each), hist (n_hist rows of run_epoch),
 *   method state (method_len bytes),
 *   u64 FNV-1a checksum of every byte before it.
 * A file is written beside its final name, fsynced and renamed over it, so a reader sees
 * either the previous complete checkpoint or the new one. */
#ifndef MTL_CHECKPOINT_H
#define MTL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "util.h"

#define CKPT_VERSION 1
#define CKPT_CONFIG_LEN 256

typedef struct {
    /* the configuration: free text that names everything that changes the trajectory
     * (run id, data, and the ranks when sums are not exact); key is its hash */
    char config[CKPT_CONFIG_LEN];
    int epoch;                   /* last complete epoch */
    long step;                   /* optimiser steps taken (Adam's t) */
    double lr;                   /* the optimiser's learning rate now (after any step of it) */
    int best_epoch, since_best;
    double best_val;
    long samples;                /* training samples processed so far */
    double train_time, comm_time, wall_s;
    double w_rul, w_health;      /* weights of the last step */
    size_t n_params;
    float *params, *adam_m, *adam_v, *best;
    int n_hist;
    run_epoch *hist;
    size_t method_len;           /* the weighting method's own state, opaque */
    void *method_state;
} checkpoint;

enum { CKPT_OK = 0, CKPT_MISSING = 1, CKPT_FOREIGN = 2 };

/* The file image of c in a malloc'd buffer. */
int ckpt_encode(const checkpoint *c, unsigned char **buf, size_t *len, mtl_err *err);
/* Parses a file image into c (arrays malloc'd; free with ckpt_free). Returns CKPT_OK;
 * CKPT_FOREIGN when it belongs to another configuration than `config` (err names both);
 * -1 when it is not a complete checkpoint of this version (err says why). `what` names the
 * file in messages. */
int ckpt_decode(const unsigned char *buf, size_t len, const char *config, const char *what, checkpoint *c,
                mtl_err *err);
void ckpt_free(checkpoint *c);

/* Writes a file image to path atomically (temporary file, fsync, rename, directory fsync). */
int ckpt_write_file(const char *path, const unsigned char *buf, size_t len, mtl_err *err);
/* The largest file of a checkpoint with these sizes (a bound for ckpt_read_file). */
size_t ckpt_max_size(size_t n_params, int max_hist, size_t method_len);
/* Reads path, a regular file of at most cap bytes, into a malloc'd buffer, without blocking
 * (mtl_read_regular): CKPT_OK, CKPT_MISSING when there is no such file, -1 when it cannot be
 * read (a FIFO, a directory, a device, too large, unreadable; err says which). */
int ckpt_read_file(const char *path, size_t cap, unsigned char **buf, size_t *len, mtl_err *err);

#endif
