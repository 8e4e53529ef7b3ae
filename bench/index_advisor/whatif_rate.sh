#!/usr/bin/env bash
# What-if planning throughput: how many (query, configuration) costings per second the advisor can expect
# from whatif_cost (through rubberduck._whatif_cost), and hypothetical_explain calls per second, on a
# 100k-row table; plus the backend's memory before/after 5000 costings (no growth expected).
#   N=5000 bench/index_advisor/whatif_rate.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/cluster.sh
source "$here/../../tests/lib/cluster.sh"
n=${N:-5000}
cluster_start "rubberduck.naptime = '10s'" "max_parallel_workers_per_gather = 0"
cluster_psql -c 'CREATE EXTENSION rubberduck_agents' >/dev/null
cluster_psql >/dev/null <<'SQL'
CREATE TABLE t (id bigint PRIMARY KEY, a int, b int, c text, d timestamptz);
INSERT INTO t SELECT g, g % 1000, g % 7, md5(g::text), now() - g * interval '1 s' FROM generate_series(1, 100000) g;
CREATE TABLE u (id bigint PRIMARY KEY, t_id bigint, e int);
INSERT INTO u SELECT g, g % 100000, g % 13 FROM generate_series(1, 100000) g;
VACUUM ANALYZE t, u;
SQL
cluster_psql <<SQL
\timing on
SELECT 'single-table query, 2-column hypothetical btree' AS case;
SELECT count(rubberduck._whatif_cost('SELECT * FROM t WHERE a = ' || g % 1000 || ' AND b = 3 ORDER BY d LIMIT 10',
                                     't', ARRAY['a', 'b', 'd'])) FROM generate_series(1, $n) g;
SELECT 'two-table join, hypothetical btree on the join column' AS case;
SELECT count(rubberduck._whatif_cost('SELECT t.c, u.e FROM t JOIN u ON u.t_id = t.id WHERE t.a = ' || g % 1000,
                                     'u', ARRAY['t_id'])) FROM generate_series(1, $n) g;
SELECT 'hypothetical_explain, 2 indexes' AS case;
SELECT count(*) FROM generate_series(1, $n / 5) g,
       rubberduck.hypothetical_explain('SELECT * FROM t WHERE a = ' || g || ' ORDER BY d LIMIT 5',
                                       ARRAY['CREATE INDEX ON t (a, d)', 'CREATE INDEX ON t (b)']);
\timing off
SELECT 'backend memory (MB) after' AS case, round(sum(total_bytes) / 1048576.0, 1) FROM pg_backend_memory_contexts;
SELECT count(rubberduck._whatif_cost('SELECT * FROM t WHERE a = 1', 't', ARRAY['a'])) FROM generate_series(1, $n);
SELECT 'backend memory (MB) after another $n' AS case, round(sum(total_bytes) / 1048576.0, 1) FROM pg_backend_memory_contexts;
SQL
