#!/usr/bin/env bash
# Starts the services the test suite talks to, installing what is missing (Debian):
#  - PostgreSQL on 127.0.0.1:5432 (trust for postgres; a role brokle_pw whose password is checked)
#  - ClickHouse on 127.0.0.1:9000 (Debian's clickhouse-server)
#  - Redis on 127.0.0.1:6379
#  - a ClickHouse cluster (scripts/test-cluster.sh) and libchdb (scripts/libchdb.sh)
#  - goose, golang-migrate and dbmate (scripts/peer-tools.sh, cached), for the adopt tests: built in
#    the background while the servers start
set -euo pipefail

peer_log=$(mktemp)
bash "$(dirname "$0")/peer-tools.sh" >"$peer_log" 2>&1 &
peer_pid=$!

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
need_pkg() { # need_pkg COMMAND PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  shift
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL
need_pkg psql postgresql postgresql-client
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432
# A role whose password the server checks, for the wrong-password tests: its pg_hba line must come
# before the trust lines.
hba=$(psql -h 127.0.0.1 -U postgres -Atc 'SHOW hba_file')
if ! as_root grep -q '^host all brokle_pw 127.0.0.1/32 scram-sha-256' "$hba"; then
  as_root sed -i '1i host all brokle_pw 127.0.0.1/32 scram-sha-256' "$hba"
  psql -h 127.0.0.1 -U postgres -qAtc 'SELECT pg_reload_conf()' >/dev/null
fi
psql -h 127.0.0.1 -U postgres -qc "DO \$\$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'brokle_pw') THEN
    SET LOCAL password_encryption = 'scram-sha-256';
    CREATE ROLE brokle_pw LOGIN PASSWORD 'brokle-pw-secret' CREATEDB;
  END IF;
END\$\$;"

# --- ClickHouse (18.16 from Debian: a real native-protocol peer; see README for a modern one)
need_pkg clickhouse-server clickhouse-server clickhouse-client
if ! clickhouse-client --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1; then
  as_root mkdir -p /var/lib/clickhouse /var/log/clickhouse-server
  as_root chown -R clickhouse:clickhouse /var/lib/clickhouse /var/log/clickhouse-server
  as_root su -s /bin/sh clickhouse -c 'clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon --pid-file=/var/lib/clickhouse/brokle-ci.pid'
  for _ in $(seq 1 60); do clickhouse-client --host 127.0.0.1 -q 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
fi
echo "clickhouse $(clickhouse-client --host 127.0.0.1 -q 'SELECT version()')"

# --- Redis
need_pkg redis-server redis-server redis-tools
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
echo "redis $(redis-cli -h 127.0.0.1 ping)"

# --- A real ClickHouse cluster (ZooKeeper + 2 shards x 2 replicas on 9101-9104) for cluster mode
bash scripts/test-cluster.sh start

# --- The embedded ClickHouse engine (libchdb through npm, cached): the ClickHouse 26 tests
if lib=$(bash scripts/libchdb.sh); then echo "libchdb $lib"; else echo "libchdb: not fetched (the embedded-engine tests will skip or, in CI, fail)"; fi

# --- The peer tools (goose, golang-migrate, dbmate) the adopt tests run
if wait "$peer_pid"; then grep '=' "$peer_log" | sed 's/^/peer /'; else cat "$peer_log" >&2; echo "peer tools: not built (the adopt tests will skip or, in CI, fail)"; fi
rm -f "$peer_log"
