#!/usr/bin/env bash
# Hostile-input tests, each a CTest test: harden_tests.sh TEST MTLBENCH MPIEXEC DATA SOURCE_DIR
# Exit 77: skipped (the test needs something this machine does not allow, e.g. mounting).
set -uo pipefail
test=$1 bin=$2 mpiexec=$3 data=$4 src=$5
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
tmp=$(mktemp -d /tmp/mtlharden.XXXXXX)
cleanup() {
  mountpoint -q "$tmp/full" 2>/dev/null && umount "$tmp/full"
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
mpi() { "$mpiexec" --oversubscribe --bind-to none "$@"; }
T1=("$bin" train --data "$data" --model cnn1d --epochs 1 --quiet --threads 1)
train1() { "${T1[@]}" "$@"; }
# Time limits that tell a hang from slowness (sanitizer builds train about ten times slower).
quick=60 slow=600
# expect_fail RC PATTERN CMD...: CMD ends within $slow s with status RC and PATTERN in its output
expect_fail() {
  local want=$1 pat=$2
  shift 2
  local out rc
  out=$(timeout $slow "$@" 2>&1)
  rc=$?
  [ $rc = 124 ] && fail "hang: $*"
  [ $rc = "$want" ] || { echo "$out"; fail "exit $rc, expected $want: $*"; }
  grep -q -- "$pat" <<<"$out" || { echo "$out"; fail "no '$pat' in the output of: $*"; }
  echo "ok ($rc): $* -> $(grep -m1 -- "$pat" <<<"$out")"
}
# zeroed SRC OFF LEN DST: a copy of SRC with LEN bytes from OFF set to zero
zeroed() {
  cp "$1" "$4"
  dd if=/dev/zero of="$4" bs=1 seek="$2" count="$3" conv=notrunc status=none
}

case $test in
damaged_results)
  # zeroed byte ranges of a run file: every reader ends, with an error naming the file
  train1 --out "$tmp/good.h5" >/dev/null || fail "train --out"
  legacy=$(ls "$src"/results/baseline/runs/*.h5 | head -1) # written before checksums
  size=$(stat -c %s "$tmp/good.h5")
  n=0
  for off in $(seq 0 384 $((size - 1))); do
    for len in 8 200; do
      f=$tmp/bad_${off}_$len.h5
      zeroed "$tmp/good.h5" "$off" "$len" "$f"
      cmp -s "$f" "$tmp/good.h5" && continue # zeroed bytes that were zero already
      for cmd in "report $f" "compare $f $f" "compare $tmp/good.h5 $f"; do
        out=$(timeout $quick "$bin" $cmd 2>&1)
        rc=$?
        [ $rc = 124 ] && fail "hang: mtlbench $cmd"
        [ $rc = 2 ] || fail "mtlbench $cmd: exit $rc, expected 2"
        grep -q "$f" <<<"$out" || fail "mtlbench $cmd: the message does not name $f: $out"
      done
      out=$(timeout $quick "$bin" train --data "$data" --model cnn1d --epochs 1 --quiet --out "$f" 2>&1)
      rc=$?
      [ $rc = 2 ] || fail "train --out $f: exit $rc, expected 2 (124 is a hang)"
      grep -q "$f" <<<"$out" || fail "train --out: the message does not name $f: $out"
      n=$((n + 1))
    done
  done
  echo "$n damaged copies of a run file refused by report, compare and train --out"
  lsize=$(stat -c %s "$legacy")
  m=0
  step=128
  if ldd "$bin" | grep -q libasan; then
    # libhdf5 1.10 itself over-reads a global-heap reference whose index was zeroed (H5HG_read);
    # files with a checksum never reach it, older files can: not a finding of this build
    echo "older files: skipped under the sanitizers (a known over-read inside libhdf5)"
    step=$((lsize + 1))
  fi
  for off in $(seq 0 $step $((lsize - 1))); do
    zeroed "$legacy" "$off" 64 "$tmp/legacy.h5"
    out=$(timeout $quick "$bin" report "$tmp/legacy.h5" 2>&1)
    rc=$?
    [ $rc = 124 ] && fail "hang on an older file zeroed at $off"
    if [ $rc != 0 ]; then
      [ $rc = 2 ] || fail "older file zeroed at $off: exit $rc"
      grep -q "$tmp/legacy.h5" <<<"$out" || fail "older file zeroed at $off: the message does not name it: $out"
    fi
    m=$((m + 1))
  done
  echo "$m damaged copies of an older file: no hang, no crash"
  # sweep resume: a damaged run file is moved aside and the run redone
  args=(sweep --data "$data" --model cnn1d --subsets FD001 --methods uw --seeds 1 --epochs 1 --quiet --out "$tmp/sw")
  "$bin" "${args[@]}" >/dev/null || fail "sweep"
  run=$(ls "$tmp/sw/runs/"*.h5)
  zeroed "$run" 2048 300 "$tmp/z.h5"
  mv "$tmp/z.h5" "$run"
  out=$(timeout $slow "$bin" "${args[@]}" 2>&1) || { echo "$out"; fail "sweep resume with a damaged run file"; }
  echo "$out"
  grep -q "1 runs (0 complete, 1 to do)" <<<"$out" || fail "the damaged run was not redone"
  grep -q "warning: $run: damaged results file" <<<"$out" || fail "no warning naming the damaged file"
  [ "$(ls "$tmp/sw/runs/bad/")" = "$(basename "$run")" ] || fail "the damaged file is not in runs/bad/"
  "$bin" report "$tmp/sw" >/dev/null || fail "report after the resume";;
stray_runs)
  # a stray or foreign .h5 file in runs/ does not block the folder
  args=(sweep --data "$data" --model cnn1d --subsets FD001 --methods uw --seeds 1 --epochs 1 --quiet --out "$tmp/sw")
  mkdir -p "$tmp/sw/runs"
  echo "not hdf5" >"$tmp/sw/runs/junk.h5"
  train1 --seed 9 --out "$tmp/sw/runs/0123456789abcdef.h5" >/dev/null || fail "train --out"
  out=$(timeout $slow "$bin" "${args[@]}" 2>&1) || { echo "$out"; fail "sweep with stray files"; }
  echo "$out"
  grep -q "warning: $tmp/sw/runs/junk.h5" <<<"$out" || fail "no warning for junk.h5"
  grep -q "warning: $tmp/sw/runs/0123456789abcdef.h5: holds run" <<<"$out" || fail "no warning for the misnamed run"
  [ -f "$tmp/sw/runs/bad/junk.h5" ] && [ -f "$tmp/sw/runs/bad/0123456789abcdef.h5" ] || fail "not moved to runs/bad/"
  "$bin" report "$tmp/sw" >/dev/null || fail "report";;
full_disk)
  mkdir -p "$tmp/full"
  if ! mount -t tmpfs -o size=256k tmpfs "$tmp/full" 2>/dev/null; then
    echo "SKIP: cannot mount a small tmpfs here (needs root and mount permission)"
    exit 77
  fi
  dd if=/dev/zero of="$tmp/full/filler" bs=4k 2>/dev/null # until the file system is full
  expect_fail 2 "$tmp/full/r.h5: .*no space left on device" "${T1[@]}" --out "$tmp/full/r.h5"
  [ "$(train1 --out "$tmp/full/r.h5" 2>&1 >/dev/null | grep -c .)" = 1 ] || fail "train --out: expected one line on stderr"
  mkdir "$tmp/full/sw" "$tmp/full/sw/runs" || fail "mkdir on the full file system"
  expect_fail 2 "$tmp/full/sw/runs/.*no space left on device" "$bin" sweep --data "$data" --model cnn1d --subsets FD001 \
    --methods uw,uw-o --seeds 1 --epochs 1 --quiet --out "$tmp/full/sw"
  # the first run that cannot be written stops the sweep: one line, not one per run
  n=$("$bin" sweep --data "$data" --model cnn1d --subsets FD001 --methods uw,uw-o,gls --seeds 1 --epochs 1 --quiet \
      --out "$tmp/full/sw" 2>&1 >/dev/null | tee /dev/stderr | grep -c .)
  [ "$n" = 1 ] || fail "sweep on a full disk: expected one line on stderr, got $n"
  expect_fail 2 "$tmp/full/runs.csv: .*no space left on device" "$bin" report "$src/results/baseline" \
    --csv "$tmp/full/runs.csv"
  left=$(find "$tmp/full" -name '*.tmp.*' | wc -l)
  [ "$left" = 0 ] || fail "$left temporary files left behind";;
concurrent_out)
  # eight writers of one file at once: every run is kept
  pids=()
  for s in 1 2 3 4 5 6 7 8; do
    train1 --seed $s --out "$tmp/same.h5" >"$tmp/w$s.log" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail "a writer failed: $(cat "$tmp"/w*.log)"; done
  "$bin" report "$tmp/same.h5" --csv "$tmp/same.csv" >/dev/null || fail "report"
  n=$(tail -n +2 "$tmp/same.csv" | wc -l)
  echo "$n runs in the file"
  [ "$n" = 8 ] || fail "expected 8 runs, found $n"
  [ "$(find "$tmp" -name '*.tmp.*' | wc -l)" = 0 ] || fail "temporary files left"
  echo "ok";;
temp_files)
  # a planted symlink is never followed; two reports to one path do not collide
  base=$src/results/baseline
  echo "precious" >"$tmp/target"
  ln -s "$tmp/target" "$tmp/out.csv.tmp"
  for pid in $(seq $$ $(($$ + 3))); do ln -s "$tmp/target" "$tmp/out.csv.tmp.$pid"; done
  "$bin" report "$base" --csv "$tmp/out.csv" >/dev/null || fail "report --csv"
  [ "$(cat "$tmp/target")" = precious ] || fail "report wrote through a symlink"
  [ -f "$tmp/out.csv" ] && [ ! -L "$tmp/out.csv" ] || fail "out.csv not written"
  want=$(tail -n +2 "$tmp/out.csv" | wc -l)
  rm -f "$tmp"/out.csv*
  for i in 1 2 3 4 5 6; do "$bin" report "$base" --csv "$tmp/two.csv" --svg "$tmp/svg" >/dev/null 2>&1 & done
  wait
  for j in $(jobs -p); do wait "$j"; done
  n=$(tail -n +2 "$tmp/two.csv" | wc -l)
  [ "$n" = "$want" ] || fail "two.csv has $n rows, expected $want"
  [ "$(find "$tmp" -name '*.tmp.*' | wc -l)" = 0 ] || fail "temporary files left"
  echo "ok";;
inputs)
  mkdir -p "$tmp/d"
  cp "$data"/*_FD001.txt "$tmp/d/"
  # a FIFO and a directory are refused without hanging; so is a huge file
  rm "$tmp/d/train_FD001.txt"
  mkfifo "$tmp/d/train_FD001.txt"
  expect_fail 2 "train_FD001.txt: is a FIFO, expected a regular file" "${T1[@]}" --data "$tmp/d"
  expect_fail 2 "train_FD001.txt: is a FIFO" "$bin" data --data "$tmp/d"
  expect_fail 2 "train_FD001.txt: is a FIFO" "$bin" sweep --data "$tmp/d" --subsets FD001 --out "$tmp/o"
  rm "$tmp/d/train_FD001.txt"
  mkdir "$tmp/d/train_FD001.txt"
  expect_fail 2 "train_FD001.txt: is a directory, expected a regular file" "${T1[@]}" --data "$tmp/d"
  rmdir "$tmp/d/train_FD001.txt"
  truncate -s 300M "$tmp/d/train_FD001.txt"
  expect_fail 2 "train_FD001.txt: 314572800 bytes, more than the limit of 256 MiB" "${T1[@]}" --data "$tmp/d"
  cp "$data/train_FD001.txt" "$tmp/d/"
  # empty values
  expect_fail 2 "train: --out is empty" "${T1[@]}" --out ""
  expect_fail 2 "train: --data is empty" "$bin" train --data "" --epochs 1
  expect_fail 2 "sweep: --subsets is empty" "$bin" sweep --subsets "" --out "$tmp/o"
  expect_fail 2 "sweep: --out is empty" "$bin" sweep --out ""
  expect_fail 2 "sweep: --data is empty" "$bin" sweep --data "" --out "$tmp/o"
  [ -e /runs ] || [ -e /sweep.h5 ] && echo "note: /runs or /sweep.h5 exists on this machine"
  # absurd but finite values
  sed '7s/^\(1 7 [^ ]* [^ ]* [^ ]*\) [^ ]*/\1 1e300/' "$data/train_FD001.txt" >"$tmp/d/train_FD001.txt"
  expect_fail 2 "train_FD001.txt:7: column 6: 1e300 is out of range" "${T1[@]}" --data "$tmp/d"
  cp "$data/train_FD001.txt" "$tmp/d/"
  # a test file missing its last units is named, not the RUL file
  head -n 12000 "$data/test_FD001.txt" >"$tmp/d/test_FD001.txt"
  expect_fail 2 "test_FD001.txt: 93 test units, but .*RUL_FD001.txt has 100 RUL values" "${T1[@]}" --data "$tmp/d"
  cp "$data/test_FD001.txt" "$tmp/d/"
  # a canonical train file cut at a unit boundary: warned about
  head -n "$(grep -n '^100 1 ' "$data/train_FD001.txt" | cut -d: -f1)" "$data/train_FD001.txt" | head -n -1 \
    >"$tmp/d/train_FD001.txt"
  out=$(train1 --data "$tmp/d" 2>&1) || fail "train on a train file cut at a unit boundary"
  grep -q "warning: $tmp/d/train_FD001.txt is not NASA's original file" <<<"$out" || fail "no warning: $out"
  out=$("$bin" data --data "$tmp/d" 2>&1) || fail "data"
  grep -q "warning: .*train_FD001.txt is not NASA's original" <<<"$out" || fail "data: no warning"
  # --threads has an upper bound
  expect_fail 2 "threads '1025' is out of range" "$bin" train --threads 1025 --epochs 1;;
mpi_mismatch)
  # ranks started with different options or data stop together, naming what differs
  both() { # both "ARGS OF RANK 0" "ARGS OF RANK 1"
    timeout $slow "$mpiexec" --oversubscribe --bind-to none -np 1 "$bin" train --data "$data" --model cnn1d --epochs 1 --quiet $1 \
      : -np 1 "$bin" train --data "$data" --model cnn1d --epochs 1 --quiet $2 2>&1
  }
  for opt in "--window 25" "--deterministic" "--epochs 2" "--lr 0.002" "--batch 256" "--method uw-o" \
             "--seed 2" "--dropout 0.25" "--patience 3"; do
    name=${opt%% *}
    out=$(both "" "$opt")
    rc=$?
    [ $rc = 2 ] || { echo "$out"; fail "$opt on one rank: exit $rc, expected 2 (124 is a hang)"; }
    grep -q -- "$name differs between ranks" <<<"$out" || { echo "$out"; fail "$opt: the option is not named"; }
    echo "ok: $opt on rank 1 -> $(grep -m1 -- "differs" <<<"$out")"
  done
  # options that do not shape training may differ
  out=$(both "--threads 1" "--threads 2 --json") || { echo "$out"; fail "--threads/--json differing failed"; }
  # the same file names with different content
  mkdir -p "$tmp/d"
  cp "$data"/*_FD001.txt "$tmp/d/"
  sed -i '3s/^\(1 3 [^ ]* [^ ]* [^ ]*\) [^ ]*/\1 520.00/' "$tmp/d/train_FD001.txt"
  out=$(timeout $slow "$mpiexec" --oversubscribe --bind-to none -np 1 "$bin" train --data "$data" --model cnn1d --epochs 1 --quiet \
        : -np 1 "$bin" train --data "$tmp/d" --model cnn1d --epochs 1 --quiet 2>&1)
  rc=$?
  [ $rc = 2 ] || { echo "$out"; fail "different data: exit $rc, expected 2"; }
  grep -q "the ranks see different data" <<<"$out" || { echo "$out"; fail "no message on different data"; }
  # a sweep's ranks must share --out
  out=$(timeout $slow "$mpiexec" --oversubscribe --bind-to none -np 1 "$bin" sweep --data "$data" --subsets FD001 \
        --methods uw --seeds 1 --epochs 1 --out "$tmp/a" : -np 1 "$bin" sweep --data "$data" --subsets FD001 \
        --methods uw --seeds 1 --epochs 1 --out "$tmp/b" 2>&1)
  rc=$?
  [ $rc = 2 ] || { echo "$out"; fail "sweep with different --out: exit $rc, expected 2"; }
  grep -q -- "--out $tmp/a is not the same folder on every rank: rank 1 (.*) does not see the folder of rank 0" \
    <<<"$out" || { echo "$out"; fail "no message on --out"; }
  [ -e "$tmp/b" ] && fail "rank 1 created its own folder"
  echo "ok: different data and different sweep --out refused";;
