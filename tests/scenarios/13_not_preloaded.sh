#!/usr/bin/env bash
# Without preloading, CREATE EXTENSION works; the views say the agents are not running, with a WARNING and a HINT.
set -euo pipefail
export RD_PRELOAD=pg_stat_statements
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

cluster_start
tap_ok "CREATE EXTENSION without preload" cluster_psql -c 'CREATE EXTENSION rubberduck_agents'
out=$(cluster_psql -c "select agent || ':' || state from rubberduck.agents order by agent" 2>&1)
tap_like "$out" 'WARNING: +rubberduck_agents is not loaded through shared_preload_libraries' "WARNING says why"
tap_like "$out" 'HINT: +Add rubberduck_agents to shared_preload_libraries' "HINT says what to do"
tap_like "$out" 'data_persistence:not_running' "agents shown not_running"
tap_like "$(cluster_psql -c "select rubberduck.wake_agent('migration')" 2>&1 || true)" 'ERROR: +the agents are not running' "wake_agent errors clearly"
tap_ok "DROP EXTENSION" cluster_psql -c 'DROP EXTENSION rubberduck_agents'
tap_ok "CREATE EXTENSION again" cluster_psql -c 'CREATE EXTENSION rubberduck_agents'
tap_fails "no crash" cluster_log_has 'terminated by signal'
tap_done
