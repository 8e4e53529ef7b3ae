-- expect: clean
-- setup:
-- end setup
CREATE TABLE invoices (id bigint PRIMARY KEY, amount bigint);
ALTER TABLE invoices ADD COLUMN due_at timestamptz;
ALTER TABLE invoices ALTER COLUMN amount SET NOT NULL;
CREATE INDEX invoices_due_idx ON invoices (due_at);
ALTER TABLE invoices ADD CONSTRAINT invoices_amount_positive CHECK (amount > 0);
