#!/usr/bin/env bash
# make demo: a throwaway cluster under ./tmp/demo with the extension preloaded (from the system install that
# `make install` just did), a small example application database, a short workload, and what the agents found.
# The cluster keeps running afterwards so you can explore; the last lines say how to connect and how to stop it.
set -euo pipefail
cd "$(dirname "$0")/.."
pgbin=$(pg_config --bindir)
[[ -x $pgbin/initdb ]] || pgbin=/usr/lib/postgresql/15/bin
root=$PWD/tmp/demo
as_pg() { if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ -f $root/data/postmaster.pid ]]; then as_pg "$pgbin/pg_ctl" -D "$root/data" -m fast -w stop >/dev/null || true; fi
rm -rf "$root"
mkdir -p "$root"
# The server runs as postgres: it must be able to reach the demo dir.
[[ $(id -u) -eq 0 ]] && chown postgres: "$root" && chmod a+x "$PWD" "$PWD/tmp" 2>/dev/null || true
as_pg "$pgbin/initdb" -D "$root/data" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
port=$(( 20000 + RANDOM % 10000 ))
cat >>"$root/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$root'
port = $port
shared_preload_libraries = 'pg_stat_statements,rubberduck_agents'
rubberduck.database = 'appdb'
rubberduck.naptime = '1s'
CONF
as_pg "$pgbin/pg_ctl" -D "$root/data" -l "$root/server.log" -w start >/dev/null
psql_app() { as_pg "$pgbin/psql" -X -q -h "$root" -p "$port" -U postgres -d appdb "$@"; }
as_pg "$pgbin/createdb" -h "$root" -p "$port" -U postgres appdb

echo "== creating the example application (customers, orders) and the extension"
psql_app <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION rubberduck_agents;
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL, name text, created_at timestamptz DEFAULT now());
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, status text NOT NULL,
                     priority int NOT NULL DEFAULT 0, total numeric(10,2), created_at timestamptz DEFAULT now());
INSERT INTO customers (email, name)
SELECT 'user' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 50000) g;
INSERT INTO orders (customer_id, status, priority, total, created_at)
SELECT 1 + (g * 7919) % 50000, CASE WHEN g % 50 = 0 THEN 'queued' ELSE 'shipped' END, g % 5, (g % 1000) / 10.0,
       now() - (g % 365) * interval '1 day'
FROM generate_series(1, 200000) g;
ANALYZE;
SQL

echo "== running a short workload in PL/pgSQL (lookups by email, queue polls, an N+1 loop, reports)"
psql_app <<'SQL'
DO $$
DECLARE r record; n int;
BEGIN
  FOR i IN 1 .. 200 LOOP
    PERFORM id FROM customers WHERE lower(email) = 'user' || (i * 37 % 50000) || '@example.com';
    PERFORM id FROM orders WHERE status = 'queued' ORDER BY priority, created_at LIMIT 10;
    PERFORM count(*) FROM orders WHERE customer_id = i * 13 % 50000;
  END LOOP;
  -- N+1: one query per order of a customer list
  FOR r IN SELECT id FROM customers ORDER BY id LIMIT 50 LOOP
    SELECT count(*) INTO n FROM orders WHERE customer_id = r.id;
  END LOOP;
