#!/usr/bin/env bash
# Hostile-input tests, each a CTest test:
#   harden_tests.sh TEST MTLBENCH MPIEXEC DATA SOURCE_DIR GENCMAPSS FAKE_RUNS
# Exit 77: skipped (the test needs something this machine does not allow, e.g. mounting).
set -uo pipefail
test=$1 bin=$2 mpiexec=$3 data=$4 src=$5 gen=${6:-} fake=${7:-}
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
# a small generated fleet, for tests that train several runs
fleet() {
  [ -n "$gen" ] || fail "no gencmapss given"
  "$gen" --out "$tmp/fleet" --subset FD001 --regimes 1 --train-units 12 --test-units 5 --min-cycles 45 \
    --max-cycles 60 --seed 1 >/dev/null || fail "gencmapss"
}
S1=(sweep --data "$tmp/fleet" --model cnn1d --subsets FD001 --methods uw --epochs 2 --threads 1 --quiet)
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
  # the sanitizer build reads each file about ten times slower: every third offset
  ldd "$bin" | grep -q libasan && step=384
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
  # a checkpoint that cannot be written stops the sweep too: one line, the other runs untouched
  fleet
  n=$("$bin" "${S1[@]}" --methods uw,uw-o,gls --seeds 1 --out "$tmp/full/sw" 2>&1 >/dev/null | tee /dev/stderr |
      grep -v "is not NASA's original file" | grep -c .)
  [ "$n" = 1 ] || fail "sweep with unwritable checkpoints: expected one line on stderr, got $n"
  out=$("$bin" "${S1[@]}" --seeds 1 --out "$tmp/full/sw" 2>&1)
  grep -q "checkpoints/.*no space left on device" <<<"$out" || { echo "$out"; fail "no checkpoint message"; }
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
crashing_files)
  # files on which libhdf5 itself crashes (a forged checksum header, a format-1 file without
  # one): every reader ends with exit 2 naming the file; the sweep moves such a run file aside
  fleet
  for fx in crash_forged crash_format1; do
    cp "$src/tests/data/$fx.h5" "$tmp/$fx.h5"
    expect_fail 2 "$tmp/$fx.h5: damaged results file" "$bin" report "$tmp/$fx.h5"
    expect_fail 2 "$tmp/$fx.h5: damaged results file" "$bin" compare "$tmp/$fx.h5" "$tmp/$fx.h5"
    expect_fail 2 "$tmp/$fx.h5: damaged results file" "$bin" train --data "$tmp/fleet" --model cnn1d --epochs 1 \
      --quiet --out "$tmp/$fx.h5"
  done
  id=$("$bin" "${S1[@]}" --seeds 1 --out "$tmp/sw" --dry-run | awk '/ to do$/ {print $5}')
  [ -n "$id" ] || fail "no run id from --dry-run"
  mkdir -p "$tmp/sw/runs"
  cp "$src/tests/data/crash_forged.h5" "$tmp/sw/runs/$id.h5"
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep"; }
  grep -q "warning: $tmp/sw/runs/$id.h5: damaged results file.*moved to $tmp/sw/runs/bad/$id.h5" <<<"$out" ||
    { echo "$out"; fail "no warning, or not moved to runs/bad/"; }
  grep -q "1 runs (0 complete, 1 to do)" <<<"$out" || { echo "$out"; fail "the run was not redone"; }
  "$bin" report "$tmp/sw" >/dev/null || fail "report after the sweep";;
