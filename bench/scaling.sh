#!/usr/bin/env bash
# bench/scaling.sh: strong scaling of `mtlbench train` on one machine (MPI ranks x OpenMP
# threads), or a summary of the JSON files written by jobs/scaling.sbatch on a cluster.
#
# Run `bench/scaling.sh --help` for the options. Needs bash, mpirun (Open MPI) and python3
# (standard library only); jq is not needed.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/scaling.sh [OPTIONS]
       bench/scaling.sh --collect DIR

Trains the same configuration (mtlbench train --method fixed:0.5, fixed global batch) for
each combination of P MPI ranks and T OpenMP threads per rank with P*T <= nproc, repeats
each --repeat times, and prints a Markdown table of the median samples/s, the speed-up
over 1 rank x 1 thread, the parallel efficiency (speed-up / (P*T)) and the median share of
the training time spent in MPI communication. The hybrid rows 1x2 and 2x1 are always
measured when there are at least 2 cores.

  --bin PATH        mtlbench binary (default: $MTLBENCH, else build/mtlbench)
  --ranks "LIST"    MPI rank counts (default: powers of two up to nproc)
  --threads "LIST"  OpenMP threads per rank (default: powers of two up to nproc)
  --epochs N        epochs per run (default 3)
  --repeat N        runs per combination; the table shows medians (default 3)
  --data DIR        C-MAPSS folder (default: mtlbench's own, i.e. $MTLBENCH_DATA or bundled)
  --deterministic   pass --deterministic to mtlbench (exact, slower gradient sums)
  --oversubscribe   also run combinations with P*T > nproc (mpirun --oversubscribe);
                    their figures measure contention, not scaling
  --collect DIR     measure nothing: summarise DIR/scaling_P*.json (one JSON object per
                    line, as appended by jobs/scaling.sbatch) into the same table
  -h, --help        this text

Exit status: 0 when every run succeeded, 1 when some failed (the table shows the rest),
2 on bad usage.
EOF
}

die() {
    echo "bench/scaling.sh: $*" >&2
    exit 2
}

bin=${MTLBENCH:-build/mtlbench}
ranks=""
threads=""
epochs=3
repeat=3
data=""
deterministic=0
oversubscribe=0
collect=""

while (($#)); do
    case $1 in
    --bin | --ranks | --threads | --epochs | --repeat | --data | --collect)
        (($# >= 2)) || die "$1 needs a value"
        case $1 in
        --bin) bin=$2 ;;
        --ranks) ranks=$2 ;;
        --threads) threads=$2 ;;
        --epochs) epochs=$2 ;;
        --repeat) repeat=$2 ;;
        --data) data=$2 ;;
        --collect) collect=$2 ;;
        esac
        shift 2
        ;;
    --deterministic)
        deterministic=1
        shift
        ;;
    --oversubscribe)
        oversubscribe=1
        shift
        ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        usage >&2
        exit 2
        ;;
    esac
done

command -v python3 >/dev/null || die "python3 is needed to parse the JSON and take medians"

is_count() { [[ $1 =~ ^[1-9][0-9]*$ ]]; }

# Prints the table. $1: the title; $2: the collect folder (read DIR/scaling_P*.json) or
# $3: a file of "ranks threads samples_per_s comm_fraction" lines.
table() {
    python3 - "$@" <<'PY'
import glob, json, math, os, statistics, sys

title, collect, measured = sys.argv[1], sys.argv[2], sys.argv[3]
runs = {}  # (ranks, threads) -> list of (samples_per_s, comm_fraction)
bad = 0
if collect:
    files = sorted(glob.glob(os.path.join(collect, "scaling_P*.json")))
    if not files:
        sys.exit(f"bench/scaling.sh: no scaling_P*.json in {collect}")
    for path in files:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    r = json.loads(line)
                    key = (int(r["ranks"]), int(r["threads"]))
                    rec = (float(r["samples_per_s"]), float(r["comm_fraction"]))
                except (ValueError, KeyError, TypeError) as e:
                    print(f"bench/scaling.sh: {path}:{n}: skipped ({e})", file=sys.stderr)
                    bad += 1
                    continue
                runs.setdefault(key, []).append(rec)
else:
    for line in open(measured):
        p, t, sps, comm = line.split()
        runs.setdefault((int(p), int(t)), []).append((float(sps), float(comm)))

print(title)
print()
if not runs:
    print("(no successful runs)")
    sys.exit(1)

rows = []
for (p, t), recs in runs.items():
    sps = statistics.median(r[0] for r in recs)
    comm = statistics.median(r[1] for r in recs)
    rows.append((p * t, p, t, sps, comm, len(recs)))
rows.sort()
# The reference is 1 rank x 1 thread; a cluster series without it (e.g. 4 threads per rank)
# is compared with its smallest configuration instead, and the header says so.
ref = next((r for r in rows if r[1] == 1 and r[2] == 1), rows[0])
ref_cores, ref_sps = ref[0], ref[3]
ref_name = f"{ref[1]}x{ref[2]}"
print(f"| ranks | threads | cores | samples/s (median) | speed-up vs {ref_name} "
      "| parallel efficiency | comm share |")
print("|---:|---:|---:|---:|---:|---:|---:|")
for cores, p, t, sps, comm, n in rows:
    speedup = sps / ref_sps if ref_sps > 0 else math.nan
    eff = speedup * ref_cores / cores
    print(f"| {p} | {t} | {cores} | {sps:,.0f} | {speedup:.2f} | {eff:.0%} | {comm:.1%} |")
counts = sorted({r[5] for r in rows})
print()
print(f"Medians of {'/'.join(map(str, counts))} run(s) per row; efficiency = speed-up x "
      f"{ref_cores} / cores; comm share = median fraction of training time in MPI calls.")
sys.exit(1 if bad else 0)
PY
}

