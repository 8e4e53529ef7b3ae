-- Index advice on small crafted schemas: the shape of each advised index (key order, sort keys after the
-- equality keys, a partial index for a skewed status, INCLUDE columns for an index-only scan). Prints
-- columns and booleans, never costs.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
RESET client_min_messages;
SET rubberduck.sample_rate = 1;
SET max_parallel_workers_per_gather = 0;
-- ANALYZE reads every row of these 50000-row tables (300 × target rows): the statistics, hence the what-if
-- costs and the advice, are the same on every run.
SET default_statistics_target = 200;

-- Equality + range: 20 kinds, a year of rows; one kind over one day.
CREATE TABLE shp_events (id bigint PRIMARY KEY, kind int NOT NULL, created_at timestamptz NOT NULL,
                         payload text NOT NULL);
-- Rows are stored in no particular time order (created_at is not correlated with the heap), so an index on
-- created_at alone would fetch a whole day's rows from all over the table.
INSERT INTO shp_events SELECT g, g % 20, timestamptz '2024-01-01 00:00+00' + ((g * 7919) % 50000) * interval '10 minutes',
                              repeat('x', 40)
FROM generate_series(1, 50000) g;
-- ORDER BY ... LIMIT: 20 users with 2500 rows each; the newest five of one user.
CREATE TABLE shp_posts (id bigint PRIMARY KEY, user_id int NOT NULL, created_at timestamptz NOT NULL,
                        title text NOT NULL);
INSERT INTO shp_posts SELECT g, g % 20, timestamptz '2024-01-01 00:00+00' + ((g * 7919) % 50000) * interval '1 minute',
                             'post ' || g
FROM generate_series(1, 50000) g;
-- A job queue: 1 % queued; the poll takes the most urgent, oldest first.
CREATE TABLE shp_jobs (id bigint PRIMARY KEY, status text NOT NULL, priority int NOT NULL,
                       created_at timestamptz NOT NULL, payload text NOT NULL);
INSERT INTO shp_jobs SELECT g, CASE WHEN g % 100 = 0 THEN 'queued' ELSE 'done' END, (g * 7) % 10,
                            timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', repeat('p', 60)
FROM generate_series(1, 50000) g;
-- An aggregate over one account's 500 rows, reading one more column: an index-only scan needs it in INCLUDE.
CREATE TABLE shp_ledger (id bigint PRIMARY KEY, account_id int NOT NULL, amount numeric(12, 2) NOT NULL,
                         memo text NOT NULL);
INSERT INTO shp_ledger SELECT g, (g * 7919) % 100, (g % 1000) / 10.0, repeat('m', 80)
FROM generate_series(1, 50000) g;
VACUUM ANALYZE shp_events, shp_posts, shp_jobs, shp_ledger;
SELECT pg_stat_reset();
SELECT rubberduck.reset('queries');

SELECT count(*) FROM shp_events WHERE kind = 7
   AND created_at >= timestamptz '2024-03-01 00:00+00' AND created_at < timestamptz '2024-03-02 00:00+00';
SELECT count(*) FROM shp_events WHERE kind = 8
   AND created_at >= timestamptz '2024-04-01 00:00+00' AND created_at < timestamptz '2024-04-02 00:00+00';
SELECT id FROM shp_posts WHERE user_id = 3 ORDER BY created_at DESC LIMIT 5;
SELECT id FROM shp_posts WHERE user_id = 4 ORDER BY created_at DESC LIMIT 5;
SELECT id, priority FROM shp_jobs WHERE status = 'queued' ORDER BY priority, created_at LIMIT 3;
SELECT id, priority FROM shp_jobs WHERE status = 'queued' ORDER BY priority, created_at LIMIT 3;
SELECT sum(amount) FROM shp_ledger WHERE account_id = 17;
SELECT sum(amount) FROM shp_ledger WHERE account_id = 18;

CREATE FUNCTION pg_temp.wake_until_advised() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1 .. 10 LOOP
        PERFORM rubberduck.wake_agent('data_persistence');
        IF (SELECT count(DISTINCT relation) FROM rubberduck.index_advice
             WHERE relation LIKE 'public.shp\_%' AND status = 'advised') = 4 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END $$;
SELECT pg_temp.wake_until_advised() AS woke;

-- One index per table, and each has the expected shape.
SELECT relation, columns, predicate, method
  FROM rubberduck.index_advice WHERE relation LIKE 'public.shp\_%' AND status = 'advised'
 ORDER BY relation, columns::text;
-- Equality column first, then the range column.
SELECT columns[1] = 'kind' AS equality_first, columns[2] = 'created_at' AS then_range
  FROM rubberduck.index_advice WHERE relation = 'public.shp_events' AND status = 'advised';
-- The sort key follows the equality key (a backward scan serves DESC).
SELECT columns[1] = 'user_id' AS equality_first, columns[2] = 'created_at' AS then_sort_key
  FROM rubberduck.index_advice WHERE relation = 'public.shp_posts' AND status = 'advised';
-- The queue: a partial index on the rare status, keyed in ORDER BY order, much smaller than a full one.
SELECT predicate = 'status = ''queued''' AS partial, columns = '{priority,created_at}' AS order_keys,
       est_size_bytes < 50000 AS small
  FROM rubberduck.index_advice WHERE relation = 'public.shp_jobs' AND status = 'advised';
-- The aggregate: the summed column rides along in INCLUDE, and the planner then uses an index-only scan.
SELECT columns = '{account_id}' AS key, include = '{amount}' AS covering
  FROM rubberduck.index_advice WHERE relation = 'public.shp_ledger' AND status = 'advised';
SELECT count(*) > 0 AS index_only_scan
  FROM rubberduck.index_advice a,
       LATERAL rubberduck.hypothetical_explain('SELECT sum(amount) FROM shp_ledger WHERE account_id = 5',
                                               ARRAY[a.ddl]) AS line
 WHERE a.relation = 'public.shp_ledger' AND a.status = 'advised' AND line LIKE '%Index Only Scan%';

DROP TABLE shp_events, shp_posts, shp_jobs, shp_ledger;
DELETE FROM rubberduck.index_advice WHERE relation LIKE 'public.shp\_%';
