#!/usr/bin/env bash
# The job scripts under a real Slurm (CTest slurm_jobs):
#     slurm_tests.sh MTLBENCH DATA SOURCE_DIR SCALE_METRIC
# Starts a private one-node Slurm in a temp folder: munged with its own key and socket, and
# slurmctld + slurmd as root (SlurmUser=root) on free ports, so that it cannot meet another
# Slurm on the machine. Then, each job waited for (squeue polled every 0.5 s):
#   1. jobs/sweep.sbatch on a tiny grid: exit 0, every run once, the report printed once;
#   2. jobs/regression.sbatch against results/baseline: exit 0;
#   3. jobs/regression.sbatch against a baseline better than the code (RMSE halved): exit 1;
#   4. jobs/sweep.sbatch with a 1-minute time limit on a longer sweep: it stops at Slurm's
#      warning signal, requeues itself and ends complete, every run exactly once;
#   5. the same, continued by a new job instead (RESUBMIT=1), the stop asked by hand;
#   6. a job stopped in its last allowed round (MAX_ROUNDS=1): exit 3, no requeue.
# Slurm is shut down at the end, also on failure, through the pid files of its daemons; a
# Slurm left behind by an earlier run that was killed is shut down the same way first.
# Exit 77 (CTest: skipped) with the reason only where Slurm cannot run at all (not root, or
# slurm-wlm / munge not installed); where CI is set, that is a failure instead.
# KEEP_SLURM_TEST=1 keeps the temp folder (configuration, logs, results) for inspection.
set -uo pipefail
bin=$1 data=$2 src=$3 scale=$4
PATH=$PATH:/usr/sbin:/sbin
t_begin=$SECONDS

