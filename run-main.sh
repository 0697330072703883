#!/usr/bin/env bash
# The main job: builds mtlbench (Release) and trains the published dcnn to the length of the
# spec protocol (100 epochs) on the bundled FD001 data: the fixed weights fixed:0.5 against
# Kendall's uncertainty weighting uw, seed 1, one MPI rank per core. It prints the report and
# ends with one line per method against the committed reference results (results/reference,
# seeds 1-3 of the same setups). Results land in results/main/ (runs/*.h5, sweep.h5,
# runs.csv, plots/*.svg). Installs missing Debian packages first. Started again after an
# interruption, it skips the runs already complete. About 4 minutes on 2 idle cores (one
# round of two runs); every further pair of methods adds a round.
# Environment: MTLBENCH_DATA (C-MAPSS folder), RANKS (default: number of cores),
#              EPOCHS (default 100), METHODS, SEEDS (default 1), OUT (default results/main)
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
mtl_install_deps
mtl_mpi_env
ranks=${RANKS:-$(nproc)}
out=${OUT:-results/main}
methods=${METHODS:-fixed:0.5,uw}
echo "==> building (Release) in build/"
cmake -S . -B build -DMTLBENCH_TESTS=OFF >build.configure.log 2>&1 || { cat build.configure.log; exit 1; }
cmake --build build -j "$(nproc)" --target mtlbench >/dev/null
echo "==> sweep on $ranks MPI ranks x 1 thread, results in $out/"
export OMP_NUM_THREADS=1
mpirun --oversubscribe --bind-to none -np "$ranks" build/mtlbench sweep ${MTLBENCH_DATA:+--data "$MTLBENCH_DATA"} \
  --subsets FD001 --model dcnn --protocol spec --methods "$methods" --seeds "${SEEDS:-1}" --epochs "${EPOCHS:-100}" \
  --no-report --out "$out"
against=()
[ -d results/reference/runs ] && against=(--reference results/reference)
build/mtlbench report "$out" --csv "$out/runs.csv" --svg "$out/plots" "${against[@]}"
echo "==> per-run table: $out/runs.csv; plots: $out/plots/*.svg; all runs: $out/sweep.h5"
