-- bench/index_advisor: a SaaS shop's schema (accounts, users, sessions, products, orders, order_items, events, a
-- job queue). psql variable :rows = number of orders; the other tables scale with it. Primary keys only: the
-- indexes are what the configurations compare. Timestamps are relative to a fixed anchor (2025-06-01), so the
-- workload's plans do not drift with the wall clock. Deterministic (no random()): every run has the same data.
SET client_min_messages = warning;
SET synchronous_commit = off;
SET maintenance_work_mem = '256MB';
SET max_parallel_maintenance_workers = 0;

CREATE TABLE accounts (
    id          int PRIMARY KEY,
    name        text NOT NULL,
    plan        text NOT NULL,
    country     text NOT NULL,
    created_at  timestamptz NOT NULL
);
INSERT INTO accounts
SELECT g, 'Account ' || g, (ARRAY['free', 'free', 'free', 'pro', 'pro', 'enterprise'])[1 + g % 6],
       (ARRAY['DE', 'US', 'FR', 'GB', 'NL', 'SE', 'ES', 'IT', 'PL', 'JP'])[1 + (g * 7) % 10],
       timestamptz '2020-01-01 00:00+00' + (g * 997 % 1900) * interval '1 day'
FROM generate_series(1::bigint, greatest(:rows / 60, 100)) g;

CREATE TABLE users (
    id             int PRIMARY KEY,
    account_id     int NOT NULL REFERENCES accounts,
    email          text NOT NULL,
    name           text NOT NULL,
    status         text NOT NULL,
    country        text NOT NULL,
    created_at     timestamptz NOT NULL,
    last_login_at  timestamptz
);
INSERT INTO users
SELECT g, 1 + (g * 7919) % greatest(:rows / 60, 100), 'User' || g || '@Example.com', 'User number ' || g,
       CASE WHEN g % 20 = 0 THEN 'disabled' WHEN g % 50 = 1 THEN 'pending' ELSE 'active' END,
       (ARRAY['DE', 'US', 'FR', 'GB', 'NL', 'SE', 'ES', 'IT', 'PL', 'JP'])[1 + (g * 13) % 10],
       timestamptz '2021-01-01 00:00+00' + g * (interval '1500 days' / greatest(:rows / 6, 1000)),
       timestamptz '2025-05-01 00:00+00' + (g % 1000) * interval '43 minutes'
FROM generate_series(1::bigint, greatest(:rows / 6, 1000)) g;

CREATE TABLE sessions (
    id          bigint PRIMARY KEY,
    user_id     int NOT NULL,
    token       text NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL
);
INSERT INTO sessions
SELECT g, 1 + (g * 104729) % greatest(:rows / 6, 1000), md5(g::text),
       timestamptz '2025-05-01 00:00+00' + g * (interval '31 days' / greatest(:rows / 6, 1000)),
       timestamptz '2025-05-01 00:00+00' + g * (interval '31 days' / greatest(:rows / 6, 1000)) + interval '14 days',
       timestamptz '2025-05-01 00:00+00' + g * (interval '31 days' / greatest(:rows / 6, 1000)) + interval '1 hour'
FROM generate_series(1::bigint, greatest(:rows / 6, 1000)) g;

CREATE TABLE products (
    id           int PRIMARY KEY,
    sku          text NOT NULL,
    name         text NOT NULL,
    category_id  int NOT NULL,
    price        numeric(10, 2) NOT NULL,
    active       boolean NOT NULL,
    description  text NOT NULL
);
INSERT INTO products
SELECT g, 'SKU-' || lpad(g::text, 8, '0'),
       (ARRAY['Blue', 'Red', 'Green', 'Black', 'White', 'Silver', 'Golden', 'Vintage'])[1 + g % 8] || ' ' ||
       (ARRAY['Steel', 'Oak', 'Cotton', 'Glass', 'Carbon', 'Leather'])[1 + (g / 8) % 6] || ' ' ||
       (ARRAY['Widget', 'Gadget', 'Lamp', 'Chair', 'Kettle', 'Bottle', 'Desk', 'Bag', 'Clock'])[1 + (g / 48) % 9] ||
       ' ' || g,
       1 + (g * 31) % 200, (5 + (g * 37) % 995)::numeric + 0.99, g % 10 <> 0,
       repeat('Solid and reliable. ', 4)
