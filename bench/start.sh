#!/usr/bin/env bash
# Cold start of `brokle --help` (median of 20 runs; target <= 15 ms) beside `true`, the floor of
# starting any process here, and the binary's size.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BIN=${BROKLE_BIN:-bin/brokle}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
for i in $(seq 20); do
  t0=$(now); "$BIN" --help >/dev/null; t1=$(now); echo "($t1 - $t0) * 1000" | bc -l >> "$work/brokle"
  t0=$(now); /bin/true; t1=$(now); echo "($t1 - $t0) * 1000" | bc -l >> "$work/true"
done
b=$(median < "$work/brokle"); t=$(median < "$work/true")
printf 'brokle --help cold start (median of 20)\n  brokle %6.1f ms   /bin/true %6.1f ms   ratio %sx   (target <= 15 ms)\n' "$b" "$t" "$(ratio "$b" "$t")"
printf 'binary size: %s MiB (%s)\n' "$(awk -v s="$(stat -c %s "$BIN")" 'BEGIN { printf "%.1f", s / 1048576 }')" "$BIN"
row "\`brokle --help\`, cold start (median of 20)" "$(printf '%.1f ms' "$b")" "/bin/true $(printf '%.1f ms' "$t")" "$(ratio "$b" "$t")x" "<= 15 ms" "$(awk -v b="$b" 'BEGIN { print (b <= 15) ? "met" : "**not met**" }')"
