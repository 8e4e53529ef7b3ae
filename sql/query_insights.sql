-- query_optimizer: statement statistics, normalised text, privacy, slow / N+1 / regressed flags, predicates,
-- exemplars. Every number printed is exact or a boolean (no timings).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
RESET client_min_messages;
SELECT rubberduck.reset('queries');
SET rubberduck.sample_rate = 1;

CREATE TABLE qi_t (id int PRIMARY KEY, secret text, k int);
INSERT INTO qi_t SELECT g, 'secret_' || g, g % 50 FROM generate_series(1, 5000) g;
ANALYZE qi_t;

-- 1. Exact counts for a known number of calls; constants replaced by $n.
SELECT rubberduck.reset('queries');
SELECT k FROM qi_t WHERE id = 1;
SELECT k FROM qi_t WHERE id = 2;
SELECT k FROM qi_t WHERE id = 3;
SELECT k FROM qi_t WHERE id = 4;
SELECT k FROM qi_t WHERE id = 5;
SELECT k FROM qi_t WHERE id = 6;
SELECT k FROM qi_t WHERE id = 7;
SELECT count(*) FROM qi_t WHERE secret = 'secret_value_123' AND k > -5;
SELECT query, calls, rows, rows_per_call, plans, plan_changes, mean_ms > 0 AS timed,
       p50_ms <= p95_ms AND p95_ms <= p99_ms AS quantiles_ordered, min_ms <= max_ms AS min_le_max,
       shared_hit_ratio BETWEEN 0 AND 1 AS hit_ratio_ok, first_seen <= last_seen AS seen_ok
FROM rubberduck.query_insights WHERE query LIKE '%qi_t WHERE%' ORDER BY query;
-- No constant leaks into the stored text.
SELECT count(*) AS leaks FROM rubberduck.query_insights
WHERE query LIKE '%secret_value_123%' OR query ~ 'id = [0-9]';
-- rubberduck.track = none collects nothing.
SET rubberduck.track = 'none';
SELECT k FROM qi_t WHERE id = 8;
RESET rubberduck.track;
SELECT calls FROM rubberduck.query_insights
WHERE query = 'SELECT k FROM qi_t WHERE id = $1' AND userid = current_user::regrole;

-- 2. Privacy: another role sees its own text, not ours.
CREATE ROLE qi_other LOGIN;
GRANT SELECT ON qi_t TO qi_other;
SET ROLE qi_other;
SELECT k FROM qi_t WHERE id = 42;
SELECT query, calls FROM rubberduck.query_insights WHERE userid = 'qi_other'::regrole AND query LIKE '%qi_t%';
SELECT count(*) > 0 AS others_hidden,
       bool_and(queryid IS NULL) AS others_queryid_hidden,
       bool_and(suggestions = '{}') AS others_suggestions_hidden
FROM rubberduck.query_insights WHERE userid <> 'qi_other'::regrole AND query = '<insufficient privilege>';
SELECT count(*) AS others_visible FROM rubberduck.query_insights
WHERE userid <> 'qi_other'::regrole AND query <> '<insufficient privilege>';
SELECT * FROM rubberduck._exemplars();
RESET ROLE;

-- 3. Predicates from sampled executions: selectivity and whether an index served it.
SELECT k FROM qi_t WHERE id = 10 AND k = 10;
SELECT id FROM qi_t WHERE k = 7 AND secret LIKE 'secret_1%' ORDER BY secret LIMIT 3;
SELECT count(*) FROM qi_t WHERE lower(secret) = 'x' AND secret IS NOT NULL;
SELECT count(*) FROM qi_t a JOIN qi_t b ON a.k = b.id WHERE a.id < 3;
SELECT relation, columns, operator, clause, expression, used_index, round(avg_selectivity::numeric, 4) AS selectivity,
       has_limit, executions
FROM rubberduck.predicates
WHERE relation = 'qi_t'::regclass
  AND queryid IN (SELECT queryid FROM rubberduck.query_insights
                  WHERE query LIKE '%id = $1 AND k = $2%' OR query LIKE '%LIKE $2 ORDER BY%'
                     OR query LIKE '%lower(secret)%' OR query LIKE '%JOIN qi_t b%')
ORDER BY clause, operator, columns, used_index;
-- Exemplars keep the real text of expensive statements (superuser only).
SELECT count(*) > 0 AS has_exemplars, bool_and(query <> '') AS texts FROM rubberduck._exemplars();
SELECT query FROM rubberduck._exemplars() WHERE query LIKE 'SELECT k FROM qi_t WHERE id = 10%';

