-- rubberduck.analyze_migration(): PostgreSQL's raw parser + the live catalog + the migration rules.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
SET rubberduck.migration_guard = off;   -- this file tests the analysis, migration_guard.sql the guard

CREATE SCHEMA mig;
SET search_path = mig, public;
CREATE TABLE lookup (id integer PRIMARY KEY, label varchar(20) NOT NULL);
INSERT INTO lookup SELECT g, 'l' || g FROM generate_series(1, 250) g;
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 1000) g;
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount integer, email text, note varchar(50),
                     created_at timestamptz);
INSERT INTO orders SELECT g, 1 + g % 1000, g % 500, 'u' || g || '@example.com', 'n' || g, now()
FROM generate_series(1, 20000) g;
CREATE INDEX orders_amount_idx ON orders (amount);
CREATE VIEW order_notes AS SELECT id, note FROM orders;
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE FUNCTION mig.dice() RETURNS integer LANGUAGE sql VOLATILE AS 'SELECT 4';
CREATE FUNCTION mig.four() RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 4';
ANALYZE lookup, customers, orders;

-- A slow, fixed server so durations and severities are deterministic: 1000 rows/s for every kind of work.
SET rubberduck.migration_rewrite_rows_per_sec = 1000;
SET rubberduck.migration_rewrite_bytes_per_sec = 1e12;
SET rubberduck.migration_scan_rows_per_sec = 1000;
SET rubberduck.migration_scan_bytes_per_sec = 1e12;
SET rubberduck.migration_index_build_rows_per_sec = 1000;
SET rubberduck.migration_fk_validate_rows_per_sec = 1000;
SET rubberduck.migration_dml_rows_per_sec = 1000;

CREATE FUNCTION show(sql text) RETURNS TABLE(no integer, relation text, rule text, severity text, lock_mode text,
                                             rewrites boolean, scans boolean, secs numeric, has_alternative boolean)
LANGUAGE sql AS $$
    SELECT statement_no, relation, rule, severity, lock_mode, rewrites_table, scans_table,
           round((est_duration_ms / 1000)::numeric, 1), safer_alternative IS NOT NULL
    FROM rubberduck.analyze_migration(sql) ORDER BY 1, 3
$$;

-- Size scaling: the same CREATE INDEX is harmless on a 250-row table, a danger on 20,000 rows at 1000 rows/s.
SELECT * FROM show('CREATE INDEX lookup_label_idx ON lookup (label)');
SELECT * FROM show('CREATE INDEX orders_email_idx ON orders (email)');
SELECT * FROM show('CREATE INDEX CONCURRENTLY orders_email_idx ON orders (email)');
-- ... and with a fast server the big one drops to info (est. 0.2 s).
SET rubberduck.migration_index_build_rows_per_sec = 100000;
SET rubberduck.migration_scan_rows_per_sec = 100000;
SELECT * FROM show('CREATE INDEX orders_email_idx ON orders (email)');
SET rubberduck.migration_index_build_rows_per_sec = 1000;
SET rubberduck.migration_scan_rows_per_sec = 1000;
-- The alternative is written out as SQL.
SELECT safer_alternative FROM rubberduck.analyze_migration('CREATE INDEX orders_email_idx ON orders (email)')
WHERE rule = 'create_index_not_concurrently';
-- Expression and partial indexes keep their text.
SELECT safer_alternative FROM rubberduck.analyze_migration(
    'CREATE UNIQUE INDEX orders_lower_email ON orders (lower(email), (amount + 1)) WHERE amount > 10')
WHERE rule <> 'ok';
SELECT safer_alternative FROM rubberduck.analyze_migration(
    'CREATE INDEX orders_x ON orders USING btree (email text_pattern_ops, created_at DESC NULLS LAST, "amount")')
WHERE rule <> 'ok';

-- Columns: volatile vs stable/immutable defaults, NOT NULL without default, serial/identity.
SELECT * FROM show($$
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN roll integer DEFAULT mig.dice();
ALTER TABLE orders ADD COLUMN fixed integer DEFAULT mig.four() + 1;
ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now();
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'open';
ALTER TABLE orders ADD COLUMN region text NOT NULL;
ALTER TABLE orders ADD COLUMN seq bigserial;
ALTER TABLE orders ADD COLUMN seq2 bigint GENERATED ALWAYS AS IDENTITY;
$$);
-- Types: rewrites vs binary-coercible changes (from the catalog's current type).
SELECT * FROM show($$
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
ALTER TABLE orders ALTER COLUMN note TYPE text;
ALTER TABLE orders ALTER COLUMN email TYPE varchar(100);
ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,2) USING amount::numeric / 100;
$$);
-- Constraints: NOT VALID then VALIDATE, CHECK text proving NOT NULL, FK, UNIQUE.
SELECT * FROM show($$
SET lock_timeout = '2s';
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE orders ADD CONSTRAINT orders_amount_pos CHECK (amount >= 0);
ALTER TABLE orders ADD CONSTRAINT orders_email_key UNIQUE (email);
$$);
SELECT * FROM show($$
SET lock_timeout = '2s';
ALTER TABLE orders ADD CONSTRAINT orders_email_nn CHECK (email IS NOT NULL) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_email_nn;
ALTER TABLE orders ALTER COLUMN email SET NOT NULL;
$$);
SELECT safer_alternative FROM rubberduck.analyze_migration(
    'SET lock_timeout = ''2s''; ALTER TABLE orders ADD CONSTRAINT orders_amount_pos CHECK (amount >= 0 AND amount < 1e6)')
