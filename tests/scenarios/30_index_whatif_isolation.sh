#!/usr/bin/env bash
# Hypothetical indexes stay inside the session and the call that asked for them: while one session plans
# thousands of statements with hypothetical indexes, another session's EXPLAINs never see them; in the asking
# session, plain EXPLAIN, prepared statements and plpgsql's cached plans after the calls are unchanged.
# Also: indexing directives set in postgresql.conf are honoured at start (preloaded library).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

cluster_start "rubberduck.naptime = '500ms'" "rubberduck.indexing_max_indexes = 3" \
  "rubberduck.indexing_maintenance_window = '01:00-05:00'" "max_parallel_workers_per_gather = 0"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
tap_is "$(cluster_psql -c 'show rubberduck.indexing_max_indexes')" "3" "indexing_max_indexes from postgresql.conf"
tap_is "$(cluster_psql -c 'show rubberduck.indexing_maintenance_window')" "01:00-05:00" \
  "indexing_maintenance_window from postgresql.conf"

cluster_psql >/dev/null <<'SQL'
CREATE TABLE iso (id bigint PRIMARY KEY, ref text NOT NULL, grp int NOT NULL, payload text);
INSERT INTO iso SELECT g, 'R' || g, g % 500, md5(g::text) FROM generate_series(1, 50000) g;
VACUUM ANALYZE iso;
SQL

# Session A: 3000 hypothetical plans, each with two hypothetical indexes that would win.
work=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-iso.XXXXXX")
rd_on_exit "rm -rf '$work'"
cluster_psql >"$work/a.out" 2>&1 <<'SQL' &
SELECT count(*) FILTER (WHERE line LIKE '%<hypothetical>iso_ref_idx%') AS used
  FROM generate_series(1, 3000) g,
       LATERAL rubberduck.hypothetical_explain(
           format('SELECT * FROM iso WHERE ref = %L OR grp = %s', 'R' || g, g % 500),
           ARRAY['CREATE INDEX ON iso (ref)', 'CREATE INDEX ON iso (grp)']) AS line;
SQL
a_pid=$!

# Session B, meanwhile: plain EXPLAIN of the same shapes, counting any plan that mentions an index.
cluster_psql >"$work/b.out" 2>&1 <<'SQL'
DO $$
DECLARE
    line text;
    with_index int := 0;
    plans int := 0;
BEGIN
    FOR i IN 1..3000 LOOP
        FOR line IN EXECUTE format('EXPLAIN SELECT * FROM iso WHERE ref = %L OR grp = %s', 'R' || i, i % 500) LOOP
            IF line ~ '(Index|hypothetical)' THEN with_index := with_index + 1; END IF;
        END LOOP;
        plans := plans + 1;
    END LOOP;
    RAISE NOTICE 'plans=% with_index=%', plans, with_index;
END
$$;
SQL
a_rc=0
wait "$a_pid" || a_rc=$?
tap_is "$a_rc" "0" "session A finished"
tap_is "$(tr -d ' \n' <"$work/a.out")" "3000" "session A: every hypothetical plan used the hypothetical index"
tap_like "$(cat "$work/b.out")" 'plans=3000 with_index=0' "session B: 3000 plans, none with an index"

# In one session: plain planning, prepared statements and plpgsql plans after hypothetical calls.
out=$(cluster_psql <<'SQL'
CREATE FUNCTION iso_lookup(r text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT id FROM iso WHERE ref = r);
END
$$;
PREPARE p(text) AS SELECT * FROM iso WHERE ref = $1;
SELECT count(*) FROM rubberduck.hypothetical_explain('SELECT * FROM iso WHERE ref = ''R1''', ARRAY['CREATE INDEX ON iso (ref)'])
  WHERE hypothetical_explain LIKE '%<hypothetical>%';
SELECT count(*) FROM rubberduck.hypothetical_explain('SELECT iso_lookup(ref) FROM iso WHERE ref = ''R2''', ARRAY['CREATE INDEX ON iso (ref)'])
  WHERE hypothetical_explain LIKE '%<hypothetical>%';
EXPLAIN (COSTS OFF) EXECUTE p('R7');
EXPLAIN (COSTS OFF) SELECT * FROM iso WHERE ref = 'R7';
SELECT iso_lookup('R7');
SELECT count(*) FROM pg_class WHERE relname LIKE '%hypothetical%' OR oid BETWEEN 16000 AND 16383 AND relkind = 'i';
SQL
)
tap_like "$out" $'PREPARE\n1\n1\n' "hypothetical_explain used the hypothetical index twice"
tap_like "$out" $'Seq Scan on iso\n  Filter: \\(ref = \'R7\'::text\\)\nSeq Scan on iso' \
  "prepared statement and plain EXPLAIN afterwards: sequential scans"
tap_like "$out" $'\n7\n0$' "plpgsql lookup runs (no cached hypothetical plan); nothing in pg_class"
tap_fails "no crash in the server log" cluster_log_has 'terminated by signal|server process .* was terminated'
tap_done
