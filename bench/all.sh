#!/usr/bin/env bash
# make bench: every scenario of issue 14's table, the contenders of each interleaved run by run,
# and one markdown table of the medians and ratios, with each row's goal and whether it is met.
#   migrate   PostgreSQL up of 100, 300, 1,000 migrations vs goose, dbmate, golang-migrate and
#             the psql floor; status with 5,000 applied vs goose and dbmate
#   down      one-shot down, 100 steps, a process each: CPU and wall per step vs goose
#   seed      PostgreSQL seed of 100,000 and 1,000,000 rows (two shapes) vs psql \copy
#   ch-up     ClickHouse up of 100 migrations vs golang-migrate and clickhouse-client --multiquery
#   ch-seed   ClickHouse seed of 100,000 and 1,000,000 rows vs clickhouse-client FORMAT CSV
#   verify    migrate verify of the shipped migrations vs up (reported)
#   start     brokle --help cold start
# The peer tools are built through the Go module proxy into a cache the first time
# (scripts/peer-tools.sh). Each scenario's own tables go to $BENCH_LOG (a temporary file unless
# set; BENCH_VERBOSE=1 also shows them as they come). Settings:
#   BENCH_QUICK=1        smoke sizes, one run each (make bench-quick)
#   BENCH_ONLY="a b"     these scenarios only
#   RUNS=N               runs per contender (5; 1 with BENCH_QUICK)
#   BEFORE_BIN=PATH      an older brokle, timed in the same runs (rows marked before/after)
# Exit 1 when a scenario fails (the table still lists the others).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
scenarios=${BENCH_ONLY:-migrate down seed ch-up ch-seed verify start}
BIN=${BROKLE_BIN:-bin/brokle}
[ -x "$BIN" ] || { echo "bench: no brokle at $BIN (make build)" >&2; exit 2; }
export BENCH_ROWS=${BENCH_ROWS:-$(mktemp)}
log=${BENCH_LOG:-$(mktemp)}
: > "$BENCH_ROWS"
echo "bench: peer tools (built the first time, then cached)" >&2
bash scripts/peer-tools.sh goose migrate dbmate > /dev/null
ch_ok=
if clickhouse-client --host "${BROKLE_BENCH_CLICKHOUSE_HOST:-127.0.0.1}" --query 'SELECT 1' > /dev/null 2>&1; then ch_ok=1; fi

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=()
for s in $scenarios; do
  case $s in ch-*) if [ -z "$ch_ok" ]; then
    row "bench/$s.sh" "skipped" "no ClickHouse server answers" "-" "-" "not run"
    echo "bench: $s skipped (no ClickHouse server)" >&2; continue
  fi ;; esac
  echo "bench: $s ..." >&2
  t0=$(now)
  echo "=== bench/$s.sh" >> "$log"
  if [ -n "${BENCH_VERBOSE:-}" ]; then
    bash "bench/$s.sh" 2>&1 | tee -a "$log" >&2 && ok=0 || ok=$?
  else
    bash "bench/$s.sh" >> "$log" 2>&1 && ok=0 || ok=$?
  fi
  if [ "$ok" != 0 ]; then
    failed+=("$s")
    row "bench/$s.sh" "**failed**" "see $log" "-" "-" "**failed**"
    echo "bench: $s FAILED; the end of its output:" >&2
    sed -n '/^=== bench\/'"$s"'.sh$/,$p' "$log" | tail -20 >&2
  fi
  echo "bench: $s done in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s" >&2
done

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
pg=$(psql "$PGADMIN" -Atc 'SHOW server_version' 2>/dev/null || echo '?')
ch=$([ -n "$ch_ok" ] && clickhouse-client --query 'SELECT version()' 2>/dev/null || echo 'none')
rev=$(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- 2>/dev/null || echo '+changes')
echo
printf '`make bench%s`, %s, brokle %s%s; %d cores (%s), %s; PostgreSQL %s, ClickHouse %s; medians of %s interleaved runs; load average %s before, %s after\n' \
  "$([ -n "$QUICK" ] && echo ' (quick)')" "$started" "$rev" "$([ -n "${BEFORE_BIN:-}" ] && echo ", before = $BEFORE_BIN")" \
  "$(nproc)" "$cpu" "$mem" "$pg" "$ch" "$RUNS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo '| work | brokle | reference, same run | ratio | goal | met |'
echo '| --- | --- | --- | --- | --- | --- |'
awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6 }' "$BENCH_ROWS"
echo
echo "Each scenario's own tables: $log"
if [ ${#failed[@]} -gt 0 ]; then echo "bench: failed: ${failed[*]}" >&2; exit 1; fi
