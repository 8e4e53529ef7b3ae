-- rubberduck_agents: migration safety analysis (analyze_migration), throughput calibration, DDL guard log.

-- Static analysis of a migration with PostgreSQL's own parser and the live catalog. Never executes the input.
-- No SET search_path: the migration's unqualified names must resolve exactly as they would when it runs (the
-- function is SECURITY INVOKER and every query it issues itself is schema-qualified).
CREATE FUNCTION rubberduck.analyze_migration(sql text)
RETURNS TABLE(statement_no integer, statement text, relation text, rule text, severity text, lock_mode text,
              rewrites_table boolean, scans_table boolean, est_duration_ms double precision, message text,
              safer_alternative text)
AS 'MODULE_PATHNAME', 'rubberduck_analyze_migration'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION rubberduck.analyze_migration(text) IS
    'Findings for each statement of a migration: rule, severity, lock taken, rewrite/scan, estimated lock time, safer alternative.';

-- Throughput measured on this server (rows/s, bytes/s) for each kind of work the analysis estimates.
CREATE TABLE rubberduck.migration_throughput (
    kind          text PRIMARY KEY CHECK (kind IN ('rewrite', 'scan', 'index_build', 'fk_validate', 'dml')),
    rows_per_sec  double precision NOT NULL CHECK (rows_per_sec > 0),
    bytes_per_sec double precision CHECK (bytes_per_sec > 0),
    sample_rows   bigint NOT NULL,
    measured_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rubberduck.migration_throughput IS
    'Figures from rubberduck.calibrate_migration_throughput(); the rubberduck.migration_*_per_sec directives override them.';

-- Times a rewrite, a scan, a b-tree build, a foreign-key validation and an UPDATE on a temporary table of
-- `sample_rows` rows shaped like a typical OLTP table (bigint key, a few numbers, a short text), and stores
-- the rates. Temporary tables use local buffers and skip WAL, so the figures are an upper bound of what a
-- logged table achieves; the analysis applies them as measured (see docs/performance.md for the comparison).
CREATE FUNCTION rubberduck.calibrate_migration_throughput(sample_rows integer DEFAULT 200000)
RETURNS TABLE(kind text, rows_per_sec double precision, bytes_per_sec double precision)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t0 timestamptz;
    secs double precision;
    nbytes double precision;
    r record;
BEGIN
    IF sample_rows IS NULL OR sample_rows < 1000 OR sample_rows > 50000000 THEN
        RAISE EXCEPTION 'sample_rows must be between 1000 and 50000000, got %', sample_rows
            USING ERRCODE = '22023';
    END IF;
    DROP TABLE IF EXISTS pg_temp.rd_calib_child, pg_temp.rd_calib_parent;
    CREATE TEMP TABLE rd_calib_parent (id bigint PRIMARY KEY);
    INSERT INTO rd_calib_parent SELECT g FROM generate_series(1, 1000) g;
    CREATE TEMP TABLE rd_calib_child (id bigint NOT NULL, parent_id bigint NOT NULL, amount integer,
                                      price numeric(12,2), note text, created_at timestamptz);
    INSERT INTO rd_calib_child
        SELECT g, 1 + g % 1000, g % 100000, (g % 10000) / 100.0, md5(g::text), now() - g * interval '1 s'
        FROM generate_series(1, sample_rows) g;
    ANALYZE rd_calib_child;
    nbytes := pg_relation_size('pg_temp.rd_calib_child');

    t0 := clock_timestamp();
    PERFORM count(*) FROM rd_calib_child WHERE amount < 0;
    secs := greatest(extract(epoch FROM clock_timestamp() - t0), 1e-6);
    INSERT INTO rubberduck.migration_throughput VALUES ('scan', sample_rows / secs, nbytes / secs, sample_rows)
        ON CONFLICT ON CONSTRAINT migration_throughput_pkey DO UPDATE
        SET rows_per_sec = EXCLUDED.rows_per_sec, bytes_per_sec = EXCLUDED.bytes_per_sec,
            sample_rows = EXCLUDED.sample_rows, measured_at = now();

    t0 := clock_timestamp();
    CREATE INDEX rd_calib_idx ON rd_calib_child (amount);
    secs := greatest(extract(epoch FROM clock_timestamp() - t0), 1e-6);
    INSERT INTO rubberduck.migration_throughput VALUES ('index_build', sample_rows / secs, nbytes / secs, sample_rows)
        ON CONFLICT ON CONSTRAINT migration_throughput_pkey DO UPDATE
        SET rows_per_sec = EXCLUDED.rows_per_sec, bytes_per_sec = EXCLUDED.bytes_per_sec,
            sample_rows = EXCLUDED.sample_rows, measured_at = now();
    DROP INDEX rd_calib_idx;

    t0 := clock_timestamp();
    ALTER TABLE rd_calib_child ADD CONSTRAINT rd_calib_fk FOREIGN KEY (parent_id) REFERENCES rd_calib_parent (id);
    secs := greatest(extract(epoch FROM clock_timestamp() - t0), 1e-6);
    INSERT INTO rubberduck.migration_throughput VALUES ('fk_validate', sample_rows / secs, nbytes / secs, sample_rows)
        ON CONFLICT ON CONSTRAINT migration_throughput_pkey DO UPDATE
        SET rows_per_sec = EXCLUDED.rows_per_sec, bytes_per_sec = EXCLUDED.bytes_per_sec,
            sample_rows = EXCLUDED.sample_rows, measured_at = now();
    ALTER TABLE rd_calib_child DROP CONSTRAINT rd_calib_fk;

    t0 := clock_timestamp();
    ALTER TABLE rd_calib_child ALTER COLUMN amount TYPE bigint;
    secs := greatest(extract(epoch FROM clock_timestamp() - t0), 1e-6);
    INSERT INTO rubberduck.migration_throughput VALUES ('rewrite', sample_rows / secs, nbytes / secs, sample_rows)
        ON CONFLICT ON CONSTRAINT migration_throughput_pkey DO UPDATE
        SET rows_per_sec = EXCLUDED.rows_per_sec, bytes_per_sec = EXCLUDED.bytes_per_sec,
            sample_rows = EXCLUDED.sample_rows, measured_at = now();

    t0 := clock_timestamp();
    UPDATE rd_calib_child SET amount = amount + 1 WHERE id % 10 = 0;
    secs := greatest(extract(epoch FROM clock_timestamp() - t0), 1e-6);
    INSERT INTO rubberduck.migration_throughput VALUES ('dml', (sample_rows / 10) / secs, NULL, sample_rows / 10)
        ON CONFLICT ON CONSTRAINT migration_throughput_pkey DO UPDATE
        SET rows_per_sec = EXCLUDED.rows_per_sec, bytes_per_sec = EXCLUDED.bytes_per_sec,
            sample_rows = EXCLUDED.sample_rows, measured_at = now();

    DROP TABLE rd_calib_child, rd_calib_parent;
    RETURN QUERY SELECT m.kind, m.rows_per_sec, m.bytes_per_sec FROM rubberduck.migration_throughput m ORDER BY m.kind;
END
$$;
COMMENT ON FUNCTION rubberduck.calibrate_migration_throughput(integer) IS
    'Measures rewrite, scan, index build, FK validation and UPDATE throughput on a temporary table and stores it for analyze_migration.';

-- DDL statements seen by the migration guard (ProcessUtility hook), drained from shared memory by the
-- migration agent. Read by the post-migration watch.
CREATE TABLE rubberduck.ddl_log (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL,
    finished_at   timestamptz,
    database      text NOT NULL,
    username      text NOT NULL,
    pid           integer NOT NULL,
    command_tag   text NOT NULL,
    relation      text,
    statement     text NOT NULL,
    guard_mode    text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('ok', 'failed', 'blocked', 'allowed')),
    rules         text[] NOT NULL DEFAULT '{}',
    max_severity  text NOT NULL,
    lock_mode     text,
    lock_timeout_applied_ms integer,
    est_duration_ms double precision,
    duration_ms   double precision,
    in_transaction boolean NOT NULL
);
CREATE INDEX ddl_log_at_idx ON rubberduck.ddl_log (at);
COMMENT ON TABLE rubberduck.ddl_log IS
    'Every DDL statement the migration guard analysed (any client, any tool): who, what, findings, outcome, duration.';

