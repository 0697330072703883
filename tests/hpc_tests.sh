#!/usr/bin/env bash
# The HPC toolchain, each a CTest test:
#   hpc_tests.sh TEST MTLBENCH MPIEXEC DATA SOURCE_DIR BUILD_DIR GENCMAPSS
#   install      cmake --install into a temporary prefix; the installed binary, run from
#                another folder, finds its data there (and MTLBENCH_DATA, --data override it),
#                verifies it and trains; the installed man page renders without warnings
#   man_page     doc/mtlbench.1 renders without warnings and names every option of every
#                command's --help
#   result_line  the result line of train and sweep against the runs' HDF5 records
#   jube         jobs/jube/mtlbench.xml under the real JUBE on a tiny space (1-epoch cnn1d,
#                1 and 2 ranks); its result table against the runs' HDF5 records
#   regression_distribution   jobs/regression.sbatch MODE=distribution, without Slurm
# Exit 77: skipped (a tool is missing: run-tests.sh installs jube, man-db and groff); where
# CI is set, that is a failure instead.
set -uo pipefail
test=$1 bin=$2 mpiexec=$3 data=$4 src=$5 build=$6 gen=$7
export OMP_WAIT_POLICY=passive OMP_NUM_THREADS=1
tmp=$(mktemp -d /tmp/mtlhpc.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
need() {
  command -v "$1" >/dev/null && return 0
  if [ -n "${CI:-}" ]; then fail "$1 is not installed (CI must run this test)"; fi
  echo "SKIP: $1 is not installed (run-tests.sh installs it)"
  exit 77
}
# attr FILE RUN NAME: an attribute of /runs/RUN, as h5dump prints it (17 digits, strings unquoted)
attr() {
  h5dump -m %.17g -a "/runs/$2/$3" "$1" 2>/dev/null |
    awk '/\(0\):/ { sub(/.*\(0\): */, ""); gsub(/"/, ""); print; exit }'
}
# close A B DEC: |A - B| <= half a unit of the DEC-th decimal (and a rounding margin)
close() {
  [ -n "$1" ] && [ -n "$2" ] || return 1
  awk -v a="$1" -v b="$2" -v d="$3" 'BEGIN { t = 0.5 * 10 ^ -d * 1.001 + 1e-12; e = a - b; exit !(e <= t && -e <= t) }'
}
# value LINE KEY: the value of KEY in a result line
value() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
# check_line LINE FILE: the result line's values are those of the run in FILE
check_line() {
  local line=$1 f=$2 id k dec
  id=$(value "$line" run_id)
  [ -n "$id" ] || fail "no run_id in: $line"
  for k in subset model protocol method seed status ranks threads; do
    [ "$(value "$line" $k)" = "$(attr "$f" "$id" $k)" ] || fail "$k: '$(value "$line" $k)' in the line, '$(attr "$f" "$id" $k)' in $f"
  done
  for k in rmse:4 score:3 acc:4 f1:4 samples_per_s:1 comm_fraction:6 wall_s:3; do
    dec=${k#*:} k=${k%%:*}
    close "$(value "$line" "$k")" "$(attr "$f" "$id" "$k")" "$dec" ||
      fail "$k: $(value "$line" "$k") in the line, $(attr "$f" "$id" "$k") in $f"
  done
}
KEYS="MTLBENCH_RESULT format run_id subset model protocol method seed status rmse score acc f1 samples_per_s comm_fraction wall_s ranks threads"
keys_of() { tr ' ' '\n' <<<"$1" | sed 's/=.*//' | tr '\n' ' ' | sed 's/ $//'; }
# man_warnings FILE: renders the page; fails on any warning
man_warnings() {
  local w
  w=$(MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null)
  [ -z "$w" ] || fail "man --warnings -l $1: $w"
}

case $test in
install)
  need man
  prefix=$tmp/prefix
  cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "cmake --install"; }
  for f in bin/mtlbench bin/gencmapss share/man/man1/mtlbench.1 share/mtlbench/jobs/sweep.sbatch \
    share/mtlbench/jobs/scaling.sbatch share/mtlbench/jobs/regression.sbatch share/mtlbench/jobs/jube/mtlbench.xml \
    share/mtlbench/results/baseline/sweep.h5; do
    [ -e "$prefix/$f" ] || fail "cmake --install did not install $f"
  done
  [ -x "$prefix/bin/mtlbench" ] && [ -x "$prefix/share/mtlbench/jobs/regression.sbatch" ] || fail "installed programs not executable"
  # every bundled data file, the same bytes
  for f in "$src"/datasets/cmapss/*; do
    cmp -s "$f" "$prefix/share/mtlbench/datasets/cmapss/$(basename "$f")" || fail "not installed: datasets/cmapss/$(basename "$f")"
  done
  man_warnings "$prefix/share/man/man1/mtlbench.1"
  MANPATH=$prefix/share/man man -w mtlbench | grep -q "^$prefix/share/man/man1/mtlbench.1" || fail "man -w mtlbench does not find the page"
  # a moved installation still finds its data (the lookup is relative to the executable)
  mv "$prefix" "$tmp/moved"
  prefix=$tmp/moved
  mkdir "$tmp/elsewhere"
  cd "$tmp/elsewhere" || fail "cd"
  unset MTLBENCH_DATA
  inst=$(cd "$prefix/share/mtlbench/datasets/cmapss" && pwd -P)
  out=$("$prefix/bin/mtlbench" data 2>&1) || fail "installed mtlbench data: $out"
  grep -q "^FD001 from $inst " <<<"$out" || fail "the installed binary does not read its installed data: $out"
  out=$("$prefix/bin/mtlbench" data verify 2>&1) || fail "installed mtlbench data verify: $out"
  want=$(ls "$src"/datasets/cmapss/*_FD00?.txt | wc -l)
  [ "$(grep -c '^ok ' <<<"$out")" = "$want" ] || fail "data verify: expected $want files ok: $out"
  # MTLBENCH_DATA and --data override it
  "$gen" --out "$tmp/fleet" --subset FD001 --train-units 12 --test-units 5 --seed 3 >/dev/null 2>&1 || fail "gencmapss"
  out=$(MTLBENCH_DATA=$tmp/fleet "$prefix/bin/mtlbench" data 2>&1) || fail "MTLBENCH_DATA: $out"
  grep -q "^FD001 from $tmp/fleet " <<<"$out" || fail "MTLBENCH_DATA is not used: $out"
  out=$(MTLBENCH_DATA=/nonexistent "$prefix/bin/mtlbench" data --data "$tmp/fleet" 2>&1) || fail "--data: $out"
  grep -q "^FD001 from $tmp/fleet " <<<"$out" || fail "--data is not used: $out"
  # one epoch of training on the installed data, and the version it records
  out=$("$prefix/bin/mtlbench" train --model cnn1d --epochs 1 --quiet --threads 1 --out "$tmp/run.h5" 2>&1) ||
    fail "installed mtlbench train: $out"
  line=$(grep '^MTLBENCH_RESULT ' <<<"$out")
  [ "$(value "$line" status)" = ok ] || fail "train: $out"
  check_line "$line" "$tmp/run.h5"
  ver=$("$prefix/bin/mtlbench" --version)
  id=$(value "$line" run_id)
  [ "$(sed -n '1s/^mtlbench [0-9.]* (\(.*\))$/\1/p' <<<"$ver")" = "$(attr "$tmp/run.h5" "$id" git)" ] || fail "git: $ver"
  [ "$(sed -n 's/^build //p' <<<"$ver")" = "$(attr "$tmp/run.h5" "$id" build)" ] || fail "build: $ver"
  grep -q -- "-ffp-contract=fast" <<<"$ver" || fail "--version without the build options: $ver"
  echo "ok: installed into a prefix, moved, data found there, trained: $line"
  ;;
man_page)
  need man
  page=$src/doc/mtlbench.1
  man_warnings "$page"
  text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
  n=0
  for cmd in "" data train sweep report compare; do
    for opt in $("$bin" $cmd --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
      grep -q -- "$opt\b" <<<"$text" || fail "the man page does not name $opt (mtlbench $cmd --help)"
      n=$((n + 1))
    done
  done
  for s in "EXIT STATUS" "RESULT LINE" "DATA LOOKUP" ENVIRONMENT; do
    grep -q "^$s" <<<"$text" || fail "no section $s"
  done
  echo "ok: the man page renders without warnings and names all $n options of the --help texts"
  ;;
result_line)
  # on a small generated fleet (quick under the sanitizers too)
  "$gen" --out "$tmp/fleet" --subset FD001 --train-units 20 --test-units 5 --seed 5 >/dev/null 2>&1 || fail "gencmapss"
  data=$tmp/fleet
  # train: exactly one line, its keys in the documented order, its values those of the run
  out=$("$bin" train --data "$data" --model cnn1d --epochs 1 --quiet --threads 1 --out "$tmp/t.h5" 2>/dev/null) ||
    fail "train"
  [ "$(grep -c '^MTLBENCH_RESULT ' <<<"$out")" = 1 ] || fail "not one result line: $out"
  line=$(grep '^MTLBENCH_RESULT ' <<<"$out")
  [ "$(keys_of "$line")" = "$KEYS" ] || fail "keys: $(keys_of "$line")"
  [ "$(value "$line" format)" = 1 ] || fail "format: $line"
  check_line "$line" "$tmp/t.h5"
  # under two ranks: one line (rank 0's), ranks=2
  out=$("$mpiexec" --oversubscribe --bind-to none -np 2 "$bin" train --data "$data" --model cnn1d --epochs 1 \
    --threads 1 --method fixed:0.5 --out "$tmp/t2.h5" 2>/dev/null) || fail "train under 2 ranks"
  [ "$(grep -c '^MTLBENCH_RESULT ' <<<"$out")" = 1 ] || fail "not one result line under 2 ranks: $out"
  line=$(grep '^MTLBENCH_RESULT ' <<<"$out")
  [ "$(value "$line" ranks)" = 2 ] || fail "ranks: $line"
  check_line "$line" "$tmp/t2.h5"
  # --no-result-line and --json leave it out (--json stays one JSON object)
  out=$("$bin" train --data "$data" --model cnn1d --epochs 1 --quiet --threads 1 --no-result-line 2>/dev/null) || fail "train"
  ! grep -q MTLBENCH_RESULT <<<"$out" || fail "--no-result-line printed it"
  out=$("$bin" train --data "$data" --model cnn1d --epochs 1 --quiet --threads 1 --json 2>/dev/null) || fail "train --json"
  python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); assert r["status"] == "ok" and r["build"]' <<<"$out" ||
    fail "--json is not one JSON object: $out"
  # sweep: one line per finished run, with --quiet too; none with --no-result-line
  sw=("$bin" sweep --data "$data" --model cnn1d --epochs 1 --threads 1 --methods fixed:0.5,uw --seeds 1,2 --quiet)
  out=$("$mpiexec" --oversubscribe --bind-to none -np 2 "${sw[@]}" --out "$tmp/sw" 2>/dev/null) || fail "sweep: $out"
  [ "$(grep -c '^MTLBENCH_RESULT ' <<<"$out")" = 4 ] || fail "sweep: not 4 result lines: $out"
  while read -r line; do
    [ "$(keys_of "$line")" = "$KEYS" ] || fail "sweep keys: $(keys_of "$line")"
    check_line "$line" "$tmp/sw/runs/$(value "$line" run_id).h5"
  done < <(grep '^MTLBENCH_RESULT ' <<<"$out")
  out=$("${sw[@]}" --seeds 3 --no-result-line --out "$tmp/sw" 2>/dev/null) || fail "sweep --no-result-line"
  ! grep -q MTLBENCH_RESULT <<<"$out" || fail "sweep --no-result-line printed it"
  [ "$(ls "$tmp/sw/runs" | wc -l)" = 6 ] || fail "sweep --no-result-line did not train"
  echo "ok: result lines of train (1 and 2 ranks) and sweep match their runs' records"
  ;;
jube)
  need jube
  command -v h5dump >/dev/null || fail "h5dump is missing"
  cd "$tmp" || fail "cd"
  # 2 methods x 2 ranks, 1 seed, 1 epoch of cnn1d: four workpackages
  env MTL_METHODS=fixed:0.5,uw MTL_SUBSETS=FD001 MTL_SEEDS=1 MTL_RANKS=1,2 MTL_THREADS=1 MTL_MODEL=cnn1d MTL_EPOCHS=1 \
    MTLBENCH="$bin" MTLBENCH_DATA="$data" MPIRUN="$mpiexec" MPIRUN_ARGS=--oversubscribe \
    jube run --hide-animation -e -o "$tmp/jube" "$src/jobs/jube/mtlbench.xml" >"$tmp/run.log" 2>&1 ||
    { cat "$tmp/run.log"; fail "jube run"; }
  jube result -a "$tmp/jube" -s csv >"$tmp/table.csv" 2>"$tmp/result.log" || { cat "$tmp/result.log"; fail "jube result"; }
  cat "$tmp/table.csv"
  head -1 "$tmp/table.csv" | grep -q '^jube_wp_id,subset,method,seed,ranks,threads,status,rmse,score,acc,f1,samples_per_s,comm_fraction,wall_s,run_id$' ||
    fail "table header"
  rows=0
  while IFS=, read -r wp subset method seed ranks threads status rmse score acc f1 sps comm wall id; do
    [ -n "$wp" ] || continue
    f=$tmp/jube/000000/$(printf %06d "$wp")_train/work/run.h5
    [ -f "$f" ] || fail "workpackage $wp: no $f"
    [ "$subset/$method/$seed/$ranks/$threads/$status" = "$(attr "$f" "$id" subset)/$(attr "$f" "$id" method)/$(attr "$f" "$id" seed)/$(attr "$f" "$id" ranks)/$(attr "$f" "$id" threads)/$(attr "$f" "$id" status)" ] ||
      fail "workpackage $wp: $subset $method $seed $ranks $threads $status against $f"
    [ "$status" = ok ] || fail "workpackage $wp: status $status"
    for k in rmse:4:$rmse score:3:$score acc:4:$acc f1:4:$f1 samples_per_s:1:$sps comm_fraction:6:$comm wall_s:3:$wall; do
      IFS=: read -r name dec v <<<"$k"
      close "$v" "$(attr "$f" "$id" "$name")" "$dec" || fail "workpackage $wp: $name $v in the table, $(attr "$f" "$id" "$name") in $f"
    done
    rows=$((rows + 1))
  done < <(tail -n +2 "$tmp/table.csv")
  [ $rows = 4 ] || fail "$rows rows in the table, expected 4"
  # the 2-rank runs spent time in MPI calls, the 1-rank ones none
  awk -F, 'NR > 1 && $1 != "" { if (($5 == 2) != ($13 > 0)) bad = 1 } END { exit bad }' "$tmp/table.csv" ||
    fail "comm_fraction does not follow the ranks"
  echo "ok: jube run and jube result on 4 workpackages; the table matches the runs' HDF5 records"
  ;;
regression_distribution)
  # jobs/regression.sbatch MODE=distribution as a plain script (2 ranks) on a generated fleet:
  # without its reference it prints the sweep that makes one and exits 2; against that
  # reference (made on 1 rank) it passes; against a reference of other settings it fails
  "$gen" --out "$tmp/fleet" --subset FD001 --train-units 20 --test-units 5 --seed 7 >/dev/null 2>&1 || fail "gencmapss"
  job() { # job NEW EPOCHS
    env MODE=distribution MTLBENCH="$bin" DATA="$tmp/fleet" MODEL=cnn1d EPOCHS="$2" SEEDS=1,2,3 METHODS=fixed:0.5,uw \
      SUBSETS=FD001 NTASKS=2 MPIRUN_ARGS=--oversubscribe REFERENCE="$tmp/ref" NEW="$1" bash "$src/jobs/regression.sbatch"
  }
  cd "$tmp" || fail "cd"
  out=$(job "$tmp/new0" 1 2>&1)
  rc=$?
  [ $rc = 2 ] || { echo "$out"; fail "without a reference: exit $rc, expected 2"; }
  make=$(grep -m1 "^    $bin sweep " <<<"$out") || { echo "$out"; fail "no sweep command printed"; }
  grep -q -- "--deterministic" <<<"$make" && fail "the distribution sweep is not meant to be deterministic: $make"
  read -r -a cmd <<<"$make"
  "${cmd[@]}" >/dev/null 2>&1 || fail "the printed command failed: $make"
  [ "$(ls "$tmp/ref/runs" | wc -l)" = 6 ] || fail "the reference has not 6 runs"
  out=$(job "$tmp/new1" 1 2>&1)
  rc=$?
  [ $rc = 0 ] || { echo "$out"; fail "against its own reference: exit $rc, expected 0"; }
  grep -q "compare: 2 groups checked, 0 regressions, 0 missing, 0 with too few seeds" <<<"$out" || { echo "$out"; fail "summary"; }
  grep -q "no regression against $tmp/ref" <<<"$out" || fail "no verdict line"
  [ "$(ls "$tmp/new1/runs" | wc -l)" = 6 ] || fail "the job did not write its 6 runs into NEW"
  out=$(job "$tmp/new2" 2 2>&1)
  rc=$?
  [ $rc = 1 ] || { echo "$out"; fail "against a reference of other settings: exit $rc, expected 1"; }
  grep -q "^MISSING FD001 cnn1d spec uw (3 runs in BASELINE)" <<<"$out" || { echo "$out"; fail "no MISSING group"; }
  echo "ok: regression.sbatch MODE=distribution: 2 without reference, 0 against it, 1 against other settings"
  ;;
*) fail "unknown test $test" ;;
esac
