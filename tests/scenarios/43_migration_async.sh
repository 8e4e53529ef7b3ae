#!/usr/bin/env bash
# Asynchronous migrations: migrate(..., '{"async": true}') queues (pending) and returns at once; the migration
# agent starts an executor worker that runs it (running, with its pid, then applied); migrations run one at a
# time in queue order; an executor that dies mid-way leaves a 'failed' row (the agent notices), never a stuck
# 'running' one, and never a cluster restart.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'"
cluster_psql >/dev/null 2>&1 <<'SQL'
CREATE EXTENSION rubberduck_agents;
CREATE TABLE aq (id bigint PRIMARY KEY, v int);
INSERT INTO aq SELECT g, g FROM generate_series(1, 1000) g;
SQL
start_pm=$(cluster_psql -c "SELECT pg_postmaster_start_time()")
locked="SELECT count(*) > 0 FROM pg_locks WHERE relation = 'aq'::regclass AND granted AND pid <> pg_backend_pid()"

# A lock held for 8 s keeps the first migration waiting (lock_timeout 300ms, retries) so 'running' is visible.
cluster_psql -c "BEGIN; LOCK TABLE aq IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT;" >/dev/null 2>&1 &
wait_for "$locked" 10
t0=$(date +%s%N)
out=$(cluster_psql -c "SELECT status FROM rubberduck.migrate('a1', 'ALTER TABLE aq ADD COLUMN a1 int', NULL,
  '{\"async\": true, \"lock_timeout\": \"300ms\", \"lock_retries\": 20, \"watch\": false}')")
call_ms=$((($(date +%s%N) - t0) / 1000000))
tap_is "$out" pending "migrate(async) returns pending"
tap_cmp "$call_ms" -lt 2000 "and returns at once (${call_ms} ms) while the table is locked"
cluster_psql -c "SELECT status FROM rubberduck.migrate('a2', 'ALTER TABLE aq ADD COLUMN a2 int', NULL, '{\"async\": true, \"watch\": false}')" >/dev/null
tap_ok "the executor picks a1 up: running with its pid" \
  wait_for "SELECT status = 'running' AND executor_pid IS NOT NULL FROM rubberduck.migrations WHERE version = 'a1'" 20
tap_is "$(cluster_psql -c "SELECT backend_type FROM pg_stat_activity WHERE pid = (SELECT executor_pid FROM rubberduck.migrations WHERE version = 'a1')")" \
  "rubberduck migration executor" "it is the migration executor worker"
tap_is "$(cluster_psql -c "SELECT status FROM rubberduck.migrations WHERE version = 'a2'")" pending "a2 waits its turn"
tap_ok "a1 applied after the lock is released" wait_for "SELECT status = 'applied' FROM rubberduck.migrations WHERE version = 'a1'" 30
tap_ok "then a2" wait_for "SELECT status = 'applied' FROM rubberduck.migrations WHERE version = 'a2'" 30
tap_is "$(cluster_psql -c "SELECT (SELECT finished_at FROM rubberduck.migrations WHERE version = 'a1') <= (SELECT started_at FROM rubberduck.migrations WHERE version = 'a2')")" \
  t "one at a time, in queue order"
tap_is "$(cluster_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'aq' AND column_name IN ('a1', 'a2')")" 2 \
  "both columns exist"
wait

# An executor terminated mid-way: the agent marks the row failed.
cluster_psql -c "BEGIN; LOCK TABLE aq IN ACCESS SHARE MODE; SELECT pg_sleep(20); COMMIT;" >/dev/null 2>&1 &
holder=$!
wait_for "$locked" 10
cluster_psql -c "SELECT rubberduck.migrate('a3', 'ALTER TABLE aq ADD COLUMN a3 int', NULL, '{\"async\": true, \"lock_timeout\": \"300ms\", \"lock_retries\": 50, \"watch\": false}')" >/dev/null
wait_for "SELECT status = 'running' FROM rubberduck.migrations WHERE version = 'a3'" 20
cluster_psql -c "SELECT pg_terminate_backend(executor_pid) FROM rubberduck.migrations WHERE version = 'a3'" >/dev/null
tap_ok "the agent marks a3 failed after its executor died" \
  wait_for "SELECT status = 'failed' AND error LIKE 'the executor worker (pid %) exited before finishing' FROM rubberduck.migrations WHERE version = 'a3'" 30
tap_is "$(cluster_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'aq' AND column_name = 'a3'")" 0 \
  "nothing of a3 was applied"
cluster_psql -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$holder" 2>/dev/null || true
# a failed version may be queued again and then succeeds
cluster_psql -c "SELECT rubberduck.migrate('a3', 'ALTER TABLE aq ADD COLUMN a3 int', NULL, '{\"async\": true, \"lock_timeout\": \"300ms\", \"lock_retries\": 50, \"watch\": false}')" >/dev/null
tap_ok "a3 queued again is applied" wait_for "SELECT status = 'applied' FROM rubberduck.migrations WHERE version = 'a3'" 30
tap_is "$(cluster_psql -c "SELECT pg_postmaster_start_time()")" "$start_pm" "the postmaster never restarted"
tap_fails "no crash in the log" cluster_log_has 'terminated by signal'
tap_done
