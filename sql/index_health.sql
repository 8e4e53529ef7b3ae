-- rubberduck.index_health: unused, duplicate, redundant, invalid and bloated indexes, each with the SQL that fixes it.
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

-- Bloat: an index against the size a fresh build would have (the table's rows x the key's pg_stats width).
-- 70 000 distinct 150-character keys make a ~12 MB btree, above the 10 MB floor.
CREATE TABLE ih_bloat (id int, k text);
INSERT INTO ih_bloat SELECT g, lpad(g::text, 150, 'x') FROM generate_series(1, 70000) g;
CREATE INDEX ih_bloat_k ON ih_bloat (k);
VACUUM ANALYZE ih_bloat;
SELECT pg_relation_size('ih_bloat_k') >= 10 * 1024 * 1024 AS big_enough;
-- Freshly built: not bloated.
SELECT index, issue FROM rubberduck.index_health WHERE relation = 'public.ih_bloat';
-- Most rows deleted; VACUUM (once no snapshot older than the DELETE is left, e.g. an agent's cycle) removes
-- them from the heap and the index, but the index keeps its pages.
BEGIN;
DELETE FROM ih_bloat WHERE id % 10 <> 0;
SELECT txid_current() AS del_xid \gset
COMMIT;
SELECT set_config('ih.del_xid', :'del_xid', false) IS NOT NULL AS noted;
DO $$
BEGIN
  FOR i IN 1..600 LOOP
    EXIT WHEN NOT EXISTS (
      SELECT 1 FROM pg_stat_activity
       WHERE pid <> pg_backend_pid()
         AND ((backend_xmin IS NOT NULL AND age(backend_xmin) >= age(current_setting('ih.del_xid')::xid))
           OR (backend_xid IS NOT NULL AND age(backend_xid) >= age(current_setting('ih.del_xid')::xid))));
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
VACUUM ih_bloat;
SELECT reltuples::int AS rows_left, pg_relation_size('ih_bloat_k') >= 10 * 1024 * 1024 AS still_big
  FROM pg_class WHERE relname = 'ih_bloat';
SELECT index, issue, fix_sql, size_bytes = pg_relation_size('ih_bloat_k') AS real_size,
       detail ~ '^[0-9]+ MB against about [0-9]+ MB for a fresh build \([0-9.]+x\)$' AS explained
  FROM rubberduck.index_health WHERE relation = 'public.ih_bloat';
-- The fix works: rebuilt, the index is no longer reported.
REINDEX INDEX CONCURRENTLY public.ih_bloat_k;
SELECT index, issue FROM rubberduck.index_health WHERE relation = 'public.ih_bloat';
DROP TABLE ih_bloat;
-- An index built on an empty table and filled afterwards (row count unknown until VACUUM/ANALYZE, or rows
-- added since) is not taken for bloat: the row count is unknown or scaled to the table's current size.
CREATE TABLE ih_grown (id int, k text);
CREATE INDEX ih_grown_k ON ih_grown (k);
INSERT INTO ih_grown SELECT g, lpad(g::text, 150, 'x') FROM generate_series(1, 70000) g;
SELECT pg_relation_size('ih_grown_k') >= 10 * 1024 * 1024 AS big_enough;
SELECT index, issue FROM rubberduck.index_health WHERE relation = 'public.ih_grown';
DROP TABLE ih_grown;
