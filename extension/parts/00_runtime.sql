-- rubberduck_agents: runtime (agents, skills, directives, signals, actions, reset).
\echo Use "CREATE EXTENSION rubberduck_agents" to load this file. \quit

-- Changing functions are granted to rubberduck_admin (created here if absent) and superusers only.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rubberduck_admin') THEN
        CREATE ROLE rubberduck_admin NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA rubberduck TO PUBLIC;

CREATE FUNCTION rubberduck._agents(
    OUT agent text, OUT pid integer, OUT state text, OUT mode text, OUT skills text[], OUT cycles bigint,
    OUT last_cycle_at timestamptz, OUT last_cycle_ms double precision, OUT last_error text,
    OUT last_error_at timestamptz, OUT restarts integer, OUT detail text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_agents_status'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.agents AS SELECT * FROM rubberduck._agents();
COMMENT ON VIEW rubberduck.agents IS 'The four agents: state, mode, enabled skills, cycles and errors.';

CREATE FUNCTION rubberduck._skills(
    OUT skill text, OUT agent text, OUT enabled boolean, OUT mode text, OUT runs bigint,
    OUT last_run_at timestamptz, OUT last_run_ms double precision, OUT errors bigint, OUT implemented boolean,
    OUT note text, OUT last_error text, OUT description text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_skills_status'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.skills AS SELECT * FROM rubberduck._skills();
COMMENT ON VIEW rubberduck.skills IS 'Each skill: owning agent, enabled (rubberduck.skills), runs and errors.';

CREATE VIEW rubberduck.directives AS
SELECT name, setting AS value, unit, source, context, vartype, boot_val AS default_value,
       pending_restart, short_desc AS description
FROM pg_catalog.pg_settings
WHERE name LIKE 'rubberduck.%'
ORDER BY name;
COMMENT ON VIEW rubberduck.directives IS 'Every rubberduck.* directive with its value, source and description.';

CREATE FUNCTION rubberduck._signals(
    OUT seq bigint, OUT at timestamptz, OUT from_agent text, OUT to_agent text, OUT kind text, OUT payload text,
    OUT delivered_to text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_signals_list'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.signals AS
SELECT seq, at, from_agent, to_agent, kind, payload::jsonb AS payload, delivered_to
FROM rubberduck._signals();
COMMENT ON VIEW rubberduck.signals IS 'Recent messages on the agents'' signal bus (also sent as NOTIFY rubberduck).';

CREATE FUNCTION rubberduck.publish_signal(kind text, payload jsonb DEFAULT '{}', to_agent text DEFAULT NULL)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rubberduck_publish_signal'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION rubberduck.reset(what text DEFAULT 'all')
RETURNS void
AS 'MODULE_PATHNAME', 'rubberduck_reset'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE FUNCTION rubberduck.wake_agent(agent text, wait boolean DEFAULT true, timeout_ms integer DEFAULT 30000)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rubberduck_wake_agent'
LANGUAGE C CALLED ON NULL INPUT VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION rubberduck.wake_agent(text, boolean, integer) IS
    'Wakes an agent now; with wait, returns once a cycle that started after the call has finished.';

-- Every autonomous action, audited: reason, metric before and after, final status.
CREATE TABLE rubberduck.actions (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    agent         text NOT NULL,
    skill         text NOT NULL,
    action        text NOT NULL,
    target        text,
    sql           text,
    reason        text,
    status        text NOT NULL DEFAULT 'proposed'
                  CHECK (status IN ('proposed', 'applied', 'verified', 'reverted', 'failed')),
    metric_before double precision,
    metric_after  double precision,
    detail        jsonb NOT NULL DEFAULT '{}',
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ON rubberduck.actions (status, at);
SELECT pg_catalog.pg_extension_config_dump('rubberduck.actions', '');
SELECT pg_catalog.pg_extension_config_dump('rubberduck.actions_id_seq', '');
COMMENT ON TABLE rubberduck.actions IS 'Audit of every action an agent proposed or took, and how it ended.';

-- The API skills use to record actions (also callable by administrators).
CREATE FUNCTION rubberduck.record_action(agent text, skill text, action text, target text, sql text, reason text,
                                         status text DEFAULT 'proposed', metric_before double precision DEFAULT NULL,
                                         detail jsonb DEFAULT '{}')
RETURNS bigint
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO rubberduck.actions (agent, skill, action, target, sql, reason, status, metric_before, detail)
    VALUES (agent, skill, action, target, sql, reason, status, metric_before, coalesce(detail, '{}'))
    RETURNING id
$$;

CREATE FUNCTION rubberduck.update_action(id bigint, status text, metric_after double precision DEFAULT NULL,
                                         detail jsonb DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    action_id ALIAS FOR id;
    new_status ALIAS FOR status;
BEGIN
    IF new_status IS NULL OR new_status NOT IN ('proposed', 'applied', 'verified', 'reverted', 'failed') THEN
        RAISE EXCEPTION 'invalid action status "%"', new_status USING ERRCODE = 'invalid_parameter_value',
              HINT = 'Use proposed, applied, verified, reverted or failed.';
    END IF;
    UPDATE rubberduck.actions a
       SET status = new_status,
           metric_after = coalesce(update_action.metric_after, a.metric_after),
           detail = a.detail || coalesce(update_action.detail, '{}'),
           updated_at = now()
     WHERE a.id = action_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'action % does not exist', action_id USING ERRCODE = 'no_data_found',
              HINT = 'See SELECT id, action, status FROM rubberduck.actions.';
    END IF;
END
$$;

REVOKE ALL ON FUNCTION rubberduck.publish_signal(text, jsonb, text), rubberduck.reset(text),
    rubberduck.wake_agent(text, boolean, integer),
    rubberduck.record_action(text, text, text, text, text, text, text, double precision, jsonb),
    rubberduck.update_action(bigint, text, double precision, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rubberduck.publish_signal(text, jsonb, text), rubberduck.reset(text),
    rubberduck.wake_agent(text, boolean, integer),
    rubberduck.record_action(text, text, text, text, text, text, text, double precision, jsonb),
    rubberduck.update_action(bigint, text, double precision, jsonb) TO rubberduck_admin;
GRANT SELECT ON rubberduck.agents, rubberduck.skills, rubberduck.directives, rubberduck.signals TO PUBLIC;
GRANT SELECT ON rubberduck.actions TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON rubberduck.actions TO rubberduck_admin;
GRANT USAGE ON SEQUENCE rubberduck.actions_id_seq TO rubberduck_admin;
