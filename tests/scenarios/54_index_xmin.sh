#!/usr/bin/env bash
# The index advisor's what-if planning does not hold back the xmin horizon (R42). A star-join workload (twelve
# templates of 4-7 tables) keeps the data_persistence agent planning thousands of what-if queries per cycle
# (seconds of planning, often its 4 s budget). While it plans,
# a separate table gets fresh dead rows and is VACUUMed: the agent's snapshot must have moved past the deleting
# transaction, so VACUUM removes the dead rows and marks every page all-visible. A sampler reports the largest
# age(backend_xmin) of the agent seen during what-if planning (a throttled pgbench burns xids meanwhile).
# Properties only, no timings: an attempt counts when the agent stayed in the same cycle throughout it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../lib/cluster.sh"
# shellcheck source=tests/lib/tap.sh
source "$here/../lib/tap.sh"

# The activity the agent shows while it plans what-if queries (override to measure an older build, e.g.
# RD_XMIN_PHASE='rubberduck agent cycle').
phase=${RD_XMIN_PHASE:-rubberduck indexing: what-if planning}
agent="backend_type = 'rubberduck data_persistence'"

cluster_start "rubberduck.naptime = '1s'" "rubberduck.sample_rate = 0.2" "max_parallel_workers_per_gather = 0" \
  "autovacuum = off" "rubberduck.indexing_max_indexes = 30"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
DO $$
BEGIN
  FOR i IN 1..6 LOOP
    EXECUTE format('CREATE TABLE d%s (id int PRIMARY KEY, cat int NOT NULL, region int NOT NULL, name text)', i);
    EXECUTE format('INSERT INTO d%s SELECT g, g %% 50, g %% 7, ''n'' || g FROM generate_series(1, 2000) g', i);
  END LOOP;
END $$;
CREATE TABLE f (id bigint PRIMARY KEY, d1 int, d2 int, d3 int, d4 int, d5 int, d6 int, a int, b int,
                ts timestamptz, amount int);
INSERT INTO f SELECT g, g % 2000 + 1, (g * 3) % 2000 + 1, (g * 7) % 2000 + 1, (g * 11) % 2000 + 1,
       (g * 13) % 2000 + 1, (g * 17) % 2000 + 1, g % 1000, g % 777, timestamptz '2024-01-01' + g * interval '1 min',
       g % 100
FROM generate_series(1, 60000) g;
CREATE TABLE probe (id int, filler text);
VACUUM ANALYZE;
SELECT pg_stat_reset();
SQL

work=$(mktemp -d "${RD_TMPROOT:-/tmp}/rd-xmin.XXXXXX")
rd_on_exit "rm -rf '$work'"
cat >"$work/workload.sql" <<'EOF2'
\set x random(0, 49)
\set y random(0, 999)
\set z random(0, 6)
\set w random(0, 776)
SELECT count(*) FROM f JOIN d1 ON d1.id = f.d1 JOIN d2 ON d2.id = f.d2 JOIN d3 ON d3.id = f.d3 JOIN d4 ON d4.id = f.d4 WHERE d1.cat = :x AND f.a = :y AND d3.region = :z;
SELECT f.id, f.amount FROM f JOIN d2 ON d2.id = f.d2 JOIN d5 ON d5.id = f.d5 JOIN d6 ON d6.id = f.d6 JOIN d1 ON d1.id = f.d1 WHERE f.b = :w AND d5.cat = :x ORDER BY f.ts DESC LIMIT 10;
SELECT d4.region, sum(f.amount) FROM f JOIN d4 ON d4.id = f.d4 JOIN d5 ON d5.id = f.d5 JOIN d6 ON d6.id = f.d6 JOIN d3 ON d3.id = f.d3 WHERE d6.cat = :x AND f.a = :y GROUP BY d4.region;
SELECT d1.name, f.amount FROM f JOIN d1 ON d1.id = f.d1 JOIN d2 ON d2.id = f.d2 JOIN d3 ON d3.id = f.d3 JOIN d4 ON d4.id = f.d4 JOIN d5 ON d5.id = f.d5 WHERE d4.cat = :x AND d2.region = :z AND f.ts > now() - interval '30 days' ORDER BY f.amount DESC LIMIT 20;
SELECT d2.cat, count(*) FROM f JOIN d2 ON d2.id = f.d2 JOIN d6 ON d6.id = f.d6 JOIN d4 ON d4.id = f.d4 JOIN d3 ON d3.id = f.d3 WHERE d6.region = :z AND d3.cat = :x AND f.b = :w GROUP BY d2.cat;
SELECT count(*) FROM f JOIN d6 ON d6.id = f.d6 JOIN d5 ON d5.id = f.d5 JOIN d1 ON d1.id = f.d1 JOIN d2 ON d2.id = f.d2 WHERE d1.cat = :x AND d6.cat = :x AND f.amount = :z;
SELECT f.ts, d3.name FROM f JOIN d3 ON d3.id = f.d3 JOIN d4 ON d4.id = f.d4 JOIN d5 ON d5.id = f.d5 JOIN d6 ON d6.id = f.d6 WHERE d4.region = :z AND d5.cat = :x AND f.a BETWEEN :y AND :y + 5 ORDER BY f.ts DESC LIMIT 10;
SELECT d1.region, d2.region, count(*) FROM f JOIN d1 ON d1.id = f.d1 JOIN d2 ON d2.id = f.d2 JOIN d3 ON d3.id = f.d3 JOIN d6 ON d6.id = f.d6 WHERE d3.region = :z AND d6.region = :z AND f.b = :w GROUP BY 1, 2;
SELECT max(f.amount) FROM f JOIN d2 ON d2.id = f.d2 JOIN d3 ON d3.id = f.d3 JOIN d4 ON d4.id = f.d4 JOIN d5 ON d5.id = f.d5 JOIN d6 ON d6.id = f.d6 WHERE d2.region = :z AND d5.region = :z AND f.amount = :x;
SELECT count(*) FROM f JOIN d1 ON d1.id = f.d1 JOIN d2 ON d2.id = f.d2 JOIN d3 ON d3.id = f.d3 JOIN d4 ON d4.id = f.d4 JOIN d5 ON d5.id = f.d5 JOIN d6 ON d6.id = f.d6 WHERE d2.cat = :x AND d4.region = :z AND f.b = :w;
SELECT f.id FROM f JOIN d3 ON d3.id = f.d3 JOIN d1 ON d1.id = f.d1 JOIN d6 ON d6.id = f.d6 WHERE d3.cat = :x AND d1.region = :z AND f.amount = :x ORDER BY f.ts LIMIT 5;
SELECT count(*) FROM f JOIN d5 ON d5.id = f.d5 JOIN d2 ON d2.id = f.d2 JOIN d4 ON d4.id = f.d4 JOIN d1 ON d1.id = f.d1 JOIN d3 ON d3.id = f.d3 WHERE d5.region = :z AND d2.cat = :x AND f.a = :y;
EOF2
script=$(cluster_copy_in "$work/workload.sql")
echo 'SELECT txid_current();' >"$work/burn.sql"
burn=$(cluster_copy_in "$work/burn.sql")

