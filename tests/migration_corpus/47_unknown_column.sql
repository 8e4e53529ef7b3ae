-- expect: unknown_column
-- setup:
-- CREATE TABLE settings (id bigint PRIMARY KEY, key text NOT NULL, value text);
-- INSERT INTO settings SELECT g, 'k' || g, 'v' FROM generate_series(1, 250) g;
-- ANALYZE settings;
-- end setup
SET lock_timeout = '2s';
ALTER TABLE settings DROP COLUMN no_such_column;
