-- What-if planning: hypothetical indexes seen only by hypothetical_explain / _whatif_cost, never by other
-- planning, never executed. Costs vary with ANALYZE's sample, so plans are printed without them.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
RESET client_min_messages;
SET max_parallel_workers_per_gather = 0;
SET jit = off;

CREATE TABLE wi_orders (
    id          bigint PRIMARY KEY,
    ref         text NOT NULL,
    customer_id int NOT NULL,
    status      text NOT NULL,
    priority    int NOT NULL,
    created_at  timestamptz NOT NULL,
    total       numeric(12, 2) NOT NULL,
    email       text NOT NULL,
    note        text
);
INSERT INTO wi_orders
SELECT g, 'R' || g, g % 2000, CASE WHEN g % 200 = 0 THEN 'queued' ELSE 'done' END, g % 7,
       timestamptz '2024-01-01 00:00+00' + g * interval '1 minute', (g % 1000) / 10.0,
       'User' || g || '@Example.com', md5(g::text)
FROM generate_series(1, 100000) g;
VACUUM ANALYZE wi_orders;
-- VACUUM cannot mark pages all-visible while another transaction (an agent's cycle, a parallel test) holds an
-- older snapshot; index-only scan costs depend on it, so pin the visibility map estimate the planner reads.
UPDATE pg_class SET relallvisible = relpages WHERE oid = 'wi_orders'::regclass;

-- Plan lines without costs and row estimates.
CREATE FUNCTION wi_plan(q text, ddl text[] DEFAULT '{}') RETURNS SETOF text LANGUAGE sql AS $$
    SELECT regexp_replace(line, '  \(cost=[^)]*\)', '', 'g') FROM rubberduck.hypothetical_explain(q, ddl) AS line
$$;
-- SQLSTATE and message of an error, or 'ok'.
CREATE FUNCTION wi_err(q text, ddl text[] DEFAULT '{}') RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rubberduck.hypothetical_explain(q, ddl);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- Equality: sequential scan without the index, index scan with it.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE ref = 'R4242'$$);
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE ref = 'R4242'$$,
                      ARRAY['CREATE INDEX ON wi_orders (ref)']);
-- The same with a hash index.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE ref = 'R4242'$$,
                      ARRAY['CREATE INDEX wi_ref_hash ON wi_orders USING hash (ref)']);

-- ORDER BY ... LIMIT: a backward scan of a btree on the sort key replaces the top-N sort.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders ORDER BY created_at DESC LIMIT 5$$);
SELECT * FROM wi_plan($$SELECT * FROM wi_orders ORDER BY created_at DESC LIMIT 5$$,
                      ARRAY['CREATE INDEX wi_created ON wi_orders (created_at)']);

-- Multi-column: equality then sort key; of two candidates the planner picks the one that serves both.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE customer_id = 7 ORDER BY created_at LIMIT 3$$,
                      ARRAY['CREATE INDEX wi_cust ON wi_orders (customer_id)',
                            'CREATE INDEX wi_cust_created ON wi_orders (customer_id, created_at)']);

-- Partial index for a queue poll: used when the query implies its predicate, ignored otherwise.
SELECT * FROM wi_plan($$SELECT id FROM wi_orders WHERE status = 'queued' ORDER BY priority, created_at LIMIT 10$$,
                      ARRAY[$$CREATE INDEX wi_queue ON wi_orders (priority, created_at) WHERE status = 'queued'$$]);
SELECT * FROM wi_plan($$SELECT id FROM wi_orders WHERE status = 'done' ORDER BY priority, created_at LIMIT 10$$,
                      ARRAY[$$CREATE INDEX wi_queue ON wi_orders (priority, created_at) WHERE status = 'queued'$$]);

-- Covering index: INCLUDE makes an aggregate an index-only scan.
SELECT * FROM wi_plan($$SELECT customer_id, sum(total) FROM wi_orders WHERE customer_id BETWEEN 1 AND 3 GROUP BY customer_id$$,
                      ARRAY['CREATE INDEX wi_cover ON wi_orders (customer_id) INCLUDE (total)']);

-- Expression index.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE lower(email) = 'user42@example.com'$$);
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE lower(email) = 'user42@example.com'$$,
                      ARRAY['CREATE INDEX wi_email ON wi_orders (lower(email))']);

-- Trigram GIN index for infix search, BRIN for a range on a correlated column.
SELECT * FROM wi_plan($$SELECT * FROM wi_orders WHERE note LIKE '%abcd%'$$,
                      ARRAY['CREATE INDEX wi_note ON wi_orders USING gin (note gin_trgm_ops)']);
SELECT * FROM wi_plan($$SELECT count(*) FROM wi_orders WHERE created_at >= '2024-02-01 00:00+00' AND created_at < '2024-02-01 06:00+00'$$,
                      ARRAY['CREATE INDEX wi_created_brin ON wi_orders USING brin (created_at)']);

-- INSERT/UPDATE/DELETE are planned (never executed: the row is unchanged afterwards).
SELECT * FROM wi_plan($$UPDATE wi_orders SET total = 0 WHERE ref = 'R7'$$, ARRAY['CREATE INDEX ON wi_orders (ref)']);
SELECT * FROM wi_plan($$DELETE FROM wi_orders WHERE ref = 'R7'$$, ARRAY['CREATE INDEX ON wi_orders (ref)']);
SELECT total, (SELECT count(*) FROM wi_orders) AS n FROM wi_orders WHERE id = 7;

