-- expect: prefer_bigint
-- setup:
-- end setup
CREATE TABLE tickets (id serial PRIMARY KEY, title text NOT NULL);