unavailable() {
  if [ -n "${CI:-}" ]; then
    echo "FAIL: $* (CI must run this test)"
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
[ "$(id -u)" = 0 ] || unavailable "the private Slurm runs slurmctld and slurmd as root (SlurmUser=root); run the test as root"
missing=()
for c in munged munge slurmctld slurmd sbatch scontrol squeue scancel sinfo; do
  command -v "$c" >/dev/null || missing+=("$c")
done
[ ${#missing[@]} = 0 ] || unavailable "no ${missing[*]}: install Debian's slurm-wlm and munge (run-tests.sh does)"

# Nothing from a surrounding Slurm job may reach the private one.
for v in $(compgen -e); do
  case $v in SLURM_* | SBATCH_* | SRUN_* | SALLOC_* | SQUEUE_* | SINFO_* | SCONTROL_*) unset "$v" ;; esac
done
export OMP_WAIT_POLICY=passive

# pid_of DIR FILE: the pid in DIR/FILE, if that process was started for DIR (no stale pid)
pid_of() {
  local p
  p=$(cat "$1/$2" 2>/dev/null) || return 1
  [[ $p =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF -- "$1/" || return 1
  echo "$p"
}

# stop_cluster DIR: cancels the jobs of the Slurm in DIR, then stops its daemons
stop_cluster() {
  local dir=$1 f p
  if pid_of "$dir" slurmctld.pid >/dev/null; then
    SLURM_CONF=$dir/slurm.conf scancel --user=root 2>/dev/null
    for _ in $(seq 1 60); do
      [ -z "$(SLURM_CONF=$dir/slurm.conf squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  for f in slurmd.pid slurmctld.pid munged.pid; do
    p=$(pid_of "$dir" "$f") || continue
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 50); do
      [ -e "/proc/$p" ] || break
      sleep 0.2
    done
    [ -e "/proc/$p" ] && kill -KILL "$p" 2>/dev/null
  done
}

# A Slurm of an earlier run whose test process is gone (killed on a timeout) is stopped.
for d in /tmp/mtlslurm.*; do
  [ -f "$d/owner" ] || continue
  kill -0 "$(cat "$d/owner")" 2>/dev/null && continue
  echo "stopping the Slurm left behind in $d"
  stop_cluster "$d"
  rm -rf "$d"
done

tmp=$(mktemp -d /tmp/mtlslurm.XXXXXX) || exit 1
chmod 755 "$tmp" # munged wants its socket's folders searchable by all
echo $$ >"$tmp/owner"
cleanup() {
  stop_cluster "$tmp"
  if [ -n "${KEEP_SLURM_TEST:-}" ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

show_logs() {
  local f
  for f in "$tmp"/log/*.log "$tmp"/munge/munged.log; do
    [ -f "$f" ] && { echo "--- last lines of $f"; tail -n 25 "$f"; }
  done
}
fail() {
  echo "FAIL: $*"
  show_logs
  exit 1
}

port_free() { ! grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
port=
for _ in $(seq 1 200); do
  p=$((20000 + RANDOM % 40000))
  if port_free "$p" && port_free $((p + 1)); then port=$p; break; fi
done
[ -n "$port" ] || fail "no two free TCP ports found"

mkdir -m 700 "$tmp/munge" || fail "mkdir in $tmp"
mkdir -m 755 "$tmp/run" || fail "mkdir in $tmp"
mkdir "$tmp/log" "$tmp/state" "$tmp/spool" "$tmp/work" || fail "mkdir in $tmp"
head -c 1024 /dev/urandom >"$tmp/munge/munge.key" || fail "no munge key"
chmod 400 "$tmp/munge/munge.key" || fail "chmod of the munge key"
sock=$tmp/run/munge.sock
munged --socket="$sock" --key-file="$tmp/munge/munge.key" --pid-file="$tmp/munged.pid" \
  --log-file="$tmp/munge/munged.log" --seed-file="$tmp/munge/munged.seed" || fail "munged did not start"
munge -n -S "$sock" | unmunge -S "$sock" >/dev/null || fail "munge credentials do not round-trip"

host=$(hostname -s)
ncpu=$(nproc)
conf=$tmp/slurm.conf
cat >"$conf" <<EOF
ClusterName=mtltest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
# cred_expire is also how long a requeued job waits before it can start again (default 120 s)
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
MpiDefault=none
MailProg=/bin/true
JobRequeue=1
ReturnToService=2
OverTimeLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$ncpu State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld -f "$conf" || fail "slurmctld did not start"
slurmd -f "$conf" || fail "slurmd did not start"
state=
for _ in $(seq 1 120); do
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || fail "node $host is '$state', not idle"
echo "$(sinfo -V): one node $host with $ncpu CPUs, ports $port/$((port + 1)), in $tmp (started in $((SECONDS - t_begin)) s)"

work=$tmp/work
job_id='' job_rc='' job_log=''
# left_queue IDS SECONDS: waits until the jobs IDS (comma-separated) have left the queue,
# requeues included, polling every 0.5 s; status 1 if they are still there after SECONDS.
# (sbatch --wait would do for one job, but its polls grow to 10 s apart, and most of these
# jobs take a few seconds.)
left_queue() {
  for _ in $(seq 1 $(($2 * 2))); do
    [ -z "$(squeue -h -j "$1" -o %i 2>/dev/null)" ] && return 0
    sleep 0.5
  done
  return 1
}
# wait_job ID: waits for job ID to leave the queue, at most 800 s, and prints its exit status
# (124 if it is still queued or running then, as timeout(1) says).
wait_job() {
  local code
  left_queue "$1" 800 || { echo 124; return; }
  code=$(scontrol show -o job "$1" 2>/dev/null | sed -n 's/.* ExitCode=\([0-9]*\):\([0-9]*\).*/\1 \2/p')
  case $code in
    '') echo 255 ;;                            # no record of the job
    *' 0') echo "${code% *}" ;;                # the script's exit status
    *) echo $((128 + ${code#* })) ;;           # killed by a signal
  esac
}
# submit NAME [VAR=VALUE...] -- SBATCH_ARGS...: sbatch in $work, then wait_job; log in $work/NAME.log
submit() {
  local name=$1 t0=$SECONDS out
  shift
  local vars=()
  while [ "$1" != -- ]; do vars+=("$1"); shift; done
  shift
  job_log=$work/$name.log
  out=$(cd "$work" && env "${vars[@]}" sbatch --parsable --output="$job_log" "$@" 2>&1)
  job_id=$(grep -m1 -o '^[0-9]\+' <<<"$out")
  [ -n "$job_id" ] || { echo "$out"; fail "sbatch did not submit $name"; }
  job_rc=$(wait_job "$job_id")
  echo "=== job $name: id $job_id, exit status $job_rc, $((SECONDS - t0)) s"
  grep -v '^[0-9]\+$' <<<"$out"
  sed 's/^/    | /' "$job_log"
}
count() { grep -c -- "$1" "$2"; }
# csv_col FILE NAME: the values of column NAME of a CSV file with a header line
csv_col() { awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } k { print $k }' "$1"; }

common=(MTLBENCH="$bin" DATA="$data" MPIRUN_ARGS=--oversubscribe)
geometry=()
((ncpu >= 2)) || geometry=(--ntasks=1)
sweep_env=()
# Where mtlbench has a choice of models, the jobs use the faster one.
# (the help is read whole first: grep -q stops reading at its match, and under pipefail the
# writer's SIGPIPE would fail the pipeline)
sweep_help=$("$bin" sweep --help 2>&1)
grep -q -- '--model' <<<"$sweep_help" && sweep_env+=(MODEL=cnn1d)

# 1. a tiny sweep with the job's own #SBATCH geometry
submit sweep_tiny "${common[@]}" "${sweep_env[@]}" OUT="$tmp/tiny" SUBSETS=FD001 METHODS="fixed:0.5,uw" SEEDS=1 EPOCHS=2 \
  -- "${geometry[@]}" "$src/jobs/sweep.sbatch"
[ "$job_rc" = 0 ] || fail "tiny sweep job: exit $job_rc, expected 0"
[ "$(count '^# mtlbench report' "$job_log")" = 1 ] || fail "tiny sweep job: the report is not printed exactly once"
[ "$(count 'the sweep is complete (round 1)' "$job_log")" = 1 ] || fail "tiny sweep job: no completion line"
[ "$(find "$tmp/tiny/runs" -name '*.h5' | wc -l)" = 2 ] || fail "tiny sweep job: expected 2 run files"
[ "$(csv_col "$tmp/tiny/runs.csv" run_id | sort -u | wc -l)" = 2 ] || fail "tiny sweep job: expected 2 runs in runs.csv"
ls "$tmp"/tiny/plots/*.svg >/dev/null 2>&1 || fail "tiny sweep job: no plots"

# 2. the regression job against the committed baseline
submit regression_ok "${common[@]}" BASELINE="$src/results/baseline" NEW="$tmp/reg_ok" -- "${geometry[@]}" "$src/jobs/regression.sbatch"
[ "$job_rc" = 0 ] || fail "regression job: exit $job_rc, expected 0"
grep -q "no regression against $src/results/baseline" "$job_log" || fail "regression job: no verdict line"
n_base=$(find "$src/results/baseline/runs" -name '*.h5' | wc -l)
[ "$(find "$tmp/reg_ok/runs" -name '*.h5' | wc -l)" = "$n_base" ] || fail "regression job: expected $n_base new runs, as many as in the baseline"

# 3. ... and against a baseline whose test RMSEs are halved: the job must fail with status 1.
# To stay short, the better baseline holds the cnn1d runs only, and the job leaves out the
# slow dcnn run (DCNN_EPOCHS=0).
mkdir -p "$tmp/better/runs" || fail "mkdir $tmp/better/runs"
for f in "$src"/results/baseline/runs/*.h5; do
  id=$(basename "$f" .h5)
  h5dump -a "/runs/$id/model" "$f" | grep -q '"cnn1d"' && cp "$f" "$tmp/better/runs/"
done
n_better=$(find "$tmp/better/runs" -name '*.h5' | wc -l)
[ "$n_better" -ge 1 ] || fail "no cnn1d run in the baseline"
"$scale" 0.5 rmse "$tmp"/better/runs/*.h5 || fail "cannot make the better baseline"
submit regression_worse "${common[@]}" BASELINE="$tmp/better" NEW="$tmp/reg_worse" DCNN_EPOCHS=0 \
  -- "${geometry[@]}" "$src/jobs/regression.sbatch"
[ "$job_rc" = 1 ] || fail "regression job against a better baseline: exit $job_rc, expected 1"
grep -q "REGRESSION against $tmp/better" "$job_log" || fail "regression job: no REGRESSION line"
[ "$(count '^REGRESSION [0-9a-f]\{16\} .*: rmse ' "$job_log")" = "$n_better" ] ||
  fail "regression job: expected one REGRESSION line per run of the better baseline ($n_better)"

# 4. a sweep longer than its 1-minute time limit
if ! grep -q 'status 3' <<<"$sweep_help"; then
  fail "mtlbench sweep --help documents no exit status 3 (stopped on SIGUSR1 at an epoch boundary, resumable); jobs/sweep.sbatch cannot outlive its time limit without it"
fi
grid=(--data "$data" --subsets FD001 --methods "fixed:0.5,uw,uw-o,uw-so:1" --seeds "1,2" --deterministic)
[ ${#sweep_env[@]} = 0 ] || grid+=(--model cnn1d)
ntasks=$((ncpu >= 2 ? 2 : 1))
# Epochs for at least 65 s of training on the job's ranks, longer than the time limit, from a
# short timing here (an epoch costs at least as much as 17000 samples of it: training and
# validation windows; on a busy machine more).
sps=$(OMP_NUM_THREADS=1 "$bin" sweep "${grid[@]}" --epochs 1 --threads 1 --dry-run --out "$tmp/probe" |
  sed -n 's/.*measured \([0-9]*\) samples\/s.*/\1/p')
if ! [[ $sps =~ ^[0-9]+$ ]] || ((sps == 0)); then fail "no timing from sweep --dry-run"; fi
epochs=$((65 * sps * ntasks / (8 * 17000)))
((epochs >= 4)) || epochs=4
echo "measured $sps samples/s per rank: $epochs epochs per run, 8 runs on $ntasks rank(s), at least $((epochs * 8 * 17000 / (sps * ntasks))) s of training against a 60 s time limit"
long_env=("${common[@]}" OUT="$tmp/long" SUBSETS=FD001 METHODS="fixed:0.5,uw,uw-o,uw-so:1" SEEDS="1,2" EPOCHS="$epochs"
  DETERMINISTIC=1 MAX_ROUNDS=16)
t0=$SECONDS
submit sweep_time_limit "${long_env[@]}" "${sweep_env[@]}" -- "${geometry[@]}" --time=1 --signal=B:USR1@10 "$src/jobs/sweep.sbatch"
elapsed=$((SECONDS - t0))
[ "$job_rc" = 0 ] || fail "time-limited sweep job: exit $job_rc, expected 0"
rounds=$(count 'round [0-9]* of at most' "$job_log")
restarts=$(scontrol show job "$job_id" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')
echo "time-limited sweep: $rounds rounds, $restarts requeues, $elapsed s from submission to the end"
((rounds >= 2)) || fail "time-limited sweep: $rounds round(s); the time limit did not interrupt it"
[ "$restarts" = $((rounds - 1)) ] || fail "time-limited sweep: $rounds rounds but Slurm counts $restarts requeues"
[ "$(count 'SIGUSR1: asking the sweep to stop' "$job_log")" -ge $((rounds - 1)) ] || fail "time-limited sweep: the warning signal did not arrive in every round"
[ "$(count 'requeued job' "$job_log")" = $((rounds - 1)) ] || fail "time-limited sweep: expected $((rounds - 1)) requeues"
grep -q 'DUE TO TIME LIMIT' "$job_log" && fail "time-limited sweep: a round was killed at the time limit"
[ "$(count 'the sweep is complete' "$job_log")" = 1 ] || fail "time-limited sweep: not complete exactly once"
[ "$(count '^# mtlbench report' "$job_log")" = 1 ] || fail "time-limited sweep: the report is not printed exactly once"
grep -q 'resumed from epoch' "$job_log" || fail "time-limited sweep: no run resumed from its checkpoint"
check_runs() { # check_runs DIR N EPOCHS: N complete runs, each once, each with all its epochs
  local n
  n=$(find "$1/runs" -name '*.h5' ! -name '*.tmp.*' | wc -l)
  [ "$n" = "$2" ] || fail "$1: $n run files, expected $2"
  [ -z "$(find "$1" -name '*.tmp.*')" ] || fail "$1: temporary files left"
  [ "$(csv_col "$1/runs.csv" run_id | wc -l)" = "$2" ] || fail "$1: runs.csv does not hold $2 runs"
  [ "$(csv_col "$1/runs.csv" run_id | sort -u | wc -l)" = "$2" ] || fail "$1: a run is stored twice"
  [ "$(csv_col "$1/runs.csv" status | sort -u)" = ok ] || fail "$1: not every run is ok"
  [ "$(csv_col "$1/runs.csv" epochs_run | sort -u)" = "$3" ] || fail "$1: not every run trained $3 epochs"
}
check_runs "$tmp/long" 8 "$epochs"

# 5. the next round as a new job: the stop is asked for by hand, as the time limit would
resub_epochs=$((epochs / 2 + 2))
resub_env=("${common[@]}" OUT="$tmp/resub" SUBSETS=FD001 METHODS="uw,uw-o" SEEDS=1 EPOCHS="$resub_epochs" DETERMINISTIC=1 RESUBMIT=1)
log=$work/resub.log
first=$(cd "$work" && env "${resub_env[@]}" "${sweep_env[@]}" sbatch --parsable --output="$log" "${geometry[@]}" \
  "$src/jobs/sweep.sbatch") || fail "sbatch (resubmission)"
for _ in $(seq 1 240); do
  grep -q '^sweep: .* runs (' "$log" 2>/dev/null && break # the sweep has started
  sleep 0.5
done
sleep 2
scancel --batch --signal=USR1 "$first" || fail "scancel --signal=USR1 $first"
next=
for _ in $(seq 1 240); do
  next=$(sed -n 's/.*submitted job \([0-9]*\) for round 2.*/\1/p' "$log")
  [ -n "$next" ] && break
  sleep 0.5
done
[ -n "$next" ] || { sed 's/^/    | /' "$log"; fail "resubmission: job $first did not submit the next round"; }
left_queue "$first,$next" 300 || : # the states below say what is wrong
state() { scontrol show -o job "$1" | sed -n 's/.*\(JobState=[A-Z_]*\) .* \(ExitCode=[0-9:]*\) .*/\1 \2/p'; }
echo "=== resubmission: job $first ($(state "$first")), then job $next ($(state "$next"))"
sed 's/^/    | /' "$log"
state "$first" | grep -q 'JobState=COMPLETED ExitCode=0:0' || fail "resubmission: job $first did not complete with status 0"
state "$next" | grep -q 'JobState=COMPLETED ExitCode=0:0' || fail "resubmission: job $next did not complete with status 0"
grep -q "round 2 of at most 20, job $next " "$log" || fail "resubmission: job $next is not round 2, or logs elsewhere"
[ "$(count 'the sweep is complete (round 2)' "$log")" = 1 ] || fail "resubmission: the sweep did not complete in round 2"
[ "$(count '^# mtlbench report' "$log")" = 1 ] || fail "resubmission: the report is not printed exactly once"
[ "$(count 'resumed from epoch' "$log")" = 2 ] || fail "resubmission: round 2 did not resume both runs"
check_runs "$tmp/resub" 2 "$resub_epochs"

# 6. MAX_ROUNDS reached: the job stops with status 3 and leaves the sweep resumable
log=$work/capped.log
(
  for _ in $(seq 1 240); do
    grep -q '^sweep: .* runs (' "$log" 2>/dev/null && break
    sleep 0.5
  done
  sleep 2
  scancel --batch --signal=USR1 --name=mtl-capped
) &
signaller=$!
submit capped "${common[@]}" "${sweep_env[@]}" OUT="$tmp/capped" SUBSETS=FD001 METHODS=uw SEEDS=1 EPOCHS="$resub_epochs" \
  MAX_ROUNDS=1 -- "${geometry[@]}" --job-name=mtl-capped "$src/jobs/sweep.sbatch"
wait "$signaller"
[ "$job_rc" = 3 ] || fail "capped sweep job: exit $job_rc, expected 3"
grep -q 'MAX_ROUNDS=1 rounds done; submit the same command again' "$job_log" || fail "capped sweep job: no MAX_ROUNDS message"
grep -q 'requeued job' "$job_log" && fail "capped sweep job: requeued beyond MAX_ROUNDS"
[ "$(scontrol show job "$job_id" | sed -n 's/.*Restarts=\([0-9]*\).*/\1/p')" = 0 ] || fail "capped sweep job: Slurm counts a requeue"
[ "$(find "$tmp/capped" -name '*.ckpt' | wc -l)" = 1 ] || fail "capped sweep job: expected the checkpoint of its run in flight"

# 7. the reference-results job plans the runs of results/reference.sh (a dry run)
submit reference_plan "${common[@]}" PART=li2018 DRY_RUN=1 OUT="$tmp/li2018" -- "${geometry[@]}" "$src/jobs/reference.sbatch"
[ "$job_rc" = 0 ] || fail "reference job (dry run): exit $job_rc, expected 0"
grep -q '^sweep: 12 runs (0 complete, 12 to do)' "$job_log" || fail "reference job: expected the 12 runs of Li's table"
[ "$(grep -c '^  FD00[1-4] fixed:1 .* to do$' "$job_log")" = 12 ] || fail "reference job: the plan does not list the 12 runs"

echo "all Slurm jobs behaved ($((SECONDS - t_begin)) s)"
