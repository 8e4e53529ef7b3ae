#!/usr/bin/env bash
# rubberduck.migrate() under lock contention: another session holds a conflicting lock; the migration's
# lock_timeout expires, it is retried with backoff and succeeds once the lock is released — or, with too few
# retries, fails cleanly (ERROR, ledger 'failed', schema unchanged). The same for CREATE INDEX CONCURRENTLY run
# by the migration agent's executor (no INVALID index left behind).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '200ms'"
cluster_psql >/dev/null <<'SQL'
CREATE EXTENSION rubberduck_agents;
CREATE TABLE lk (id bigint PRIMARY KEY, v int);
INSERT INTO lk SELECT g, g FROM generate_series(1, 10000) g;
ANALYZE lk;
SQL

holder_lock() { # mode seconds: holds a lock on lk from another session, in the background
  cluster_psql -c "BEGIN; LOCK TABLE lk IN $1 MODE; SELECT pg_sleep($2); COMMIT;" >/dev/null 2>&1 &
  wait_for "SELECT count(*) > 0 FROM pg_locks WHERE relation = 'lk'::regclass AND granted AND pid <> pg_backend_pid()" 10
}

# 1. lock held for ~2.5 s: lock_timeout 300ms, up to 10 retries -> succeeds after the release.
holder_lock 'ACCESS SHARE' 2.5
start=$(date +%s%N)
out=$(cluster_psql -c "SELECT status || ' ' || (progress->>'attempts') FROM rubberduck.migrate('l1',
  'ALTER TABLE lk ADD COLUMN note text', NULL, '{\"lock_timeout\": \"300ms\", \"lock_retries\": 10, \"watch\": false}')" 2>&1 | tail -1)
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
wait
tap_like "$out" '^applied [2-9]' "migrate retried on lock timeout and applied once the lock was released ($out)"
tap_cmp "$elapsed_ms" -ge 2000 "it waited for the holder (${elapsed_ms} ms)"
tap_is "$(cluster_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'lk' AND column_name = 'note'")" 1 "the column exists"

# 2. lock held for 8 s: lock_timeout 200ms, 2 retries -> fails cleanly.
holder_lock 'ACCESS SHARE' 8
out=$(cluster_psql -c "SELECT status FROM rubberduck.migrate('l2', 'ALTER TABLE lk ADD COLUMN other int', NULL,
  '{\"lock_timeout\": \"200ms\", \"lock_retries\": 2, \"watch\": false}')" 2>&1 || true)
tap_like "$out" 'lock timeout' "after its retries migrate fails with the lock timeout error"
tap_is "$(cluster_psql -c "SELECT status || ' ' || (progress->>'attempts') FROM rubberduck.migrations WHERE version = 'l2'")" \
  "failed 3" "the ledger row is failed after 3 attempts"
tap_like "$(cluster_psql -c "SELECT error FROM rubberduck.migrations WHERE version = 'l2'")" 'lock timeout' "the ledger keeps the error"
tap_is "$(cluster_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name = 'lk' AND column_name = 'other'")" 0 \
  "nothing of the failed migration remains"
wait

# 3. CREATE INDEX CONCURRENTLY through the executor while a conflicting lock is held ~3 s.
holder_lock 'SHARE UPDATE EXCLUSIVE' 3
cluster_psql -c "SELECT rubberduck.migrate('l3', 'CREATE INDEX CONCURRENTLY lk_v_idx ON lk (v)', NULL,
  '{\"lock_timeout\": \"300ms\", \"lock_retries\": 10, \"watch\": false}')" >/dev/null 2>&1
tap_ok "the concurrent build was applied by the executor" \
  wait_for "SELECT status = 'applied' FROM rubberduck.migrations WHERE version = 'l3'" 60
tap_cmp "$(cluster_psql -c "SELECT (progress->>'attempts')::int FROM rubberduck.migrations WHERE version = 'l3'")" -ge 2 \
  "the executor retried after lock timeouts"
tap_is "$(cluster_psql -c "SELECT string_agg(indexrelid::regclass::text || ':' || indisvalid, ',') FROM pg_index WHERE indrelid = 'lk'::regclass AND indexrelid <> 'lk_pkey'::regclass")" \
  "lk_v_idx:true" "one valid index, no INVALID leftover from the timed-out attempts"
tap_ok "the retries were logged" cluster_log_has 'migration "l3" attempt 1 failed .*lock timeout'
wait
tap_fails "no crash in the log" cluster_log_has 'terminated by signal'
tap_done
