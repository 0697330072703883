#!/usr/bin/env bash
# Training throughput of mtlbench next to the PyTorch reference implementation of the same
# protocol, measured in one run on one machine (one thread each, evaluation excluded).
# usage: bench/throughput_vs_reference.sh [--bench build/bench_throughput] [--ref PATH/torch_ref.py]
#                                         [--data DIR] [--epochs 5] [--threads 1]
# The reference needs Debian's python3-torch and python3-numpy (/usr/bin/python3); without
# them only mtlbench is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=$here/../build/bench_throughput
ref=$here/../../shared/reference/torch_ref.py
data=$here/../datasets/cmapss
epochs=5
threads=1
while [ $# -gt 0 ]; do
  case $1 in
    --bench) bench=$2; shift 2 ;;
    --ref) ref=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$bench" ] || { echo "no benchmark binary at $bench (build with cmake first)" >&2; exit 2; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "FD001, method uw-so:1, batch 512, $threads thread(s), $epochs epochs each"
ours=$(OMP_NUM_THREADS=$threads "$bench" --data "$data" --threads "$threads" --epochs "$epochs" --json |
       sed -n 's/.*"samples_per_s":\([0-9.]*\).*/\1/p')
echo "mtlbench:  $ours samples/s (median of $epochs epochs)"
if [ -f "$ref" ] && /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  theirs=$(OMP_NUM_THREADS=$threads /usr/bin/python3 "$ref" --data "$data" --method uw-so:1 --epochs "$epochs" \
             --threads "$threads" --json --no-history |
           /usr/bin/python3 -c 'import json,sys; print(round(json.load(sys.stdin)["throughput_samples_per_s"], 1))')
  echo "reference: $theirs samples/s (PyTorch, mean over $epochs epochs)"
  awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "ratio:     %.2fx\n", a / b }'
else
  echo "reference: not measured (needs $ref and python3-torch)"
fi
