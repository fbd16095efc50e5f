#!/usr/bin/env bash
# One-shot commands: `migrate down` of $STEPS (100) generated PostgreSQL migrations, one process
# per step, as a deploy script or a developer runs it, against goose v3.29 `goose down` on the
# same migrations (goose's format), each in a database of its own, interleaved step by step.
# Each step's CPU (user + system of the process, from the shell's `times`, in ms) and wall time
# are recorded; the table gives the CPU per step as the mean of all steps (one step's CPU is a
# few ms, counted in whole ms) and the median wall time per step. Set BEFORE_BIN to a second brokle build to time
# it in the same run (a third database). Goal: CPU per step <= 1.0x goose's.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
STEPS=${STEPS:-$([ -n "$QUICK" ] && echo 10 || echo 100)}
BIN=${BROKLE_BIN:-bin/brokle}
BEFORE=${BEFORE_BIN:-}
peers goose
work=$(mktemp -d)
BENCH_TIMES=$work/times
P=${BENCH_DB_PREFIX:-brokle_bench}
trap 'rm -rf "$work"; drop_db ${P}_down_b; drop_db ${P}_down_g; drop_db ${P}_down_o' EXIT

mkdir -p "$work/brokle" "$work/goose"
for i in $(seq 1 "$STEPS"); do
  v=$(printf %06d "$i") fk=""
  [ "$i" -gt 1 ] && fk=", parent_id bigint REFERENCES t$((i - 1)) (id)"
  up="CREATE TABLE t$i (id bigint PRIMARY KEY, name text NOT NULL$fk);
CREATE INDEX t${i}_name_idx ON t$i (name);"
  printf -- '-- +migrate Up\n%s\n-- +migrate Down\nDROP TABLE t%d;\n' "$up" "$i" > "$work/brokle/${v}_t$i.sql"
  printf -- '-- +goose Up\n%s\n-- +goose Down\nDROP TABLE t%d;\n' "$up" "$i" > "$work/goose/${v}_t$i.sql"
done
burl=$(fresh_db ${P}_down_b); gurl=$(fresh_db ${P}_down_g)
BROKLE_POSTGRES_URL=$burl "$BIN" migrate up --db postgres --dir "$work/brokle" -q
"$goose" -dir "$work/goose" postgres "$gurl" up >/dev/null 2>&1
if [ -n "$BEFORE" ]; then
  ourl=$(fresh_db ${P}_down_o)
  BROKLE_POSTGRES_URL=$ourl "$BIN" migrate up --db postgres --dir "$work/brokle" -q
fi

# step NAME CMD...: runs CMD once, appends its wall and CPU milliseconds to $work/NAME.wall, .cpu
step() {
  local name=$1 c0 c1 w0 w1; shift
  cpu_ms c0; w0=$EPOCHREALTIME
  "$@" >/dev/null 2>"$work/err" || { echo "$name: $* failed:" >&2; cat "$work/err" >&2; exit 1; }
  w1=$EPOCHREALTIME; cpu_ms c1
  echo "$(( c1 - c0 ))" >> "$work/$name.cpu"
  echo "${w1/./} ${w0/./}" | awk '{ printf "%.3f\n", ($1 - $2) / 1000 }' >> "$work/$name.wall"
}
brokle_down() { BROKLE_POSTGRES_URL=$1 "$2" migrate down --db postgres --dir "$work/brokle" --yes; }
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for i in $(seq "$STEPS"); do
  if [ $((i % 2)) = 1 ]; then
    step brokle brokle_down "$burl" "$BIN"; step goose "$goose" -dir "$work/goose" postgres "$gurl" down
  else
    step goose "$goose" -dir "$work/goose" postgres "$gurl" down; step brokle brokle_down "$burl" "$BIN"
  fi
  if [ -n "$BEFORE" ]; then step before brokle_down "$ourl" "$BEFORE"; fi
done
left() { psql "$1" -Atc "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name ~ '^t[0-9]+$'"; }
[ "$(left "$burl")" = 0 ] && [ "$(left "$gurl")" = 0 ] || { echo "down: not every table was dropped" >&2; exit 1; }

mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }' "$1"; }
sum() { awk '{ s += $1 } END { printf "%.0f", s }' "$1"; }
wall() { median < "$1" | awk '{ printf "%.1f", $1 }'; }
bc=$(mean "$work/brokle.cpu"); gc=$(mean "$work/goose.cpu")
bw=$(wall "$work/brokle.wall"); gw=$(wall "$work/goose.wall")
printf 'one-shot down, %d steps, one process each: mean CPU and median wall per step (load average %s before, %s after, %d cores)\n' \
  "$STEPS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| contender | CPU ms/step | wall ms/step | CPU ms, all steps | / goose CPU | / goose wall |'
echo '| --- | --- | --- | --- | --- | --- |'
printf '| brokle | %s | %s | %s | %sx | %sx |\n' "$bc" "$bw" "$(sum "$work/brokle.cpu")" "$(ratio "$bc" "$gc")" "$(ratio "$bw" "$gw")"
printf '| goose v3.29 | %s | %s | %s | 1.00x | 1.00x |\n' "$gc" "$gw" "$(sum "$work/goose.cpu")"
work_name="one-shot \`down\`, $STEPS steps, a process each"
row "$work_name: CPU per step (mean)" "$bc ms" "goose v3.29 $gc ms" "$(ratio "$bc" "$gc")x" "<= 1.0x goose" "$(at_most "$(ratio "$bc" "$gc")" 1.0)"
row "$work_name: wall per step (median)" "$bw ms" "goose v3.29 $gw ms" "$(ratio "$bw" "$gw")x" "reported" "-"
if [ -n "$BEFORE" ]; then
  oc=$(mean "$work/before.cpu"); ow=$(wall "$work/before.wall")
  printf '| brokle before | %s | %s | %s | %sx | %sx |\n' "$oc" "$ow" "$(sum "$work/before.cpu")" "$(ratio "$oc" "$gc")" "$(ratio "$ow" "$gw")"
  row "$work_name: CPU per step (mean)" "$bc ms" "brokle before $oc ms" "$(ratio "$bc" "$oc")x" "before/after" "-"
  row "$work_name: wall per step (median)" "$bw ms" "brokle before $ow ms" "$(ratio "$bw" "$ow")x" "before/after" "-"
fi