-- 4. Slow flag with a tiny threshold (top-N rule off).
ALTER SYSTEM SET rubberduck.slow_query_ms = 20;
ALTER SYSTEM SET rubberduck.slow_query_top_n = 0;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT pg_sleep(0.03);
SELECT pg_sleep(0.03);
SELECT pg_sleep(0.03);
SELECT rubberduck.wake_agent('query_optimizer') > 0 AS woke;
SELECT query, 'slow' = ANY(flags) AS slow, cardinality(suggestions) > 0 AS has_suggestion
FROM rubberduck.query_insights WHERE query IN ('SELECT pg_sleep($1)', 'SELECT k FROM qi_t WHERE id = $1')
ORDER BY query;
ALTER SYSTEM RESET rubberduck.slow_query_ms;
ALTER SYSTEM RESET rubberduck.slow_query_top_n;
SELECT pg_reload_conf();

-- 5. N+1: a PL/pgSQL loop is flagged; a popular statement run once by many sessions is not, nor a loop
-- whose calls return many rows.
CREATE TABLE qi_n1 (id int PRIMARY KEY, v int);
INSERT INTO qi_n1 SELECT g, g FROM generate_series(1, 100) g;
CREATE TABLE qi_pop (id int PRIMARY KEY, v int);
INSERT INTO qi_pop SELECT g, g FROM generate_series(1, 100) g;
SET rubberduck.track = 'all';
DO $$
DECLARE r int;
BEGIN
    FOR i IN 1..25 LOOP
        SELECT v INTO r FROM qi_n1 WHERE id = i;
    END LOOP;
    FOR i IN 1..25 LOOP
        PERFORM v FROM qi_pop WHERE id > i;  -- 75+ rows per call: not N+1
    END LOOP;
END
$$;
RESET rubberduck.track;
\c
SELECT v FROM qi_pop WHERE id = 1;
\c
SELECT v FROM qi_pop WHERE id = 2;
\c
SELECT v FROM qi_pop WHERE id = 3;
\c
SELECT v FROM qi_pop WHERE id = 4;
\c
SELECT v FROM qi_pop WHERE id = 5;
\c
SELECT v FROM qi_pop WHERE id = 6;
\c
SELECT v FROM qi_pop WHERE id = 7;
\c
SELECT v FROM qi_pop WHERE id = 8;
\c
SELECT v FROM qi_pop WHERE id = 9;
\c
SELECT v FROM qi_pop WHERE id = 10;
\c
SELECT v FROM qi_pop WHERE id = 11;
\c
SELECT v FROM qi_pop WHERE id = 12;
SELECT pg_sleep(1.3);  -- runs close after 1 s idle
SELECT rubberduck.wake_agent('query_optimizer') > 0 AS woke;
SELECT query, calls, 'n_plus_one' = ANY(flags) AS n_plus_one,
       coalesce(array_to_string(suggestions, ' ') ~ 'N\+1: executed 25 times', false) AS says_count
FROM rubberduck.query_insights WHERE query LIKE '%qi_n1%' OR query LIKE '%qi_pop%'
ORDER BY query;

-- 6. Plan regression: an index is dropped, the same statement turns into a much slower sequential scan.
SET rubberduck.sample_rate = 1;
CREATE TABLE qi_reg (id int, pad text);
INSERT INTO qi_reg SELECT g, repeat('x', 50) FROM generate_series(1, 200000) g;
CREATE INDEX qi_reg_id ON qi_reg (id);
ANALYZE qi_reg;
\set ECHO none
\o /dev/null
SELECT 'SELECT pad FROM qi_reg WHERE id = ' || g FROM generate_series(1, 40) g \gexec
\o
\set ECHO all
DROP INDEX qi_reg_id;
\set ECHO none
\o /dev/null
SELECT 'SELECT pad FROM qi_reg WHERE id = ' || g FROM generate_series(1, 40) g \gexec
\o
\set ECHO all
SELECT rubberduck.wake_agent('query_optimizer') > 0 AS woke;
SELECT query, calls, plans, plan_changes, 'regressed' = ANY(flags) AS regressed,
       coalesce(array_to_string(suggestions, ' ') ~ 'Plan regression', false) AS explained
FROM rubberduck.query_insights WHERE query LIKE 'SELECT pad FROM qi_reg%';
SELECT count(*) = 1 AS one_signal,
       bool_and((payload->>'ratio')::float8 > 1.2 AND (payload->>'p')::float8 < 0.01) AS significant
FROM rubberduck.signals s
WHERE kind = 'plan_regression'
  AND (payload->>'queryid')::bigint = (SELECT queryid FROM rubberduck.query_insights
                                       WHERE query LIKE 'SELECT pad FROM qi_reg%');
SELECT relation, columns, operator, used_index, index_executions, executions
FROM rubberduck.predicates WHERE relation = 'qi_reg'::regclass;

-- 7. Reset and errors.
SELECT rubberduck.reset('queries');
SELECT count(*) AS after_reset FROM rubberduck.query_insights WHERE query LIKE '%qi_%';
SET ROLE qi_other;
SELECT rubberduck.reset('queries');
RESET ROLE;
SELECT rubberduck.reset('no_such_target');

DROP TABLE qi_t, qi_n1, qi_pop, qi_reg;
DROP OWNED BY qi_other;
DROP ROLE qi_other;
