#!/usr/bin/env bash
# The indexing skill on a live workload: pgbench runs three query templates (prepared, so exemplars carry
# parameter values); advice for each appears within 60 s, names the right keys (customer then sort key; an
# expression index on lower(email); the join column), and building the advised indexes makes the workload
# faster. The agent never crashes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '1s'" "rubberduck.sample_rate = 0.2" "max_parallel_workers_per_gather = 0"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, region int NOT NULL);
INSERT INTO customers SELECT g, 'User' || g || '@Example.com', g % 20 FROM generate_series(1, 20000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL,
                     total numeric(10, 2) NOT NULL);
INSERT INTO orders SELECT g, (g * 7) % 20000 + 1, timestamptz '2024-01-01' + g * interval '1 min', g % 500
FROM generate_series(1, 300000) g;
CREATE TABLE order_lines (order_id bigint NOT NULL, sku int NOT NULL, qty int NOT NULL);
INSERT INTO order_lines SELECT (g % 300000) + 1, g % 1000, 1 + g % 3 FROM generate_series(1, 600000) g;
VACUUM ANALYZE customers, orders, order_lines;
SELECT pg_stat_reset();
SQL

work=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-advice.XXXXXX")
rd_on_exit "rm -rf '$work'"
cat >"$work/workload.sql" <<'EOF2'
\set c random(1, 20000)
\set e random(1, 20000)
\set o random(1, 300000)
SELECT id, total FROM orders WHERE customer_id = :c ORDER BY created_at DESC LIMIT 10;
SELECT id, region FROM customers WHERE lower(email) = lower('User' || :e || '@example.com');
SELECT sum(qty) FROM order_lines WHERE order_id = :o;
EOF2
script=$(cluster_copy_in "$work/workload.sql")

start=$(date +%s)
pgbench_run -n -M prepared -c 2 -T 15 -f "$script" postgres >"$work/before.txt" 2>&1 || true
tps_before=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$work/before.txt" | head -1)
tap_like "$tps_before" '^[0-9.]+$' "pgbench ran the workload (tps $tps_before)"
tap_ok "advice for all three templates within 60 s of the workload starting" \
  wait_for "select count(*) >= 3 from rubberduck.index_advice where status = 'advised'" $((60 - ($(date +%s) - start)))
tap_diag "first advice after $(($(date +%s) - start)) s"
advice=$(cluster_psql -c "select relation || ' ' || columns::text from rubberduck.index_advice where status = 'advised' order by 1")
tap_diag "$advice"
# 15 orders per customer: the (deduplicated, ~4x smaller) index on customer_id alone buys nearly as much as
# (customer_id, created_at) (a top-10 sort of 15 rows), so the storage-aware selector may take it; the sort key
# after the equality key is asserted where it matters in sql/index_advice_shapes.sql.
tap_like "$advice" 'public\.orders \{customer_id(,created_at)?\}' "orders: customer first (then the sort key)"
tap_like "$advice" 'public\.customers \{"?lower\(email\)"?\}' "customers: expression index on lower(email)"
tap_like "$advice" 'public\.order_lines \{order_id\}' "order_lines: the lookup column"
tap_is "$(cluster_psql -c "select count(*) from rubberduck.index_advice_queries q join rubberduck.index_advice a on a.id = q.advice_id where a.status = 'advised' and q.cost_after >= q.cost_before")" \
  "0" "every advised query is cheaper with the advised set"
tap_like "$(cluster_psql -c "select note from rubberduck.skills where skill = 'indexing'")" 'indexes advised' \
  "the skill's note reports the advice"

# Build what was advised (CREATE INDEX CONCURRENTLY, outside a transaction) and measure again.
cluster_psql -c "select ddl from rubberduck.index_advice where status = 'advised'" >"$work/ddl.sql"
built_keys=$(cluster_psql -c "select string_agg(quote_literal(advice_key), ',') from rubberduck.index_advice where status = 'advised'")
while IFS= read -r ddl; do cluster_psql -c "$ddl" >/dev/null; done <"$work/ddl.sql"
cluster_psql -c 'ANALYZE customers, orders, order_lines' >/dev/null
pgbench_run -n -M prepared -c 2 -T 10 -f "$script" postgres >"$work/after.txt" 2>&1 || true
tps_after=$(sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$work/after.txt" | head -1)
tap_diag "tps before $tps_before, after building the advice $tps_after"
tap_ok "the workload is at least 5x faster with the advised indexes" \
  awk -v a="$tps_after" -v b="$tps_before" 'BEGIN { exit !(a >= 5 * b) }'
tap_ok "advice built for real turns stale" \
  wait_for "select count(*) = 0 from rubberduck.index_advice where status = 'advised' and advice_key in ($built_keys)" 30
# ... and nothing else is advised instead (no wider copy of what was just built for a marginal gain).
tap_ok "no further advice once the advice is built" \
  wait_for "select count(*) = 0 from rubberduck.index_advice where status = 'advised'" 30
tap_diag "advised after building: $(cluster_psql -c "select coalesce(string_agg(relation || ' ' || columns::text, '; '), 'nothing') from rubberduck.index_advice where status = 'advised'")"
tap_fails "no crash in the server log" cluster_log_has 'terminated by signal|was terminated by'
tap_done