-- The guard's shared-memory ring as it is now (rows not yet drained into ddl_log).
CREATE FUNCTION rubberduck._ddl_ring(
    OUT seq bigint, OUT at timestamptz, OUT finished_at timestamptz, OUT database text, OUT username text,
    OUT pid integer, OUT command_tag text, OUT relation text, OUT statement text, OUT guard_mode text,
    OUT outcome text, OUT rules text[], OUT max_severity text, OUT lock_mode text,
    OUT lock_timeout_applied_ms integer, OUT est_duration_ms double precision, OUT duration_ms double precision,
    OUT in_transaction boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_ddl_ring'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

REVOKE ALL ON FUNCTION rubberduck.calibrate_migration_throughput(integer), rubberduck._ddl_ring() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rubberduck.calibrate_migration_throughput(integer), rubberduck._ddl_ring() TO rubberduck_admin;
GRANT EXECUTE ON FUNCTION rubberduck.analyze_migration(text) TO PUBLIC;
GRANT SELECT ON rubberduck.migration_throughput TO PUBLIC;
GRANT INSERT, UPDATE, DELETE ON rubberduck.migration_throughput TO rubberduck_admin;
GRANT SELECT ON rubberduck.ddl_log TO rubberduck_admin;
SELECT pg_catalog.pg_extension_config_dump('rubberduck.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('rubberduck.ddl_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('rubberduck.migration_throughput', '');
