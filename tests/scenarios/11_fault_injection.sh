#!/usr/bin/env bash
# Injected faults in agent cycles (PostgreSQL ERROR, C++ exception, worker exit) while pgbench clients run: the
# clients see no error, the cluster never restarts, the agents record the error and go on (or are restarted).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
pgbench_run -i -s 1 -q >/dev/null 2>&1
tap_ok "agents cycling" wait_for "select count(*) = 4 from rubberduck.agents where cycles > 0" 30
tap_bail_if_failed "agents did not start"
started=$(cluster_psql -c "select pg_postmaster_start_time()")

out=$RD_CLUSTER_DIR/pgbench.out
pgbench_run -c 4 -j 2 -T 20 -n >"$out" 2>&1 &
bench=$!
sleep 2
inject() {
  cluster_psql -c "ALTER SYSTEM SET rubberduck.debug_inject_fault = '$1'" -c "select pg_reload_conf()" >/dev/null
  sleep 2
}
inject "migration:error"
tap_ok "ERROR recorded in last_error" wait_for "select last_error like '%injected error%' from rubberduck.agents where agent = 'migration'" 20
inject "query_optimizer:exception"
tap_ok "C++ exception recorded in last_error" wait_for "select last_error like '%injected C++ exception%' from rubberduck.agents where agent = 'query_optimizer'" 20
inject "health_sensor:exit"
tap_ok "exited agent restarted by the launcher" wait_for "select restarts >= 1 and pid is not null from rubberduck.agents where agent = 'health_sensor'" 30
inject ""
rc=0
wait "$bench" || rc=$?
tap_is "$rc" "0" "pgbench finished successfully"
tap_like "$(cat "$out")" 'number of failed transactions: 0' "clients saw 0 failed transactions"
tap_is "$(cluster_psql -c "select pg_postmaster_start_time()")" "$started" "no cluster restart (same postmaster start time)"
tap_fails "no process terminated by a signal" cluster_log_has 'terminated by signal'
tap_ok "agents still cycling after the faults" wait_for "select bool_and(cycles > 0 and pid is not null) from rubberduck.agents" 30
before=$(cluster_psql -c "select cycles from rubberduck.agents where agent = 'migration'")
cluster_psql -c "select rubberduck.wake_agent('migration')" >/dev/null
tap_cmp "$(cluster_psql -c "select cycles from rubberduck.agents where agent = 'migration'")" -gt "$before" "migration agent completes cycles again"
tap_done
