#!/usr/bin/env bash
# Trains one recorded run again, as its record says, and checks that it ends with the same
# parameters bit for bit (param_digest). The record holds the configuration, the data digest,
# the ranks, the threads and the commit of the build; use a build of that commit on the
# same kind of processor (the default arithmetic is reproducible for the same build, the
# same ranks and any threads; with --deterministic, for any ranks).
#
# usage: results/recheck.sh RUN_FILE.h5 [RUN_ID]     (RUN_ID: default the file's only run,
#                                                      for a file under runs/ its name)
# Environment: MTLBENCH (default build/mtlbench), MPIEXEC (default "mpirun --oversubscribe
#              --bind-to none"), DATA (default: bundled)
# Exit status: 0 the same param_digest, 1 a different one, 2 bad usage or the run failed.
set -euo pipefail
file=${1:?usage: results/recheck.sh RUN_FILE.h5 [RUN_ID]}
id=${2:-$(basename "$file" .h5)}
bin=${MTLBENCH:-build/mtlbench}
read -r -a mpiexec <<<"${MPIEXEC:-mpirun --oversubscribe --bind-to none}"
attr() { # attr NAME: the run's attribute, unquoted; empty when it has none
  { h5dump -m %.17g -a "/runs/$id/$1" "$file" 2>/dev/null || true; } | sed -n 's/^ *(0): "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p'
}
digest=$(attr param_digest)
[ -n "$digest" ] || { echo "recheck: $file holds no run $id (give its run id)" >&2; exit 2; }
args=(train --quiet --json --subset "$(attr subset)" --method "$(attr method)" --seed "$(attr seed)"
  --model "$(attr model)" --protocol "$(attr protocol)" --norm "$(attr norm)" --norm-scope "$(attr norm_scope)"
  --epochs "$(attr epochs)" --window "$(attr window)" --batch "$(attr batch)" --lr "$(attr lr)"
  --dropout "$(attr dropout)" --val-frac "$(attr val_frac)" --patience "$(attr patience)" --lr-step "$(attr lr_step)")
[ "$(attr deterministic)" = 1 ] && args+=(--deterministic)
[ -n "${DATA:-}" ] && args+=(--data "$DATA")
ranks=$(attr ranks) threads=$(attr threads) git=$(attr git)
built=$("$bin" --version | sed -n 's/.*(\(.*\)).*/\1/p')
[ "$built" = "$git" ] || echo "recheck: warning: the run was trained by commit $git, this build is $built" >&2
echo "recheck: run $id, $ranks rank(s) x $threads thread(s): $bin ${args[*]}"
json=$(OMP_NUM_THREADS=$threads "${mpiexec[@]}" -np "$ranks" "$bin" "${args[@]}" --threads "$threads") || {
  echo "recheck: the run failed" >&2
  exit 2
}
got=$(sed -n 's/.*"param_digest": *"\([0-9a-f]*\)".*/\1/p' <<<"$json")
got_id=$(sed -n 's/.*"run_id": *"\([0-9a-f]*\)".*/\1/p' <<<"$json")
[ "$got_id" = "$id" ] || echo "recheck: warning: the rerun has run id $got_id (other data or configuration)" >&2
if [ "$got" = "$digest" ]; then
  echo "recheck: same param_digest $got"
else
  echo "recheck: param_digest $got, recorded $digest: DIFFERENT"
  exit 1
fi
