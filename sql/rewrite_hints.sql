-- rubberduck.rewrite_hints(query text): a positive and a negative case per rule, the parse/analysis errors, and
-- the statement is never executed.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
CREATE SCHEMA rw;
SET search_path = rw, public;
CREATE TABLE customers (id int PRIMARY KEY, email text, name varchar(40), code char(8), created_at timestamp,
                        created_tz timestamptz, score numeric);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, total numeric,
                     status text, placed_at timestamp, note text);
CREATE TABLE blocked (customer_id int, reason text);
CREATE TABLE allowed (customer_id int NOT NULL);
CREATE TABLE items (order_id bigint, sku text, qty int);
CREATE INDEX ON customers (email);
CREATE INDEX ON customers (name);
CREATE INDEX ON customers (created_at);
CREATE INDEX ON customers (created_tz);
CREATE INDEX ON customers (code);
CREATE INDEX ON customers (lower(name));
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON orders (status);
-- 24 columns, one of them dropped: 23 visible
CREATE TABLE wide AS SELECT 1 AS c01, 2 AS c02, 3 AS c03, 4 AS c04, 5 AS c05, 6 AS c06, 7 AS c07, 8 AS c08,
  9 AS c09, 10 AS c10, 11 AS c11, 12 AS c12, 13 AS c13, 14 AS c14, 15 AS c15, 16 AS c16, 17 AS c17, 18 AS c18,
  19 AS c19, 20 AS c20, 21 AS c21, 22 AS c22, 23 AS c23, 24 AS c24;
ALTER TABLE wide DROP COLUMN c24;
\pset null '(null)'
\x on

-- ---- not_in_subquery
-- positive: nullable subquery column (the note about NULLs)
SELECT * FROM rubberduck.rewrite_hints(
  'SELECT o.id FROM orders o WHERE o.customer_id NOT IN (SELECT b.customer_id FROM blocked b WHERE b.reason <> ''test'')');
-- positive: NOT NULL column, no note; <> ALL is the same thing; same table name inside and outside
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM allowed)');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM orders WHERE customer_id <> ALL (SELECT customer_id FROM allowed)');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM orders WHERE id NOT IN (SELECT id FROM orders WHERE status = ''x'')');
-- negative: IN (subquery), NOT IN (list), NOT EXISTS
SELECT count(*) FROM rubberduck.rewrite_hints(
  'SELECT id FROM orders WHERE customer_id IN (SELECT customer_id FROM blocked)');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM orders WHERE customer_id NOT IN (1, 2, 3)');
SELECT count(*) FROM rubberduck.rewrite_hints(
  'SELECT id FROM orders o WHERE NOT EXISTS (SELECT 1 FROM blocked b WHERE b.customer_id = o.customer_id)');

-- ---- large_offset
-- positive: keyset rewrite, with the WHERE kept and new parameters after $1
SELECT * FROM rubberduck.rewrite_hints(
  'SELECT id, total FROM orders WHERE status = $1 ORDER BY placed_at DESC, id DESC LIMIT 50 OFFSET 5000');
-- positive without ORDER BY: message only
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('SELECT * FROM orders OFFSET 100000');
-- negative: small offset, parameter offset
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT * FROM orders ORDER BY id LIMIT 20 OFFSET 40');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT * FROM orders ORDER BY id LIMIT 20 OFFSET $1');

-- ---- leading_wildcard_like
SELECT * FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email LIKE ''%@example.com''');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE name ILIKE ''%smith%''');
-- too short for trigrams: message only
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email LIKE ''%ab''');
-- negative: prefix pattern, NOT LIKE, parameter pattern
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email LIKE ''john%''');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email NOT LIKE ''%.org''');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email LIKE $1');

-- ---- function_on_indexed_column
SELECT * FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE lower(email) = $1');
-- date() and ::date on an indexed timestamp: the day-range rewrite
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers WHERE created_at::date = ''2024-03-01''');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers WHERE date(created_at) = $1');
-- not immutable (timestamptz -> date depends on TimeZone): message only
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers WHERE date_trunc(''day'', created_tz) > now() - interval ''7 days''');
-- negative: an expression index on exactly lower(name) exists; bare column; function on an unindexed column
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE lower(name) = ''bob''');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email = $1');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT order_id FROM items WHERE upper(sku) = ''A1''');

-- ---- or_across_columns
SELECT * FROM rubberduck.rewrite_hints('SELECT id, name FROM customers WHERE email = $1 OR name = $2');
-- negative: OR on one column; optional-filter pattern
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE email = $1 OR email = $2');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE $1::text IS NULL OR email = $1');

-- ---- select_star_wide
SELECT * FROM rubberduck.rewrite_hints('SELECT * FROM wide WHERE c01 = 1');
SELECT rule, message FROM rubberduck.rewrite_hints('SELECT w.*, o.id FROM wide w, orders o WHERE o.id = w.c02');
-- negative: narrow table; an explicit list on the wide table; * inside EXISTS
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT * FROM orders WHERE id = 1');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT c01, c02 FROM wide');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT 1 WHERE EXISTS (SELECT * FROM wide)');

-- ---- correlated_subquery_select
SELECT * FROM rubberduck.rewrite_hints(
  'SELECT o.id, (SELECT count(*) FROM items i WHERE i.order_id = o.id) AS item_count FROM orders o');