WHERE rule <> 'ok';
-- Destructive statements; the dependent view is named.
SELECT * FROM show($$
SET lock_timeout = '2s';
ALTER TABLE orders DROP COLUMN note;
ALTER TABLE orders RENAME COLUMN email TO mail;
ALTER TABLE customers RENAME TO clients;
TRUNCATE lookup;
DROP TABLE lookup;
ALTER TABLE orders DROP CONSTRAINT orders_pkey;
$$);
SELECT message ~ 'order_notes' AS names_the_view
FROM rubberduck.analyze_migration('SET lock_timeout = ''2s''; ALTER TABLE orders DROP COLUMN note')
WHERE rule = 'drop_column';
-- Maintenance, indexes, enums.
SELECT * FROM show($$
SET lock_timeout = '2s';
VACUUM FULL orders;
CLUSTER orders USING orders_pkey;
REINDEX TABLE orders;
DROP INDEX orders_amount_idx;
$$);
SELECT * FROM show('BEGIN; ALTER TYPE mood ADD VALUE ''meh''; COMMIT;');
SELECT * FROM show('ALTER TYPE mood ADD VALUE ''meh''');
-- New tables: type preferences; objects created earlier in the migration are followed.
SELECT * FROM show($$
CREATE TABLE tickets (id serial PRIMARY KEY, title varchar(80), at timestamp, code char(3));
CREATE INDEX tickets_title_idx ON tickets (title);
ALTER TABLE tickets ADD CONSTRAINT tickets_code_chk CHECK (code <> '');
$$);
-- Missing lock_timeout, statement_timeout too short, backfill in the DDL transaction (10k rows = large here).
SET rubberduck.migration_large_dml_rows = 10000;
SELECT * FROM show('ALTER TABLE lookup ADD COLUMN description text');
SELECT * FROM show('SET statement_timeout = ''10ms''; CREATE INDEX CONCURRENTLY orders_email_idx ON orders (email)');
SELECT * FROM show($$
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN total bigint;
UPDATE orders SET total = amount * 100;
COMMIT;
$$);

RESET rubberduck.migration_large_dml_rows;
SELECT * FROM show('SET lock_timeout = ''2s''; UPDATE orders SET amount = 0 WHERE id < 100');

-- Locks accumulate inside a transaction: the index build runs under the ADD COLUMN's ACCESS EXCLUSIVE.
SELECT * FROM show($$
BEGIN;
SET LOCAL lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN total bigint;
CREATE INDEX orders_total_idx ON orders (total);
COMMIT;
$$);
-- ... but not across COMMIT.
SELECT * FROM show($$
SET lock_timeout = '2s';
BEGIN;
ALTER TABLE orders ADD COLUMN total bigint;
COMMIT;
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
$$);
SELECT * FROM show('BEGIN; CREATE INDEX CONCURRENTLY orders_email_idx ON orders (email); COMMIT;');

-- Quiet statements: a SELECT (with a CTE, which is not a relation), a plain VACUUM.
SELECT * FROM show('WITH recent AS (SELECT * FROM orders WHERE id > 10) SELECT count(*) FROM recent');
SELECT * FROM show('VACUUM (ANALYZE) orders');
-- Unknown relation and column; IF EXISTS; schema-qualified and quoted names.
SELECT * FROM show('SET lock_timeout = ''2s''; ALTER TABLE no_such_table ADD COLUMN x text');
SELECT * FROM show('SET lock_timeout = ''2s''; ALTER TABLE lookup DROP COLUMN no_such_column');
SELECT * FROM show('DROP TABLE IF EXISTS no_such_table');
SELECT * FROM show('CREATE INDEX CONCURRENTLY ON mig."orders" (amount)');
-- Statement numbers and texts (comments before a statement are not part of it).
SELECT statement_no, statement FROM rubberduck.analyze_migration($$
-- first
SET lock_timeout = '2s';  /* second */ ALTER TABLE lookup ADD COLUMN a text;
SELECT 1
$$) ORDER BY 1;

-- Bad input.
SELECT * FROM rubberduck.analyze_migration('');
SELECT * FROM rubberduck.analyze_migration('  -- only a comment
');
SELECT * FROM rubberduck.analyze_migration(NULL);
SELECT * FROM rubberduck.analyze_migration('SET lock_timeout = ''2s'';
ALTER TABL orders ADD COLUMN x int;');
SELECT * FROM rubberduck.analyze_migration('\set ON_ERROR_STOP on
ALTER TABLE orders ADD COLUMN x int;');
SELECT * FROM rubberduck.analyze_migration('SELECT ''unterminated');
-- Nothing was executed or changed.
SELECT count(*) AS columns_of_orders FROM pg_attribute WHERE attrelid = 'mig.orders'::regclass AND attnum > 0;
SELECT to_regclass('mig.orders_email_idx') IS NULL AS no_index_built;

RESET search_path;
DROP SCHEMA mig CASCADE;
