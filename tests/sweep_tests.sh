#!/usr/bin/env bash
# Sweep integration tests, each a CTest test: sweep_tests.sh TEST MTLBENCH MPIEXEC DATA SOURCE_DIR [GENCMAPSS]
set -uo pipefail
test=$1 bin=$2 mpiexec=$3 data=$4 src=$5 gen=${6:-}
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
tmp=$(mktemp -d /tmp/mtlsweep.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mpi() { "$mpiexec" --oversubscribe --bind-to none "$@"; }
digests() { # digests DIR: "run_id digest" per line, sorted
  local f id
  for f in "$1"/runs/*.h5; do
    id=$(basename "$f" .h5)
    printf '%s %s\n' "$id" "$(h5dump -a "/runs/$id/param_digest" "$f" | sed -n 's/.*(0): "\(.*\)".*/\1/p')"
  done | sort
}

case $test in
kill_resume)
  # a sweep killed with SIGKILL partway, then started again: every run exactly once, readable
  args=(sweep --data "$data" --model cnn1d --subsets FD001 --methods "fixed,uw,uw-so" --lambdas "0.3,0.7"
        --temperatures "1,5" --seeds "1,2" --epochs 1 --out "$tmp/out")
  setsid "$mpiexec" --oversubscribe --bind-to none -np 2 "$bin" "${args[@]}" >"$tmp/first.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    n=$(find "$tmp/out/runs" -name '*.h5' ! -name '*.tmp.*' 2>/dev/null | wc -l)
    [ "$n" -ge 3 ] && break
    sleep 0.1
  done
  # SIGKILL to mpirun's session and to every rank (Open MPI may put ranks in their own groups)
  kill -KILL -- -"$pid" 2>/dev/null
  pkill -KILL -f -- "--out $tmp/out" 2>/dev/null
  wait "$pid" 2>/dev/null
  for _ in $(seq 1 100); do
    pgrep -f -- "--out $tmp/out" >/dev/null || break
    sleep 0.1
  done
  pgrep -f -- "--out $tmp/out" >/dev/null && fail "ranks survived SIGKILL"
  n=$(find "$tmp/out/runs" -name '*.h5' ! -name '*.tmp.*' | wc -l)
  echo "killed after $n complete runs"
  if [ "$n" -lt 3 ] || [ "$n" -ge 10 ]; then fail "expected the kill partway through the 10 runs, found $n"; fi
  mpi -np 2 "$bin" "${args[@]}" >"$tmp/second.log" 2>&1 || { cat "$tmp/second.log"; fail "restart failed"; }
  cat "$tmp/second.log"
  grep -q "10 runs ($n complete, $((10 - n)) to do)" "$tmp/second.log" || fail "restart did not skip the $n complete runs"
  [ "$(find "$tmp/out/runs" -name '*.h5' | wc -l)" = 10 ] || fail "expected 10 run files"
  "$bin" report "$tmp/out" --csv "$tmp/runs.csv" >/dev/null || fail "report cannot read the results"
  [ "$(tail -n +2 "$tmp/runs.csv" | wc -l)" = 10 ] || fail "expected 10 runs in the merged results"
  [ "$(tail -n +2 "$tmp/runs.csv" | cut -d, -f18 | sort -u | wc -l)" = 10 ] || fail "a run is stored twice"
  h5dump -H "$tmp/out/sweep.h5" >/dev/null || fail "sweep.h5 unreadable"
  echo "every run exactly once";;
groups_deterministic)
  # groups of 1 and of 2 ranks train bitwise the same runs with --deterministic
  args=(sweep --data "$data" --model cnn1d --subsets FD001 --methods "uw,uw-so:2" --seeds 1 --epochs 2 --deterministic
        --quiet)
  mpi -np 2 "$bin" "${args[@]}" --ranks-per-run 1 --out "$tmp/g1" || fail "groups of 1 failed"
  mpi -np 2 "$bin" "${args[@]}" --ranks-per-run 2 --out "$tmp/g2" || fail "groups of 2 failed"
  digests "$tmp/g1" >"$tmp/d1"
  digests "$tmp/g2" >"$tmp/d2"
  cat "$tmp/d1"
  [ "$(wc -l <"$tmp/d1")" = 2 ] || fail "expected 2 runs"
  diff "$tmp/d1" "$tmp/d2" || fail "parameter digests differ between groups of 1 and 2 ranks"
  "$bin" compare "$tmp/g1" "$tmp/g2" --rtol 0 --atol 0 || fail "metrics differ";;
