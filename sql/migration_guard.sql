-- The migration guard (ProcessUtility hook): warn and enforce modes, migration_allow, lock_timeout for the
-- statement, and the record of every guarded DDL (shared-memory ring, drained into rubberduck.ddl_log).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
SET rubberduck.migration_guard = off;
CREATE SCHEMA guard;
SET search_path = guard, public;
CREATE TABLE g_orders (id bigint PRIMARY KEY, customer_id bigint, amount integer, email text);
INSERT INTO g_orders SELECT g, g % 100, g % 1000, 'u' || g FROM generate_series(1, 20000) g;
CREATE TABLE g_small (id integer PRIMARY KEY, label text);
INSERT INTO g_small SELECT g, 'l' || g FROM generate_series(1, 100) g;
ANALYZE g_orders, g_small;
-- Deterministic estimates: 1000 rows/s for every kind of work (20,000 rows = 20 s = danger).
SET rubberduck.migration_rewrite_rows_per_sec = 1000;
SET rubberduck.migration_rewrite_bytes_per_sec = 1e12;
SET rubberduck.migration_scan_rows_per_sec = 1000;
SET rubberduck.migration_scan_bytes_per_sec = 1e12;
SET rubberduck.migration_index_build_rows_per_sec = 1000;
SET rubberduck.migration_fk_validate_rows_per_sec = 1000;
SET rubberduck.migration_dml_rows_per_sec = 1000;
SHOW rubberduck.migration_lock_timeout;
SET rubberduck.migration_lock_timeout = '1500ms';

-- warn (the default; tests/regress.conf turns the guard off for the other tests): the statement runs, with a
-- WARNING and the safer alternative as HINT.
SELECT boot_val, context FROM pg_settings WHERE name = 'rubberduck.migration_guard';
SET rubberduck.migration_guard = warn;
CREATE INDEX g_orders_amount_idx ON g_orders (amount);
SELECT to_regclass('guard.g_orders_amount_idx') IS NOT NULL AS built;
-- Harmless DDL and plain queries: silent.
CREATE INDEX g_small_label_idx ON g_small (label);
SELECT count(*) FROM g_small;
-- lock_timeout is applied to a statement taking ACCESS EXCLUSIVE when the session has none, then restored.
ALTER TABLE g_small ADD COLUMN note text;
SHOW lock_timeout;
SET lock_timeout = '3s';
ALTER TABLE g_small ADD COLUMN note2 text;   -- the session's own lock_timeout is kept
RESET lock_timeout;
-- A failing DDL is recorded as failed; a rolled-back one as ok (it ran).
ALTER TABLE g_small ADD COLUMN note text;
BEGIN;
ALTER TABLE g_small RENAME COLUMN label TO title;
ROLLBACK;

-- enforce: danger findings are refused (SQLSTATE 55000) ...
SET rubberduck.migration_guard = enforce;
CREATE INDEX g_orders_email_idx ON g_orders (email);
\echo :LAST_ERROR_SQLSTATE
SELECT to_regclass('guard.g_orders_email_idx') IS NULL AS not_built;
ALTER TABLE g_orders ALTER COLUMN amount TYPE bigint;
SELECT atttypid::regtype FROM pg_attribute WHERE attrelid = 'guard.g_orders'::regclass AND attname = 'amount';
-- ... the safe rewrite passes ...
CREATE INDEX CONCURRENTLY g_orders_email_idx ON g_orders (email);
SELECT to_regclass('guard.g_orders_email_idx') IS NOT NULL AS built;
-- ... warnings still run (rename: warning, not danger) ...
ALTER TABLE g_small RENAME COLUMN note2 TO remark;
-- ... and migration_allow lets named rules through.
SET rubberduck.migration_allow = 'vacuum_full, create_index_not_concurrently';
CREATE INDEX g_orders_customer_idx ON g_orders (customer_id);
SELECT to_regclass('guard.g_orders_customer_idx') IS NOT NULL AS built;
ALTER TABLE g_orders ALTER COLUMN amount TYPE bigint;   -- not in the list
SET rubberduck.migration_allow = 'Not A Rule!';
RESET rubberduck.migration_allow;
-- Statements inside functions are not guarded (only top-level statements: the tool's own DDL).
DO $$ BEGIN EXECUTE 'CREATE INDEX g_orders_amount2_idx ON guard.g_orders (amount)'; END $$;
-- Only a superuser may change the guard's mode.
CREATE ROLE rd_guard_user;
SET ROLE rd_guard_user;
SET rubberduck.migration_guard = off;
SET rubberduck.migration_allow = 'drop_table';   -- any session may allow rules for itself
RESET ROLE;
DROP ROLE rd_guard_user;
SET rubberduck.migration_guard = off;
CREATE INDEX g_orders_id_amount_idx ON g_orders (id, amount);   -- off: nothing analysed or recorded

-- The record: who, what, findings, outcome, lock timeout applied.
SELECT command_tag, relation, rules, max_severity, outcome, lock_mode, lock_timeout_applied_ms AS applied_ms,
       in_transaction, guard_mode, username = current_user AS me, duration_ms >= 0 AS timed
FROM rubberduck._ddl_ring() WHERE pid = pg_backend_pid() ORDER BY seq;
-- The migration agent drains the ring into rubberduck.ddl_log.
SELECT rubberduck.wake_agent('migration') > 0 AS cycled;
SELECT count(*) AS logged, count(*) FILTER (WHERE outcome = 'blocked') AS blocked,
       count(*) FILTER (WHERE outcome = 'failed') AS failed, count(DISTINCT database) AS databases
FROM rubberduck.ddl_log WHERE pid = pg_backend_pid();

RESET search_path;
DROP SCHEMA guard CASCADE;