# The workload runs for the whole test (the advisor recomputes while the observed workload moves); a throttled
# client consumes ~100 xids per second so that a held snapshot shows as a growing age(backend_xmin).
pgbench_run -n -M prepared -c 1 -T 240 -f "$script" postgres >"$work/workload.txt" 2>&1 &
wl_pid=$!
pgbench_run -n -c 1 -R 100 -T 240 -f "$burn" postgres >"$work/burn.txt" 2>&1 &
burn_pid=$!
rd_on_exit "kill $wl_pid $burn_pid 2>/dev/null || true"

tap_ok "the advisor plans what-if queries on the workload" \
  wait_for "select exists (select 1 from pg_stat_activity where $agent and state = 'active' and query = '$phase')" 120
tap_bail_if_failed "the advisor never reached its what-if phase"

# Sample the agent's backend_xmin age for ~15 s.
max_age=0
max_age_cycle=0
max_age_at=none
max_locks=0
xid_samples=0
samples=0
phase_samples=0
end=$((SECONDS + 15))
while ((SECONDS < end)); do
  row=$(cluster_psql -c "select coalesce(age(backend_xmin), 0), state = 'active' and query = '$phase', (select count(*) from pg_locks l join pg_class c on c.oid = l.relation join pg_namespace n on n.oid = c.relnamespace where l.pid = a.pid and n.nspname = 'public'), backend_xid is not null, state || ': ' || query from pg_stat_activity a where $agent" || true)
  age=${row%%|*}
  rest=${row#*|}
  inphase=${rest%%|*}
  rest=${rest#*|}
  locks=${rest%%|*}
  rest=${rest#*|}
  hasxid=${rest%%|*}
  rest=${rest#*|}
  if [[ $age =~ ^[0-9]+$ ]]; then
    samples=$((samples + 1))
    [[ $inphase == t ]] && ((locks > max_locks)) && max_locks=$locks
    [[ $inphase == t && $hasxid == t ]] && xid_samples=$((xid_samples + 1))
    if ((age > max_age_cycle)); then
      max_age_cycle=$age
      max_age_at=$rest
    fi
    if [[ $inphase == t ]]; then
      phase_samples=$((phase_samples + 1))
      ((age > max_age)) && max_age=$age
    fi
  fi
  sleep 0.1
done
tap_diag "age(backend_xmin) of the agent: max $max_age xids during what-if planning ($phase_samples of $samples samples), max $max_age_cycle over the whole run (at '$max_age_at'; ~100 xids/s burnt)"
tap_diag "locks on the workload's tables and indexes held by the agent while planning: at most $max_locks"
tap_is "$xid_samples" 0 "no transaction id is assigned while the advisor plans (it would hold the horizon too)"
tap_cmp "$phase_samples" -gt 0 "samples were taken during what-if planning"

# VACUUM during what-if planning: fresh dead rows (and fresh rows) in probe, deleted/inserted by transaction X
# after the agent's cycle started; then the agent's xmin must pass X while it is still planning, and VACUUM must
# leave every page all-visible. An attempt counts only if the agent is in the same cycle and still planning at its
# end (an older build holding one snapshot for the whole cycle fails here: its xmin never passes X).
conclusive=0
passed=0
for attempt in $(seq 1 25); do
  if ! wait_for "select exists (select 1 from pg_stat_activity where $agent and state = 'active' and query = '$phase')" 60; then
    continue
  fi
  # One session each (few psql round trips: the planning phase lasts a few seconds).
  out=$(cluster_psql -q <<'SQL'
SELECT cycles FROM rubberduck.agents WHERE agent = 'data_persistence';
BEGIN;
DELETE FROM probe;
INSERT INTO probe SELECT g, repeat('x', 200) FROM generate_series(1, 3000) g;
SELECT txid_current();
COMMIT;
SQL
)
  c0=$(sed -n 1p <<<"$out")
  x=$(sed -n 2p <<<"$out")
  # Within 2 s (hundreds of what-if plans) the agent's xmin must pass X while it is still planning.
  moved=0
  if wait_for "select coalesce(bool_and(state = 'active' and query = '$phase' and (backend_xmin is null or age(backend_xmin) < age('$x'::text::xid))), false) from pg_stat_activity where $agent" 2; then
    moved=1
  fi
  out=$(cluster_psql -q -c 'VACUUM probe' \
    -c "select relpages > 0 and relallvisible = relpages from pg_class where relname = 'probe'" \
    -c "select cycles from rubberduck.agents where agent = 'data_persistence'" \
    -c "select exists (select 1 from pg_stat_activity where $agent and state = 'active' and query = '$phase')")
  vac=$(sed -n 1p <<<"$out")
  c1=$(sed -n 2p <<<"$out")
  still=$(sed -n 3p <<<"$out")
  if [[ $c0 == "$c1" && $still == t ]]; then
    conclusive=$((conclusive + 1))
    tap_diag "attempt $attempt (cycle $c0, xid $x): agent xmin moved past it: $moved, all pages all-visible after VACUUM: $vac"
    if ((moved)) && [[ $vac == t ]]; then
      passed=$((passed + 1))
      break
    fi
    # Another backend's snapshot (a short cycle of another agent) may have been in the way: try again, but
    # three conclusive failures are a failure.
    ((conclusive >= 3)) && break
  else
    tap_diag "attempt $attempt inconclusive (the agent's cycle ended: $c0 -> $c1)"
  fi
done
tap_cmp "$conclusive" -gt 0 "a VACUUM ran while the advisor was planning in one cycle"
tap_cmp "$passed" -gt 0 "VACUUM during what-if planning removed the dead rows: every page all-visible"

# Interrupts during what-if planning: a cancel ends the skill's run with an error (its subtransaction rolled
# back with the snapshot it was given back) and the agent goes on; a terminate restarts the agent only.
start_time=$(cluster_psql -c "select pg_postmaster_start_time()")
errors0=$(cluster_psql -c "select errors from rubberduck.skills where skill = 'indexing'")
cancelled=0
for attempt in $(seq 1 5); do
  wait_for "select exists (select 1 from pg_stat_activity where $agent and state = 'active' and query = '$phase')" 60 || continue
  cluster_psql -c "select pg_cancel_backend(pid) from pg_stat_activity where $agent and state = 'active' and query = '$phase'" >/dev/null
  if wait_for "select errors > $errors0 from rubberduck.skills where skill = 'indexing'" 10; then
    cancelled=1
    break
  fi
done
tap_is "$cancelled" 1 "a cancel during what-if planning fails that skill run"
tap_like "$(cluster_psql -c "select last_error from rubberduck.skills where skill = 'indexing'")" 'cancel' \
  "the skill's last error is the cancel"
pid0=$(cluster_psql -c "select pid from rubberduck.agents where agent = 'data_persistence'")
c0=$(cluster_psql -c "select cycles from rubberduck.agents where agent = 'data_persistence'")
tap_ok "the same agent process completes further cycles" \
  wait_for "select pid = $pid0 and cycles >= $c0 + 2 from rubberduck.agents where agent = 'data_persistence'" 60
wait_for "select exists (select 1 from pg_stat_activity where $agent and state = 'active' and query = '$phase')" 60 || true
cluster_psql -c "select pg_terminate_backend(pid) from pg_stat_activity where $agent" >/dev/null
tap_ok "a terminated agent comes back and plans again" \
  wait_for "select exists (select 1 from pg_stat_activity where $agent and pid <> $pid0 and state = 'active' and query = '$phase')" 90
tap_is "$(cluster_psql -c "select pg_postmaster_start_time()")" "$start_time" "no crash-restart of the cluster"

note=$(cluster_psql -c "select note from rubberduck.skills where skill = 'indexing'")
tap_diag "indexing note: $note"
tap_fails "no crash in the server log" cluster_log_has 'terminated by signal|was terminated by'
tap_done
