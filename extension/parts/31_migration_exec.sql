-- ---- Migration execution (issue #5): the ledger, migrate(), rollback_migration() ----------------------------
-- Guarded execution of schema migrations: analysis first (analyze_migration), danger refused unless allowed,
-- lock_timeout with retries, integrity checks before commit, an audited post-migration latency watch with
-- automatic rollback by the migration agent.

-- The ledger: one row per migration version.
CREATE TABLE rubberduck.migrations (
    version         text PRIMARY KEY CHECK (version <> '' AND length(version) <= 63),
    checksum        text NOT NULL,                      -- sha256 of up_sql, lowercase hex
    up_sql          text NOT NULL,
    down_sql        text,
    analysis        jsonb NOT NULL DEFAULT '[]',        -- rows of analyze_migration(up_sql) at apply time
    predicted_ms    double precision,                   -- sum over statements of the analysis' est_duration_ms
    actual_ms       double precision,                   -- time the statements ran (last, successful attempt)
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'running', 'applied', 'failed', 'rolled_back')),
    requested       text NOT NULL DEFAULT 'up' CHECK (requested IN ('up', 'down')),  -- what a pending row awaits
    queued_at       timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz,
    applied_by      text NOT NULL DEFAULT current_user,
    error           text,
    options         jsonb NOT NULL DEFAULT '{}',
    progress        jsonb NOT NULL DEFAULT '{}',        -- attempts, statements done, segments
    watch           jsonb NOT NULL DEFAULT '{}',        -- post-migration latency watch: state, baseline, verdict
    rolled_back_at  timestamptz,
    rollback_reason text,
    executor_pid    integer                             -- the executor worker running a queued migration
);
CREATE INDEX ON rubberduck.migrations (status, queued_at);
SELECT pg_catalog.pg_extension_config_dump('rubberduck.migrations', '');
COMMENT ON TABLE rubberduck.migrations IS
    'Migration ledger: every version applied, queued, failed or rolled back by rubberduck.migrate().';

-- Validates migrate()'s options and fills defaults from the directives. Unknown keys and wrong types are errors.
CREATE FUNCTION rubberduck._migration_options(options jsonb,
    OUT async boolean, OUT lock_timeout_ms integer, OUT lock_retries integer, OUT watch_ms integer,
    OUT max_regression double precision, OUT allow text[], OUT expect_row_changes text[],
    OUT expect_any_row_changes boolean, OUT allow_not_valid boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    o jsonb := coalesce(options, '{}');
    k text;
    known constant text[] := ARRAY['async', 'lock_timeout', 'lock_retries', 'watch', 'max_regression', 'allow',
                                   'expect_row_changes', 'allow_not_valid'];
    v jsonb;
BEGIN
    IF jsonb_typeof(o) <> 'object' THEN
        RAISE EXCEPTION 'migration options must be a JSON object, not %', jsonb_typeof(o)
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k IN SELECT jsonb_object_keys(o) LOOP
        IF NOT k = ANY (known) THEN
            RAISE EXCEPTION 'unknown migration option "%"', k USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Valid options: ' || array_to_string(known, ', ') || '.';
        END IF;
    END LOOP;

    async := false;
    IF o ? 'async' THEN
        IF jsonb_typeof(o->'async') <> 'boolean' THEN
            RAISE EXCEPTION 'migration option "async" must be true or false' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        async := (o->>'async')::boolean;
    END IF;

    lock_timeout_ms := rubberduck._interval_option_ms(o, 'lock_timeout',
                         coalesce(nullif(current_setting('rubberduck.migration_lock_timeout', true), ''), '5s'), 0);
    watch_ms := rubberduck._interval_option_ms(o, 'watch',
                         coalesce(nullif(current_setting('rubberduck.migration_watch_window', true), ''), '5min'), 0);

    lock_retries := coalesce(nullif(current_setting('rubberduck.migration_lock_retries', true), '')::integer, 5);
    IF o ? 'lock_retries' THEN
        IF jsonb_typeof(o->'lock_retries') <> 'number' OR (o->>'lock_retries')::numeric NOT BETWEEN 0 AND 100
           OR (o->>'lock_retries')::numeric <> trunc((o->>'lock_retries')::numeric) THEN
            RAISE EXCEPTION 'migration option "lock_retries" must be an integer between 0 and 100'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        lock_retries := (o->>'lock_retries')::integer;
    END IF;

    max_regression := coalesce(nullif(current_setting('rubberduck.migration_max_regression', true), '')::float8, 1.5);
    IF o ? 'max_regression' THEN
        IF jsonb_typeof(o->'max_regression') <> 'number' OR (o->>'max_regression')::float8 <= 1 THEN
            RAISE EXCEPTION 'migration option "max_regression" must be a number above 1 (a latency ratio)'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        max_regression := (o->>'max_regression')::float8;
    END IF;

    allow := '{}';
    IF o ? 'allow' THEN
        v := o->'allow';
        IF jsonb_typeof(v) = 'string' THEN v := jsonb_build_array(v); END IF;
        IF jsonb_typeof(v) <> 'array' OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) <> 'string') THEN
            RAISE EXCEPTION 'migration option "allow" must be an array of rule names'
                  USING ERRCODE = 'invalid_parameter_value', HINT = 'Example: {"allow": ["drop_column"]}.';
        END IF;
        allow := ARRAY(SELECT jsonb_array_elements_text(v));
    END IF;

    expect_row_changes := '{}';
    expect_any_row_changes := false;
    IF o ? 'expect_row_changes' THEN
        v := o->'expect_row_changes';
        IF jsonb_typeof(v) = 'boolean' THEN
            expect_any_row_changes := v::text::boolean;
        ELSIF jsonb_typeof(v) = 'array' AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) <> 'string') THEN
            -- normalised to regclass text so 'orders' and 'public.orders' both match
            expect_row_changes := ARRAY(SELECT coalesce(to_regclass(e)::text, e) FROM jsonb_array_elements_text(v) e);
        ELSE
            RAISE EXCEPTION 'migration option "expect_row_changes" must be true, false or an array of table names'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END IF;

    allow_not_valid := false;
    IF o ? 'allow_not_valid' THEN
        IF jsonb_typeof(o->'allow_not_valid') <> 'boolean' THEN
            RAISE EXCEPTION 'migration option "allow_not_valid" must be true or false'
                  USING ERRCODE = 'invalid_parameter_value';
        END IF;
        allow_not_valid := (o->>'allow_not_valid')::boolean;
    END IF;
