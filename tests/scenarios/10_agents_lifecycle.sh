#!/usr/bin/env bash
# Agents start and cycle as named background workers; learned state (signals, counters) survives a restart; a corrupt
# or truncated state file means a WARNING and a fresh start, never a crash; NOTIFY mirrors signals.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
tap_ok "four agents cycling" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null and cycles > 0" 30
tap_is "$(cluster_psql -c "select string_agg(backend_type, ',' order by backend_type) from pg_stat_activity where backend_type like 'rubberduck%'")" \
  "rubberduck data_persistence,rubberduck health_sensor,rubberduck launcher,rubberduck migration,rubberduck query_optimizer" \
  "launcher and agents show their backend_type"
tap_bail_if_failed "agents did not start"

# NOTIFY mirror: a listener sees the published signal as JSON.
notify=$(cluster_psql -c "LISTEN rubberduck" -c "select rubberduck.publish_signal('lifecycle_test', '{\"k\": 42}')" -c "select 1" 2>&1 || true)
tap_like "$notify" 'Asynchronous notification "rubberduck" with payload ".*"kind":"lifecycle_test".*"k": 42' "signal mirrored to NOTIFY rubberduck"
cluster_psql -c "select rubberduck.wake_agent('migration')" >/dev/null
cycles_before=$(cluster_psql -c "select cycles from rubberduck.agents where agent = 'migration'")

cluster_restart
tap_ok "agents back after restart" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30
tap_is "$(cluster_psql -c "select count(*) from rubberduck.signals where kind = 'lifecycle_test' and 'migration' = any(delivered_to)")" "1" \
  "signal and delivery cursors survive a restart"
tap_cmp "$(cluster_psql -c "select cycles from rubberduck.agents where agent = 'migration'")" -ge "$cycles_before" \
  "cycle counters survive a restart"
tap_ok "state file written" test -s "$PGDATA/pg_stat/rubberduck_agents.state"

# Corrupt the file in the middle, then truncate it: each time a WARNING and a fresh start.
cluster_stop
rd_as_pg dd if=/dev/urandom of="$PGDATA/pg_stat/rubberduck_agents.state" bs=1 count=16 seek=40 conv=notrunc 2>/dev/null
cluster_restart
tap_ok "corrupt state file: WARNING" cluster_log_has 'WARNING:.*ignoring state file.*(checksum|truncated|magic)'
tap_ok "corrupt state file: agents run" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30
tap_is "$(cluster_psql -c "select count(*) from rubberduck.signals where kind = 'lifecycle_test'")" "0" "corrupt file: fresh start"
cluster_stop
rd_as_pg truncate -s 20 "$PGDATA/pg_stat/rubberduck_agents.state"
cluster_restart
tap_ok "truncated state file: agents run" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null" 30
tap_fails "no process crashed" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
