#!/usr/bin/env bash
# migrate up of 300 generated PostgreSQL migrations (a table, an index and a foreign key each),
# and status with 1,000 applied migrations, on fresh databases:
#   brokle               `brokle migrate up --dir` on the -- +migrate files
#   goose                the goose CLI (v3.29.0) on the same SQL in goose's format
#   psql floor           the same Up SQL, each file wrapped in BEGIN/COMMIT, concatenated
#                        beforehand and run by one `psql -f` session
# Prints the median of $RUNS runs of each and the ratios. Targets: up <= 1.0x goose and <= 1.3x
# the floor; status <= 1.0x goose.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
N=${MIGRATIONS:-300}
NSTATUS=${STATUS_MIGRATIONS:-1000}
BIN=${BROKLE_BIN:-bin/brokle}
GOOSE=${GOOSE_BIN:-$(go env GOPATH)/bin/goose}
[ -x "$GOOSE" ] || GOFLAGS= go install github.com/pressly/goose/v3/cmd/goose@v3.29.0
work=$(mktemp -d)
trap 'rm -rf "$work"; drop_db brokle_bench_up; drop_db brokle_bench_st_b; drop_db brokle_bench_st_g' EXIT

# gen DIR N: N migrations in both formats, and the floor's single file
gen() {
  local dir=$1 n=$2
  mkdir -p "$dir/brokle" "$dir/goose"
  : > "$dir/floor.sql"
  for i in $(seq 1 "$n"); do
    local up fk="" v
    v=$(printf %06d "$i")
    [ "$i" -gt 1 ] && fk=", parent_id bigint REFERENCES t$((i - 1)) (id)"
    up="CREATE TABLE t$i (id bigint PRIMARY KEY, name text NOT NULL$fk);
CREATE INDEX t${i}_name_idx ON t$i (name);"
    printf -- '-- +migrate Up\n%s\n-- +migrate Down\nDROP TABLE t%d;\n' "$up" "$i" > "$dir/brokle/${v}_t$i.sql"
    printf -- '-- +goose Up\n%s\n-- +goose Down\nDROP TABLE t%d;\n' "$up" "$i" > "$dir/goose/${v}_t$i.sql"
    printf 'BEGIN;\n%s\nCOMMIT;\n' "$up" >> "$dir/floor.sql"
  done
}

# timeit FILE CMD...: appends the seconds CMD took to FILE
timeit() { local f=$1; shift; local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l >> "$f"; }

gen "$work/up" "$N"
for i in $(seq "$RUNS"); do
  url=$(fresh_db brokle_bench_up)
  timeit "$work/brokle_up" env BROKLE_POSTGRES_URL="$url" "$BIN" migrate up --db postgres --dir "$work/up/brokle"
  url=$(fresh_db brokle_bench_up)
  timeit "$work/goose_up" "$GOOSE" -dir "$work/up/goose" postgres "$url" up
  url=$(fresh_db brokle_bench_up)
  timeit "$work/floor_up" psql "$url" -q -v ON_ERROR_STOP=1 -f "$work/up/floor.sql"
done
b=$(median < "$work/brokle_up"); g=$(median < "$work/goose_up"); f=$(median < "$work/floor_up")
for c in brokle_up goose_up floor_up; do printf '  samples %-10s %s\n' "$c" "$(tr '\n' ' ' < "$work/$c")"; done
printf 'migrate up, %d migrations (median of %d)\n' "$N" "$RUNS"
printf '  brokle       %7.3fs\n  goose        %7.3fs\n  psql floor   %7.3fs\n' "$b" "$g" "$f"
printf '  brokle/goose %sx (target <= 1.0x)   brokle/floor %sx (target <= 1.3x)   goose/floor %sx\n' \
  "$(ratio "$b" "$g")" "$(ratio "$b" "$f")" "$(ratio "$g" "$f")"

gen "$work/status" "$NSTATUS"
burl=$(fresh_db brokle_bench_st_b); gurl=$(fresh_db brokle_bench_st_g)
BROKLE_POSTGRES_URL="$burl" "$BIN" migrate up --db postgres --dir "$work/status/brokle" >/dev/null
"$GOOSE" -dir "$work/status/goose" postgres "$gurl" up >/dev/null 2>&1
[ "$("$GOOSE" -dir "$work/status/goose" postgres "$gurl" version 2>&1 | grep -o 'version [0-9]*')" = "version $NSTATUS" ] || { echo "goose did not apply $NSTATUS migrations" >&2; exit 1; }
for i in $(seq "$RUNS"); do
  timeit "$work/brokle_st" env BROKLE_POSTGRES_URL="$burl" "$BIN" migrate status --db postgres --dir "$work/status/brokle"
  timeit "$work/goose_st" "$GOOSE" -dir "$work/status/goose" postgres "$gurl" status
done
b=$(median < "$work/brokle_st"); g=$(median < "$work/goose_st")
printf 'migrate status, %d applied (median of %d)\n' "$NSTATUS" "$RUNS"
printf '  brokle       %7.3fs\n  goose        %7.3fs\n  brokle/goose %sx (target <= 1.0x)\n' "$b" "$g" "$(ratio "$b" "$g")"
