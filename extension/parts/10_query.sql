-- rubberduck_agents: query_optimizer agent (issue #3): per-statement statistics, predicates, exemplars.

CREATE FUNCTION rubberduck._query_insights(
    OUT queryid bigint, OUT userid oid, OUT dbid oid, OUT query text, OUT calls bigint,
    OUT total_ms double precision, OUT mean_ms double precision, OUT stddev_ms double precision,
    OUT p50_ms double precision, OUT p95_ms double precision, OUT p99_ms double precision,
    OUT rows_per_call double precision, OUT shared_hit_ratio double precision, OUT plans bigint,
    OUT plan_changes bigint, OUT first_seen timestamptz, OUT last_seen timestamptz, OUT flags text[],
    OUT suggestions text[], OUT min_ms double precision, OUT max_ms double precision, OUT rows bigint,
    OUT shared_blks_hit bigint, OUT shared_blks_read bigint, OUT temp_blks_read bigint,
    OUT temp_blks_written bigint, OUT planning_calls bigint, OUT mean_plan_ms double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_query_insights'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.query_insights AS SELECT * FROM rubberduck._query_insights();
COMMENT ON VIEW rubberduck.query_insights IS
    'Per-statement statistics (queryid, user, database) collected by the hooks, with the query_optimizer agent''s flags and suggestions.';

CREATE FUNCTION rubberduck._predicates(
    OUT relation regclass, OUT columns text[], OUT operator text, OUT queryid bigint, OUT executions bigint,
    OUT avg_selectivity double precision, OUT used_index boolean, OUT clause text, OUT expression text,
    OUT rows_examined double precision, OUT rows_returned double precision, OUT index_executions bigint,
    OUT has_limit boolean, OUT last_seen timestamptz)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_predicates'
LANGUAGE C STRICT VOLATILE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.predicates AS SELECT * FROM rubberduck._predicates();
COMMENT ON VIEW rubberduck.predicates IS
    'Predicates, join clauses and ORDER BY/GROUP BY columns seen in sampled executions (current database): the index advisor''s raw material.';

-- Executable exemplars of the most expensive statements: real constants, so superuser only.
CREATE FUNCTION rubberduck._exemplars(
    OUT queryid bigint, OUT dbid oid, OUT userid oid, OUT exec_ms double precision, OUT captured_at timestamptz,
    OUT query text, OUT param_types regtype[], OUT param_values text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_exemplars'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;
REVOKE ALL ON FUNCTION rubberduck._exemplars() FROM PUBLIC;

GRANT SELECT ON rubberduck.query_insights, rubberduck.predicates TO PUBLIC;
