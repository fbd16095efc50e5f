#!/usr/bin/env bash
# ClickHouse seeding against the floor, on the CI server (clickhouse-client's defaults, database
# brokle_bench_chseed): `brokle seed --db clickhouse` of a YAML file against
# `clickhouse-client --query "INSERT INTO events FORMAT CSV" < file` of the same rows, interleaved
# (the order alternates run by run), each run starting from an empty table, at SIZES rows (100,000
# and 1,000,000). Set BEFORE_BIN to a second brokle build to time it in the same runs. Prints the
# medians of $RUNS runs, the ratio of rows/s (brokle / client; target >= 0.5x) and brokle's peak
# RSS. Then a correctness case: 40,000 rows (one key query of every key would pass the stock
# max_query_size) written, run again (0 inserted), and checked against the client's rows.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZES=${SIZES:-$([ -n "$QUICK" ] && echo 2000 || echo "100000 1000000")}
BIN=${BROKLE_BIN:-bin/brokle}
BEFORE=${BEFORE_BIN:-}
DB=${BENCH_CH_DB:-${BENCH_DB_PREFIX:-brokle_bench}_chseed}
CH=${BROKLE_BENCH_CLICKHOUSE_HOST:-127.0.0.1}
URL="clickhouse://default@$CH:9000/$DB"
TARGET=0.5
chq() { clickhouse-client --host "$CH" --query "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"; chq "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
chq "DROP DATABASE IF EXISTS $DB"
chq "CREATE DATABASE $DB"
chq "CREATE TABLE $DB.events (id String, project_id String, name String, ts DateTime, value Float64, n UInt32) ENGINE = MergeTree ORDER BY id"

# gen N: $work/N.yaml (a clickhouse: section) and the same rows as $work/N.csv
gen() {
  LC_ALL=C awk -v n="$1" -v y="$work/$1.yaml" -v c="$work/$1.csv" 'BEGIN {
    print "clickhouse:\n  events:" > y
    for (i = 0; i < n; i++) {
      ts = sprintf("2026-11-%02d %02d:%02d:%02d", 1 + int(i / 86400) % 28, int(i / 3600) % 24, int(i / 60) % 60, i % 60)
      printf "    - id: ev-%09d\n      project_id: p%d\n      name: event %d\n      ts: '\''%s'\''\n      value: %d.5\n      n: %d\n", i, i % 10, i, ts, i % 1000, i % 7 > y
      printf "ev-%09d,p%d,event %d,%s,%d.5,%d\n", i, i % 10, i, ts, i % 1000, i % 7 > c
    }
  }'
}
checksum() { chq "SELECT count(), sum(cityHash64(id, project_id, name, ts, value, n)) FROM $DB.events"; }
stats() { local m; m=$(median < "$1"); sort -g "$1" | awk -v m="$m" 'NR == 1 {lo = $1} {hi = $1} END {printf "%s %.0f%%", m, 100 * (hi - lo) / m}'; }
run_brokle() { # BIN FILE-OF-TIMES FILE-OF-RSS N
  chq "TRUNCATE TABLE $DB.events"
  local t0 t1; t0=$(now)
  BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL=$URL /usr/bin/time -f %M -o "$work/rss1" "$1" seed --file "$work/$4.yaml" --db clickhouse >/dev/null
  t1=$(now); echo "$t1 - $t0" | bc -l >> "$2"; cat "$work/rss1" >> "$3"
}
run_client() {
  chq "TRUNCATE TABLE $DB.events"
  local t0 t1; t0=$(now)
  clickhouse-client --host "$CH" --query "INSERT INTO $DB.events FORMAT CSV" < "$work/$1.csv"
  t1=$(now); echo "$t1 - $t0" | bc -l >> "$work/c"
}
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for n in $SIZES; do
  gen "$n"
  : > "$work/b"; : > "$work/c"; : > "$work/rss"; : > "$work/o"; : > "$work/orss"
  for i in $(seq "$RUNS"); do
    if [ $((i % 2)) = 1 ]; then run_brokle "$BIN" "$work/b" "$work/rss" "$n"; run_client "$n"; else run_client "$n"; run_brokle "$BIN" "$work/b" "$work/rss" "$n"; fi
    [ -n "$BEFORE" ] && run_brokle "$BEFORE" "$work/o" "$work/orss" "$n"
  done
  run_brokle "$BIN" "$work/b" "$work/rss" "$n"; sum_b=$(checksum); sed -i '$d' "$work/b"
  run_client "$n"; sum_c=$(checksum); sed -i '$d' "$work/c"
  if [ "$sum_b" != "$sum_c" ]; then echo "$n rows: brokle and clickhouse-client left different rows: $sum_b vs $sum_c" >&2; exit 1; fi
  read -r b bs <<< "$(stats "$work/b")"; read -r c cs <<< "$(stats "$work/c")"
  before="-"; bratio="-"
  if [ -n "$BEFORE" ]; then read -r o _ <<< "$(stats "$work/o")"; before=$(printf '%.3f (%d MiB)' "$o" $(($(sort -g "$work/orss" | tail -1) / 1024))); bratio="$(ratio "$c" "$o")x"; fi
  rss=$(($(sort -g "$work/rss" | tail -1) / 1024))
  row "ClickHouse seed, $n rows" "$(secs "$b"), $rss MiB" "clickhouse-client FORMAT CSV $(secs "$c")" "$(ratio "$c" "$b")x rows/s" ">= ${TARGET}x" "$(at_least "$(ratio "$c" "$b")" "$TARGET")"
  if [ -n "$BEFORE" ]; then row "ClickHouse seed, $n rows" "$(secs "$b"), $rss MiB" "brokle before $(secs "$o")" "$(ratio "$o" "$b")x rows/s" "before/after" "-"; fi
  rows+=("$(printf '| %s | %.3f | %.3f | %sx | %d MiB | %s / %s | %s | %s | >= %sx |' "$n" "$b" "$c" "$(ratio "$c" "$b")" \
    $(($(sort -g "$work/rss" | tail -1) / 1024)) "$bs" "$cs" "$before" "$bratio" "$TARGET")")
  rm -f "$work/$n.yaml" "$work/$n.csv"
