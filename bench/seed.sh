#!/usr/bin/env bash
# Seeding 100,000 rows: brokle seed (YAML -> COPY into a temporary table -> one INSERT ... ON
# CONFLICT) against the floor, psql \copy of the same rows from CSV into the same table.
# Prints the median of $RUNS runs of each and the ratio of their rows/s. Target: >= 0.5x.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROWS=${ROWS:-100000}
BIN=${BROKLE_BIN:-bin/brokle}
work=$(mktemp -d)
trap 'rm -rf "$work"; drop_db brokle_bench_seed' EXIT

awk -v n="$ROWS" 'BEGIN { print "users:"; for (i = 0; i < n; i++) printf "  - id: 01JDBENCH%017d\n    email: user%d@example.com\n    first_name: User\n    last_name: N%d\n    status: active\n", i, i, i }' > "$work/users.yaml"
awk -v n="$ROWS" 'BEGIN { for (i = 0; i < n; i++) printf "01JDBENCH%017d,user%d@example.com,User,N%d,active\n", i, i, i }' > "$work/users.csv"

url=$(fresh_db brokle_bench_seed)
BROKLE_POSTGRES_URL=$url "$BIN" migrate up --db postgres >/dev/null
for i in $(seq "$RUNS"); do
  psql "$url" -qc "TRUNCATE users CASCADE" >/dev/null
  t0=$(now); BROKLE_POSTGRES_URL=$url "$BIN" seed --file "$work/users.yaml" --db postgres >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$work/brokle.txt"
  psql "$url" -qc "TRUNCATE users CASCADE" >/dev/null
  t0=$(now); psql "$url" -qc "\\copy users (id, email, first_name, last_name, status) FROM '$work/users.csv' CSV" >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$work/copy.txt"
done
[ "$(psql "$url" -Atc 'SELECT count(*) FROM users')" = "$ROWS" ] || { echo "row count is off" >&2; exit 1; }
b=$(median < "$work/brokle.txt"); c=$(median < "$work/copy.txt")
brs=$(awk -v n="$ROWS" -v t="$b" 'BEGIN { printf "%.0f", n / t }')
crs=$(awk -v n="$ROWS" -v t="$c" 'BEGIN { printf "%.0f", n / t }')
printf 'seed %d rows (median of %d)\n' "$ROWS" "$RUNS"
printf '  brokle seed   %8.3fs  %9s rows/s\n' "$b" "$brs"
printf '  psql \\copy    %8.3fs  %9s rows/s\n' "$c" "$crs"
printf '  ratio brokle/\\copy (rows/s): %sx   (target >= 0.5x)\n' "$(ratio "$brs" "$crs")"
