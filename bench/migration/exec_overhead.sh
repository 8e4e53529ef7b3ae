#!/usr/bin/env bash
# What rubberduck.migrate() costs over running the same DDL by hand, and how long a queued (async) migration
# waits for the migration agent's executor. Usage: bench/migration/exec_overhead.sh [rounds] [rows]
# Prints one line per measurement: median and p90 in ms over the rounds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../../tests/lib/cluster.sh"
rounds=${1:-20}
rows=${2:-100000}
cluster_start "rubberduck.naptime = '200ms'" "rubberduck.migration_guard = 'off'" >/dev/null
cluster_psql >/dev/null 2>&1 <<SQL
CREATE EXTENSION rubberduck_agents;
CREATE TABLE b (id bigint PRIMARY KEY, v int);
INSERT INTO b SELECT g, g FROM generate_series(1, $rows) g;
ANALYZE b;
SQL
ms() { echo $((($(date +%s%N) - $1) / 1000000)); }
stats() { sort -n | awk '{a[NR]=$1} END {printf "median %d ms, p90 %d ms (n=%d)\n", a[int((NR+1)/2)], a[int(NR*0.9+0.5)], NR}'; }
direct=() via=() async=()
for ((i = 0; i < rounds; i++)); do
  t=$(date +%s%N); cluster_psql -c "ALTER TABLE b ADD COLUMN d$i int" >/dev/null; direct+=("$(ms "$t")")
  t=$(date +%s%N)
  cluster_psql -c "SELECT rubberduck.migrate('m$i', 'ALTER TABLE b ADD COLUMN m$i int', NULL, '{\"watch\": false}')" >/dev/null
  via+=("$(ms "$t")")
  t=$(date +%s%N)
  cluster_psql -c "SELECT rubberduck.migrate('a$i', 'ALTER TABLE b ADD COLUMN a$i int', NULL, '{\"async\": true, \"watch\": false}')" >/dev/null
  wait_for "SELECT status = 'applied' FROM rubberduck.migrations WHERE version = 'a$i'" 60
  async+=("$(ms "$t")")
done
echo "table b: $rows rows; $rounds rounds; naptime 200ms; each figure includes psql connection start"
echo "ALTER TABLE ADD COLUMN by hand:            $(printf '%s\n' "${direct[@]}" | stats)"
echo "same through migrate() (analysis+checks):  $(printf '%s\n' "${via[@]}" | stats)"
echo "async: migrate() to status applied:        $(printf '%s\n' "${async[@]}" | stats)"
cluster_psql -c "SELECT 'ledger actual_ms (statements + checks) median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY actual_ms)::numeric, 1) || ' ms' FROM rubberduck.migrations WHERE version LIKE 'm%'"
