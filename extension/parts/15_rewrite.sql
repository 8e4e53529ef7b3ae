-- rubberduck_agents: rewrite hints for a query text (query_optimizer agent, issue #3).

-- No SET search_path here, on purpose: the statement is analysed with the CALLER's search_path, so that its
-- table names resolve as they would when the caller runs it. The function is not SECURITY DEFINER, reads only
-- the catalogs the caller's own parse analysis reads, and never plans or executes the statement.
CREATE FUNCTION rubberduck.rewrite_hints(query text)
RETURNS TABLE (rule text, message text, suggested_sql text)
AS 'MODULE_PATHNAME', 'rubberduck_rewrite_hints'
LANGUAGE C STRICT STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION rubberduck.rewrite_hints(text) IS
    'Rewrite hints (rule, message, suggested SQL) for one SQL statement, from its parse tree; the statement is not executed.';
GRANT EXECUTE ON FUNCTION rubberduck.rewrite_hints(text) TO PUBLIC;
