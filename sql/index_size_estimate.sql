-- The size a hypothetical index is given (rubberduck.hypothetical_index_size, the pages the what-if planner
-- assumes) against the real index built afterwards: within 20 % for btree and hash shapes. ANALYZE samples vary,
-- so only the verdict is printed (bench/index_advisor/size_check.sh prints the figures on a million rows).
-- A trigram GIN index is estimated from the column's pg_statistic sample (distinct trigrams and rows per
-- trigram decide inline posting lists vs whole-page posting trees), also held to 20 %. The model assumes the
-- build keeps all trigram TIDs in memory at once (one flush); with a small maintenance_work_mem GIN flushes
-- several times and its entry pages end up emptier (200 000 md5 rows: 37.3 MB at 64MB vs 28.5 MB at 256MB),
-- so this test builds with 256MB.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
RESET client_min_messages;
SET max_parallel_maintenance_workers = 0;
SET maintenance_work_mem = '256MB';

CREATE TABLE se_t (
    id bigint NOT NULL, n4 int NOT NULL, low int NOT NULL, ref varchar(40) NOT NULL, email text NOT NULL,
    status text NOT NULL, created_at timestamptz NOT NULL, amount bigint, note text);
INSERT INTO se_t
SELECT g, ((g * 7919) % 200000)::int, (g % 5)::int, 'REF-' || lpad((g * 31)::text, 14, '0'),
       'User' || g || '@Example.com', CASE WHEN g % 100 = 0 THEN 'queued' ELSE 'done' END,
       timestamptz '2024-01-01 00:00+00' + g * interval '1 second', CASE WHEN g % 10 = 0 THEN NULL ELSE g * 3 END,
       md5(g::text)
FROM generate_series(1::bigint, 200000) g;
VACUUM ANALYZE se_t;

CREATE TABLE se_shapes (shape text, ddl text, estimated bigint, real_bytes bigint);
INSERT INTO se_shapes (shape, ddl) VALUES
    ('btree int4', 'CREATE INDEX se_i1 ON se_t (n4)'),
    ('btree int8 unique', 'CREATE UNIQUE INDEX se_i2 ON se_t (id)'),
    ('btree varchar', 'CREATE INDEX se_i3 ON se_t (ref)'),
    ('btree low cardinality (deduplicated)', 'CREATE INDEX se_i4 ON se_t (low)'),
    ('btree INCLUDE with NULLs', 'CREATE INDEX se_i5 ON se_t (n4) INCLUDE (amount)'),
    ('btree two columns', 'CREATE INDEX se_i6 ON se_t (low, created_at)'),
    ('btree partial 1 %', 'CREATE INDEX se_i7 ON se_t (created_at) WHERE status = ''queued'''),
    ('btree expression', 'CREATE INDEX se_i8 ON se_t (lower(email))'),
    ('hash', 'CREATE INDEX se_i9 ON se_t USING hash (n4)'),
    ('gin trigram', 'CREATE INDEX se_i10 ON se_t USING gin (note gin_trgm_ops)'),
    ('gin trigram email', 'CREATE INDEX se_i11 ON se_t USING gin (email gin_trgm_ops)');

-- Estimate every shape first (nothing exists yet), then build each for real.
UPDATE se_shapes SET estimated = rubberduck.hypothetical_index_size(ddl);
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT ddl FROM se_shapes LOOP
        EXECUTE r.ddl;
    END LOOP;
END $$;
UPDATE se_shapes s SET real_bytes = pg_relation_size(('public.' || split_part(s.ddl, ' ', 3 + (s.ddl LIKE 'CREATE UNIQUE%')::int))::regclass);

SELECT shape, estimated > 0 AS estimated, real_bytes > 0 AS built,
       abs(estimated::float8 / real_bytes - 1) <= 0.20 AS within_bound
FROM se_shapes ORDER BY shape;

-- Nothing was left behind by the estimates: only the indexes built above exist.
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'se_t'::regclass;

-- Bad input: a clear error.
SELECT rubberduck.hypothetical_index_size('CREATE INDEX ON no_such_table (x)');
SELECT rubberduck.hypothetical_index_size('SELECT 1');

DROP TABLE se_t, se_shapes;
