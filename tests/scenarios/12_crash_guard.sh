#!/usr/bin/env bash
# Crash-loop guard: repeated abnormal agent deaths (each one a whole-cluster crash restart) keep the agents off, say
# why, and rubberduck.reset('crash_guard') brings them back. rubberduck.enabled = off is honoured at start, and a
# shortage of background-worker slots is reported clearly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'" "restart_after_crash = on"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
tap_ok "agents running" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30
for i in 1 2 3; do
  wait_for "select pid is not null from rubberduck.agents where agent = 'health_sensor'" 60 || true
  pid=$(cluster_psql -c "select pid from rubberduck.agents where agent = 'health_sensor'" 2>/dev/null || true)
  [[ -n $pid ]] && kill -SEGV "$pid"
  sleep 3
done
tap_ok "guard trips after 3 abnormal deaths" wait_for "select bool_and(state = 'not_running' and detail like 'crash-loop guard%') from rubberduck.agents" 60
tap_like "$(cluster_psql -c "select detail from rubberduck.agents where agent = 'migration'")" 'health_sensor x3' "detail names the agent that crashed"
tap_ok "guard logged" cluster_log_has 'agents kept off: crash-loop guard'
tap_is "$(cluster_psql -c "select count(*) from pg_stat_activity where backend_type like 'rubberduck %' and backend_type <> 'rubberduck launcher'")" "0" "no agent process runs"
tap_is "$(cluster_psql -c "select count(*) from pg_stat_activity where backend_type = 'rubberduck launcher'")" "1" "the launcher stays up"
cluster_psql -c "select rubberduck.reset('crash_guard')" >/dev/null
tap_ok "reset brings the agents back" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30

# enabled = off at start: no agent is started at all.
cluster_restart "rubberduck.enabled = off"
sleep 2
tap_is "$(cluster_psql -c "select count(*) from pg_stat_activity where backend_type like 'rubberduck %' and backend_type <> 'rubberduck launcher'")" "0" "enabled = off: no agent started"
tap_is "$(cluster_psql -c "select string_agg(distinct state, ',') from rubberduck.agents")" "disabled" "enabled = off: agents shown disabled"
cluster_conf "rubberduck.enabled = on"
cluster_reload
tap_ok "enabled = on by reload starts them" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30

# Too few background-worker slots (3: the logical replication launcher, ours, one agent): the rest are reported.
cluster_restart "max_worker_processes = 3"
tap_ok "slot shortage reported" wait_for "select count(*) = 3 from rubberduck.agents where state = 'not_running' and detail like 'no free background worker slot%'" 30
tap_is "$(cluster_psql -c "select count(*) from rubberduck.agents where pid is not null")" "1" "the agent that fits runs"
tap_ok "slot shortage logged" cluster_log_has 'could not start agent'
tap_done
