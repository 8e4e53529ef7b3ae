#!/usr/bin/env bash
# query_optimizer hooks chained with pg_stat_statements and auto_explain, loaded before and after us: both
# collectors count the same calls and (they share the query's total-time instrumentation) the same execution
# time; nesting (rubberduck.track = top) agrees with pg_stat_statements.track = top; auto_explain still logs.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

check_order() {
  local preload=$1
  RD_PRELOAD=$preload cluster_start "rubberduck.naptime = '500ms'" "auto_explain.log_min_duration = 0" \
    "auto_explain.log_analyze = on" "auto_explain.log_nested_statements = on"
  cluster_psql -c 'CREATE EXTENSION rubberduck_agents; CREATE EXTENSION pg_stat_statements' >/dev/null
  cluster_psql >/dev/null <<'SQL'
CREATE TABLE co (id int PRIMARY KEY, v int);
INSERT INTO co SELECT g, g FROM generate_series(1, 1000) g;
CREATE FUNCTION co_f(n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE s int := 0; x int;
BEGIN FOR i IN 1..n LOOP SELECT v INTO x FROM co WHERE id = i; s := s + x; END LOOP; RETURN s; END $$;
SELECT pg_stat_statements_reset();
SELECT rubberduck.reset('queries');
SQL
  for i in $(seq 1 25); do echo "SELECT v FROM co WHERE id = $i;"; done | cluster_psql >/dev/null
  cluster_psql -c "SELECT co_f(30)" >/dev/null
  local ours theirs
  ours=$(cluster_psql -c "select calls || ' ' || round(total_ms::numeric, 6) from rubberduck.query_insights where query = 'SELECT v FROM co WHERE id = \$1'")
  theirs=$(cluster_psql -c "select calls || ' ' || round(total_exec_time::numeric, 6) from pg_stat_statements where query = 'SELECT v FROM co WHERE id = \$1'")
  tap_is "$ours" "$theirs" "[$preload] same calls and total time as pg_stat_statements"
  tap_like "$ours" '^25 ' "[$preload] 25 calls"
  tap_is "$(cluster_psql -c "select count(*) from rubberduck.query_insights where query like '%FROM co WHERE id = i%'")" \
    "$(cluster_psql -c "select count(*) from pg_stat_statements where query like '%FROM co WHERE id = i%'")" \
    "[$preload] nested statements: both skip them at track = top"
  tap_ok "[$preload] auto_explain still logs plans" cluster_log_has 'Index Scan using co_pkey on co'
  tap_fails "[$preload] no crash" cluster_log_has 'terminated by signal|server process .* was terminated'
  cluster_stop
}

check_order "pg_stat_statements,auto_explain,rubberduck_agents"
check_order "rubberduck_agents,pg_stat_statements,auto_explain"
tap_done