mpi_rank_failure)
  # a rank that fails after the checks (here: out of memory) stops every rank, no hang
  if [ -n "${ASAN_OPTIONS:-}" ] && ldd "$bin" | grep -q libasan; then
    echo "SKIP: a memory limit cannot be set on a sanitizer build"
    exit 77
  fi
  # address-space limits on rank 1, from roomy to tight: some let it load the data and pass the
  # checks but not allocate its training buffers; none may leave rank 0 waiting
  hit=0
  for kb in 400000 320000 280000 250000 220000 190000 160000; do
    out=$(timeout $slow "$mpiexec" --oversubscribe --bind-to none -np 1 "$bin" train --data "$data" --epochs 1 \
          --quiet --batch 13755 : -np 1 bash -c "ulimit -v $kb; exec $bin train --data $data --epochs 1 --quiet --batch 13755" 2>&1)
    rc=$?
    [ $rc = 124 ] && { echo "$out"; fail "hang with rank 1 limited to $kb kB"; }
    if grep -q "a rank failed: out of memory" <<<"$out"; then
      [ $rc != 0 ] || fail "exit 0 although rank 1 failed"
      echo "rank 1 limited to $kb kB: failed after the checks, every rank stopped (exit $rc)"
      hit=1
    else
      echo "rank 1 limited to $kb kB: exit $rc"
    fi
  done
  [ $hit = 1 ] || { echo "SKIP: no limit made rank 1 fail after the checks on this machine"; exit 77; };;
*) echo "unknown test $test"; exit 2;;
esac
