#!/usr/bin/env bash
# ClickHouse `migrate up` of $MIGRATIONS (100) one-statement migrations (a MergeTree table each),
# on the CI server, a fresh database per run, interleaved:
#   brokle           `brokle migrate up --db clickhouse --dir` (no PostgreSQL: ClickHouse's own lock)
#   golang-migrate   v4 on the same SQL as .up.sql/.down.sql pairs (its TinyLog history)
#   floor            the same statements concatenated, one `clickhouse-client --multiquery`
# Set BEFORE_BIN to a second brokle build to time it in the same runs. With libchdb present
# (BROKLE_LIBCHDB), brokle also runs on the embedded engine (chdb://DIR, a fresh folder per run),
# against its floor: the same statements in one libchdb session (bench/chdbfloor).
# Targets: brokle <= 1.3x the floor and <= 1.0x golang-migrate.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${MIGRATIONS:-$([ -n "$QUICK" ] && echo 10 || echo 100)}
BIN=${BROKLE_BIN:-bin/brokle}
BEFORE=${BEFORE_BIN:-}
peers migrate
MIGRATE=$migrate
DB=${BENCH_CH_DB:-${BENCH_DB_PREFIX:-brokle_bench}_chup}
CH=${BROKLE_BENCH_CLICKHOUSE_HOST:-127.0.0.1}
PORT=${BROKLE_BENCH_CLICKHOUSE_PORT:-9000}
chq() { clickhouse-client --host "$CH" --port "$PORT" --query "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"; chq "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true' EXIT
fresh() { chq "DROP DATABASE IF EXISTS $DB"; chq "CREATE DATABASE $DB"; }
mkdir -p "$work/brokle" "$work/gm"
: > "$work/floor.sql"
# floorh.sql: the floor with the history brokle keeps, the same DDL plus, after each, one row
# into a table of the history's shape (MergeTree, its ten columns): what a migration costs at
# the least once its record is written where a crash or a replica cannot lose it.
echo "CREATE TABLE IF NOT EXISTS h (version_id Int64, is_applied UInt8, dirty UInt8, tstamp DateTime DEFAULT now(), applied_by String, duration_ms Float64, checksum String, seq UInt64, event String DEFAULT '', note String DEFAULT '') ENGINE = MergeTree ORDER BY (version_id, seq);" > "$work/floorh.sql"
for i in $(seq 1 "$N"); do
  v=$(printf %06d "$i")
  up="CREATE TABLE IF NOT EXISTS t$i (id UInt64, name String) ENGINE = MergeTree ORDER BY id;"
  printf -- '-- +migrate Up\n%s\n-- +migrate Down\nDROP TABLE IF EXISTS t%d;\n' "$up" "$i" > "$work/brokle/${v}_t$i.sql"
  echo "$up" > "$work/gm/${v}_t$i.up.sql"; echo "DROP TABLE IF EXISTS t$i;" > "$work/gm/${v}_t$i.down.sql"
  echo "$up" >> "$work/floor.sql"
  printf '%s\nINSERT INTO h (version_id, is_applied, dirty, applied_by, duration_ms, checksum, seq) VALUES (%d, 1, 0, '"'bench@host'"', 1.5, '"'%064d'"', %d);\n' "$up" "$i" "$i" "$i" >> "$work/floorh.sql"
done
# timeit FILE CMD...: appends the seconds CMD took to FILE; CMD must succeed
timeit() { local f=$1; shift; local t0 t1; t0=$(now); "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }; t1=$(now); echo "$t1 - $t0" | bc -l >> "$f"; }
tables() { [ "$(chq "SELECT count() FROM system.tables WHERE database = '$DB' AND name LIKE 't%'")" = "$N" ] || { echo "$1 did not make $N tables" >&2; exit 1; }; }
floor() { clickhouse-client --host "$CH" --port "$PORT" -d "$DB" --multiquery < "$work/floor.sql"; }
floorh() { clickhouse-client --host "$CH" --port "$PORT" -d "$DB" --multiquery < "$work/floorh.sql"; }
brokle_up() { env BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL="clickhouse://default@$CH:$PORT/$DB" "$1" migrate up --db clickhouse --dir "$work/brokle"; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$RUNS"); do
  fresh; timeit "$work/b" brokle_up "$BIN"; tables brokle
  fresh; timeit "$work/g" "$MIGRATE" -path "$work/gm" -database "clickhouse://$CH:$PORT?database=$DB&x-multi-statement=false" up; tables golang-migrate
  fresh; timeit "$work/f" floor; tables floor
  fresh; timeit "$work/fh" floorh; tables "floor with history"
  if [ -n "$BEFORE" ]; then fresh; timeit "$work/o" brokle_up "$BEFORE"; tables before; fi
done
b=$(median < "$work/b"); g=$(median < "$work/g"); f=$(median < "$work/f"); fh=$(median < "$work/fh")
printf 'ClickHouse migrate up, %d migrations, server %s, medians of %d interleaved runs (load average %s before, %s after, %d cores)\n' \
  "$N" "$(chq 'SELECT version()')" "$RUNS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| contender | median s | / floor | / golang-migrate | target |'
echo '| --- | --- | --- | --- | --- |'
printf '| brokle | %.3f | %sx | %sx | <= 1.3x floor, <= 1.0x golang-migrate |\n' "$b" "$(ratio "$b" "$f")" "$(ratio "$b" "$g")"
if [ -n "$BEFORE" ]; then o=$(median < "$work/o"); printf '| brokle before | %.3f | %sx | %sx | |\n' "$o" "$(ratio "$o" "$f")" "$(ratio "$o" "$g")"; fi
work_name="ClickHouse \`up\`, $N migrations, server $(chq 'SELECT version()')"
row "$work_name" "$(secs "$b")" "clickhouse-client --multiquery $(secs "$f")" "$(ratio "$b" "$f")x" "<= 1.3x" "$(at_most "$(ratio "$b" "$f")" 1.3)"
row "$work_name" "$(secs "$b")" "golang-migrate v4 $(secs "$g")" "$(ratio "$b" "$g")x" "<= 1.0x" "$(at_most "$(ratio "$b" "$g")" 1.0)"
row "$work_name" "$(secs "$b")" "the same DDL and one history-shaped insert a migration, clickhouse-client --multiquery $(secs "$fh")" "$(ratio "$b" "$fh")x" "<= 1.3x" "$(at_most "$(ratio "$b" "$fh")" 1.3)"
if [ -n "$BEFORE" ]; then row "$work_name" "$(secs "$b")" "brokle before $(secs "$o")" "$(ratio "$b" "$o")x" "before/after" "-"; fi
printf '| golang-migrate | %.3f | %sx | 1.00x | |\n| clickhouse-client --multiquery (floor) | %.3f | 1.00x | %sx | |\n' "$g" "$(ratio "$g" "$f")" "$f" "$(ratio "$f" "$g")"
printf '| the same DDL and a history-shaped insert a migration, clickhouse-client --multiquery | %.3f | %sx | %sx | |\n' "$fh" "$(ratio "$fh" "$f")" "$(ratio "$fh" "$g")"

LIB=${BROKLE_LIBCHDB:-}
if [ -n "$LIB" ] && [ -f "$LIB" ]; then
  # the embedded floor: the same statements in one libchdb session (bench/chdbfloor)
  go build -o "$work/chdbfloor" ./bench/chdbfloor
  for i in $(seq "$RUNS"); do
    rm -rf "$work/chdb"; timeit "$work/e" env BROKLE_LIBCHDB="$LIB" BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL="chdb://$work/chdb" "$BIN" migrate up --db clickhouse --dir "$work/brokle"
    rm -rf "$work/chdb"; timeit "$work/ef" env BROKLE_LIBCHDB="$LIB" "$work/chdbfloor" "$work/chdb" "$work/floor.sql"
    rm -rf "$work/chdb"; timeit "$work/efh" env BROKLE_LIBCHDB="$LIB" "$work/chdbfloor" "$work/chdb" "$work/floorh.sql"
    if [ -n "$BEFORE" ]; then rm -rf "$work/chdb"; timeit "$work/eo" env BROKLE_LIBCHDB="$LIB" BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL="chdb://$work/chdb" "$BEFORE" migrate up --db clickhouse --dir "$work/brokle"; fi
  done
  e=$(median < "$work/e"); ef=$(median < "$work/ef"); efh=$(median < "$work/efh")
  printf '\nembedded engine (libchdb %s), medians of %d interleaved runs\n' "$LIB" "$RUNS"
  echo '| contender | median s | / floor | target |'
  echo '| --- | --- | --- | --- |'
  printf '| brokle | %.3f | %sx | <= 1.3x floor |\n' "$e" "$(ratio "$e" "$ef")"
  if [ -n "$BEFORE" ]; then eo=$(median < "$work/eo"); printf '| brokle before | %.3f | %sx | |\n' "$eo" "$(ratio "$eo" "$ef")"; fi
  printf '| one libchdb session (floor) | %.3f | 1.00x | |\n' "$ef"
  printf '| one libchdb session, the same DDL and a history-shaped insert a migration | %.3f | %sx | |\n' "$efh" "$(ratio "$efh" "$ef")"
  row "ClickHouse \`up\`, $N migrations, embedded engine" "$(secs "$e")" "one libchdb session $(secs "$ef")" "$(ratio "$e" "$ef")x" "<= 1.3x" "$(at_most "$(ratio "$e" "$ef")" 1.3)"
  row "ClickHouse \`up\`, $N migrations, embedded engine" "$(secs "$e")" "the same DDL and one history-shaped insert a migration, one libchdb session $(secs "$efh")" "$(ratio "$e" "$efh")x" "<= 1.3x" "$(at_most "$(ratio "$e" "$efh")" 1.3)"
  if [ -n "$BEFORE" ]; then
    row "ClickHouse \`up\`, $N migrations, embedded engine" "$(secs "$e")" "brokle before $(secs "$eo")" "$(ratio "$e" "$eo")x" "before/after" "-"
  fi
else
  echo "embedded engine: skipped (set BROKLE_LIBCHDB to libchdb.so)"
fi
