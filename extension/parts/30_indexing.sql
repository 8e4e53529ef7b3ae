-- rubberduck_agents: indexing (hypothetical indexes, index health, index advice).

-- The plan the planner would choose if these indexes existed. Nothing is created or executed.
-- Deliberately without SET search_path: the query and the CREATE INDEX texts are the caller's and must
-- resolve names with the caller's search_path, as EXPLAIN would. It is not SECURITY DEFINER: planning runs
-- with the caller's rights.
CREATE FUNCTION rubberduck.hypothetical_explain(query text, index_ddl text[] DEFAULT '{}')
RETURNS SETOF text
AS 'MODULE_PATHNAME', 'rubberduck_hypothetical_explain'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
COMMENT ON FUNCTION rubberduck.hypothetical_explain(text, text[]) IS
    'EXPLAIN of a query planned as if the given CREATE INDEX statements had been run (never executed).';

-- Estimated size of an index that does not exist (the size the planner assumes in hypothetical_explain).
CREATE FUNCTION rubberduck.hypothetical_index_size(index_ddl text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'rubberduck_hypothetical_index_size'
LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION rubberduck.hypothetical_index_size(text) IS
    'Estimated size in bytes of the index a CREATE INDEX statement would build (nothing is built).';

CREATE FUNCTION rubberduck._index_health(
    OUT relation text, OUT index text, OUT issue text, OUT size_bytes bigint, OUT scans bigint, OUT fix_sql text,
    OUT related_index text, OUT detail text, OUT stats_window_seconds double precision)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'rubberduck_index_health'
LANGUAGE C STRICT VOLATILE
SET search_path = pg_catalog, pg_temp;

CREATE VIEW rubberduck.index_health AS
SELECT relation, index, issue, size_bytes, scans, fix_sql, related_index, detail, stats_window_seconds
FROM rubberduck._index_health();
COMMENT ON VIEW rubberduck.index_health IS
    'Unused, duplicate, redundant, invalid and bloated indexes, each with the SQL that fixes it.';

-- Index advice, refreshed by the data_persistence agent's indexing skill. An advice row keeps its id while
-- the same index (advice_key: the definition's canonical form) stays advised.
CREATE TABLE rubberduck.index_advice (
    id                  bigserial PRIMARY KEY,
    advice_key          text NOT NULL UNIQUE,
    relation            text NOT NULL,
    relation_oid        oid,
    columns             text[] NOT NULL,
    include             text[] NOT NULL DEFAULT '{}',
    method              text NOT NULL DEFAULT 'btree',
    predicate           text,
    ddl                 text NOT NULL,
    est_size_bytes      bigint,
    est_improvement_pct double precision,
    queries_improved    integer NOT NULL DEFAULT 0,
    status              text NOT NULL DEFAULT 'advised'
                        CHECK (status IN ('advised', 'applied', 'verified', 'reverted', 'failed', 'stale')),
    reason              text,
    action_id           bigint,  -- rubberduck.actions.id of the build, when applied (no FK: reset(actions) truncates)
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE rubberduck.index_advice IS
    'What to index, why, and what it buys (est_improvement_pct of the observed workload''s cost).';

CREATE TABLE rubberduck.index_advice_queries (
    advice_id   bigint NOT NULL REFERENCES rubberduck.index_advice (id) ON DELETE CASCADE,
    queryid     bigint NOT NULL,
    cost_before double precision,
    cost_after  double precision,
    PRIMARY KEY (advice_id, queryid)
);
COMMENT ON TABLE rubberduck.index_advice_queries IS
    'Planner cost of each affected query without and with the advised index.';

GRANT EXECUTE ON FUNCTION rubberduck.hypothetical_explain(text, text[]), rubberduck.hypothetical_index_size(text)
    TO PUBLIC;
GRANT SELECT ON rubberduck.index_health, rubberduck.index_advice TO PUBLIC;
-- Query ids tie advice to statements: visible to administrators and pg_read_all_stats, like query texts.
REVOKE ALL ON rubberduck.index_advice_queries FROM PUBLIC;
GRANT SELECT ON rubberduck.index_advice_queries TO rubberduck_admin, pg_read_all_stats;

-- The advisor's cost entry (C++ whatif_cost) for one hypothetical index, exposed for tests and for
-- administrators: total planner cost of `query` planned as `as_role` (default: the caller) with the index
-- described by relation/keys/method/include/predicate (no keys: the baseline). Never executes the query.
CREATE FUNCTION rubberduck._whatif_cost(query text, relation regclass DEFAULT NULL, keys text[] DEFAULT NULL,
                                        method text DEFAULT 'btree', include text[] DEFAULT NULL,
                                        predicate text DEFAULT NULL, params text[] DEFAULT NULL,
                                        param_types regtype[] DEFAULT NULL, as_role regrole DEFAULT NULL)
RETURNS double precision
AS 'MODULE_PATHNAME', 'rubberduck_whatif_cost'
LANGUAGE C CALLED ON NULL INPUT VOLATILE;
REVOKE ALL ON FUNCTION rubberduck._whatif_cost(text, regclass, text[], text, text[], text, text[], regtype[], regrole)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rubberduck._whatif_cost(text, regclass, text[], text, text[], text, text[], regtype[], regrole)
    TO rubberduck_admin;
