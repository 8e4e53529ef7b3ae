-- expect: create_index_not_concurrently, missing_lock_timeout
-- setup:
-- CREATE TABLE events (id bigint PRIMARY KEY, user_id integer NOT NULL, kind text);
-- INSERT INTO events SELECT g, g % 5000, 'k' || (g % 7) FROM generate_series(1, 1200000) g;
-- ANALYZE events;
-- end setup
-- SHARE on a table over the large-table threshold also needs a lock_timeout
CREATE INDEX events_user_idx ON events (user_id);