-- Isolation within the session: nothing was created, and ordinary planning never sees hypothetical indexes.
SELECT count(*) AS indexes FROM pg_indexes WHERE tablename = 'wi_orders';
EXPLAIN (COSTS OFF) SELECT * FROM wi_orders WHERE ref = 'R4242';
EXPLAIN (COSTS OFF) SELECT * FROM wi_orders ORDER BY created_at DESC LIMIT 5;

-- A function evaluated at plan time plans and runs its own statement: that nested planning does not get the
-- hypothetical index (running it would fail), and no plan with a hypothetical index is cached in plpgsql.
CREATE FUNCTION wi_lookup(r text) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN (SELECT id FROM wi_orders WHERE ref = r);
END
$$;
SELECT * FROM wi_plan($$SELECT id FROM wi_orders WHERE id = wi_lookup('R4242')$$,
                      ARRAY['CREATE INDEX ON wi_orders (ref)']);
SELECT wi_lookup('R4242');
EXPLAIN (COSTS OFF) SELECT id FROM wi_orders WHERE ref = 'R4242';

-- Bad input: clear errors with their SQLSTATE.
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders (']);
SELECT wi_err('SELECT 1', ARRAY['DROP TABLE wi_orders']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders (a); CREATE INDEX ON wi_orders (b)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders (nope)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_nosuch (a)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders USING gist (customer_id)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders USING gin (note)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders ((random() > 0.5))']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders USING brin (created_at) INCLUDE (id)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders (ref) WITH (fillfactor = 5)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON pg_indexes (tablename)']);
SELECT wi_err('SELECT 1', ARRAY[NULL]);
SELECT wi_err(NULL);
SELECT wi_err('VACUUM wi_orders');
SELECT wi_err('SELECT 1; SELECT 2');
SELECT wi_err('CREATE TABLE wi_x AS SELECT 1');
SELECT wi_err('SELECT 1 INTO wi_x');
SELECT wi_err('SELEC 1');
SELECT wi_err('SELECT * FROM wi_nosuch');
SELECT count(*) FROM rubberduck.hypothetical_explain('SELECT 1', NULL);

-- Privileges: hypothetical_explain is for everyone, with the caller's rights on the table.
CREATE ROLE wi_reader;
GRANT USAGE ON SCHEMA public TO wi_reader;
SET ROLE wi_reader;
SELECT wi_err($$SELECT * FROM wi_orders WHERE ref = 'x'$$, ARRAY['CREATE INDEX ON wi_orders (ref)']);
SELECT wi_err('SELECT 1', ARRAY['CREATE INDEX ON wi_orders (ref)']);
RESET ROLE;

-- The advisor's cost entry (C++ whatif_cost over a core IndexDef): cheaper with the index, the baseline
-- unchanged, parameters planned as constants, planning as another role, failures reported and the session
-- left usable.
SELECT rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE ref = 'R1'$$, 'wi_orders', ARRAY['ref'])
     < rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE ref = 'R1'$$) / 10 AS index_pays;
SELECT rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE ref = 'R1'$$)
     = rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE ref = 'R1'$$, 'wi_orders', ARRAY['customer_id'])
       AS unrelated_index_changes_nothing;
SELECT rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE lower(email) = 'x'$$, 'wi_orders', ARRAY['lower(email)'])
     < rubberduck._whatif_cost($$SELECT * FROM wi_orders WHERE lower(email) = 'x'$$) AS expression_pays;
SELECT rubberduck._whatif_cost('SELECT id FROM wi_orders WHERE status = $1 ORDER BY priority LIMIT 5', 'wi_orders',
                               ARRAY['priority'], predicate => $$status = 'queued'$$,
                               params => ARRAY['queued'], param_types => ARRAY['text']::regtype[])
     < rubberduck._whatif_cost('SELECT id FROM wi_orders WHERE status = $1 ORDER BY priority LIMIT 5',
                               params => ARRAY['queued'], param_types => ARRAY['text']::regtype[]) AS partial_pays;
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders WHERE ref = $1', 'wi_orders', ARRAY['ref'])
     < rubberduck._whatif_cost('SELECT * FROM wi_orders WHERE ref = $1') AS generic_plan_pays;
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders', 'wi_orders', ARRAY['nope']);
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders', 'wi_orders', ARRAY['ref'], method => 'gist');
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders', 'wi_orders', ARRAY['ref'], as_role => 'wi_reader');
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders', as_role => 'wi_reader') > 0 AS planned_as_reader;
SELECT rubberduck._whatif_cost('SELECT * FROM wi_orders WHERE id = $1', params => ARRAY['x'],
                               param_types => ARRAY['bigint']::regtype[]);
SELECT count(*) FROM wi_orders WHERE id < 10;
SET ROLE wi_reader;
SELECT rubberduck._whatif_cost('SELECT 1');
RESET ROLE;

-- Directives of the indexing skill.
SELECT name, value, unit FROM rubberduck.directives WHERE name LIKE 'rubberduck.indexing%' ORDER BY name;
ALTER SYSTEM SET rubberduck.indexing_maintenance_window = '25:00-01:00';
ALTER SYSTEM SET rubberduck.indexing_min_improvement = 2;

DROP FUNCTION wi_lookup(text);
DROP TABLE wi_orders;
DROP FUNCTION wi_plan(text, text[]);
DROP FUNCTION wi_err(text, text[]);
REVOKE USAGE ON SCHEMA public FROM wi_reader;
DROP ROLE wi_reader;
