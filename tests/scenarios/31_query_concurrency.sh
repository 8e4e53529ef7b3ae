#!/usr/bin/env bash
# query_optimizer: collection stays exact under concurrency. 8 pgbench clients run a custom script (a select, an
# update and an insert per transaction; simple protocol) and then a second one with prepared statements (cached
# plans: executions without parse analysis); calls in rubberduck.query_insights must equal what pgbench reports
# it executed. RD_QO_SECONDS sets the duration of each run (default 20).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

secs=${RD_QO_SECONDS:-20}
cluster_start "rubberduck.naptime = '500ms'" "max_connections = 30"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
CREATE TABLE acc (id int PRIMARY KEY, balance bigint NOT NULL DEFAULT 0);
INSERT INTO acc SELECT g, 0 FROM generate_series(1, 10000) g;
CREATE TABLE hist (id bigserial PRIMARY KEY, acc int, delta int, at timestamptz DEFAULT now());
CREATE TABLE prep (id int PRIMARY KEY, v int);
INSERT INTO prep SELECT g, g FROM generate_series(1, 10000) g;
ANALYZE;
SQL

dir=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-qo31.XXXXXX")
rd_on_exit "rm -rf '$dir'"
cat >"$dir/simple.sql" <<'EOF'
\set aid random(1, 10000)
\set delta random(-500, 500)
SELECT balance FROM acc WHERE id = :aid;
UPDATE acc SET balance = balance + :delta WHERE id = :aid;
INSERT INTO hist (acc, delta) VALUES (:aid, :delta);
EOF
cat >"$dir/prepared.sql" <<'EOF'
\set pid random(1, 10000)
SELECT v FROM prep WHERE id = :pid;
EOF
chmod -R a+rX "$dir"
cluster_psql -c "select rubberduck.reset('queries')" >/dev/null

count_tx() { sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$1"; }
count_failed() { sed -nE 's/^number of failed transactions: ([0-9]+).*/\1/p' "$1"; }

pgbench_run -n -c 8 -j 4 -T "$secs" -f "$dir/simple.sql" postgres >"$dir/simple.out" 2>&1
tx=$(count_tx "$dir/simple.out")
tap_cmp "${tx:-0}" -gt 1000 "pgbench simple protocol ran (${tx:-0} transactions)"
tap_is "$(count_failed "$dir/simple.out")" "0" "no failed transactions"
calls() {
  cluster_psql -c "select coalesce(sum(calls), 0) from rubberduck.query_insights where query = '$1'"
}
tap_is "$(calls 'SELECT balance FROM acc WHERE id = $1')" "$tx" "select: calls = pgbench's executed count"
tap_is "$(calls 'UPDATE acc SET balance = balance + $1 WHERE id = $2')" "$tx" "update: calls = executed count"
tap_is "$(calls 'INSERT INTO hist (acc, delta) VALUES ($1, $2)')" "$tx" "insert: calls = executed count"
tap_is "$(cluster_psql -c "select rows from rubberduck.query_insights where query = 'INSERT INTO hist (acc, delta) VALUES (\$1, \$2)'")" \
  "$(cluster_psql -c 'select count(*) from hist')" "insert: rows = rows in the table"
tap_is "$(cluster_psql -c "select count(*) filter (where not coalesce(p50_ms <= p95_ms and p95_ms <= p99_ms and min_ms <= mean_ms and mean_ms <= max_ms, false)) from rubberduck.query_insights where calls > 0")" \
  "0" "moments and quantiles are consistent"

pgbench_run -n -M prepared -c 8 -j 4 -T "$secs" -f "$dir/prepared.sql" postgres >"$dir/prepared.out" 2>&1
ptx=$(count_tx "$dir/prepared.out")
tap_cmp "${ptx:-0}" -gt 1000 "pgbench prepared protocol ran (${ptx:-0} transactions)"
tap_is "$(calls 'SELECT v FROM prep WHERE id = $1')" "$ptx" "prepared select: calls = executed count"
tap_is "$(cluster_psql -c "select count(*) from rubberduck.query_insights where query = 'SELECT v FROM prep WHERE id = \$1'")" \
  "1" "one entry for the prepared statement (one user, one database)"
tap_ok "the agent keeps cycling" wait_for "select cycles > 2 and last_error is null from rubberduck.agents where agent = 'query_optimizer'" 10
tap_is "$(cluster_psql -c "select errors from rubberduck.skills where skill = 'query_optimization'")" "0" "skill without errors"
tap_fails "no crash" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