if [[ -n $collect ]]; then
    [[ -d $collect ]] || die "--collect: no folder $collect"
    title="Strong scaling collected from $collect ($(date '+%Y-%m-%d %H:%M %Z'))"
    if [[ -s $collect/scaling_machine.txt ]]; then
        title+=$'\n\n'"Machine (from scaling_machine.txt):"$'\n'
        title+=$(sort -u "$collect/scaling_machine.txt" | sed 's/^/    /')
    fi
    table "$title" "$collect" ""
    exit
fi

[[ -x $bin ]] || die "no executable $bin (build it: cmake -S . -B build && cmake --build build -j2; or pass --bin)"
command -v mpirun >/dev/null || die "mpirun not found"
is_count "$epochs" || die "--epochs must be a positive integer"
is_count "$repeat" || die "--repeat must be a positive integer"

cores=$(nproc)
if [[ -z $ranks || -z $threads ]]; then
    pow2=""
    for ((n = 1; n <= cores; n *= 2)); do pow2+="$n "; done
    [[ -n $ranks ]] || ranks=$pow2
    [[ -n $threads ]] || threads=$pow2
fi
for n in $ranks $threads; do is_count "$n" || die "rank and thread counts must be positive integers, not '$n'"; done

# The combinations to run: the requested grid within the cores, plus the reference 1x1 and
# the hybrid pair 1x2 / 2x1 (same cores, ranks vs threads) when the cores allow.
declare -A seen=()
combos=()
add() {
    local p=$1 t=$2
    ((p * t <= cores || oversubscribe)) || return 0
    [[ -z ${seen[$p.$t]:-} ]] || return 0
    seen[$p.$t]=1
    combos+=("$p $t")
}
add 1 1
add 1 2
add 2 1
for p in $ranks; do
    for t in $threads; do add "$p" "$t"; done
done
# Ordered by cores, then ranks.
mapfile -t combos < <(printf '%s\n' "${combos[@]}" | awk '{print $1 * $2, $1, $2}' | sort -n -k1,1 -k2,2 | cut -d' ' -f2-)

mpi=(mpirun --bind-to none)
[[ $(id -u) -eq 0 ]] && mpi+=(--allow-run-as-root)
((oversubscribe)) && mpi+=(--oversubscribe)
# Open MPI counts physical cores as slots; with SMT, nproc counts hardware threads.
smt=$(lscpu 2>/dev/null | awk -F: '/^Thread\(s\) per core/ {gsub(/[ \t]/, "", $2); print $2}')
if [[ $smt =~ ^[0-9]+$ ]] && ((smt > 1)); then mpi+=(--use-hwthread-cpus); fi
train=(train --epochs "$epochs" --json --quiet --method fixed:0.5)
[[ -n $data ]] && train+=(--data "$data")
((deterministic)) && train+=(--deterministic)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/runs"
failed=0
total=$((${#combos[@]} * repeat))
i=0
for c in "${combos[@]}"; do
    read -r p t <<<"$c"
    for ((r = 1; r <= repeat; r++)); do
        i=$((i + 1))
        printf 'bench/scaling.sh: [%d/%d] %d rank(s) x %d thread(s), run %d\n' "$i" "$total" "$p" "$t" "$r" >&2
        if "${mpi[@]}" -np "$p" env OMP_NUM_THREADS="$t" "$bin" "${train[@]}" >"$tmp/out" 2>"$tmp/err" &&
            line=$(python3 -c '
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
r = objs[-1]
print(r["ranks"], r["threads"], r["samples_per_s"], r["comm_fraction"])' "$tmp/out" 2>>"$tmp/err"); then
            read -r jp jt _ <<<"$line"
            if [[ $jp != "$p" || $jt != "$t" ]]; then
                echo "bench/scaling.sh: warning: asked for ${p}x$t, mtlbench reports ${jp}x$jt" >&2
            fi
            echo "$line" >>"$tmp/runs"
        else
            failed=$((failed + 1))
            echo "bench/scaling.sh: run failed (${p}x$t):" >&2
            # mtlbench's own messages, else the end of mpirun's.
            grep -h '^mtlbench' "$tmp/err" >&2 || tail -n 8 "$tmp/err" >&2 || true
            # The very first run failing (bad binary, data or MPI setup) would fail them all.
            ((i > 1)) || { echo "bench/scaling.sh: stopping: the first run failed" >&2; exit 1; }
        fi
    done
done

model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ {sub(/^[ \t]+/, "", $2); print $2; exit}')
title="Machine: ${model:-unknown CPU}, nproc $cores; $(date '+%Y-%m-%d %H:%M %Z')"
title+=$'\n'"Each row: mpirun -np P --bind-to none env OMP_NUM_THREADS=T mtlbench ${train[*]}, $repeat run(s)"
rc=0
table "$title" "" "$tmp/runs" || rc=$?
[[ -s $tmp/runs ]] || rc=1
((failed == 0)) || {
    echo "bench/scaling.sh: $failed run(s) failed" >&2
    rc=1
}
exit "$rc"