regression)
  # the tiny sweeps of results/baseline.sh, checked against the committed baseline
  MTLBENCH="$bin" MPIEXEC="$mpiexec --oversubscribe --bind-to none" DATA="$data" \
    "$src/results/baseline.sh" "$tmp/new" || fail "sweep failed"
  "$bin" compare "$src/results/baseline" "$tmp/new";;
bad_args)
  out=$(mpi -np 2 "$bin" sweep --data "$data" --methods nonsense --out "$tmp/x" 2>&1)
  rc=$?
  echo "$out"
  [ $rc = 2 ] || fail "exit $rc, expected 2"
  [ "$(grep -c "unknown method 'nonsense'" <<<"$out")" = 1 ] || fail "expected one message"
  out=$(mpi -np 3 "$bin" sweep --data "$data" --ranks-per-run 2 --out "$tmp/x" 2>&1)
  [ $? = 2 ] || fail "ranks-per-run that does not divide P accepted"
  grep -q "does not divide" <<<"$out" || fail "no message"
  # ranks that see different data (one folder lacks a RUL file) stop together, no hang
  mkdir -p "$tmp/partial"
  cp "$data/train_FD001.txt" "$data/test_FD001.txt" "$tmp/partial/"
  out=$(timeout 60 "$mpiexec" --oversubscribe -np 1 "$bin" sweep --data "$data" --model cnn1d --subsets FD001 \
        --methods uw --seeds 1 --epochs 1 --out "$tmp/y" : -np 1 "$bin" sweep --data "$tmp/partial" --model cnn1d \
        --subsets FD001 --methods uw --seeds 1 --epochs 1 --out "$tmp/y" 2>&1)
  rc=$?
  echo "$out"
  [ $rc = 2 ] || fail "ranks with different data: exit $rc, expected 2 (124 is a hang)";;
signals)
  # a 2-rank sweep stopped twice, by SIGTERM to its ranks (as srun and Slurm deliver it) and
  # by SIGUSR1 to mpirun (which forwards it), then run to the end: status 3 within 30 s each
  # time, every run exactly once, the digests of an uninterrupted sweep. The ranks are frozen
  # (SIGSTOP) while the signal is sent, so that it lands while a run is in flight however fast
  # the build; a small generated fleet keeps the sanitizer build quick.
  "$gen" --out "$tmp/data" --subset FD001 --regimes 1 --train-units 12 --test-units 5 --min-cycles 45 \
    --max-cycles 60 --seed 1 >/dev/null || fail "gencmapss failed"
  args=(sweep --data "$tmp/data" --model cnn1d --subsets FD001 --methods "uw,uw-so:2" --seeds "1,2" --epochs 20
        --deterministic --out "$tmp/out")
  mpi -np 2 "$bin" "${args[@]/$tmp\/out/$tmp/ref}" --quiet >"$tmp/ref.log" 2>&1 || { cat "$tmp/ref.log"; fail "reference sweep failed"; }
  ranks() { pgrep -f -- "^$bin sweep .*--out $tmp/out"; }
  stop_once() { # stop_once SIGNAL TARGET LOG: start the sweep, signal it once a run has a checkpoint
    local sig=$1 target=$2 log=$3 pid start rc pids
    "$mpiexec" --oversubscribe --bind-to none -np 2 "$bin" "${args[@]}" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 60000); do
      [ -n "$(find "$tmp/out/checkpoints" -name '*.ckpt' -newer "$log" 2>/dev/null)" ] && break
      sleep 0.01
    done
    pids=$(ranks)
    kill -STOP $pids
    start=$(date +%s)
    if [ "$target" = ranks ]; then kill -"$sig" $pids; else kill -"$sig" "$pid"; fi
    sleep 1
    kill -CONT $pids
    wait "$pid"
    rc=$?
    secs=$(( $(date +%s) - start ))
    cat "$log"
    echo "SIG$sig to $target: exit $rc after ${secs}s"
    [ "$rc" = 3 ] || fail "SIG$sig to $target: exit $rc, expected 3"
    [ "$secs" -le 30 ] || fail "SIG$sig to $target: took ${secs}s"
    ranks >/dev/null && fail "ranks still running"
    grep -q "run the same command again to resume" "$log" || fail "no resume hint"
  }
  stop_once TERM ranks "$tmp/first.log"
  stop_once USR1 mpirun "$tmp/second.log"
  n2=$(find "$tmp/out/runs" -name '*.h5' | wc -l)
  [ "$n2" -lt 4 ] || fail "the second stop came too late to test anything"
  mpi -np 2 "$bin" "${args[@]}" >"$tmp/third.log" 2>&1 || { cat "$tmp/third.log"; fail "the final sweep failed"; }
  cat "$tmp/third.log"
  grep -q "4 runs ($n2 complete, $((4 - n2)) to do)" "$tmp/third.log" || fail "did not skip the $n2 complete runs"
  cat "$tmp/second.log" "$tmp/third.log" | grep -q "resumed from epoch" || fail "no run resumed from its checkpoint"
  [ "$(find "$tmp/out/runs" -name '*.h5' | wc -l)" = 4 ] || fail "expected 4 run files"
  [ -z "$(ls -A "$tmp/out/checkpoints")" ] || fail "checkpoints left behind: $(ls "$tmp/out/checkpoints")"
  "$bin" report "$tmp/out" --csv "$tmp/runs.csv" >/dev/null || fail "report cannot read the results"
  [ "$(tail -n +2 "$tmp/runs.csv" | wc -l)" = 4 ] || fail "expected 4 runs in the merged results"
  digests "$tmp/ref" >"$tmp/dref"
  digests "$tmp/out" >"$tmp/dout"
  cat "$tmp/dout"
  diff "$tmp/dref" "$tmp/dout" || fail "digests differ from the uninterrupted sweep"
  echo "stopped twice, resumed, every run once with the uninterrupted digests";;
