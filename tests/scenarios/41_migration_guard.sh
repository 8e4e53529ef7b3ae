#!/usr/bin/env bash
# The migration guard across sessions and databases: the lock_timeout it applies really cancels a DDL stuck
# behind another session's lock (and is not applied when the guard is off), the directives work from
# postgresql.conf and ALTER SYSTEM, DDL in a database without the extension is still guarded and recorded, and
# the migration agent drains the records into rubberduck.ddl_log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'" "rubberduck.migration_lock_timeout = '1s'"
cluster_psql -c "CREATE EXTENSION rubberduck_agents" >/dev/null
tap_is "$(cluster_psql -c 'SHOW rubberduck.migration_lock_timeout')" "1s" "migration_lock_timeout read from postgresql.conf"
tap_is "$(cluster_psql -c 'SHOW rubberduck.migration_guard')" "warn" "guard defaults to warn"
cluster_psql -c "CREATE TABLE t (id integer PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000); ANALYZE t" >/dev/null 2>&1

hold_lock() {  # a session holding ACCESS SHARE on t for $1 seconds
  cluster_psql -c "BEGIN; LOCK TABLE t IN ACCESS SHARE MODE; SELECT pg_sleep($1); COMMIT;" >/dev/null 2>&1 &
  wait_for "SELECT count(*) > 0 FROM pg_locks WHERE relation = 'public.t'::regclass AND mode = 'AccessShareLock' AND granted AND pid <> pg_backend_pid()" 10
}

# warn: ALTER TABLE needs ACCESS EXCLUSIVE; the session has no lock_timeout; the guard applies 1 s.
hold_lock 8
t0=$(date +%s%N)
out=$(cluster_psql -c "ALTER TABLE t ADD COLUMN a integer" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap_like "$out" "canceling statement due to lock timeout" "DDL behind another session's lock is cancelled by the guard's lock_timeout"
tap_cmp "$ms" -lt 5000 "cancelled after about 1 s (took ${ms} ms), not after the 8 s the lock is held"
tap_is "$(cluster_psql -c 'SHOW lock_timeout')" "0" "session lock_timeout unchanged"
tap_is "$(cluster_psql -c "SELECT outcome || ' ' || lock_timeout_applied_ms FROM rubberduck._ddl_ring() WHERE statement LIKE 'ALTER TABLE t ADD COLUMN a%' ORDER BY seq DESC LIMIT 1")" \
  "failed 1000" "recorded as failed with the lock_timeout applied"
wait  # the holder

# A session lock_timeout wins over the guard's.
hold_lock 8
t0=$(date +%s%N)
out=$(PGOPTIONS="-c lock_timeout=3s" cluster_psql -c "ALTER TABLE t ADD COLUMN b integer" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap_like "$out" "lock timeout" "session lock_timeout still cancels"
tap_cmp "$ms" -ge 2500 "the session's 3 s was used, not the guard's 1 s (took ${ms} ms)"
wait

# off: no lock_timeout is applied; the DDL waits for the holder and then succeeds.
hold_lock 3
t0=$(date +%s%N)
out=$(PGOPTIONS="-c rubberduck.migration_guard=off" cluster_psql -c "ALTER TABLE t ADD COLUMN c integer" 2>&1 || true)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
tap_is "$out" "ALTER TABLE" "guard off: DDL waits and succeeds"
tap_cmp "$ms" -ge 1500 "guard off: it waited for the lock (${ms} ms)"
wait

# A database without the extension is guarded too; the agent logs it into the agent database's ddl_log.
cluster_psql -c "CREATE DATABASE noext" >/dev/null
cluster_psql -d noext -c "CREATE TABLE big (id bigint PRIMARY KEY); INSERT INTO big SELECT generate_series(1, 5000); ANALYZE big" >/dev/null 2>&1
out=$(cluster_psql -d noext -c "TRUNCATE big" 2>&1)
tap_like "$out" "WARNING:  migration guard: truncate \(danger\)" "guard warns in a database without the extension"
cluster_psql -c "SELECT rubberduck.wake_agent('migration')" >/dev/null
tap_is "$(cluster_psql -c "SELECT string_agg(rules::text, ';') FROM rubberduck.ddl_log WHERE database = 'noext' AND command_tag = 'TRUNCATE TABLE'")" \
  "{truncate}" "drained into rubberduck.ddl_log with its database"

# enforce through ALTER SYSTEM + reload; migration_allow in a session.
cluster_psql -c "ALTER SYSTEM SET rubberduck.migration_guard = enforce" >/dev/null
cluster_psql -c "SELECT pg_reload_conf()" >/dev/null
wait_for "SELECT current_setting('rubberduck.migration_guard') = 'enforce'" 10
# (the TRUNCATE above ran in warn mode: refill the table)
cluster_psql -d noext -c "INSERT INTO big SELECT generate_series(1, 5000); ANALYZE big" >/dev/null 2>&1
out=$(cluster_psql -d noext -c "TRUNCATE big" 2>&1 || true)
tap_like "$out" "ERROR:  migration guard refused the statement: truncate" "enforce refuses a dangerous DDL"
tap_is "$(cluster_psql -d noext -c 'SELECT count(*) FROM big')" "5000" "the refused TRUNCATE changed nothing"
out=$(PGOPTIONS="-c rubberduck.migration_allow=truncate" cluster_psql -d noext -c "TRUNCATE big" 2>&1 || true)
tap_like "$out" "TRUNCATE TABLE" "migration_allow lets it through"
tap_is "$(cluster_psql -d noext -c 'SELECT count(*) FROM big')" "0" "the allowed TRUNCATE ran"

tap_fails "no crash in the log" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
