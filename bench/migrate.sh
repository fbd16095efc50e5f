#!/usr/bin/env bash
# PostgreSQL `migrate up` of generated migrations (a table, an index and a foreign key each) at
# SIZES (100, 300 and 1,000), and `migrate status` with STATUS_MIGRATIONS (5,000) applied, each
# run on a fresh database, the contenders interleaved (their order rotates run by run):
#   brokle          `brokle migrate up --dir` on -- +migrate files
#   goose           the goose v3.29 CLI on the same SQL in goose's format
#   dbmate          dbmate v2 on the same SQL (-- migrate:up / -- migrate:down), --no-dump-schema
#   golang-migrate  migrate v4 on the same SQL as .up.sql/.down.sql pairs
#   psql floor      the same Up SQL, each file in BEGIN/COMMIT, concatenated beforehand and run
#                   by one `psql -f` session
# status: brokle, goose and dbmate (dbmate reads no file: it lists the folder and asks the
# database, the floor of a status that checks no checksum). Set BEFORE_BIN to a second brokle
# build to time it in the same runs. Prints the medians of $RUNS runs and the ratios. Goals: up
# <= 1.3x the floor and <= 1.0x each peer; status <= 100 ms and <= 1.0x goose.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZES=${SIZES:-$([ -n "$QUICK" ] && echo "20 50" || echo "100 300 1000")}
NSTATUS=${STATUS_MIGRATIONS:-$([ -n "$QUICK" ] && echo 300 || echo 5000)}
BIN=${BROKLE_BIN:-bin/brokle}
BEFORE=${BEFORE_BIN:-}
peers goose dbmate migrate
work=$(mktemp -d)
P=${BENCH_DB_PREFIX:-brokle_bench}
DBS="${P}_up ${P}_st_b ${P}_st_g ${P}_st_d ${P}_st_o"
trap 'rm -rf "$work"; for d in $DBS; do drop_db $d; done' EXIT

# gen DIR N: N migrations in each tool's format, and the floor's single file
gen() {
  local dir=$1 n=$2 i up fk v
  mkdir -p "$dir/brokle" "$dir/goose" "$dir/dbmate" "$dir/gm"
  : > "$dir/floor.sql"
  for i in $(seq 1 "$n"); do
    fk=""
    v=$(printf %06d "$i")
    [ "$i" -gt 1 ] && fk=", parent_id bigint REFERENCES t$((i - 1)) (id)"
    up="CREATE TABLE t$i (id bigint PRIMARY KEY, name text NOT NULL$fk);
CREATE INDEX t${i}_name_idx ON t$i (name);"
    printf -- '-- +migrate Up\n%s\n-- +migrate Down\nDROP TABLE t%d;\n' "$up" "$i" > "$dir/brokle/${v}_t$i.sql"
    printf -- '-- +goose Up\n%s\n-- +goose Down\nDROP TABLE t%d;\n' "$up" "$i" > "$dir/goose/${v}_t$i.sql"
    printf -- '-- migrate:up\n%s\n\n-- migrate:down\nDROP TABLE t%d;\n' "$up" "$i" > "$dir/dbmate/${v}_t$i.sql"
    printf '%s\n' "$up" > "$dir/gm/${v}_t$i.up.sql"; printf 'DROP TABLE t%d;\n' "$i" > "$dir/gm/${v}_t$i.down.sql"
    printf 'BEGIN;\n%s\nCOMMIT;\n' "$up" >> "$dir/floor.sql"
  done
}

# timeit FILE CMD...: appends the seconds CMD took to FILE; CMD must succeed
timeit() {
  local f=$1 t0 t1; shift
  t0=$(now); "$@" >/dev/null 2>"$work/err" || { echo "failed: $*" >&2; cat "$work/err" >&2; exit 1; }
  t1=$(now); echo "$t1 - $t0" | bc -l >> "$f"
}
tables() { psql "$1" -Atc "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ '^t[0-9]+$'"; }

