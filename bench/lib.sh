# Shared helpers for the benchmark scripts: timing, medians, a fresh database per run.
set -euo pipefail
PGADMIN=${BROKLE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
RUNS=${RUNS:-5}

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
