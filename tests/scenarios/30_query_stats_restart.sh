#!/usr/bin/env bash
# query_optimizer: statement statistics, predicates and exemplars survive a clean restart (shared-memory state
# section), the agent's learning (N+1 flag, baselines) survives too (agent state section), and with a tiny
# rubberduck.max_queries the table stays bounded by evicting the least used entries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'" "rubberduck.sample_rate = 1" "rubberduck.track = 'all'"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
CREATE TABLE r (id int PRIMARY KEY, v int);
INSERT INTO r SELECT g, g % 10 FROM generate_series(1, 1000) g;
ANALYZE r;
SQL
for i in $(seq 1 17); do echo "SELECT v FROM r WHERE id = $i;"; done | cluster_psql >/dev/null
cluster_psql >/dev/null <<'SQL'
DO $$ DECLARE x int; BEGIN FOR i IN 1..20 LOOP SELECT v INTO x FROM r WHERE id = i + 100; END LOOP; END $$;
SQL
q="select calls from rubberduck.query_insights where query = 'SELECT v FROM r WHERE id = \$1'"
tap_is "$(cluster_psql -c "$q")" "17" "17 calls counted before the restart"
sleep 1.3
cluster_psql -c "select rubberduck.wake_agent('query_optimizer')" >/dev/null
n1="select count(*) from rubberduck.query_insights where query like 'SELECT v%FROM r WHERE id = i + \$%' and 'n_plus_one' = any(flags)"
tap_ok "N+1 flagged before the restart" wait_for "select ($n1) = 1" 10
preds_before=$(cluster_psql -c "select count(*) from rubberduck.predicates where relation = 'r'::regclass")
tap_cmp "$preds_before" -gt 0 "predicates recorded"
exq="select query || ' ' || exec_ms from rubberduck._exemplars() where query like 'SELECT v FROM r WHERE id = %'"
ex_before=$(cluster_psql -c "$exq")
tap_like "$ex_before" '^SELECT v FROM r WHERE id = [0-9]+;? [0-9.e+-]+$' "an exemplar with its real constant is kept"

cluster_restart
tap_is "$(cluster_psql -c "$q")" "17" "calls survive a clean restart"
tap_is "$(cluster_psql -c "select count(*) from rubberduck.query_insights where query = 'SELECT v FROM r WHERE id = \$1' and p95_ms > 0 and plans = 1")" \
  "1" "text, histogram and plan fingerprint survive"
tap_is "$(cluster_psql -c "select count(*) from rubberduck.predicates where relation = 'r'::regclass")" \
  "$preds_before" "predicates survive"
tap_is "$(cluster_psql -c "$exq")" "$ex_before" "exemplars survive"
tap_ok "the agent's N+1 finding survives (agent state section)" wait_for "select ($n1) = 1" 15
cluster_psql -c "SELECT v FROM r WHERE id = 1" >/dev/null
tap_is "$(cluster_psql -c "$q")" "18" "counting goes on after the restart"
tap_fails "no state-file warnings" cluster_log_has 'ignoring state (file|section)'

# ---- eviction: 300 distinct statements into a 100-entry table
cluster_restart "rubberduck.max_queries = 100"
tap_is "$(cluster_psql -c 'show rubberduck.max_queries')" "100" "max_queries = 100"
tap_cmp "$(cluster_psql -c 'select count(*) from rubberduck.query_insights')" -le 100 "reloaded state fits the smaller table"
for i in $(seq 1 300); do
  echo "SELECT count(*) FROM pg_class WHERE oid IN ($(seq -s, 1 "$i"));"
done | cluster_psql >/dev/null
for _ in 1 2 3; do
  for i in 1 2 3 4 5; do echo "SELECT v FROM r WHERE id = $i;"; done | cluster_psql >/dev/null
done
n=$(cluster_psql -c 'select count(*) from rubberduck.query_insights')
tap_cmp "$n" -le 100 "the table stays bounded ($n entries)"
tap_cmp "$n" -ge 50 "and keeps most of its capacity in use ($n entries)"
tap_is "$(cluster_psql -c "select count(*) from rubberduck.query_insights where query = 'SELECT v FROM r WHERE id = \$1'")" \
  "1" "a frequently used statement is kept while rarely used ones are evicted"
tap_fails "no crash" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
