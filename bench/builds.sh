#!/usr/bin/env bash
# bench/builds.sh NAME=BIN...: several brokle builds side by side on the one-shot work of issue
# 14, interleaved run by run, to say what each change did: `migrate status` with
# STATUS_MIGRATIONS (5,000) applied (median wall) and one-shot `migrate down`, STEPS (40) steps,
# a process each, each build in a database of its own (mean CPU and median wall per step).
#   git archive COMMIT | tar -x -C /tmp/c && (cd /tmp/c && go build -o /tmp/brokle-c ./cmd/brokle)
#   bash bench/builds.sh before=/tmp/brokle-a after=bin/brokle
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
NSTATUS=${STATUS_MIGRATIONS:-$([ -n "$QUICK" ] && echo 300 || echo 5000)}
STEPS=${STEPS:-$([ -n "$QUICK" ] && echo 6 || echo 40)}
SRUNS=${SRUNS:-15}
[ $# -ge 1 ] || { echo "usage: bench/builds.sh NAME=BIN..." >&2; exit 2; }
names=() bins=()
for a in "$@"; do names+=("${a%%=*}"); bins+=("${a#*=}"); done
P=${BENCH_DB_PREFIX:-brokle_bench}_builds
work=$(mktemp -d)
BENCH_TIMES=$work/times
cleanup() { rm -rf "$work"; drop_db "${P}_st"; for i in "${!bins[@]}"; do drop_db "${P}_d$i"; done; }
trap cleanup EXIT

mig() { # DIR N: N migrations, a table, an index and a foreign key each
  mkdir -p "$1"
  local i v fk
  for i in $(seq 1 "$2"); do
    v=$(printf %06d "$i") fk=""
    [ "$i" -gt 1 ] && fk=", parent_id bigint REFERENCES t$((i - 1)) (id)"
    printf -- '-- +migrate Up\nCREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL%s);\nCREATE INDEX t%d_name_idx ON t%d (name);\n-- +migrate Down\nDROP TABLE t%d;\n' \
      "$i" "$fk" "$i" "$i" "$i" > "$1/${v}_t$i.sql"
  done
}
mig "$work/st" "$NSTATUS"
mig "$work/dn" "$STEPS"
surl=$(fresh_db "${P}_st")
BROKLE_POSTGRES_URL=$surl "${bins[0]}" migrate up --db postgres --dir "$work/st" -q
durls=()
for i in "${!bins[@]}"; do
  durls+=("$(fresh_db "${P}_d$i")")
  BROKLE_POSTGRES_URL=${durls[$i]} "${bins[$i]}" migrate up --db postgres --dir "$work/dn" -q
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Each once first, so that every build finds the files in the page cache.
for i in "${!bins[@]}"; do BROKLE_POSTGRES_URL=$surl "${bins[$i]}" migrate status --db postgres --dir "$work/st" > /dev/null; done
for r in $(seq "$SRUNS"); do
  for i in "${!bins[@]}"; do
    w0=$EPOCHREALTIME
    BROKLE_POSTGRES_URL=$surl "${bins[$i]}" migrate status --db postgres --dir "$work/st" > /dev/null
    w1=$EPOCHREALTIME
    echo $(( (${w1/./} - ${w0/./}) / 1000 )) >> "$work/st$i"
  done
done
for s in $(seq "$STEPS"); do
  for i in "${!bins[@]}"; do
    cpu_ms c0; w0=$EPOCHREALTIME
    BROKLE_POSTGRES_URL=${durls[$i]} "${bins[$i]}" migrate down --db postgres --dir "$work/dn" --yes > /dev/null
    w1=$EPOCHREALTIME; cpu_ms c1
    echo $(( c1 - c0 )) >> "$work/cpu$i"
    echo $(( (${w1/./} - ${w0/./}) / 100 )) | awk '{ printf "%.1f\n", $1 / 10 }' >> "$work/wall$i"
  done
done
printf 'builds side by side: status with %d applied (median of %d), one-shot down of %d steps (load average %s before, %s after, %d cores)\n' \
  "$NSTATUS" "$SRUNS" "$STEPS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| build | status ms | down CPU ms/step (mean) | down wall ms/step (median) |'
echo '| --- | --- | --- | --- |'
for i in "${!bins[@]}"; do
  printf '| %s | %s | %s | %s |\n' "${names[$i]}" "$(median < "$work/st$i")" \
    "$(awk '{ s += $1 } END { printf "%.1f", s / NR }' "$work/cpu$i")" "$(median < "$work/wall$i")"
done
