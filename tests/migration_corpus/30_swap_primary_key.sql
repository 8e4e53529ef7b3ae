-- expect: change_primary_key
-- setup:
-- CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL);
-- INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 20000) g;
-- CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, amount integer, email text, note varchar(50), created_at timestamptz DEFAULT now());
-- INSERT INTO orders SELECT g, 1 + g % 20000, g % 1000, 'u' || g || '@example.com', 'n' || g, now() FROM generate_series(1, 200000) g;
-- ANALYZE customers, orders;
-- ALTER TABLE orders ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid();
-- end setup
-- the recommended swap: reported as info only
CREATE UNIQUE INDEX CONCURRENTLY orders_uid_idx ON orders (uid);
SET lock_timeout = '2s';
ALTER TABLE orders DROP CONSTRAINT orders_pkey, ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_uid_idx;
