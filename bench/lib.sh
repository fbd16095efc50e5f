# Shared helpers for the benchmark scripts: timing, medians, a fresh database per run.
set -euo pipefail
PGADMIN=${BROKLE_BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
RUNS=${RUNS:-5}

now() { date +%s.%N; }
# median of the numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# fresh_db NAME: drops and creates NAME, prints its URL
fresh_db() {
  psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
  echo "${PGADMIN/\/postgres\?//$1?}"
}
drop_db() { psql "$PGADMIN" -qc "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
