# Shared helpers for the benchmark scripts: timing, medians, a fresh database per run, the peer
# tools, and the rows of `make bench`'s table.
set -euo pipefail
PGADMIN=${BROKLE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
# BENCH_DB_PREFIX names the scratch databases (brokle_bench_*), so that two runs on one server
# keep apart. BENCH_QUICK=1: a smoke run (small sizes, one run each); every script picks its sizes from it.
QUICK=${BENCH_QUICK:-}
if [ -n "$QUICK" ]; then RUNS=${RUNS:-1}; else RUNS=${RUNS:-5}; fi

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# fresh_db NAME: drops and creates NAME, prints its URL. Commits do not wait for the disk there
# (synchronous_commit off, the same for every contender): on this machine's shared disk the
# fsync of each commit varies more than the tools differ, and would hide what is measured.
fresh_db() {
  psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" \
    -c "ALTER DATABASE $1 SET synchronous_commit = off" >/dev/null 2>&1
  echo "${PGADMIN/\/postgres\?//$1?}"
}
drop_db() { psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# peers NAME...: sets $goose, $migrate, $dbmate to the peer tools, built through the Go module
# proxy into a cache the first time (scripts/peer-tools.sh); GOOSE_BIN, MIGRATE_BIN, DBMATE_BIN
# name other builds.
peers() {
  local n var
  for n in "$@"; do
    var=$(tr a-z A-Z <<< "$n")_BIN
    if [ -n "${!var:-}" ]; then printf -v "$n" '%s' "${!var}"; else eval "$(bash scripts/peer-tools.sh "$n")"; fi
  done
}

# The rows of `make bench`'s one table: when BENCH_ROWS names a file, each scenario appends its
# rows there, tab-separated: work, brokle, reference (same run), ratio, goal, met.
# row WORK BROKLE REFERENCE RATIO GOAL MET
row() {
  if [ -n "${BENCH_ROWS:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$BENCH_ROWS"; fi
}
# at_most RATIO LIMIT / at_least RATIO LIMIT: "met" or "**not met**"
at_most() { awk -v r="$1" -v l="$2" 'BEGIN { print (r <= l) ? "met" : "**not met**" }'; }
at_least() { awk -v r="$1" -v l="$2" 'BEGIN { print (r >= l) ? "met" : "**not met**" }'; }
# secs S: seconds as the table shows them (ms below one second)
secs() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.0f ms", s * 1000; else printf "%.2f s", s }'; }

# cpu_ms VAR: sets VAR to the CPU time (user + system, ms) of the children this shell waited for
# so far. Only builtins: measuring forks nothing that would count (nor runs in a subshell, whose
# children are not this shell's).
cpu_ms() {
  local _u _s _cu _cs
  times > "$BENCH_TIMES"
  { read -r _u _s; read -r _cu _cs; } < "$BENCH_TIMES"
  _ms _cu "$_cu"; _ms _cs "$_cs"
  printf -v "$1" '%d' $(( _cu + _cs ))
}
_ms() { local t=${2%s} m s; m=${t%%m*}; s=${t#*m}; printf -v "$1" '%d' $(( m * 60000 + 10#${s%.*} * 1000 + 10#${s#*.} )); }
