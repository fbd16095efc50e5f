#!/usr/bin/env bash
# PostgreSQL seeding against the floor: `brokle seed` of a YAML file against `psql \copy` of the
# same rows from CSV into the same table, in the same run, interleaved (the order alternates run
# by run), each run starting from an empty table after a CHECKPOINT. Two shapes:
#   users  the migrated users table: text ids, emails, names, a status, a boolean, an unquoted
#          and a quoted timestamp (a unique index, a check constraint, an update trigger)
#   items  a table made here: bigint id, text, text needing quotes and escapes, numeric, integer,
#          quoted timestamps, a JSON flow map (jsonb), a flow list (text[]), NULLs
# for SIZES (100,000 and 1,000,000 rows). Prints one table of medians of $RUNS runs, the ratio of
# rows/s (brokle / \copy), brokle's peak RSS (the largest of its runs) and the spread of each
# contender's runs (max-min over median: how noisy the machine was). Target: >= 0.7x, memory flat.
# After the runs it checks that both contenders left the same rows (an md5 of the table).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
SIZES=${SIZES:-$([ -n "$QUICK" ] && echo 2000 || echo "100000 1000000")}
SHAPES=${SHAPES:-users items}
BIN=${BROKLE_BIN:-bin/brokle}
DB=${BENCH_DB:-${BENCH_DB_PREFIX:-brokle_bench}_seed}
TARGET=0.7
export PGOPTIONS=${PGOPTIONS:---client-min-messages=warning}
work=$(mktemp -d)
trap 'rm -rf "$work"; drop_db "$DB"' EXIT

users_cols="id, email, first_name, last_name, status, is_email_verified, created_at, last_login_at"
items_cols="id, sku, title, price, qty, created_at, attrs, tags, note"

# gen SHAPE N: $work/SHAPE-N.yaml and the same rows as $work/SHAPE-N.csv
gen() {
  local shape=$1 n=$2
  case $shape in
  users)
    LC_ALL=C awk -v n="$n" -v y="$work/$shape-$n.yaml" -v c="$work/$shape-$n.csv" 'BEGIN {
      print "users:" > y
      for (i = 0; i < n; i++) {
        v = (i % 3 == 0) ? "true" : "false"
        ts = sprintf("2026-11-%02dT%02d:%02d:%02dZ", 1 + int(i / 86400) % 28, int(i / 3600) % 24, int(i / 60) % 60, i % 60)
        ll = sprintf("2026-12-%02d %02d:%02d:%02d", 1 + i % 28, i % 24, i % 60, (i * 7) % 60)
        printf "  - id: 01JDBENCH%017d\n    email: user%d@example.com\n    first_name: User\n    last_name: N%d\n    status: active\n    is_email_verified: %s\n    created_at: %s\n    last_login_at: '\''%s'\''\n", i, i, i, v, ts, ll > y
        printf "01JDBENCH%017d,user%d@example.com,User,N%d,active,%s,%s,%s\n", i, i, i, v, ts, ll > c
      }
    }' ;;
  items)
    LC_ALL=C awk -v n="$n" -v y="$work/$shape-$n.yaml" -v c="$work/$shape-$n.csv" 'BEGIN {
      print "items:" > y
      split("red green blue black", colors, " ")
      for (i = 1; i <= n; i++) {
        color = colors[1 + i % 4]
        ts = sprintf("2026-11-%02d %02d:%02d:%02d+00", 1 + int(i / 86400) % 28, int(i / 3600) % 24, int(i / 60) % 60, i % 60)
        price = sprintf("%d.%02d", int(i / 100) % 1000, i % 100)
        printf "  - id: %d\n    sku: SKU-%07d\n    title: \"Widget \\\"%d\\\", size #%d\\\\%s\"\n    price: %s\n    qty: %d\n    created_at: '\''%s'\''\n    attrs: {color: %s, size: %d, dims: [%d, 2.5], gift: %s}\n    tags: [sale, \"size %d\", null]\n", i, i, i, i % 7, color, price, i % 100, ts, color, i % 7, i % 13, (i % 2 ? "true" : "false"), i % 7 > y
        if (i % 2) printf "    note: null\n" > y; else printf "    note: '\''it'\'''\''s #%d'\''\n", i > y
        printf "%d,SKU-%07d,\"Widget \"\"%d\"\", size #%d\\%s\",%s,%d,%s,\"{\"\"color\"\": \"\"%s\"\", \"\"size\"\": %d, \"\"dims\"\": [%d, 2.5], \"\"gift\"\": %s}\",\"{sale,\"\"size %d\"\",NULL}\",%s\n", i, i, i, i % 7, color, price, i % 100, ts, color, i % 7, i % 13, (i % 2 ? "true" : "false"), i % 7, (i % 2 ? "" : "\"it'\''s #" i "\"") > c
      }
    }' ;;
  esac
}

