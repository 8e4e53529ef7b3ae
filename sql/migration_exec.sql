-- Guarded migration execution: rubberduck.migrate(), the ledger, integrity checks, rollback_migration(),
-- asynchronous and CONCURRENTLY migrations run by the migration agent's executor.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
SET client_min_messages = notice;
SET rubberduck.migration_guard = 'off';  -- the DDL guard's warnings are another test's business
CREATE TABLE mx_orders (id bigint PRIMARY KEY, customer_id bigint, amount numeric NOT NULL);
INSERT INTO mx_orders SELECT g, g % 10, g FROM generate_series(1, 1000) g;
CREATE TABLE mx_customers (id bigint PRIMARY KEY, name text);
INSERT INTO mx_customers SELECT g, 'c' || g FROM generate_series(0, 9) g;
ANALYZE mx_orders, mx_customers;

-- columns of mx_orders, to show the schema before/after
CREATE FUNCTION mx_columns() RETURNS text LANGUAGE sql AS
$$ SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY ordinal_position)
     FROM information_schema.columns WHERE table_name = 'mx_orders' $$;

-- 1. apply: ledger row applied, checksum = sha256(up_sql), one attempt
SELECT version, status, requested,
       checksum = encode(sha256(convert_to('ALTER TABLE mx_orders ADD COLUMN note text', 'UTF8')), 'hex') AS checksum_ok,
       actual_ms >= 0 AS timed, predicted_ms >= 0 AS predicted, jsonb_array_length(analysis) > 0 AS analysed,
       progress->'attempts' AS attempts, progress->'statements_done' AS done, watch->>'state' AS watch, error
  FROM rubberduck.migrate('001', 'ALTER TABLE mx_orders ADD COLUMN note text',
                          'ALTER TABLE mx_orders DROP COLUMN note', '{"watch": false}');
SELECT mx_columns();

-- 2. idempotency: the same version and SQL again is a no-op
SELECT version, status FROM rubberduck.migrate('001', 'ALTER TABLE mx_orders ADD COLUMN note text',
                                               'ALTER TABLE mx_orders DROP COLUMN note', '{"watch": false}');
-- 3. checksum mismatch for an applied version
SELECT version FROM rubberduck.migrate('001', 'ALTER TABLE mx_orders ADD COLUMN note2 text');

-- 4. danger refused (DROP COLUMN on a table with rows), nothing recorded, then allowed by rule
SELECT status FROM rubberduck.migrate('002', 'ALTER TABLE mx_orders DROP COLUMN note', NULL, '{"watch": false}');
SELECT count(*) AS ledger_rows_for_002 FROM rubberduck.migrations WHERE version = '002';
SELECT status FROM rubberduck.migrate('002', 'ALTER TABLE mx_orders DROP COLUMN note', NULL,
                                      '{"watch": false, "allow": ["drop_column"]}');
SELECT mx_columns();
-- an 'error' finding (unknown relation) is refused as well
SELECT status FROM rubberduck.migrate('002b', 'ALTER TABLE mx_nowhere ADD COLUMN a int');

-- 5. integrity: a migration that changes row counts fails, leaves schema and data exactly as before, and
--    its 'failed' row survives the rollback
SELECT status FROM rubberduck.migrate('003', 'ALTER TABLE mx_orders ADD COLUMN flag boolean; DELETE FROM mx_orders WHERE id <= 10',
                                      NULL, '{"watch": false}');
SELECT version, status, error FROM rubberduck.migrations WHERE version = '003';
SELECT mx_columns(), (SELECT count(*) FROM mx_orders) AS rows;
-- ... unless the migration says the rows of that table are meant to change (retrying a failed version is allowed)
SELECT status, error FROM rubberduck.migrate('003', 'ALTER TABLE mx_orders ADD COLUMN flag boolean; DELETE FROM mx_orders WHERE id <= 10',
                                             NULL, '{"watch": false, "expect_row_changes": ["mx_orders"]}');
SELECT mx_columns(), (SELECT count(*) FROM mx_orders) AS rows;

-- 6. integrity: a foreign key added NOT VALID over orphaned rows fails; so does a statement that fails midway
UPDATE mx_orders SET customer_id = 99 WHERE id = 500;
SELECT status FROM rubberduck.migrate('004', 'ALTER TABLE mx_orders ADD CONSTRAINT mx_orders_customer_fk FOREIGN KEY (customer_id) REFERENCES mx_customers (id) NOT VALID',
                                      NULL, '{"watch": false}');
SELECT status, error FROM rubberduck.migrations WHERE version = '004';
SELECT count(*) AS fk_left_behind FROM pg_constraint WHERE conname = 'mx_orders_customer_fk';
UPDATE mx_orders SET customer_id = 9 WHERE id = 500;
SELECT status FROM rubberduck.migrate('004', 'ALTER TABLE mx_orders ADD CONSTRAINT mx_orders_customer_fk FOREIGN KEY (customer_id) REFERENCES mx_customers (id) NOT VALID',
                                      'ALTER TABLE mx_orders DROP CONSTRAINT mx_orders_customer_fk', '{"watch": false}');
