-- expect: clean
-- setup:
-- end setup
CREATE TABLE audit_log (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, actor text, at timestamptz NOT NULL DEFAULT now());
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