other_data)
  # a sweep into a folder that holds the runs of other data (the same configuration, files
  # with other numbers) trains its own runs and keeps the old ones; report shows both apart
  for seed in 1 2; do
    "$gen" --out "$tmp/data$seed" --subset FD001 --regimes 1 --train-units 8 --test-units 4 --min-cycles 40 \
      --max-cycles 50 --seed $seed >/dev/null || fail "gencmapss failed"
  done
  args=(sweep --model cnn1d --subsets FD001 --methods uw --seeds 1 --epochs 1 --out "$tmp/out")
  mpi -np 1 "$bin" "${args[@]}" --data "$tmp/data1" --quiet >"$tmp/a.log" 2>&1 || { cat "$tmp/a.log"; fail "first sweep"; }
  grep -q "1 runs (0 complete, 1 to do)" "$tmp/a.log" || { cat "$tmp/a.log"; fail "first sweep: plan line"; }
  mpi -np 1 "$bin" "${args[@]}" --data "$tmp/data1" --quiet >"$tmp/b.log" 2>&1 || { cat "$tmp/b.log"; fail "rerun"; }
  grep -q "1 runs (1 complete, 0 to do)" "$tmp/b.log" || { cat "$tmp/b.log"; fail "rerun on the same data trained again"; }
  mpi -np 1 "$bin" "${args[@]}" --data "$tmp/data2" --quiet >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; fail "other data"; }
  cat "$tmp/c.log"
  grep -q "1 runs (0 complete, 1 to do)" "$tmp/c.log" || fail "the runs of other data were taken as complete"
  [ "$(find "$tmp/out/runs" -name '*.h5' | wc -l)" = 2 ] || fail "expected the runs of both data sets"
  "$bin" report "$tmp/out" >"$tmp/report.md" || fail "report"
  [ "$(grep -c '^## FD001 · model cnn1d · protocol spec · data [0-9a-f]\{16\}$' "$tmp/report.md")" = 2 ] ||
    { cat "$tmp/report.md"; fail "expected one table per data set, each naming its data"; }
  echo "other data: trained anew, both kept, reported apart";;
recheck)
  # results/recheck.sh trains a committed baseline run again as its record says: the same
  # param_digest; a record with a changed digest is caught
  f=$(ls "$src"/results/baseline/runs/*.h5 | head -n 1)
  MTLBENCH="$bin" MPIEXEC="$mpiexec --oversubscribe --bind-to none" DATA="$data" "$src/results/recheck.sh" "$f" \
    >"$tmp/ok.log" 2>&1 || { cat "$tmp/ok.log"; fail "recheck of $f"; }
  cat "$tmp/ok.log"
  grep -q "same param_digest" "$tmp/ok.log" || fail "no verdict"
  MTLBENCH="$bin" MPIEXEC="$mpiexec --oversubscribe --bind-to none" DATA="$data" "$src/results/recheck.sh" "$f" nosuchrun \
    >/dev/null 2>&1
  [ $? = 2 ] || fail "a missing run id: expected exit 2";;
*) echo "unknown test $test"; exit 2;;
esac
