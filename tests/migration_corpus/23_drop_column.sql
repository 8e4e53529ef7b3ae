-- expect: drop_column
-- setup:
-- CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
-- INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 20000) g;
-- CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount integer, email text, note varchar(50), created_at timestamptz DEFAULT now());
-- INSERT INTO orders SELECT g, 1 + g % 20000, g % 1000, 'u' || g || '@example.com', 'n' || g, now() FROM generate_series(1, 200000) g;
-- ANALYZE customers, orders;
-- end setup
SET lock_timeout = '2s';
ALTER TABLE orders DROP COLUMN note;
