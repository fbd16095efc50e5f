#!/usr/bin/env bash
# Fetches libchdb.so (ClickHouse as an in-process library) from npm's
# @chdb/lib-linux-x64-gnu and prints its absolute path on stdout, nothing else.
# Idempotent and non-interactive: a second run is a cache hit and prints at once.
#
#   scripts/libchdb.sh                       # -> ~/.cache/brokle/libchdb/26.5.3/libchdb.so
#   export BROKLE_LIBCHDB=$(scripts/libchdb.sh)
#
# Environment: BROKLE_CACHE (default ~/.cache/brokle), LIBCHDB_VERSION (default
# below; also 26.7.3-stable.1). Needs npm, tar and ~730 MB of disk while fetching
# (170 MB tarball + 560 MB library), 560 MB afterwards.
set -euo pipefail

# 26.5.3 is npm's `latest` and the release the shipped migrations were measured
# on; 26.7.3-stable.1 adds chdb_version/chdb_classify_query_n but behaves the same
# for brokle (same SQL, same multi-statement and partial-output quirks).
version="${LIBCHDB_VERSION:-26.5.3}"
cache="${BROKLE_CACHE:-$HOME/.cache/brokle}/libchdb/$version"
case "$cache" in /*) ;; *) cache="$PWD/$cache" ;; esac
lib="$cache/libchdb.so"

if [ -s "$lib" ] && [ -f "$cache/.complete" ]; then
  printf '%s\n' "$lib"
  exit 0
fi

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) pkg="@chdb/lib-linux-x64-gnu" ;;
  *) echo "libchdb.sh: npm ships libchdb only for Linux x86_64 (this is $(uname -s)/$(uname -m)); try 'pip install chdb-core' and set BROKLE_LIBCHDB" >&2; exit 1 ;;
esac
command -v npm >/dev/null 2>&1 || { echo "libchdb.sh: npm is needed (apt-get install npm)" >&2; exit 1; }

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

echo "libchdb.sh: fetching $pkg@$version (about 170 MB) into $cache" >&2
# A private npm cache keeps a second 170 MB copy out of ~/.npm.
(cd "$tmp" && npm pack --silent --cache "$tmp/npm-cache" --pack-destination "$tmp" "$pkg@$version" </dev/null >&2)
tarball="$(ls "$tmp"/*.tgz 2>/dev/null | head -n1)"
[ -n "$tarball" ] || { echo "libchdb.sh: npm pack produced no tarball" >&2; exit 1; }
tar -xzf "$tarball" -C "$tmp" package/libchdb.so
rm -f "$tarball"
so="$tmp/package/libchdb.so"
if [ ! -s "$so" ] || [ "$(head -c 4 "$so" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  echo "libchdb.sh: $pkg@$version has no usable libchdb.so" >&2
  exit 1
fi
chmod 0755 "$so"
mv -f "$so" "$lib"
touch "$cache/.complete"
printf '%s\n' "$lib"
