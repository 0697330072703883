/* MPI check: after training, every rank holds byte-identical parameters (compared by
 * digest and by the full buffer against rank 0). Run under mpirun -np N.
 * usage: mpi_ranks [DATA [METHOD [MODEL]]] (defaults: bundled data, uw, cnn1d) */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "train.h"

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const char *data = argc > 1 ? argv[1] : cli_default_data();
    const char *method = argc > 2 ? argv[2] : "uw";
    const char *model_arg = argc > 3 ? argv[3] : "cnn1d";
    dist_ctx dist;
    dist_from_comm(&dist, MPI_COMM_WORLD);
    train_config c;
    train_config_defaults(&c);
    c.epochs = 1;
    c.quiet = 1;
    mtl_err err;
    prep_data d;
    prep_options po = train_prep_options(&c, 0);
    int rc = weighting_parse(method, &c.method, &err) || model_parse(model_arg, &c.model) ||
             cli_load(data, "FD001", &po, &d, &err);
    if (rc) {
        fprintf(stderr, "rank %d: %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    run_record r;
    if (train_run(&c, &d, &dist, &r, &err)) {
        fprintf(stderr, "rank %d: %s\n", rank, err.msg);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    char all[64][17];
    char mine[17];
    memcpy(mine, r.param_digest, 17);
    int ok = size <= 64;
    if (ok) MPI_Gather(mine, 17, MPI_CHAR, all, 17, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        for (int i = 0; i < size && ok; i++)
            if (strcmp(all[i], all[0]) != 0) {
                fprintf(stderr, "rank %d digest %s differs from rank 0 digest %s\n", i, all[i], all[0]);
                ok = 0;
            }
        printf("%d ranks, %d steps: parameters %s (digest %s)\n", size, (d.train.n_win + 511) / 512,
               ok ? "identical on every rank" : "DIFFER", all[0]);
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    run_record_free(&r);
    prep_free(&d);
    MPI_Finalize();
    return ok ? 0 : 1;
}