done
printf 'ClickHouse seed: brokle vs clickhouse-client FORMAT CSV, medians of %d interleaved runs (load average %s before, %s after, %d cores)\n' \
  "$RUNS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| rows | brokle s | client s | ratio (rows/s) | brokle peak RSS | spread brokle / client | before s (RSS) | before ratio | target |'
echo '| --- | --- | --- | --- | --- | --- | --- | --- | --- |'
printf '%s\n' "${rows[@]}"

# Correctness at 40,000 rows: written whole, a second run adds nothing (not in a quick run).
[ -z "$QUICK" ] || exit 0
gen 40000
chq "TRUNCATE TABLE $DB.events"
out1=$(BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL=$URL "$BIN" seed --file "$work/40000.yaml" --db clickhouse 2>&1) || { echo "40,000 rows: brokle seed failed: $out1" >&2; exit 1; }
out2=$(BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL=$URL "$BIN" seed --file "$work/40000.yaml" --db clickhouse 2>&1) || { echo "40,000 rows, second run failed: $out2" >&2; exit 1; }
sum_b=$(checksum); chq "TRUNCATE TABLE $DB.events"; clickhouse-client --host "$CH" --query "INSERT INTO $DB.events FORMAT CSV" < "$work/40000.csv"; sum_c=$(checksum)
grep -q '40000 inserted' <<< "$out1" && grep -q '0 inserted, 40000 skipped' <<< "$out2" && [ "$sum_b" = "$sum_c" ] \
  || { echo "40,000 rows: wrong result: $out1 / $out2 / $sum_b vs $sum_c" >&2; exit 1; }
echo "40,000 rows: written whole, the second run inserted nothing, the same rows as clickhouse-client: ok"
row "ClickHouse seed, 40,000 rows, run twice, stock server settings" "written, then 0 inserted" "the rows clickhouse-client writes" "same rows" "works at any size" "met"
