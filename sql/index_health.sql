-- rubberduck.index_health: unused, duplicate, redundant and invalid indexes, each with the SQL that fixes it.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
RESET client_min_messages;
\set VERBOSITY terse

CREATE TABLE ih_t (id int PRIMARY KEY, a int, b int, c text);
INSERT INTO ih_t SELECT g, g % 100, g % 10, 'v' || g FROM generate_series(1, 2000) g;
ANALYZE ih_t;
CREATE INDEX ih_a ON ih_t (a);
CREATE INDEX ih_a_dup ON ih_t (a);          -- same definition as ih_a
CREATE INDEX ih_ab ON ih_t (a, b);          -- makes ih_a redundant (a is a prefix of (a, b))
CREATE INDEX ih_c ON ih_t (c);
CREATE UNIQUE INDEX ih_id_a ON ih_t (id, a); -- unique: enforces something, never reported unused
-- A concurrent unique build fails on duplicates and leaves an invalid index behind.
CREATE UNIQUE INDEX CONCURRENTLY ih_b_uniq ON ih_t (b);
SELECT indisvalid FROM pg_index WHERE indexrelid = 'ih_b_uniq'::regclass;

-- Scan counters must cover rubberduck.indexing_unused_window (default 7 days) before anything is called
-- unused: a fresh server's counters do not.
SHOW rubberduck.indexing_unused_window;
SELECT relation, index, issue, scans, fix_sql, related_index
  FROM rubberduck.index_health WHERE relation LIKE '%ih_t%' ORDER BY index;

-- With no minimum window, indexes never scanned are unused too.
SET rubberduck.indexing_unused_window = 0;
SELECT relation, index, issue, scans, fix_sql, related_index
  FROM rubberduck.index_health WHERE relation LIKE '%ih_t%' ORDER BY index;

-- A scanned index is no longer unused.
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM ih_t WHERE c = 'v42';
RESET enable_seqscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT index, issue, scans > 0 AS scanned FROM rubberduck.index_health WHERE relation LIKE '%ih_t%' ORDER BY index;

-- Sizes are real sizes; the stats window is reported.
SELECT bool_and(size_bytes > 0) FILTER (WHERE issue <> 'invalid') AS sized,
       bool_and(size_bytes = pg_relation_size(('public.' || index)::regclass)) AS real_sizes,
       bool_and(stats_window_seconds >= 0) AS windowed
  FROM rubberduck.index_health WHERE relation LIKE '%ih_t%';

-- The fixes work: after the duplicate and the redundant index are dropped (their fix_sql) and the invalid
-- unique index is dropped (a REINDEX would fail again on the duplicates), nothing but unused is left.
DROP INDEX CONCURRENTLY IF EXISTS public.ih_a_dup;
DROP INDEX CONCURRENTLY IF EXISTS public.ih_a;
DROP INDEX CONCURRENTLY public.ih_b_uniq;
SELECT index, issue FROM rubberduck.index_health WHERE relation LIKE '%ih_t%' AND issue <> 'unused' ORDER BY index;

-- The extension's own tables are never reported.
SELECT count(*) FROM rubberduck.index_health WHERE relation LIKE 'rubberduck.%';
RESET rubberduck.indexing_unused_window;
DROP TABLE ih_t;
