-- weight: 5  (write: place an order)
\set u random(1, @USERS@)
INSERT INTO orders (id, user_id, account_id, status, total, currency, created_at)
VALUES (nextval('orders_new_id'), :u, 1 + :u % @ACCOUNTS@, 'pending', 42.00, 'EUR', timestamptz '2025-06-01 00:00+00');
