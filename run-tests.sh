#!/usr/bin/env bash
# Builds mtlbench twice (Release with -Werror, and AddressSanitizer + UBSan) and runs every
# test with CTest. Installs missing Debian packages first, Slurm and munge included: the
# Release tests start a private one-node Slurm to run the jobs/*.sbatch scripts, run the JUBE
# definition with jube and render the man page with man-db and groff.
# Environment: MTLBENCH_DATA  C-MAPSS folder for the tests (default: bundled datasets/cmapss)
#              JOBS           parallel build jobs (default: number of cores)
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/deps.sh
. scripts/deps.sh
mtl_install_deps slurm-wlm munge jube man-db groff-base
mtl_mpi_env
jobs=${JOBS:-$(nproc)}
data=${MTLBENCH_DATA:-$PWD/datasets/cmapss}
data=$(cd "$data" && pwd)
status=0
for kind in release asan; do
  dir=build-$kind
  flags=(-DMTLBENCH_WERROR=ON -DMTLBENCH_TEST_DATA="$data")
  [ "$kind" = asan ] && flags+=(-DMTLBENCH_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  echo "==> configuring $dir"
  cmake -S . -B "$dir" "${flags[@]}" >"$dir.configure.log" 2>&1 || { cat "$dir.configure.log"; exit 1; }
  echo "==> building $dir"
  cmake --build "$dir" -j "$jobs"
  echo "==> testing $dir"
  skip=()
  if [ "$kind" = asan ]; then
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    # The longest whole-training tests run in the Release build only: under the sanitizers
    # they take minutes each, and the code they drive (kernels of both models, every method,
    # the sweep's writers and resume) runs under the sanitizers in the unit tests and the
    # shorter MPI, sweep and hostile-input tests.
    release_only=sweep_kill_resume,sweep_regression,sweep_groups_deterministic,sweep_recheck,mpi_deterministic_dcnn,mpi_methods_deterministic,mpi_digest_table,harden_stray_runs,harden_concurrent_out,harden_damaged_results,harden_full_disk,harden_many_runs
    echo "    (in the Release build only: ${release_only//,/, })"
    skip=(-E "^(${release_only//,/|})\$")
  fi
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "${skip[@]}") || status=1
done
[ $status -eq 0 ] && echo "==> all tests passed" || echo "==> some tests FAILED"
exit $status
