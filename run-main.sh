#!/usr/bin/env bash
# The main job: builds mtlbench (Release) and runs a quick sweep of the published dcnn on the
# bundled FD001 data -- fixed:0.5, uw, uw-o and uw-so at T = 1 and 5, seeds 1 and 2, 15 epochs
# of the spec protocol -- with one MPI rank per core, then prints the report. Results land in
# results/ (runs/*.h5, sweep.h5, runs.csv, plots/*.svg). Installs missing Debian packages
# first. Started again after an interruption, it skips the runs already complete.
# Environment: MTLBENCH_DATA (C-MAPSS folder), RANKS (default: number of cores),
#              EPOCHS (default 15), MODEL (default dcnn), OUT (default results)
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
mtl_install_deps
mtl_mpi_env
ranks=${RANKS:-$(nproc)}
out=${OUT:-results}
echo "==> building (Release) in build/"
cmake -S . -B build -DMTLBENCH_TESTS=OFF >build.configure.log 2>&1 || { cat build.configure.log; exit 1; }
cmake --build build -j "$(nproc)" --target mtlbench >/dev/null
echo "==> sweep on $ranks MPI ranks x 1 thread, results in $out/"
export OMP_NUM_THREADS=1
mpirun --oversubscribe --bind-to none -np "$ranks" build/mtlbench sweep \
  ${MTLBENCH_DATA:+--data "$MTLBENCH_DATA"} --subsets FD001 --model "${MODEL:-dcnn}" \
  --methods fixed:0.5,uw,uw-o,uw-so --temperatures 1,5 --seeds 1,2 --epochs "${EPOCHS:-15}" --out "$out"
build/mtlbench report "$out" --csv "$out/runs.csv" --svg "$out/plots" >/dev/null
echo "==> per-run table: $out/runs.csv; plots: $out/plots/*.svg; all runs: $out/sweep.h5"
