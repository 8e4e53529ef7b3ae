-- bench/index_advisor: the index set a DBA would design for workload/*.sql by reading the queries (written
-- before looking at any advisor's output). One statement per line (the bench builds them one by one).
CREATE INDEX ex_users_lower_email ON users (lower(email));
CREATE INDEX ex_users_account_status_created ON users (account_id, status, created_at);
CREATE INDEX ex_users_country_created ON users (country, created_at);
CREATE UNIQUE INDEX ex_sessions_token ON sessions (token);
CREATE INDEX ex_sessions_user_expires ON sessions (user_id, expires_at);
CREATE INDEX ex_orders_user_created ON orders (user_id, created_at);
CREATE INDEX ex_orders_account_status_created ON orders (account_id, status, created_at) INCLUDE (total);
CREATE INDEX ex_orders_pending_created ON orders (created_at) WHERE status = 'pending';
CREATE INDEX ex_orders_created_brin ON orders USING brin (created_at);
CREATE INDEX ex_order_items_order ON order_items (order_id);
CREATE INDEX ex_order_items_product ON order_items (product_id) INCLUDE (qty);
CREATE UNIQUE INDEX ex_products_sku ON products (sku);
CREATE INDEX ex_products_category_price ON products (category_id, price);
CREATE INDEX ex_products_name_trgm ON products USING gin (name gin_trgm_ops);
CREATE INDEX ex_accounts_name ON accounts (name);
CREATE INDEX ex_jobs_queued ON jobs (priority, created_at) WHERE status = 'queued';
CREATE INDEX ex_jobs_queue_status ON jobs (queue, status);
CREATE INDEX ex_events_user_created ON events (user_id, created_at);
CREATE INDEX ex_events_kind_created ON events (kind, created_at);