-- negative: uncorrelated scalar subquery
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT o.id, (SELECT max(qty) FROM items) FROM orders o');

-- ---- count_for_existence
SELECT * FROM rubberduck.rewrite_hints(
  'SELECT c.id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) > 0');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT count(*) = 0 FROM orders WHERE customer_id = $1');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers c WHERE 1 <= (SELECT count(*) FROM orders o WHERE o.customer_id = c.id)');
-- negative: a plain count, a count compared with 5, a grouped count
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT count(*) FROM orders WHERE status = ''open''');
SELECT count(*) FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers c WHERE (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) > 5');
SELECT count(*) FROM rubberduck.rewrite_hints(
  'SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > 0');

-- ---- implicit_type_mismatch
SELECT * FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE id = 42.0');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE code = $1::text');
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('SELECT id FROM orders WHERE customer_id = $1::numeric');
-- negative: same type family (int4 = int8), varchar = text, an untyped literal
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE id = 42::bigint');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE name = $1::text');
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers WHERE code = ''ABC''');
-- negative: a domain column relabelled to its base type is not converted; a view's column is not indexable
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE dom (v posint);
CREATE INDEX ON dom (v);
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT * FROM dom WHERE v = 5');
SELECT rule FROM rubberduck.rewrite_hints('SELECT * FROM dom WHERE v = 5.5');
CREATE VIEW customers_v AS SELECT * FROM customers;
SELECT count(*) FROM rubberduck.rewrite_hints('SELECT id FROM customers_v WHERE id = 42.0 AND lower(email) = $1');

\x off
-- ---- several rules at once, in rule order; levels of their own: CTEs, UNION branches, subqueries in FROM
SELECT rule FROM rubberduck.rewrite_hints(
  'SELECT * FROM wide WHERE c01 NOT IN (SELECT customer_id FROM blocked) OR c02 = 42.5 OFFSET 2000');
SELECT rule FROM rubberduck.rewrite_hints(
  'WITH x AS (SELECT id FROM customers WHERE email LIKE ''%foo%'') SELECT * FROM x');
SELECT rule FROM rubberduck.rewrite_hints(
  'SELECT id FROM customers WHERE lower(email) = ''a'' UNION SELECT id FROM orders WHERE note LIKE ''%zzz%''');
SELECT rule FROM rubberduck.rewrite_hints(
  'SELECT s.id FROM (SELECT id FROM customers WHERE email ILIKE ''%bar%'') s');
-- UPDATE/DELETE: the WHERE rules apply; EXPLAIN is looked through; utility statements have none
SELECT rule, suggested_sql FROM rubberduck.rewrite_hints('UPDATE customers SET score = 0 WHERE lower(email) = $1');
SELECT rule FROM rubberduck.rewrite_hints('DELETE FROM orders WHERE customer_id NOT IN (SELECT customer_id FROM blocked)');
SELECT rule FROM rubberduck.rewrite_hints('EXPLAIN SELECT id FROM customers WHERE email LIKE ''%x.com''');
SELECT count(*) FROM rubberduck.rewrite_hints('CREATE TABLE t_never (a int)');
-- a table outside the search_path is written schema-qualified
RESET search_path;
SELECT suggested_sql FROM rubberduck.rewrite_hints('SELECT id FROM rw.customers WHERE email LIKE ''%@example.com''');
SET search_path = rw, public;

-- ---- never executed: a data-changing statement leaves the table as it was
SELECT count(*) FROM rubberduck.rewrite_hints('DELETE FROM orders WHERE customer_id IN (SELECT customer_id FROM blocked)');
INSERT INTO customers (id, email) VALUES (1, 'a@b.c');
SELECT rule FROM rubberduck.rewrite_hints('DELETE FROM customers WHERE lower(email) = ''a@b.c''');
SELECT count(*) AS customers_left FROM customers;
SELECT to_regclass('rw.t_never') IS NULL AS t_never_not_created;

-- ---- errors
SET client_min_messages = notice;
-- syntax error: 42601 with the position inside the query text
SELECT * FROM rubberduck.rewrite_hints('SELECT id FORM customers');
DO $$
BEGIN
  PERFORM rubberduck.rewrite_hints('SELEC 1');
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'sqlstate %', SQLSTATE;
END $$;
-- empty (or only a comment / semicolons): 22023
SELECT * FROM rubberduck.rewrite_hints('');
SELECT * FROM rubberduck.rewrite_hints(' -- nothing here
;;');
-- several statements: 22023 (one statement per call)
SELECT * FROM rubberduck.rewrite_hints('SELECT 1; SELECT 2');
DO $$
DECLARE q text;
BEGIN
  FOREACH q IN ARRAY ARRAY['', 'SELECT 1; SELECT 2', 'SELECT * FROM no_such_table', 'SELECT nope FROM customers'] LOOP
    BEGIN
      PERFORM rubberduck.rewrite_hints(q);
    EXCEPTION WHEN OTHERS THEN RAISE NOTICE '% -> sqlstate %', quote_literal(q), SQLSTATE;
    END;
  END LOOP;
END $$;
-- analysis errors keep their own SQLSTATE and position
SELECT * FROM rubberduck.rewrite_hints('SELECT id FROM no_such_table');
-- NULL in, nothing out (STRICT)
SELECT count(*) FROM rubberduck.rewrite_hints(NULL);

SET client_min_messages = warning;
DROP SCHEMA rw CASCADE;