SELECT convalidated FROM pg_constraint WHERE conname = 'mx_orders_customer_fk';
SELECT status FROM rubberduck.migrate('005', 'ALTER TABLE mx_orders ADD COLUMN extra int; ALTER TABLE mx_orders ADD CONSTRAINT mx_amount_big CHECK (amount > 100000)',
                                      NULL, '{"watch": false}');
SELECT status, error FROM rubberduck.migrations WHERE version = '005';
SELECT mx_columns();

-- 7. rollback_migration by hand
SELECT version, status, rollback_reason FROM rubberduck.rollback_migration('004');
SELECT count(*) AS fk_after_rollback FROM pg_constraint WHERE conname = 'mx_orders_customer_fk';
SELECT rubberduck.rollback_migration('004');      -- not applied any more
SELECT rubberduck.rollback_migration('002');      -- no down_sql
SELECT rubberduck.rollback_migration('nope');     -- unknown

-- 8. bad input
SELECT rubberduck.migrate(NULL, 'SELECT 1');
SELECT rubberduck.migrate('x', '   ');
SELECT rubberduck.migrate(repeat('v', 64), 'SELECT 1');
SELECT rubberduck.migrate('x', 'SELECT 1', NULL, '{"bogus": 1}');
SELECT rubberduck.migrate('x', 'SELECT 1', NULL, '{"lock_timeout": "soon"}');
SELECT rubberduck.migrate('x', 'SELECT 1', NULL, '{"lock_retries": -1}');
SELECT rubberduck.migrate('x', 'SELECT 1', NULL, '{"allow": 3}');
SELECT rubberduck.migrate('x', 'SELECT 1', NULL, '[]');
SELECT rubberduck.migrate('x', 'BEGIN; SAVEPOINT s; COMMIT');
SELECT rubberduck.migrate('x', 'ALTER TABLE mx_orders ADD COLUMN');
SELECT count(*) AS ledger_rows_for_x FROM rubberduck.migrations WHERE version = 'x';

-- 9. asynchronous mode and CREATE INDEX CONCURRENTLY, run by the migration agent's executor worker
CREATE PROCEDURE mx_wait(v text) LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..300 LOOP
        EXIT WHEN (SELECT status NOT IN ('pending', 'running') FROM rubberduck.migrations WHERE version = v);
        PERFORM pg_sleep(0.1);
        COMMIT;  -- never hold a snapshot a concurrent index build would wait for
    END LOOP;
END $$;
SELECT version, status FROM rubberduck.migrate('006', 'ALTER TABLE mx_orders ADD COLUMN later text', NULL,
                                               '{"async": true, "watch": false}');
CALL mx_wait('006');
SELECT version, status, progress->'statements_done' AS done FROM rubberduck.migrations WHERE version = '006';
SELECT version, status FROM rubberduck.migrate('007',
    'CREATE INDEX CONCURRENTLY mx_orders_amount_idx ON mx_orders (amount); ALTER TABLE mx_orders ADD COLUMN tag text',
    'DROP INDEX CONCURRENTLY mx_orders_amount_idx; ALTER TABLE mx_orders DROP COLUMN tag', '{"watch": false}');
CALL mx_wait('007');
SELECT version, status, error FROM rubberduck.migrations WHERE version = '007';
SELECT indexrelid::regclass AS index, indisvalid FROM pg_index WHERE indexrelid = 'mx_orders_amount_idx'::regclass;
-- a failing concurrent build leaves no INVALID index behind
SELECT version, status FROM rubberduck.migrate('008', 'CREATE UNIQUE INDEX CONCURRENTLY mx_orders_customer_u ON mx_orders (customer_id)',
                                               NULL, '{"watch": false}');
CALL mx_wait('008');
SELECT version, status, error LIKE 'statement 1: could not create unique index "mx_orders_customer_u": Key (customer_id)=(%) is duplicated. (cleaned up: DROP INDEX CONCURRENTLY IF EXISTS public.mx_orders_customer_u)' AS error_ok
  FROM rubberduck.migrations WHERE version = '008';
SELECT count(*) AS leftovers FROM pg_class WHERE relname = 'mx_orders_customer_u';
-- a rollback whose down_sql needs the executor is queued too
SELECT version, status, requested FROM rubberduck.rollback_migration('007');
CALL mx_wait('007');
SELECT version, status, requested FROM rubberduck.migrations WHERE version = '007';
SELECT to_regclass('mx_orders_amount_idx') AS index_after_rollback;

-- 10. the ledger as a whole, and privileges
SELECT version, status, requested FROM rubberduck.migrations ORDER BY version;
CREATE ROLE mx_nobody;
SET ROLE mx_nobody;
SELECT rubberduck.migrate('009', 'SELECT 1');
SELECT count(*) >= 0 AS can_read_ledger FROM rubberduck.migrations;
RESET ROLE;
DROP ROLE mx_nobody;
DROP PROCEDURE mx_wait(text);
DROP FUNCTION mx_columns();
DROP TABLE mx_orders, mx_customers;
