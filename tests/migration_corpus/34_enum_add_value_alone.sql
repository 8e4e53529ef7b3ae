-- expect: clean
-- setup:
-- CREATE TYPE mood AS ENUM ('happy', 'sad');
-- end setup
ALTER TYPE mood ADD VALUE 'meh';
