-- expect: missing_lock_timeout
-- setup:
-- CREATE TABLE settings (id bigint PRIMARY KEY, key text NOT NULL, value text);
-- INSERT INTO settings SELECT g, 'k' || g, 'v' FROM generate_series(1, 250) g;
-- ANALYZE settings;
-- end setup
ALTER TABLE settings ADD COLUMN description text;
