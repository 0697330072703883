#!/usr/bin/env bash
# Regenerates the README's tables of the committed reference results from their run files:
# every block between
#     <!-- BEGIN mtlbench report DIR -->
#     <!-- END mtlbench report DIR -->
# becomes the output of 'mtlbench report DIR' (DIR relative to the repository root), its
# headings two levels down and without the column legends, which the README explains.
#
# usage: results/readme-tables.sh [--check] [README]     (default README.md)
#   --check   change nothing; exit 1 when a block differs from what the runs give
# Environment: MTLBENCH (default build/mtlbench)
set -euo pipefail
check=0
[ "${1:-}" = --check ] && check=1 && shift
readme=${1:-README.md}
bin=${MTLBENCH:-build/mtlbench}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

block() { # block DIR: the report of DIR as it stands in the README
  local dir=$root/$1
  if ! ls "$dir"/runs/*.h5 >/dev/null 2>&1; then
    echo "(no runs in $1 yet)"
    return
  fi
  "$bin" report "$dir" 2>/dev/null |
    sed -e "s|^Results: $root/|Results: |" |
    awk '/^# mtlbench report$/ { next }
         /^_(Columns|Summary columns):/ { next }
         /^##/ { print "###" $0; next }
         { print }' |
    cat -s | sed -e '1{/^$/d}' -e '${/^$/d}'
}

out=$tmp/readme
: >"$out"
inside=
while IFS= read -r line || [ -n "$line" ]; do
  if [[ $line =~ ^\<\!--\ BEGIN\ mtlbench\ report\ ([^ ]+)\ --\>$ ]]; then
    inside=${BASH_REMATCH[1]}
    printf '%s\n\n' "$line" >>"$out"
    block "$inside" >>"$out"
    printf '\n' >>"$out"
    continue
  fi
  if [ -n "$inside" ]; then
    [ "$line" = "<!-- END mtlbench report $inside -->" ] || continue
    inside=
  fi
  printf '%s\n' "$line" >>"$out"
done <"$readme"
[ -z "$inside" ] || { echo "readme-tables: $readme: no END marker for $inside" >&2; exit 2; }
if cmp -s "$out" "$readme"; then
  echo "readme-tables: $readme is current"
  exit 0
fi
if [ $check = 1 ]; then
  diff "$readme" "$out" | head -40
  echo "readme-tables: $readme differs from the committed runs; run results/readme-tables.sh" >&2
  exit 1
fi
cp "$out" "$readme"
echo "readme-tables: $readme updated"