url=$(fresh_db "$DB")
BROKLE_POSTGRES_URL=$url "$BIN" migrate up --db postgres >/dev/null
psql "$url" -qc "CREATE TABLE items (id bigint PRIMARY KEY, sku text NOT NULL UNIQUE, title text NOT NULL,
  price numeric(12,2), qty integer NOT NULL DEFAULT 0, created_at timestamptz NOT NULL, attrs jsonb, tags text[], note text)"

# stats FILE: "median spread" of the seconds in FILE (spread = (max - min) / median)
stats() { local m; m=$(median < "$1"); sort -g "$1" | awk -v m="$m" 'NR == 1 {lo = $1} {hi = $1} END {printf "%s %.0f%%", m, 100 * (hi - lo) / m}'; }
checksum() { psql "$url" -Atc "SELECT count(*) || ' ' || md5(string_agg(row($2)::text, ',' ORDER BY id)) FROM $1"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
for shape in $SHAPES; do
  cols_var=${shape}_cols
  for n in $SIZES; do
    gen "$shape" "$n"
    : > "$work/b"; : > "$work/c"; : > "$work/rss"
    run_brokle() {
      psql "$url" -qc "TRUNCATE $shape CASCADE" -c CHECKPOINT >/dev/null
      local t0 t1; t0=$(now)
      BROKLE_POSTGRES_URL=$url /usr/bin/time -f %M -o "$work/rss1" "$BIN" seed --file "$work/$shape-$n.yaml" --db postgres >/dev/null
      t1=$(now); echo "$t1 - $t0" | bc -l >> "$work/b"; cat "$work/rss1" >> "$work/rss"
    }
    run_copy() {
      psql "$url" -qc "TRUNCATE $shape CASCADE" -c CHECKPOINT >/dev/null
      local t0 t1; t0=$(now)
      psql "$url" -qc "\\copy $shape (${!cols_var}) FROM '$work/$shape-$n.csv' CSV" >/dev/null
      t1=$(now); echo "$t1 - $t0" | bc -l >> "$work/c"
    }
    for i in $(seq "$RUNS"); do
      if [ $((i % 2)) = 1 ]; then run_brokle; run_copy; else run_copy; run_brokle; fi
    done
    # Both contenders must leave the same rows.
    run_brokle; sum_b=$(checksum "$shape" "${!cols_var}"); sed -i '$d' "$work/b"; sed -i '$d' "$work/rss"
    run_copy; sum_c=$(checksum "$shape" "${!cols_var}"); sed -i '$d' "$work/c"
    if [ "$sum_b" != "$sum_c" ] || [ "${sum_b%% *}" != "$n" ]; then
      echo "$shape $n: brokle and \\copy left different rows: $sum_b vs $sum_c" >&2; exit 1
    fi
    read -r b bs <<< "$(stats "$work/b")"
    read -r c cs <<< "$(stats "$work/c")"
    rss=$(sort -g "$work/rss" | tail -1)
    r=$(ratio "$(awk -v t="$b" 'BEGIN {print 1 / t}')" "$(awk -v t="$c" 'BEGIN {print 1 / t}')")
    row "PostgreSQL seed, $n rows, $shape" "$(secs "$b"), $((rss / 1024)) MiB" "psql \\copy $(secs "$c")" "${r}x rows/s" ">= ${TARGET}x" "$(at_least "$r" "$TARGET")"
    rows+=("$(printf '| %s | %s | %.3f | %.3f | %sx | %d MiB | %s / %s | >= %sx |' "$shape" "$n" "$b" "$c" \
      "$(ratio "$(awk -v t="$b" 'BEGIN {print 1 / t}')" "$(awk -v t="$c" 'BEGIN {print 1 / t}')")" \
      $((rss / 1024)) "$bs" "$cs" "$TARGET")")
    rm -f "$work/$shape-$n.yaml" "$work/$shape-$n.csv"
  done
done
printf 'PostgreSQL seed: brokle vs psql \\copy, medians of %d interleaved runs (load average %s before, %s after, %d cores)\n' \
  "$RUNS" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(nproc)"
echo '| shape | rows | brokle s | \copy s | ratio (rows/s) | brokle peak RSS | spread brokle / \copy | target |'
echo '| --- | --- | --- | --- | --- | --- | --- | --- |'
printf '%s\n' "${rows[@]}"
