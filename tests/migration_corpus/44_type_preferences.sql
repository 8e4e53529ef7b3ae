-- expect: prefer_text, prefer_timestamptz, char_n
-- setup:
-- end setup
CREATE TABLE people (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name varchar(100), born timestamp, country char(2));
