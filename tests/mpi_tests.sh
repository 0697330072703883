#!/usr/bin/env bash
# MPI integration tests, each a CTest test: mpi_tests.sh TEST MTLBENCH MPIEXEC DATA [MPI_RANKS_BIN [GENCMAPSS]]
set -uo pipefail
test=$1 bin=$2 mpiexec=$3 data=$4 ranks_bin=${5:-} gen=${6:-}
export OMP_WAIT_POLICY=passive
run() { # run P THREADS ARGS...: one JSON line on stdout (the cnn1d unless --model is given)
  local p=$1 t=$2
  shift 2
  OMP_NUM_THREADS=$t "$mpiexec" --oversubscribe --bind-to none -np "$p" "$bin" train --data "$data" --quiet --json \
    --model cnn1d "$@"
}
field() { # field JSON NAME
  python3 -c 'import json,sys; v=json.loads(sys.argv[1])[sys.argv[2]]; print(v)' "$1" "$2"
}
fail() { echo "FAIL: $*"; exit 1; }
small_fleet() { # small_fleet UNITS SEED: a generated FD001-like fleet in a temporary folder; sets data
  tmp=$(mktemp -d /tmp/mtlfleet.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  "$gen" --out "$tmp/data" --subset FD001 --regimes 1 --train-units "$1" --test-units 8 --min-cycles 60 \
    --max-cycles 100 --seed "$2" >/dev/null || fail "gencmapss failed"
  data=$tmp/data
}

case $test in
digest_table)
  # every method x both models x both modes x P = 1, 2, two epochs on a generated fleet: the
  # param_digest of each run against the committed table (tests/data/digests.txt), written by
  # the build whose arithmetic it pins. The default mode's digests depend on P, so the table
  # holds one per P. With MTL_WRITE_DIGESTS=FILE the table is written to FILE instead.
  small_fleet 16 9
  table=$tmp/digests.txt
  for model in dcnn cnn1d; do
    for mode in default deterministic; do
      for p in 1 2; do
        extra=()
        [ $mode = deterministic ] && extra=(--deterministic)
        out=$tmp/$model-$mode-$p
        OMP_NUM_THREADS=1 "$mpiexec" --oversubscribe --bind-to none -np $p "$bin" sweep --data "$data" --model $model \
          --methods all --lambdas 0.3 --temperatures 2 --seeds 1 --epochs 2 --ranks-per-run $p --quiet \
          "${extra[@]}" --out "$out" >/dev/null 2>&1 || fail "$model $mode P=$p: sweep failed"
        for f in "$out"/runs/*.h5; do
          id=$(basename "$f" .h5)
          a() { h5dump -a "/runs/$id/$1" "$f" | sed -n 's/.*(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'; }
          echo "$model $mode P=$p $(a method) $(a param_digest)"
        done
      done
    done
  done | sort >"$table"
  [ "$(wc -l <"$table")" = 80 ] || { cat "$table"; fail "expected 80 runs (10 methods x 2 models x 2 modes x 2 P)"; }
  if [ -n "${MTL_WRITE_DIGESTS:-}" ]; then cp "$table" "$MTL_WRITE_DIGESTS"; echo "wrote $MTL_WRITE_DIGESTS"; exit 0; fi
  diff "$(dirname "$0")/data/digests.txt" "$table" || fail "param_digest differs from the committed table"
  echo "80 digests as in tests/data/digests.txt";;
default_agree)
  # P = 1, 2, 3 in the default mode: the same model up to rounding (test metrics within 1e-3 relative)
  small_fleet 60 5
  ref=$(run 1 1 --method uw-so:2 --epochs 1) || fail "P=1 run failed"
  echo "P=1: $ref"
  for p in 2 3; do
    out=$(run "$p" 1 --method uw-so:2 --epochs 1) || fail "P=$p run failed"
    echo "P=$p: $out"
    [ "$(field "$out" ranks)" = "$p" ] || fail "ranks is not $p"
    for k in rmse mae score acc f1 best_val_rmse; do
      python3 - "$(field "$ref" $k)" "$(field "$out" $k)" "$k" "$p" <<'PY' || exit 1
import sys
a, b, k, p = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
if abs(a - b) > 1e-3 * max(abs(a), abs(b), 1e-12):
    print(f"FAIL: P={p} {k} {b} differs from P=1 {a} by more than 1e-3 relative"); sys.exit(1)
PY
    done
  done
  echo "P=1,2,3 agree within 1e-3";;
deterministic)
  # --deterministic: one param_digest and identical metrics for P = 1..4 and 1 or 2 threads
  small_fleet 60 6
  want="" wantm=""
  for p in 1 2 3 4; do
    for t in 1 2; do
      out=$(run "$p" "$t" --method uw --epochs 1 --deterministic --batch 200) || fail "P=$p T=$t failed"
      d=$(field "$out" param_digest)
      m="$(field "$out" rmse) $(field "$out" score) $(field "$out" acc) $(field "$out" f1) $(field "$out" best_val_rmse)"
      echo "P=$p T=$t digest $d metrics $m"
      [ -z "$want" ] && want=$d && wantm=$m
      [ "$d" = "$want" ] || fail "P=$p T=$t digest $d, expected $want"
      [ "$m" = "$wantm" ] || fail "P=$p T=$t metrics $m, expected $wantm"
    done
  done
  echo "one digest for every P and T: $want";;
deterministic_dcnn)
  # the published dcnn too: one digest for P = 1, 2, 3 and 1 or 2 threads, on a generated
  # fleet of 30 units (the dcnn costs ten times the cnn1d)
  small_fleet 30 4
  want=""
  for pt in "1 1" "1 2" "2 1" "3 1"; do
    read -r p t <<<"$pt"
    out=$(run "$p" "$t" --model dcnn --method uw --epochs 2 --deterministic --batch 200) ||
      fail "P=$p T=$t failed"
    [ "$(field "$out" model)" = dcnn ] || fail "model is not dcnn"
    d=$(field "$out" param_digest)
    echo "dcnn P=$p T=$t digest $d rmse $(field "$out" rmse)"
    [ -z "$want" ] && want=$d
    [ "$d" = "$want" ] || fail "P=$p T=$t digest $d, expected $want"
  done
  echo "dcnn: one digest for every P and T: $want";;
methods_deterministic)
  # --deterministic, every method of the weighting table beyond uw (the test above): one
  # param_digest for P = 1, 2, 3 and 1 or 2 threads. dwa runs 3 epochs, so that its weights
  # come from the recorded loss history. A generated fleet of 40 units keeps the 36 runs short
  # (several steps per epoch, a last batch that is not full).
  small_fleet 40 2
  for method in ew dwa rlw imtl-l gls gradnorm fixed:0.3 uw-o uw-so:2; do
    epochs=1
    [ "$method" = dwa ] && epochs=3
    want=""
    for pt in "1 1" "2 1" "3 1" "2 2"; do
      read -r p1 t1 <<<"$pt"
      set -- "$p1" "$t1"
      out=$(run "$1" "$2" --method "$method" --epochs $epochs --deterministic --batch 200) || fail "$method P=$1 T=$2 failed"
      d=$(field "$out" param_digest)
      echo "$method P=$1 T=$2 digest $d w $(field "$out" w_rul) $(field "$out" w_health)"
      [ -z "$want" ] && want=$d
      [ "$d" = "$want" ] || fail "$method P=$1 T=$2 digest $d, expected $want"
    done
  done
  echo "every method: one digest for P = 1, 2, 3 and T = 1, 2";;
ranks_identical)
  OMP_NUM_THREADS=1 "$mpiexec" --oversubscribe -np 3 "$ranks_bin" "$data" uw || fail "ranks differ";;
bad_path)
  start=$(date +%s)
  out=$(OMP_NUM_THREADS=1 timeout 20 "$mpiexec" --oversubscribe -np 3 "$bin" train --data /nonexistent/cmapss --epochs 1 2>&1)
  rc=$?
  secs=$(( $(date +%s) - start ))
  echo "$out"
  echo "exit $rc after ${secs}s"
  [ $rc -ne 0 ] || fail "exit status 0 on a bad data path"
  [ $rc -ne 124 ] || fail "hang (killed by timeout)"
  [ $secs -lt 10 ] || fail "took ${secs}s, expected under 10 s"
  n=$(grep -c "train_FD001.txt: cannot open" <<<"$out")
  [ "$n" = 1 ] || fail "expected exactly one error message (from rank 0), got $n";;
bad_args)
  out=$(OMP_NUM_THREADS=1 timeout 20 "$mpiexec" --oversubscribe -np 2 "$bin" train --method uw-so:0 2>&1)
  rc=$?
  echo "$out"
  if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then fail "exit $rc"; fi
  [ "$(grep -c 'temperature must be > 0' <<<"$out")" = 1 ] || fail "expected one message"
  out=$(OMP_NUM_THREADS=1 timeout 20 "$mpiexec" --oversubscribe -np 2 "$bin" train --epochs 0 2>&1)
  rc=$?
  echo "$out"
  [ $rc = 2 ] || fail "--epochs 0: exit $rc, expected 2"
  [ "$(grep -c -- "--epochs '0' is out of range" <<<"$out")" = 1 ] || fail "expected one message naming --epochs";;
checkpoint_resume)
  # train --checkpoint, SIGKILLed partway under mpirun, started again: it resumes and ends
  # with the digest of an uninterrupted run; a checkpoint of another seed is refused. A small
  # generated fleet keeps the epochs short (the sanitizer build is ~100x slower); where a
  # fast build ends the run before its checkpoint is seen (it is removed at the end), the
  # run is tried again with 4 times the epochs.
  tmp=$(mktemp -d /tmp/mtlckpt.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  "$gen" --out "$tmp/data" --subset FD001 --regimes 1 --train-units 12 --test-units 5 --min-cycles 45 \
    --max-cycles 60 --seed 1 >/dev/null || fail "gencmapss failed"
  data=$tmp/data
  epochs=20
  for _ in 1 2 3 4; do
    args=(--model cnn1d --method uw-so:2 --epochs $epochs --deterministic --checkpoint "$tmp/run.ckpt")
    OMP_NUM_THREADS=1 setsid "$mpiexec" --oversubscribe --bind-to none -np 2 "$bin" train --data "$data" "${args[@]}" \
      >"$tmp/first.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 30000); do
      [ -f "$tmp/run.ckpt" ] && break
      kill -0 "$pid" 2>/dev/null || break # the run has ended
      sleep 0.01
    done
    kill -KILL -- -"$pid" 2>/dev/null
    pkill -KILL -f -- "--checkpoint $tmp/run.ckpt" 2>/dev/null
    wait "$pid" 2>/dev/null
    cat "$tmp/first.log"
    [ -f "$tmp/run.ckpt" ] && break
    echo "the run of $epochs epochs ended before its checkpoint was seen; again with $((epochs * 4))"
    epochs=$((epochs * 4))
  done
  [ -f "$tmp/run.ckpt" ] || fail "no checkpoint"
  ref=$(run 1 1 --method uw-so:2 --epochs $epochs --deterministic) || fail "uninterrupted run failed"
  echo "uninterrupted: $ref"
  out=$(OMP_NUM_THREADS=1 "$mpiexec" --oversubscribe --bind-to none -np 2 "$bin" train --data "$data" --seed 2 \
        "${args[@]}" --quiet 2>&1)
  rc=$?
  echo "$out"
  [ $rc = 2 ] || fail "a checkpoint of another seed: exit $rc, expected 2"
  grep -q "is a checkpoint of another configuration" <<<"$out" || fail "no message for the foreign checkpoint"
  out=$(run 2 1 "${args[@]}" 2>"$tmp/second.err") || { cat "$tmp/second.err"; fail "resumed run failed"; }
  echo "resumed: $out"
  from=$(field "$out" resumed_from_epoch)
  if [ "$from" -lt 1 ] || [ "$from" -ge $epochs ]; then fail "resumed_from_epoch $from, expected 1..$((epochs - 1))"; fi
  [ "$(field "$out" param_digest)" = "$(field "$ref" param_digest)" ] || fail "digest differs from the uninterrupted run"
  [ "$(field "$out" epochs_run)" = $epochs ] || fail "epochs_run is not $epochs"
  [ ! -e "$tmp/run.ckpt" ] || fail "checkpoint left after the complete run"
  echo "resumed from epoch $from to the uninterrupted digest";;
*) echo "unknown test $test"; exit 2;;
esac
