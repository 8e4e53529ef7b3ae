#!/usr/bin/env bash
# Impact prediction vs reality: calibrates throughput on this server (rubberduck.calibrate_migration_throughput),
# then for each blocking operation on a table of ROWS rows compares analyze_migration's est_duration_ms with the
# measured wall time of the statement itself (executed with the guard off, one at a time, nothing else running).
#   bench/migration/predict_vs_actual.sh [ROWS] [CALIBRATION_ROWS]     (defaults 2000000 and 200000)
# Prints one line per operation: op, predicted_ms, actual_ms, actual/predicted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../../tests/lib/cluster.sh"
rows=${1:-2000000}
calib=${2:-200000}

cluster_start "shared_buffers = '256MB'" "max_wal_size = '4GB'" "rubberduck.migration_guard = off" \
  "maintenance_work_mem = '64MB'"
export PGOPTIONS="-c rubberduck.migration_guard=off"
cluster_psql -c "CREATE EXTENSION rubberduck_agents" >/dev/null
cluster_psql >/dev/null <<SQL
CREATE TABLE parents (id bigint PRIMARY KEY);
INSERT INTO parents SELECT g FROM generate_series(1, 1000) g;
CREATE TABLE big (id bigint PRIMARY KEY, parent_id bigint NOT NULL, amount integer, price numeric(12,2),
                  note text, created_at timestamptz);
INSERT INTO big SELECT g, 1 + g % 1000, g % 100000, (g % 10000) / 100.0, md5(g::text), now() - g * interval '1 s'
FROM generate_series(1, $rows) g;
VACUUM ANALYZE big;
CHECKPOINT;
SQL
echo "# table: $(cluster_psql -c "SELECT pg_size_pretty(pg_relation_size('big')) || ', ' || reltuples::bigint || ' rows' FROM pg_class WHERE relname = 'big'")"
echo "# calibration ($calib rows):"
cluster_psql -c "SELECT kind, round(rows_per_sec) FROM rubberduck.calibrate_migration_throughput($calib)" | sed 's/^/#   /'

printf '%-28s %12s %12s %8s\n' op predicted_ms actual_ms ratio
run() {  # name, sql
  local name=$1 sql=$2 pred t0 ms
  pred=$(cluster_psql -v sql="$sql" <<'Q'
SELECT round(max(est_duration_ms)) FROM rubberduck.analyze_migration('SET lock_timeout = ''5s''; ' || :'sql');
Q
)
  cluster_psql -c "CHECKPOINT" >/dev/null
  t0=$(date +%s%N)
  cluster_psql -c "$sql" >/dev/null
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%-28s %12s %12s %8s\n' "$name" "$pred" "$ms" "$(awk -v a="$ms" -v p="$pred" 'BEGIN { printf "%.2f", (p > 0 ? a / p : 0) }')"
}
run "create_index (btree int)" "CREATE INDEX big_amount_idx ON big (amount)"
run "add_check (scan)" "ALTER TABLE big ADD CONSTRAINT big_amount_chk CHECK (amount >= 0)"
run "add_foreign_key (validate)" "ALTER TABLE big ADD CONSTRAINT big_parent_fk FOREIGN KEY (parent_id) REFERENCES parents (id)"
run "set_not_null (scan)" "ALTER TABLE big ALTER COLUMN amount SET NOT NULL"
run "alter_type int->bigint" "ALTER TABLE big ALTER COLUMN amount TYPE bigint"
run "vacuum_full (rewrite)" "VACUUM FULL big"
run "update 10% (dml)" "UPDATE big SET price = price + 1 WHERE id % 10 = 0"