FROM generate_series(1::bigint, greatest(:rows / 30, 1000)) g;

-- status: 70 % shipped, 20 % paid, 7 % cancelled, 3 % pending (the rare one is what a back office polls).
CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    user_id     int NOT NULL,
    account_id  int NOT NULL,
    status      text NOT NULL,
    total       numeric(12, 2) NOT NULL,
    currency    text NOT NULL,
    created_at  timestamptz NOT NULL,
    shipped_at  timestamptz,
    note        text
);
INSERT INTO orders
SELECT g, u, 1 + (u * 7919) % greatest(:rows / 60, 100),
       CASE WHEN g % 100 < 70 THEN 'shipped' WHEN g % 100 < 90 THEN 'paid' WHEN g % 100 < 97 THEN 'cancelled'
            ELSE 'pending' END,
       ((g * 7) % 50000) / 100.0 + 1, 'EUR',
       timestamptz '2023-06-01 00:00+00' + g * (interval '730 days' / :rows),
       CASE WHEN g % 100 < 70 THEN timestamptz '2023-06-03 00:00+00' + g * (interval '730 days' / :rows) END,
       CASE WHEN g % 10 = 0 THEN 'gift wrap' END
FROM (SELECT g, 1 + (g * 48271) % greatest(:rows / 6, 1000) AS u FROM generate_series(1::bigint, :rows) g) s;

CREATE TABLE order_items (
    id          bigint PRIMARY KEY,
    order_id    bigint NOT NULL,
    product_id  int NOT NULL,
    qty         int NOT NULL,
    unit_price  numeric(10, 2) NOT NULL
);
INSERT INTO order_items
SELECT g, 1 + (g - 1) / 2, 1 + (g * 2654435761) % greatest(:rows / 30, 1000), 1 + g % 4, 5 + g % 95
FROM generate_series(1::bigint, 2 * :rows) g;

CREATE TABLE events (
    id          bigint PRIMARY KEY,
    user_id     int NOT NULL,
    kind        text NOT NULL,
    created_at  timestamptz NOT NULL,
    payload     text
);
INSERT INTO events
SELECT g, 1 + (g * 69621) % greatest(:rows / 6, 1000),
       (ARRAY['login', 'logout', 'view', 'view', 'view', 'view', 'click', 'click', 'search', 'cart_add',
              'checkout', 'password_reset', 'export', 'invite', 'api_call', 'api_call'])[1 + g % 16],
       timestamptz '2025-01-01 00:00+00' + g * (interval '150 days' / :rows), '{"v": ' || g % 100 || '}'
FROM generate_series(1::bigint, :rows) g;

-- A job queue: 1 % queued, 0.2 % running, the rest done; five queues; priority 0 (urgent) .. 9.
CREATE TABLE jobs (
    id          bigserial PRIMARY KEY,
    queue       text NOT NULL,
    status      text NOT NULL,
    priority    int NOT NULL,
    attempts    int NOT NULL,
    created_at  timestamptz NOT NULL,
    run_at      timestamptz NOT NULL,
    payload     text NOT NULL
);
INSERT INTO jobs (id, queue, status, priority, attempts, created_at, run_at, payload)
SELECT g, (ARRAY['mail', 'billing', 'export', 'webhook', 'search'])[1 + g % 5],
       CASE WHEN g % 100 = 7 THEN 'queued' WHEN g % 500 = 3 THEN 'running' ELSE 'done' END,
       (g * 7) % 10, 1, timestamptz '2025-05-01 00:00+00' + g * (interval '31 days' / greatest(:rows / 6, 1000)),
       timestamptz '2025-05-01 00:00+00' + g * (interval '31 days' / greatest(:rows / 6, 1000)),
       '{"job": ' || g || '}'
FROM generate_series(1::bigint, greatest(:rows / 6, 1000)) g;
SELECT setval('jobs_id_seq', (SELECT max(id) FROM jobs));

CREATE SEQUENCE orders_new_id START 100000000;
CREATE SEQUENCE events_new_id START 100000000;
VACUUM ANALYZE;
