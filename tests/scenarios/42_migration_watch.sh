#!/usr/bin/env bash
# Post-migration watch: a migration that makes the queries on its table slower (it drops the index they use)
# is rolled back automatically by the migration agent once its watch window ends — ledger rolled_back with the
# measured reason, action audited, signal migration_rolled_back — while a harmless migration passes its watch
# and is announced with migration_finished. Latency comes from pg_stat_statements.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'"
cluster_psql >/dev/null 2>&1 <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION rubberduck_agents;
CREATE TABLE watched (id bigint PRIMARY KEY, b int NOT NULL, pad text);
INSERT INTO watched SELECT g, g, repeat('x', 100) FROM generate_series(1, 200000) g;
CREATE INDEX watched_b_idx ON watched (b);
ANALYZE watched;
SQL
script=$(cluster_copy_in /dev/stdin <<<'\set v random(1, 200000)
SELECT id, pad FROM watched WHERE b = :v;')
script_name=$RD_CLUSTER_DIR/watch.sql
mv "$script" "$script_name"
load() { pgbench_run -n -f "$script_name" -c 2 -T "$1" postgres >/dev/null 2>&1; }

load 3  # the baseline: index scans

# 1. a harmless migration passes its watch and is announced
cluster_psql -c "SELECT rubberduck.migrate('w0', 'ALTER TABLE watched ADD COLUMN note text', 'ALTER TABLE watched DROP COLUMN note', '{\"watch\": \"2s\"}')" >/dev/null 2>&1
tap_is "$(cluster_psql -c "SELECT watch->>'state' FROM rubberduck.migrations WHERE version = 'w0'")" watching "w0 is watched"
load 3
tap_ok "w0 passed its watch" wait_for "SELECT watch->>'state' = 'passed' FROM rubberduck.migrations WHERE version = 'w0'" 30
tap_is "$(cluster_psql -c "SELECT status || ' ' || (watch->>'verdict') FROM rubberduck.migrations WHERE version = 'w0'")" \
  "applied ok" "w0 stays applied, verdict ok"
tap_ok "migration_finished was published for w0" \
  wait_for "SELECT count(*) > 0 FROM rubberduck.signals WHERE kind = 'migration_finished' AND payload->>'version' = 'w0'" 10

# 2. dropping the index the workload uses: queries become sequential scans
cluster_psql -c "SELECT rubberduck.migrate('w1', 'DROP INDEX watched_b_idx', 'CREATE INDEX watched_b_idx ON watched (b)',
  '{\"watch\": \"4s\", \"max_regression\": 1.5, \"allow\": [\"drop_index_blocking\"]}')" >/dev/null 2>&1 ||
  cluster_psql -c "SELECT rubberduck.migrate('w1', 'DROP INDEX watched_b_idx', 'CREATE INDEX watched_b_idx ON watched (b)',
  '{\"watch\": \"4s\", \"max_regression\": 1.5, \"allow\": $(cluster_psql -c "SELECT coalesce(jsonb_agg(DISTINCT rule), '[]') FROM rubberduck.analyze_migration('DROP INDEX watched_b_idx') WHERE severity IN ('danger','error')")}')" >/dev/null
tap_is "$(cluster_psql -c "SELECT status || ' ' || (watch->>'state') FROM rubberduck.migrations WHERE version = 'w1'")" \
  "applied watching" "w1 applied and watched"
tap_is "$(cluster_psql -c "SELECT to_regclass('watched_b_idx') IS NULL")" t "the index is gone"
load 5
tap_ok "the agent rolled w1 back" wait_for "SELECT status = 'rolled_back' FROM rubberduck.migrations WHERE version = 'w1'" 60
tap_is "$(cluster_psql -c "SELECT to_regclass('watched_b_idx') IS NOT NULL")" t "down_sql recreated the index"
reason=$(cluster_psql -c "SELECT rollback_reason FROM rubberduck.migrations WHERE version = 'w1'")
tap_like "$reason" '^automatic: mean latency of [0-9]+ queries on the migrated tables went from [0-9.]+ ms to [0-9.]+ ms per call \([0-9.]+x' \
  "the reason carries the measurement"
tap_diag "$reason"
tap_cmp "$(cluster_psql -c "SELECT ((watch->>'ratio')::numeric > 1.5)::int FROM rubberduck.migrations WHERE version = 'w1'")" -eq 1 \
  "the measured ratio is above the threshold"
tap_is "$(cluster_psql -c "SELECT count(*) FROM rubberduck.signals WHERE kind = 'migration_rolled_back' AND payload->>'version' = 'w1'")" 1 \
  "signal migration_rolled_back published"
tap_is "$(cluster_psql -c "SELECT action || ' ' || status || ' ' || (metric_after > metric_before) FROM rubberduck.actions WHERE target = 'w1'")" \
  "rollback_migration applied true" "the rollback is audited in rubberduck.actions with before/after latency"
tap_fails "no crash in the log" cluster_log_has 'terminated by signal'
tap_done
