-- expect: clean
-- setup:
-- end setup
CREATE TABLE people (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text CHECK (char_length(name) <= 100), born timestamptz, country text);
