#!/usr/bin/env bash
# Builds the peer migration tools that `migrate adopt` tests and `make bench` compare against,
# through the Go module proxy only (`go install module@version`), into a cache, and prints one
# `name=/abs/path` line per tool on stdout (build messages go to stderr).
#
#   scripts/peer-tools.sh                  # all: goose, migrate (golang-migrate), dbmate
#   scripts/peer-tools.sh goose dbmate     # only these
#   eval "$(scripts/peer-tools.sh)"; "$goose" -version
#
# Cache: ${BROKLE_CACHE:-$HOME/.cache/brokle}/peers/bin. Each binary has a stamp beside it
# (.NAME.stamp: module@version, build tags, CGO setting); a run whose stamp matches builds
# nothing, so a second run is instant. Versions and tags can be overridden:
#   PEER_GOOSE_VERSION   v3.29.0   github.com/pressly/goose/v3/cmd/goose
#   PEER_MIGRATE_VERSION v4.20.1   github.com/golang-migrate/migrate/v4/cmd/migrate
#   PEER_MIGRATE_TAGS    "postgres clickhouse"
#   PEER_DBMATE_VERSION  v2.35.0   github.com/amacneil/dbmate/v2
#   PEER_GOOSE_TAGS      "no_libsql no_mssql no_mysql no_sqlite3 no_vertica no_ydb" (PostgreSQL and
#                        ClickHouse kept; set it empty for the stock build with every driver)
#   PEER_DBMATE_TAGS     (dbmate is built from its own main.go with the PostgreSQL and ClickHouse drivers)
# Pinned, not @latest: the module proxy serves no version list for dbmate v2 (so @latest and even
# `go install dbmate@v2.35.0` fail, see build()), and serves v2.36.0's go.mod but not its source;
# v2.35.0 is the newest whose source it serves.
# All three build with Go 1.26 (their go.mod say go 1.24 or 1.25).
set -euo pipefail

cache=${BROKLE_CACHE:-$HOME/.cache/brokle}/peers
bin=$cache/bin

declare -A module version tags method
method=([goose]=install [migrate]=install [dbmate]=slim)
module[goose]=github.com/pressly/goose/v3/cmd/goose
version[goose]=${PEER_GOOSE_VERSION:-v3.29.0}
tags[goose]=${PEER_GOOSE_TAGS-no_libsql no_mssql no_mysql no_sqlite3 no_vertica no_ydb}
module[migrate]=github.com/golang-migrate/migrate/v4/cmd/migrate
version[migrate]=${PEER_MIGRATE_VERSION:-v4.20.1}
tags[migrate]=${PEER_MIGRATE_TAGS:-postgres clickhouse}
module[dbmate]=github.com/amacneil/dbmate/v2
version[dbmate]=${PEER_DBMATE_VERSION:-v2.35.0}
tags[dbmate]=${PEER_DBMATE_TAGS:-}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(goose migrate dbmate)
for n in "${names[@]}"; do
  [ -n "${module[$n]:-}" ] || { echo "peer-tools: unknown tool '$n' (goose, migrate, dbmate)" >&2; exit 2; }
done

command -v go >/dev/null || { echo "peer-tools: go is not on PATH" >&2; exit 1; }
mkdir -p "$bin"
bin=$(cd "$bin" && pwd -P)

build() { # build NAME: go install into a scratch GOBIN, then move the binary and its stamp in
  local n=$1 stamp=$2 tmp start end
  tmp=$(mktemp -d "$bin/.build-$n.XXXXXX")
  trap 'rm -rf "$tmp"' RETURN
  echo "peer-tools: building $n ${module[$n]}@${version[$n]}${tags[$n]:+ (tags: ${tags[$n]})}" >&2
  start=$(date +%s.%N)
  # Outside any module (the repository's go.mod, go.work and GOFLAGS must not apply); stdin closed.
  if [ "${method[$n]}" = install ]; then
    (cd "$tmp" && GOFLAGS= GOWORK=off GOBIN="$tmp" go install ${tags[$n]:+-tags "${tags[$n]}"} \
      "${module[$n]}@${version[$n]}" </dev/null >&2)
  elif [ "${method[$n]}" = slim ]; then
    # dbmate's own main.go, built in a throwaway module that requires exactly m@v (the build list
    # is m's go.mod), with only the PostgreSQL and ClickHouse drivers: its BigQuery and MySQL
    # drivers and cgo SQLite are most of a cold build and nothing here uses them. `go install m@v`
    # would also look up m's version list, which the proxy refuses for dbmate v2.
    (cd "$tmp" && export GOFLAGS= GOWORK=off CGO_ENABLED=0 && go mod init peerbuild >/dev/null 2>&1 &&
      { go get "${module[$n]}@${version[$n]}" </dev/null >get.log 2>&1 || { cat get.log >&2; false; }; } &&
      src=$(go list -m -f '{{.Dir}}' "${module[$n]}") &&
      grep -v -e '/pkg/driver/bigquery"' -e '/pkg/driver/mysql"' "$src/main.go" > main.go &&
      { go mod tidy </dev/null >tidy.log 2>&1 || { cat tidy.log >&2; false; }; } &&
      go build -o "$tmp/$n" . </dev/null >&2)
  else
    # `go install m@v` also looks up m's deprecation through the version list, which the proxy
    # refuses for dbmate v2, so build it from a throwaway module that requires exactly m@v:
    # the build list is m's own go.mod (checked: every dependency at m's version).
    (cd "$tmp" && export GOFLAGS= GOWORK=off && go mod init peerbuild >/dev/null 2>&1 &&
      { go get "${module[$n]}@${version[$n]}" </dev/null >get.log 2>&1 || { cat get.log >&2; false; }; } &&
      go build ${tags[$n]:+-tags "${tags[$n]}"} -o "$tmp/$n" "${module[$n]}" </dev/null >&2)
  fi || { echo "peer-tools: building $n failed" >&2; return 1; }
  end=$(date +%s.%N)
  mv -f "$tmp/$n" "$bin/$n"
  printf '%s\n' "$stamp" > "$bin/.$n.stamp"
  awk -v n="$n" -v a="$start" -v b="$end" 'BEGIN { printf "peer-tools: built %s in %.1fs\n", n, b - a }' >&2
}

cgo=${CGO_ENABLED:-default} # not `go env`: a run that builds nothing runs no go command
for n in "${names[@]}"; do
  stamp="${module[$n]}@${version[$n]} method=${method[$n]} tags=${tags[$n]} cgo=$cgo"
  if [ -x "$bin/$n" ] && [ "$(cat "$bin/.$n.stamp" 2>/dev/null)" = "$stamp" ]; then :; else
    build "$n" "$stamp"
  fi
  echo "$n=$bin/$n"
done
