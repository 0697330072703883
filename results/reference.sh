#!/usr/bin/env bash
# Trains mtlbench's reference results on the bundled C-MAPSS data, the published dcnn,
# one rank and one thread per run (default arithmetic: bitwise reproducible with the same
# build for any thread count, and for the same ranks):
#   li2018     Li et al. 2018's table: fixed:1 (RUL only), seeds 1-3, FD001-FD004, global
#              min-max (the preset), plus seed 1 on FD002 and FD004 with per-regime min-max;
#              into OUT/li2018 (default OUT: results)
#   reference  the weighting comparison under spec: fixed:λ for λ in 0.001, 0.01, 0.5 and
#              the single tasks fixed:1 and fixed:0, uw, uw-o, uw-so:T for T in 1, 5, 20;
#              seeds 1-3, FD001-FD004 (120 runs), one subset after the other; into
#              OUT/reference
# Each part is a resumable sweep: started again, it trains only the runs not yet complete.
# Every run records the commit, host, ranks and threads it was trained with; to recheck one,
# build that commit and run 'mtlbench train' with the configuration its record holds (see
# the README, "Reference results").
#
# usage: results/reference.sh [li2018|reference|all] [OUT]      (default: all results)
# Environment: MTLBENCH (default build/mtlbench), MPIEXEC (default "mpirun --oversubscribe
#              --bind-to none"), RANKS (default: number of cores), DATA (default: bundled)
set -euo pipefail
part=${1:-all}
out=${2:-results}
bin=${MTLBENCH:-build/mtlbench}
read -r -a mpiexec <<<"${MPIEXEC:-mpirun --oversubscribe --bind-to none}"
data=()
[ -n "${DATA:-}" ] && data=(--data "$DATA")
ranks=${RANKS:-$(nproc)}
export OMP_NUM_THREADS=1
sweep() { "${mpiexec[@]}" -np "$ranks" "$bin" sweep "${data[@]}" --model dcnn --threads 1 "$@"; }
case $part in
li2018 | reference | all) ;;
*) echo "usage: results/reference.sh [li2018|reference|all] [OUT]" >&2; exit 2 ;;
esac
li2018() {
  sweep --protocol li2018 --subsets FD001,FD002,FD003,FD004 --methods fixed:1 --seeds 1,2,3 --out "$out/li2018"
  sweep --protocol li2018 --norm-scope regime --subsets FD002,FD004 --methods fixed:1 --seeds 1 --out "$out/li2018"
}
reference() { # reference SUBSET: the spec grid on one subset, the main job's three methods first
  sweep --protocol spec --subsets "$1" --seeds 1,2,3 --out "$out/reference" \
    --methods fixed:0.5,uw,uw-so:5,fixed:0.01,uw-o,fixed:0.001,fixed:1,fixed:0,uw-so:1,uw-so:20
}
# FD001's comparison first (the main job compares against it), then Li's table, then the
# other subsets' comparisons, smallest first: each table completes as early as it can.
[ "$part" = li2018 ] || reference FD001
[ "$part" = reference ] || li2018
if [ "$part" != li2018 ]; then
  for subset in FD003 FD002 FD004; do reference "$subset"; done
fi