# up_one CONTENDER DIR N: one run of CONTENDER on a fresh database, timed into $work/up-CONTENDER
up_one() {
  local c=$1 dir=$2 n=$3 url
  url=$(fresh_db ${P}_up)
  case $c in
  brokle) timeit "$work/up-$c" env BROKLE_POSTGRES_URL="$url" "$BIN" migrate up --db postgres --dir "$dir/brokle" -q ;;
  before) timeit "$work/up-$c" env BROKLE_POSTGRES_URL="$url" "$BEFORE" migrate up --db postgres --dir "$dir/brokle" -q ;;
  goose) timeit "$work/up-$c" "$goose" -dir "$dir/goose" postgres "$url" up ;;
  dbmate) timeit "$work/up-$c" "$dbmate" --url "$url" --migrations-dir "$dir/dbmate" --no-dump-schema migrate ;;
  golang-migrate) timeit "$work/up-$c" "$migrate" -path "$dir/gm" -database "$url" up ;;
  floor) timeit "$work/up-$c" psql "$url" -q -v ON_ERROR_STOP=1 -f "$dir/floor.sql" ;;
  esac
  [ "$(tables "$url")" = "$n" ] || { echo "$c did not make $n tables" >&2; exit 1; }
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
contenders=(brokle goose dbmate golang-migrate floor)
[ -n "$BEFORE" ] && contenders+=(before)
label() { case $1 in floor) echo "psql floor" ;; before) echo "brokle before" ;; goose) echo "goose v3.29" ;; dbmate) echo "dbmate v2" ;; golang-migrate) echo "golang-migrate v4" ;; *) echo "$1" ;; esac; }
for n in $SIZES; do
  rm -rf "$work/up"; gen "$work/up" "$n"
  for c in "${contenders[@]}"; do : > "$work/up-$c"; done
  for i in $(seq "$RUNS"); do
    k=${#contenders[@]}
    for j in $(seq 0 $((k - 1))); do up_one "${contenders[$(( (i + j) % k ))]}" "$work/up" "$n"; done
  done
  declare -A med=()
  for c in "${contenders[@]}"; do med[$c]=$(median < "$work/up-$c"); done
  b=${med[brokle]}
  printf 'migrate up, %d migrations, medians of %d interleaved runs\n' "$n" "$RUNS"
  echo '| contender | median s | brokle / it |'
  echo '| --- | --- | --- |'
  for c in "${contenders[@]}"; do printf '| %s | %.3f | %sx |\n' "$(label "$c")" "${med[$c]}" "$(ratio "$b" "${med[$c]}")"; done
  for c in floor goose dbmate golang-migrate before; do
    [ -n "${med[$c]:-}" ] || continue
    r=$(ratio "$b" "${med[$c]}")
    case $c in
    floor) row "PostgreSQL \`up\`, $n migrations" "$(secs "$b")" "$(label "$c") $(secs "${med[$c]}")" "${r}x" "<= 1.3x" "$(at_most "$r" 1.3)" ;;
    before) row "PostgreSQL \`up\`, $n migrations" "$(secs "$b")" "$(label "$c") $(secs "${med[$c]}")" "${r}x" "before/after" "-" ;;
    *) row "PostgreSQL \`up\`, $n migrations" "$(secs "$b")" "$(label "$c") $(secs "${med[$c]}")" "${r}x" "<= 1.0x" "$(at_most "$r" 1.0)" ;;
    esac
  done
  unset med
done

# status with NSTATUS applied: each tool applies the same migrations to a database of its own.
rm -rf "$work/up"; gen "$work/st" "$NSTATUS"
burl=$(fresh_db ${P}_st_b); gurl=$(fresh_db ${P}_st_g); durl=$(fresh_db ${P}_st_d)
BROKLE_POSTGRES_URL="$burl" "$BIN" migrate up --db postgres --dir "$work/st/brokle" -q
"$goose" -dir "$work/st/goose" postgres "$gurl" up >/dev/null 2>&1
"$dbmate" --url "$durl" --migrations-dir "$work/st/dbmate" --no-dump-schema migrate >/dev/null
for u in "$burl" "$gurl" "$durl"; do
  [ "$(tables "$u")" = "$NSTATUS" ] || { echo "status setup: $u does not have $NSTATUS tables" >&2; exit 1; }
done
st_contenders=(brokle goose dbmate)
if [ -n "$BEFORE" ]; then
  ourl=$(fresh_db ${P}_st_o)
  BROKLE_POSTGRES_URL="$ourl" "$BIN" migrate up --db postgres --dir "$work/st/brokle" -q
  st_contenders+=(before)
fi
st_one() {
  case $1 in
  brokle) timeit "$work/st-$1" env BROKLE_POSTGRES_URL="$burl" "$BIN" migrate status --db postgres --dir "$work/st/brokle" ;;
  before) timeit "$work/st-$1" env BROKLE_POSTGRES_URL="$ourl" "$BEFORE" migrate status --db postgres --dir "$work/st/brokle" ;;
  goose) timeit "$work/st-$1" "$goose" -dir "$work/st/goose" postgres "$gurl" status ;;
  dbmate) timeit "$work/st-$1" "$dbmate" --url "$durl" --migrations-dir "$work/st/dbmate" status ;;
  esac
}
for c in "${st_contenders[@]}"; do : > "$work/st-$c"; done
# Each once before timing, so that every tool finds the files in the page cache.
for c in "${st_contenders[@]}"; do st_one "$c"; : > "$work/st-$c"; done
for i in $(seq "$RUNS"); do
  k=${#st_contenders[@]}
  for j in $(seq 0 $((k - 1))); do st_one "${st_contenders[$(( (i + j) % k ))]}"; done
done
declare -A med=()
for c in "${st_contenders[@]}"; do med[$c]=$(median < "$work/st-$c"); done
b=${med[brokle]}
printf 'migrate status, %d applied, medians of %d interleaved runs (load average %s before, %s after, %d cores)\n' \
  "$NSTATUS" "$RUNS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| contender | median s | brokle / it |'
echo '| --- | --- | --- |'
for c in "${st_contenders[@]}"; do printf '| %s | %.3f | %sx |\n' "$(label "$c")" "${med[$c]}" "$(ratio "$b" "${med[$c]}")"; done
ms=$(awk -v s="$b" 'BEGIN { printf "%.0f", s * 1000 }')
r=$(ratio "$b" "${med[goose]}")
met=$(at_most "$r" 1.0); [ "$ms" -le 100 ] || met="**not met**"
row "\`status\`, $NSTATUS applied" "$(secs "$b")" "goose v3.29 $(secs "${med[goose]}")" "${r}x" "<= 100 ms, <= 1.0x goose" "$met"
row "\`status\`, $NSTATUS applied" "$(secs "$b")" "dbmate v2 $(secs "${med[dbmate]}") (reads no file)" "$(ratio "$b" "${med[dbmate]}")x" "reported" "-"
if [ -n "$BEFORE" ]; then
  row "\`status\`, $NSTATUS applied" "$(secs "$b")" "brokle before $(secs "${med[before]}")" "$(ratio "$b" "${med[before]}")x" "before/after" "-"
fi