END $$;
SELECT status, count(*), sum(total) FROM orders GROUP BY status;
SQL
echo "== the application's traffic: pgbench sends lookups by email, queue polls and per-customer counts for 20 s"
cat >"$root/by_email.sql" <<'EOF3'
\set e random(1, 50000)
SELECT id, name FROM customers WHERE lower(email) = 'user' || :e || '@example.com';
EOF3
cat >"$root/queue_poll.sql" <<'EOF3'
SELECT id FROM orders WHERE status = 'queued' ORDER BY priority, created_at LIMIT 10;
EOF3
cat >"$root/per_customer.sql" <<'EOF3'
\set c random(1, 50000)
SELECT count(*), sum(total) FROM orders WHERE customer_id = :c;
EOF3
chmod a+r "$root"/*.sql
as_pg "$pgbin/pgbench" -n -h "$root" -p "$port" -U postgres -M prepared -c 2 -T 20 \
  -f "$root/by_email.sql@3" -f "$root/queue_poll.sql@1" -f "$root/per_customer.sql@2" appdb 2>&1 | grep -E "^(tps|number of transactions actually)" || true
for agent in query_optimizer data_persistence migration health_sensor; do
  psql_app -c "SELECT rubberduck.wake_agent('$agent')" >/dev/null 2>&1 || true
done
# The advisor may need another cycle when its what-if budget ran out on a busy machine.
for _ in 1 2 3 4 5; do
  [[ $(psql_app -At -c "SELECT count(*) FROM rubberduck.index_advice WHERE status = 'advised'" 2>/dev/null || echo 0) != 0 ]] && break
  psql_app -c "SELECT rubberduck.wake_agent('data_persistence')" >/dev/null 2>&1 || true
done

show() {
  local view=$1 query=$2
  if [[ $(psql_app -At -c "SELECT to_regclass('$view') IS NOT NULL") == t ]]; then
    echo; echo "== $view"; psql_app -c "$query"
  fi
}
show rubberduck.agents "SELECT agent, pid, state, mode, skills, cycles, last_error FROM rubberduck.agents"
show rubberduck.skills "SELECT skill, agent, enabled, runs, note FROM rubberduck.skills"
show rubberduck.query_insights "SELECT left(query, 60) AS query, calls, round(mean_ms::numeric, 3) AS mean_ms, flags FROM rubberduck.query_insights ORDER BY total_ms DESC LIMIT 10"
show rubberduck.index_advice "SELECT ddl, est_improvement_pct, queries_improved FROM rubberduck.index_advice"
show rubberduck.index_health "SELECT relation, index, issue, fix_sql FROM rubberduck.index_health"
# Acting on advice by hand (what rubberduck.indexing_mode = 'autonomous' does by itself, one index at a time):
# build the top advice concurrently, wait for the build, and show the audit row the agent will verify.
top=$(psql_app -At -c "SELECT id FROM rubberduck.index_advice WHERE status = 'advised' ORDER BY est_improvement_pct DESC NULLS LAST LIMIT 1" 2>/dev/null || true)
if [[ -n $top ]]; then
  echo; echo "== SELECT rubberduck.apply_index_advice($top); CALL rubberduck.wait_action(...)"
  action=$(psql_app -At -c "SELECT rubberduck.apply_index_advice($top)")
  psql_app -c "CALL rubberduck.wait_action($action, '2 min')"
  show rubberduck.actions "SELECT id, action, target, status, left(sql, 70) AS sql, reason FROM rubberduck.actions ORDER BY id"
fi
if [[ $(psql_app -At -c "SELECT to_regprocedure('rubberduck.analyze_migration(text)') IS NOT NULL") == t ]]; then
  echo; echo "== rubberduck.analyze_migration('ALTER TABLE orders ADD COLUMN note text NOT NULL; CREATE INDEX ON orders (status)')"
  psql_app -c "SELECT statement_no, rule, severity, lock_mode, left(message, 70) AS message FROM rubberduck.analyze_migration('ALTER TABLE orders ADD COLUMN note text NOT NULL; CREATE INDEX ON orders (status)')"
fi
show rubberduck.signals "SELECT at, from_agent, kind, payload FROM rubberduck.signals ORDER BY seq DESC LIMIT 10"

cat <<EOF2

The demo cluster keeps running (data in $root/data, log in $root/server.log).
  connect: sudo -u postgres psql -h $root -p $port appdb      (as root: runuser -u postgres -- psql -h $root -p $port appdb)
  stop:    sudo -u postgres $pgbin/pg_ctl -D $root/data stop  (or: make demo-stop)
EOF2
