#!/usr/bin/env bash
# On a hot standby the agents start, observe and advise, never write, and say so.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/cluster.sh"
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'" "wal_level = replica" "max_wal_senders = 4" "hot_standby = on"
primary=$RD_CLUSTER_DIR
primary_port=$PGPORT
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
echo "host replication postgres 127.0.0.1/32 trust" | rd_as_pg tee -a "$PGDATA/pg_hba.conf" >/dev/null
cluster_reload

# A second cluster dir for the standby: replace its data with a base backup of the primary.
cluster_start
standby=$RD_CLUSTER_DIR
standby_port=$PGPORT
cluster_stop
rd_as_pg rm -rf "$standby/data"
rd_as_pg "$RD_PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$standby/data" -R -X stream >/dev/null 2>&1
{
  echo "port = $standby_port"
  echo "unix_socket_directories = '$standby'"
} | rd_as_pg tee -a "$standby/data/postgresql.conf" >/dev/null
cluster_restart
tap_is "$(cluster_psql -c 'select pg_is_in_recovery()')" "t" "standby is in recovery"
tap_ok "agents run on the standby" wait_for "select count(*) = 4 from rubberduck.agents where pid is not null and cycles > 0" 30
tap_ok "agents say they only observe" wait_for "select bool_and(detail like 'hot standby%') from rubberduck.agents" 30
tap_is "$(cluster_psql -c "select count(*) from rubberduck.agents where last_error is not null")" "0" "no agent error on the standby"
tap_fails "no crash on the standby" cluster_log_has 'terminated by signal'

# The primary keeps working and still replicates to the standby.
cluster_use "$primary"
cluster_psql -c "create table after_standby(i int); insert into after_standby values (1)" >/dev/null
cluster_use "$standby"
tap_ok "standby replays the primary" wait_for "select count(*) = 1 from after_standby" 30
tap_done
