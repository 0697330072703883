#!/usr/bin/env bash
# Makes the regression baseline: two tiny deterministic sweeps on FD001 into one folder, the
# cnn1d under four methods and one run of the published dcnn (half the units held out for
# validation, one epoch, to stay short). The CTest sweep_regression and jobs/regression.sbatch
# repeat it and check the result with 'mtlbench compare'.
#
# usage: results/baseline.sh OUT
# Environment: MTLBENCH (default build/mtlbench), MPIEXEC (default "mpirun"), RANKS (default 2),
#              DATA (C-MAPSS folder; default: $MTLBENCH_DATA, else the bundled data)
set -euo pipefail
out=${1:?usage: results/baseline.sh OUT}
bin=${MTLBENCH:-build/mtlbench}
read -r -a mpiexec <<<"${MPIEXEC:-mpirun}"
data=()
[ -n "${DATA:-}" ] && data=(--data "$DATA")
export OMP_NUM_THREADS=1
"${mpiexec[@]}" -np "${RANKS:-2}" "$bin" sweep "${data[@]}" --model cnn1d --subsets FD001 \
  --methods fixed:0.5,uw,uw-o,uw-so:1 --seeds 1 --epochs 3 --deterministic --quiet --out "$out"
"${mpiexec[@]}" -np "${RANKS:-2}" "$bin" sweep "${data[@]}" --model dcnn --subsets FD001 \
  --methods fixed:0.5 --seeds 1 --epochs 1 --val-frac 0.5 --deterministic --quiet --out "$out"
