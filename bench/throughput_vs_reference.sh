#!/usr/bin/env bash
# Training throughput of mtlbench next to the PyTorch reference implementation of the same
# protocol, measured in one run on one machine: the machine's FP32 FMA peak first
# (bench_fma_peak), then for each model (dcnn, cnn1d) mtlbench's bench_throughput and the
# reference, one after the other, same batch, same thread count, evaluation excluded. Prints
# samples/s, GFLOP/s, the fraction of the peak and the ratio mtlbench / reference.
# usage: bench/throughput_vs_reference.sh [--build DIR] [--ref PATH/torch_ref.py] [--data DIR]
#                                         [--epochs 3] [--ref-epochs 2] [--threads 1]
#                                         [--models dcnn,cnn1d]
# The reference needs Debian's python3-torch and python3-numpy (/usr/bin/python3); without
# them only mtlbench is measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$here/../build
ref=$here/../../shared/reference/torch_ref.py
data=$here/../datasets/cmapss
epochs=3
ref_epochs=2
threads=1
models=dcnn,cnn1d
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --ref) ref=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --ref-epochs) ref_epochs=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --models) models=$2; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for b in bench_throughput bench_fma_peak; do
  [ -x "$build/$b" ] || { echo "no $b in $build (cmake --build $build --target $b)" >&2; exit 2; }
done
have_ref=0
[ -f "$ref" ] && /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null && have_ref=1
json() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.readlines()[-1])[sys.argv[1]])' "$1"; }

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
peak=$(OMP_NUM_THREADS=1 "$build/bench_fma_peak" --json | json gflops)
echo "FP32 FMA peak, one thread: $peak GFLOP/s (bench_fma_peak)"
echo "FD001, method uw-so:1, batch 512, $threads thread(s); mtlbench: median of $epochs epochs after a warm-up epoch;"
echo "reference: mean over $ref_epochs epochs"
echo
echo "| model | implementation | samples/s | GFLOP/s | of peak ($threads thread) | mtlbench / reference |"
echo "|---|---|---|---|---|---|"
for model in ${models//,/ }; do
  out=$(OMP_NUM_THREADS=$threads "$build/bench_throughput" --data "$data" --model "$model" --threads "$threads" \
        --epochs "$epochs" --json)
  ours=$(json samples_per_s <<<"$out")
  flops=$(json flops_per_sample <<<"$out")
  row() { # row NAME SAMPLES_PER_S RATIO
    awk -v m="$model" -v n="$1" -v s="$2" -v f="$flops" -v p="$peak" -v t="$threads" -v r="$3" \
      'BEGIN { g = s * f / 1e9; printf "| %s | %s | %.0f | %.1f | %.0f %% | %s |\n", m, n, s, g, 100 * g / (p * t), r }'
  }
  if [ $have_ref = 1 ]; then
    theirs=$(OMP_NUM_THREADS=$threads /usr/bin/python3 "$ref" --data "$data" --model "$model" --method uw-so:1 \
               --epochs "$ref_epochs" --threads "$threads" --json --no-history | json throughput_samples_per_s)
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "**%.2fx**", a / b }')
    row mtlbench "$ours" "$ratio"
    row "PyTorch reference" "$theirs" ""
  else
    row mtlbench "$ours" "reference not measured (needs $ref and python3-torch)"
  fi
done