checkpoints)
  # checkpoints that cannot be used never block: refused by train (exit 2), moved aside by a sweep
  fleet
  T2=("$bin" train --data "$tmp/fleet" --model cnn1d --epochs 2 --quiet --threads 1)
  mkfifo "$tmp/fifo.ckpt"
  mkdir "$tmp/dir.ckpt"
  ln -s /dev/zero "$tmp/zero.ckpt"
  expect_fail 2 "fifo.ckpt: is a FIFO, expected a regular file" "${T2[@]}" --checkpoint "$tmp/fifo.ckpt"
  expect_fail 2 "dir.ckpt: is a directory, expected a regular file" "${T2[@]}" --checkpoint "$tmp/dir.ckpt"
  expect_fail 2 "zero.ckpt: is a device, expected a regular file" "${T2[@]}" --checkpoint "$tmp/zero.ckpt"
  expect_fail 2 "missing/r.ckpt: folder $tmp/missing does not exist" "${T2[@]}" --checkpoint "$tmp/missing/r.ckpt"
  ids=$("$bin" "${S1[@]}" --seeds 1,2,3 --out "$tmp/sw" --dry-run | awk '/ to do$/ {print $5}')
  set -- $ids
  [ $# = 3 ] || fail "expected three run ids from --dry-run: $ids"
  mkdir -p "$tmp/sw/checkpoints"
  mkfifo "$tmp/sw/checkpoints/$1.ckpt"
  mkdir "$tmp/sw/checkpoints/$2.ckpt"
  ln -s /dev/zero "$tmp/sw/checkpoints/$3.ckpt"
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1,2,3 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep"; }
  for id in "$@"; do
    grep -q "warning: $tmp/sw/checkpoints/$id.ckpt: is a .*moved to $tmp/sw/checkpoints/bad/$id.ckpt" <<<"$out" ||
      { echo "$out"; fail "checkpoint $id: no warning or not moved aside"; }
  done
  [ "$(ls "$tmp/sw/runs" | grep -c '\.h5$')" = 3 ] || fail "not every run was written"
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1,2,3 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep again"; }
  grep -q "3 runs (3 complete, 0 to do)" <<<"$out" || { echo "$out"; fail "the rerun is not complete"; }
  echo "ok";;
out_folder)
  # one sweep per folder; paths up to PATH_MAX; longer ones refused before training
  fleet
  mkdir -p "$tmp/lk"
  flock -o "$tmp/lk/.lock" sleep 8 >/dev/null 2>&1 & # -o: the lock is flock's own, gone when it is killed
  holder=$!
  sleep 0.5
  expect_fail 2 "$tmp/lk: a sweep already runs on this folder" "$bin" "${S1[@]}" --seeds 1 --out "$tmp/lk"
  kill $holder
  wait $holder 2>/dev/null
  [ -e "$tmp/lk/runs" ] && fail "the refused sweep created runs/"
  p=$tmp/long
  c=$(printf 'd%.0s' $(seq 1 250))
  while [ $((${#p} + 251)) -le 4031 ]; do p=$p/$c; done
  p=$p/$(printf 'e%.0s' $(seq 1 $((4031 - ${#p} - 1))))
  mkdir -p "$p" || fail "mkdir of a 4031-character path"
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1 --out "$p" 2>&1) || { echo "$out" | cut -c1-300; fail "sweep, 4031 characters"; }
  [ "$(ls "$p/runs" | grep -c '\.h5$')" = 1 ] || fail "no run file under the 4031-character --out"
  "$bin" report "$p" >/dev/null || fail "report of the 4031-character folder"
  expect_fail 2 "characters; the files made under it need up to 64 more" "$bin" "${S1[@]}" --seeds 1 --out "${p}x"
  [ -e "${p}x" ] && fail "the refused --out was created"
  expect_fail 2 "characters; the files made under it need up to 48 more" "$bin" train --data "$tmp/fleet" \
    --model cnn1d --epochs 1 --out "$p/$(printf 'f%.0s' $(seq 1 60)).h5"
  echo "ok";;
merge_outputs)
  # the merge keeps runs added to sweep.h5, is skipped when nothing changed; --csv never
  # overwrites a results file and writes through symlinks and devices
  fleet
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep"; }
  "$bin" train --data "$tmp/fleet" --model cnn1d --epochs 1 --quiet --seed 9 --out "$tmp/sw/sweep.h5" >/dev/null ||
    fail "train --out sweep.h5"
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep again"; }
  grep -q "0 runs trained in .*; 2 runs in $tmp/sw/sweep.h5$" <<<"$out" || { echo "$out"; fail "the added run was lost"; }
  out=$(timeout $slow "$bin" "${S1[@]}" --seeds 1 --out "$tmp/sw" 2>&1) || { echo "$out"; fail "sweep a third time"; }
  grep -q "; 2 runs in $tmp/sw/sweep.h5 (unchanged)$" <<<"$out" || { echo "$out"; fail "the merge was not skipped"; }
  [ "$("$bin" report "$tmp/sw" | grep -c '^Results: .*(2 runs')" = 1 ] || fail "report does not see 2 runs"
  cp "$tmp/sw/sweep.h5" "$tmp/keep.h5"
  expect_fail 2 "sweep.h5: is a results file; it is not overwritten" "$bin" report "$tmp/sw/sweep.h5" --csv "$tmp/sw/sweep.h5"
  cmp -s "$tmp/sw/sweep.h5" "$tmp/keep.h5" || fail "--csv changed the results file"
  expect_fail 2 "is a results file" "$bin" report "$tmp/sw" --csv "$tmp/keep.h5"
  echo old >"$tmp/real.csv"
  ln -s real.csv "$tmp/link.csv"
  "$bin" report "$tmp/sw" --csv "$tmp/link.csv" >/dev/null 2>&1 || fail "--csv through a symlink"
  [ -L "$tmp/link.csv" ] && grep -q '^subset,method' "$tmp/real.csv" || fail "--csv did not write through the symlink"
  n=$("$bin" report "$tmp/sw" --csv /dev/stdout 2>/dev/null | grep -c '^FD001,')
  [ "$n" = 2 ] || fail "--csv /dev/stdout: $n rows, expected 2"
  [ -c /dev/null ] || fail "/dev/null is no longer a device"
  ln -s nothing "$tmp/dangling.csv"
  expect_fail 2 "dangling.csv: is a link to nothing" "$bin" report "$tmp/sw" --csv "$tmp/dangling.csv"
  # a file size limit (SIGXFSZ): a write fails with a message and leaves no temporary file
  out=$(ulimit -f 0; "$bin" report "$tmp/sw" --csv "$tmp/limited.csv" 2>&1)
  rc=$?
  [ $rc = 2 ] && grep -q "limited.csv: cannot write: File too large" <<<"$out" || { echo "$out"; fail "ulimit -f: exit $rc"; }
  [ "$(find "$tmp" -name '*.tmp.*' | wc -l)" = 0 ] || fail "temporary files left"
  echo "ok";;
small_inputs)
  expect_fail 2 "OMP_NUM_THREADS='5000': expected a number of threads, 1..1024" env OMP_NUM_THREADS=5000 "${T1[@]}"
  mkdir -p "$tmp/d"
  cp "$data"/*_FD001.txt "$tmp/d/"
  { printf '\357\273\277'; cat "$data/train_FD001.txt"; } >"$tmp/d/train_FD001.txt"
  expect_fail 2 "train_FD001.txt:1: starts with a UTF-8 byte-order mark (bytes \\\\xef\\\\xbb\\\\xbf)" "${T1[@]}" --data "$tmp/d"
  echo "ok";;
many_runs)
  # a folder of 1,590 complete runs: found complete, merged once, then left alone; report and
  # the merge see every run once
  grid=(--subsets FD001 --methods fixed,uw-so,uw --lambdas "$(seq -s, 0.02 0.02 0.98)" --temperatures 1,2,5 --seeds
        "$(seq -s, 1 30)" --epochs 5)
  "$fake" "$tmp/big" 5 100 "${grid[@]}" >/dev/null || fail "fake_runs"
  n=$(ls "$tmp/big/runs" | grep -c '\.h5$')
  [ "$n" = 1590 ] || fail "fake_runs wrote $n runs, expected 1590"
  sw=("$bin" sweep --data "$data" "${grid[@]}" --out "$tmp/big")
  out=$(timeout $slow "${sw[@]}" 2>&1) || { echo "$out" | tail; fail "sweep"; }
  grep -q "1590 runs (1590 complete, 0 to do)" <<<"$out" || { echo "$out" | head; fail "not every run complete"; }
  grep -q "; 1590 runs in $tmp/big/sweep.h5$" <<<"$out" || { echo "$out" | head; fail "not merged"; }
  grep -q "^Results: $tmp/big (1590 runs" <<<"$out" || { echo "$out" | head; fail "the report does not see 1590 runs"; }
  out=$(timeout $slow "${sw[@]}" 2>&1) || { echo "$out" | tail; fail "sweep again"; }
  grep -q "; 1590 runs in $tmp/big/sweep.h5 (unchanged)$" <<<"$out" || { echo "$out" | head; fail "merged again"; }
  grep -q "^Results: $tmp/big (1590 runs" <<<"$out" || fail "the second report does not see 1590 runs"
  [ "$("$bin" report "$tmp/big/runs" | grep -c '^Results: .*(1590 runs')" = 1 ] || fail "report of runs/"
  echo "ok";;
*) echo "unknown test $test"; exit 2;;
esac
