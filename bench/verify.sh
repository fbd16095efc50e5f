#!/usr/bin/env bash
# `brokle migrate verify` of the shipped migrations: the 12 PostgreSQL ones in scratch databases
# on the local server, the 4 ClickHouse ones on the embedded engine (chdb:memory), beside a plain
# `migrate up` of the same set into a fresh database, the floor of one pass (verify runs each
# migration Up, Down, Up and reads the schema four times). Medians of $RUNS runs.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
BIN=${BROKLE_BIN:-bin/brokle}
export BROKLE_LIBCHDB=${BROKLE_LIBCHDB:-$(bash scripts/libchdb.sh)}
work=$(mktemp -d)
trap 'rm -rf "$work"; drop_db ${BENCH_DB_PREFIX:-brokle_bench}_verify' EXIT
export BROKLE_POSTGRES_URL=$(fresh_db ${BENCH_DB_PREFIX:-brokle_bench}_verify)
timeit() { local f=$1; shift; local t0 t1; t0=$(now); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; t1=$(now); echo "$t1 - $t0" | bc -l >> "$f"; }
for _ in $(seq "$RUNS"); do
  timeit "$work/pg_verify" "$BIN" migrate verify --db postgres
  export BROKLE_POSTGRES_URL=$(fresh_db ${BENCH_DB_PREFIX:-brokle_bench}_verify)
  timeit "$work/pg_up" "$BIN" migrate up --db postgres
  timeit "$work/ch_verify" env BROKLE_POSTGRES_URL= "$BIN" migrate verify --db clickhouse --dev-url chdb:memory
  timeit "$work/ch_up" env BROKLE_POSTGRES_URL= BROKLE_CLICKHOUSE_URL=chdb:memory "$BIN" migrate up --db clickhouse
done
pv=$(median < "$work/pg_verify"); pu=$(median < "$work/pg_up"); cv=$(median < "$work/ch_verify"); cu=$(median < "$work/ch_up")
printf 'migrate verify of the shipped migrations (median of %d runs)\n' "$RUNS"
printf '  postgres   12 migrations: verify %6.2f s   up %6.2f s   ratio %sx\n' "$pv" "$pu" "$(ratio "$pv" "$pu")"
printf '  clickhouse  4 migrations: verify %6.2f s   up %6.2f s   ratio %sx   (embedded engine; its start-up is in both)\n' "$cv" "$cu" "$(ratio "$cv" "$cu")"
row "\`migrate verify\`, the 12 shipped PostgreSQL migrations" "$(secs "$pv")" "\`up\` of the same $(secs "$pu")" "$(ratio "$pv" "$pu")x" "reported (three passes and four schema reads a migration)" "-"
row "\`migrate verify\`, the 4 shipped ClickHouse migrations, embedded engine" "$(secs "$cv")" "\`up\` of the same $(secs "$cu")" "$(ratio "$cv" "$cu")x" "reported" "-"
