#!/usr/bin/env bash
# Autonomous indexing across a restart (cpp-in-postgres.md R44): a concurrent build interrupted by a server
# restart (it was waiting for an old snapshot, its index already in the catalog and INVALID) is marked failed
# at the agent's first cycle after the restart, and the INVALID index it left is dropped. State lives in
# rubberduck.actions, so nothing is lost; the agent does not crash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '1s'" "rubberduck.indexing_lock_timeout = 0"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
CREATE TABLE r (id bigint PRIMARY KEY, v int NOT NULL);
INSERT INTO r SELECT g, g % 1000 FROM generate_series(1, 20000) g;
INSERT INTO rubberduck.index_advice (advice_key, relation, relation_oid, columns, ddl, est_improvement_pct)
VALUES ('test:r(v)', 'public.r', 'r'::regclass, '{v}', 'CREATE INDEX CONCURRENTLY ON public.r USING btree (v)', 1);
SQL
# An old snapshot the concurrent build has to wait for at its end.
cluster_psql -c "begin isolation level repeatable read; select count(*) from r; select pg_sleep(120); commit" \
  >/dev/null 2>&1 &
wait_for "select count(*) > 0 from pg_stat_activity where query like '%pg_sleep(120)%' and state = 'active' and pid <> pg_backend_pid()" 10 || true
id=$(cluster_psql -c "select rubberduck.apply_index_advice((select id from rubberduck.index_advice where advice_key = 'test:r(v)'))")
tap_like "$id" '^[0-9]+$' "apply_index_advice returned action $id"
index=$(cluster_psql -c "select detail->>'index' from rubberduck.actions where id = $id")
tap_ok "the build is under way and its index is in the catalog, INVALID" \
  wait_for "select count(*) = 1 from pg_index where indexrelid = to_regclass('$index') and not indisvalid" 30
tap_is "$(cluster_psql -c "select status || ' ' || (detail->>'phase') from rubberduck.actions where id = $id")" \
  "proposed building" "the action says building"

cluster_restart
started=$(cluster_psql -c 'select pg_postmaster_start_time()')
tap_ok "after the restart the interrupted build is marked failed" \
  wait_for "select status = 'failed' from rubberduck.actions where id = $id" 30
tap_like "$(cluster_psql -c "select detail->>'error' from rubberduck.actions where id = $id")" 'exited before finishing' \
  "with the reason"
tap_ok "the INVALID index it left is dropped" wait_for "select to_regclass('$index') is null" 30
tap_is "$(cluster_psql -c "select status from rubberduck.index_advice where advice_key = 'test:r(v)'")" "failed" \
  "the advice is marked failed (retried after rubberduck.indexing_retry_after)"
tap_is "$(cluster_psql -c 'select pg_postmaster_start_time()')" "$started" "no crash after the restart"
tap_fails "nothing terminated by a signal" cluster_log_has 'terminated by signal'
tap_done
