#!/usr/bin/env bash
# query_optimizer N+1 detection from client loops (the PL/pgSQL case is in sql/query_insights.sql).
# Positive: the same statement 20 times from one client inside one transaction, and 20 times in autocommit.
# Negative: the same statement once each from 15 separate connections (popular, not a loop), a loop whose calls
# return many rows, and a slow loop (a pause longer than the burst gap between calls, outside a transaction).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'" "rubberduck.n_plus_one_threshold = 10"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
for t in n1a n1b n1c n1d n1e; do
  cluster_psql -c "CREATE TABLE $t (id int PRIMARY KEY, g int); INSERT INTO $t SELECT i, i % 3 FROM generate_series(1, 300) i" >/dev/null
done

{ echo "BEGIN;"; for i in $(seq 1 20); do echo "SELECT g FROM n1a WHERE id = $i;"; done; echo "COMMIT;"; } |
  cluster_psql >/dev/null
for i in $(seq 1 20); do echo "SELECT g FROM n1b WHERE id = $i;"; done | cluster_psql >/dev/null
for i in $(seq 1 15); do cluster_psql -c "SELECT g FROM n1c WHERE id = $i" >/dev/null; done
{ echo "BEGIN;"; for i in $(seq 1 20); do echo "SELECT id FROM n1d WHERE g = $((i % 3));"; done; echo "COMMIT;"; } |
  cluster_psql >/dev/null
for i in $(seq 1 10); do echo "SELECT g FROM n1e WHERE id = $i;"; echo '\! sleep 1.1'; done | cluster_psql >/dev/null

sleep 1.3  # a run closes after 1 s without a call
cluster_psql -c "select rubberduck.wake_agent('query_optimizer')" >/dev/null
flagged() {
  cluster_psql -c "select coalesce(bool_or('n_plus_one' = any(flags)), false) from rubberduck.query_insights where query like '%FROM $1 WHERE%'"
}
tap_is "$(flagged n1a)" "t" "client loop inside one transaction is flagged"
tap_is "$(flagged n1b)" "t" "client loop in autocommit (burst) is flagged"
tap_is "$(flagged n1c)" "f" "a statement run once by each of 15 connections is not flagged"
tap_is "$(flagged n1d)" "f" "a loop whose calls return many rows is not flagged"
tap_is "$(flagged n1e)" "f" "calls more than the burst gap apart, outside a transaction, are not flagged"
tap_like "$(cluster_psql -c "select array_to_string(suggestions, ' ') from rubberduck.query_insights where query like '%FROM n1a WHERE%'")" \
  'N\+1: executed 20 times.*(ANY|join|JOIN)' "suggestion names the count and how to batch"
tap_is "$(cluster_psql -c "select calls from rubberduck.query_insights where query like '%FROM n1c WHERE%'")" "15" \
  "the popular statement is still counted"
tap_fails "no crash" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
