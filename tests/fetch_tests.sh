#!/usr/bin/env bash
# datasets/fetch on the bundled data: fetch_tests.sh MTLBENCH SOURCE_DIR
#   - copies the 12 files of a folder into another and verifies them (12 x ok, exit 0);
#   - a canonical file in DEST is never replaced by a non-canonical one (a warning, exit 0);
#   - a damaged file in DEST is reported as differs by the verification (exit 1).
set -uo pipefail
bin=$1 src=$2
tmp=$(mktemp -d /tmp/mtlfetch.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
fetch() { "$src/datasets/fetch" --mtlbench "$bin" "$@"; }

out=$(fetch --from "$src/datasets/cmapss" --dest "$tmp/a" 2>&1) || { echo "$out"; fail "fetch --from the bundled folder"; }
[ "$(grep -c '^ok ' <<<"$out")" = 12 ] || { echo "$out"; fail "expected 12 x ok"; }
mkdir -p "$tmp/bad"
cp "$src/datasets/cmapss/RUL_FD002.txt" "$tmp/bad/"
echo 1 >>"$tmp/bad/RUL_FD002.txt"
out=$(fetch --from "$tmp/bad" --dest "$tmp/a" 2>&1) || { echo "$out"; fail "fetch of a non-canonical file over a canonical one"; }
grep -q "kept .*RUL_FD002.txt (canonical)" <<<"$out" || { echo "$out"; fail "no warning for the kept canonical file"; }
cmp -s "$src/datasets/cmapss/RUL_FD002.txt" "$tmp/a/RUL_FD002.txt" || fail "the canonical file was replaced"
printf 'x' >>"$tmp/a/test_FD004.txt"
out=$(fetch --dest "$tmp/a" 2>&1)
rc=$?
[ $rc = 1 ] || { echo "$out"; fail "a damaged file in DEST: exit $rc, expected 1"; }
grep -q '^differs *test_FD004.txt' <<<"$out" || { echo "$out"; fail "the damaged file is not named"; }
echo "fetch: 12 files copied and verified, a canonical file kept, a damaged one named"