END
$$;

-- An interval-valued option ('5s', '2min', a number of milliseconds, or false/0 for none) in milliseconds.
CREATE FUNCTION rubberduck._interval_option_ms(options jsonb, key text, default_value text, fallback integer)
RETURNS integer
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v jsonb := options->key;
    t text;
    ms numeric;
BEGIN
    IF v IS NULL THEN
        t := default_value;
    ELSIF jsonb_typeof(v) = 'boolean' THEN
        IF NOT v::text::boolean THEN RETURN 0; END IF;
        t := default_value;
    ELSIF jsonb_typeof(v) = 'number' THEN
        t := (v #>> '{}') || 'ms';
    ELSIF jsonb_typeof(v) = 'string' THEN
        t := v #>> '{}';
    ELSE
        RAISE EXCEPTION 'migration option "%" must be a duration such as ''5s''', key
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF t IS NULL OR t = '' THEN RETURN fallback; END IF;
    IF t ~ '^\s*[0-9.]+\s*$' THEN t := t || 'ms'; END IF;
    BEGIN
        ms := extract(epoch FROM t::interval) * 1000;
    EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow OR syntax_error THEN
        RAISE EXCEPTION 'migration option "%": invalid duration "%"', key, t
              USING ERRCODE = 'invalid_parameter_value', HINT = 'Use a duration such as ''500ms'', ''5s'' or ''2min''.';
    END;
    IF ms < 0 OR ms > 2147483647 THEN
        RAISE EXCEPTION 'migration option "%": duration "%" is out of range', key, t
              USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN round(ms)::integer;
END
$$;

-- Inserts or replaces a ledger row from its JSON form (used by migrate() and by the executor worker, which
-- records a failed synchronous migration in its own transaction so the row survives the caller's ERROR).
CREATE FUNCTION rubberduck._migration_record(r jsonb)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    INSERT INTO rubberduck.migrations AS m
    SELECT (jsonb_populate_record(NULL::rubberduck.migrations,
                                  jsonb_build_object('queued_at', now(), 'applied_by', current_user) || r)).*
    ON CONFLICT (version) DO UPDATE
       SET checksum = EXCLUDED.checksum, up_sql = EXCLUDED.up_sql, down_sql = EXCLUDED.down_sql,
           analysis = EXCLUDED.analysis, predicted_ms = EXCLUDED.predicted_ms, actual_ms = EXCLUDED.actual_ms,
           status = EXCLUDED.status, requested = EXCLUDED.requested, queued_at = EXCLUDED.queued_at,
           started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at, applied_by = EXCLUDED.applied_by,
           error = EXCLUDED.error, options = EXCLUDED.options, progress = EXCLUDED.progress,
           watch = EXCLUDED.watch, rolled_back_at = EXCLUDED.rolled_back_at,
           rollback_reason = EXCLUDED.rollback_reason, executor_pid = EXCLUDED.executor_pid
$$;

-- migrate(): no SET search_path on purpose: the migration's statements run with the caller's search_path (the
-- function pins pg_catalog, pg_temp itself for its own queries).
CREATE FUNCTION rubberduck.migrate(version text, up_sql text, down_sql text DEFAULT NULL,
                                   options jsonb DEFAULT '{}')
RETURNS rubberduck.migrations
AS 'MODULE_PATHNAME', 'rubberduck_migrate'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION rubberduck.migrate(text, text, text, jsonb) IS
    'Analyses, then applies a migration under lock_timeout with retries and integrity checks; returns its ledger row.';

CREATE FUNCTION rubberduck.rollback_migration(version text)
RETURNS rubberduck.migrations
AS 'MODULE_PATHNAME', 'rubberduck_rollback_migration'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION rubberduck.rollback_migration(text) IS
    'Runs the down_sql of an applied migration and marks it rolled_back.';

REVOKE ALL ON FUNCTION rubberduck.migrate(text, text, text, jsonb), rubberduck.rollback_migration(text),
    rubberduck._migration_record(jsonb), rubberduck._migration_options(jsonb),
    rubberduck._interval_option_ms(jsonb, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rubberduck.migrate(text, text, text, jsonb), rubberduck.rollback_migration(text),
    rubberduck._migration_record(jsonb), rubberduck._migration_options(jsonb),
    rubberduck._interval_option_ms(jsonb, text, text, integer) TO rubberduck_admin;
GRANT SELECT ON rubberduck.migrations TO PUBLIC;
GRANT INSERT, UPDATE ON rubberduck.migrations TO rubberduck_admin;
