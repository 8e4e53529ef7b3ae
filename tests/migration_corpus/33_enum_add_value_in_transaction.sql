-- expect: alter_enum_add_value_in_transaction
-- setup:
-- CREATE TYPE mood AS ENUM ('happy', 'sad');
-- end setup
BEGIN;
ALTER TYPE mood ADD VALUE 'meh';
COMMIT;
