-- rubberduck_agents: autonomous indexing (create -> verify -> keep or revert), apply_index_advice, revert_action.
--
-- The state of every build lives in rubberduck.actions (action 'create_index', skill 'indexing'): status
-- proposed -> applied -> verified | reverted, or failed; detail->>'phase' says where a build is:
--   measuring       (autonomous only) the affected statements' latency is measured over a pre-window
--   queued          a builder worker is (being) started; it waits until the row is committed
--   building        the builder runs CREATE INDEX CONCURRENTLY (detail->>'pid')
--   verifying       built; after rubberduck.indexing_verify_window the agent keeps or reverts it
--   drop_queued / dropping   a builder runs DROP INDEX CONCURRENTLY (autonomous revert)
--   verified | reverted | failed | revert_advised
-- Indexes the agent builds are named rd_<table>_<8 hex of the advice key> and recorded in detail->>'index':
-- an index is "ours" only when an action row names it.
-- With rubberduck.indexing_act_on_health = on (autonomous mode) the agent also drops invalid/duplicate indexes
-- index_health reports: action 'drop_index', proposed (drop_queued -> dropping) -> applied (dropped) | failed.
-- Without the library preloaded apply_index_advice still builds, but no agent verifies the index.

-- Cumulative calls and time of the statements that matter for an index on `relation_oid`: the affected
-- ones, every statement with a predicate on the relation, and writes into it. {queryid: {calls, total_ms,
-- affected, write}}.
CREATE FUNCTION rubberduck._index_latency_snapshot(relation_oid oid, affected bigint[])
RETURNS jsonb
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
WITH rel AS (
    SELECT regexp_replace(c.relname, '(\W)', '\\\1', 'g') AS pattern FROM pg_class c WHERE c.oid = relation_oid
), on_rel AS (
    SELECT DISTINCT p.queryid FROM rubberduck.predicates p WHERE p.relation::oid = relation_oid
), q AS (
    SELECT qi.queryid, sum(qi.calls)::float8 AS calls, sum(qi.total_ms)::float8 AS total_ms,
           coalesce(bool_or(qi.query ~* ('^\s*(insert\s+into|update|delete\s+from|merge\s+into)\s+(only\s+)?'
                                         || '([a-z_0-9"]+\.)?"?' || (SELECT pattern FROM rel) || '"?(\s|\(|$)')),
                    false) AS write
      FROM rubberduck.query_insights qi
     WHERE qi.dbid = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
     GROUP BY qi.queryid
)
SELECT coalesce(jsonb_object_agg(q.queryid::text,
                                 jsonb_build_object('calls', q.calls, 'total_ms', q.total_ms,
                                                    'affected', q.queryid = ANY (affected), 'write', q.write)),
                '{}')
  FROM q
 WHERE q.queryid = ANY (affected) OR q.queryid IN (SELECT queryid FROM on_rel) OR q.write
$$;

-- What happened between two snapshots (a statement whose counters went down was reset: its new values count).
CREATE FUNCTION rubberduck._index_latency_delta(start jsonb, stop jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT coalesce(jsonb_object_agg(e.key,
           CASE WHEN s.value IS NOT NULL AND (e.value->>'calls')::float8 >= (s.value->>'calls')::float8
                THEN e.value || jsonb_build_object(
                         'calls', (e.value->>'calls')::float8 - (s.value->>'calls')::float8,
                         'total_ms', greatest((e.value->>'total_ms')::float8 - (s.value->>'total_ms')::float8, 0))
                ELSE e.value END), '{}')
  FROM jsonb_each(coalesce(stop, '{}')) e
  LEFT JOIN jsonb_each(coalesce(start, '{}')) s ON s.key = e.key
$$;

-- Call-weighted mean latency (ms) of the affected statements of a snapshot or delta.
CREATE FUNCTION rubberduck._index_affected_mean(snap jsonb)
RETURNS double precision
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT CASE WHEN sum((value->>'calls')::float8) > 0
            THEN sum((value->>'total_ms')::float8) / sum((value->>'calls')::float8) END
  FROM jsonb_each(coalesce(snap, '{}'))
 WHERE (value->>'affected')::boolean AND (value->>'calls')::float8 > 0
$$;

CREATE FUNCTION rubberduck._index_worker_alive(pid integer)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT pid IS NOT NULL AND EXISTS (SELECT 1 FROM pg_stat_activity a
                                    WHERE a.pid = _index_worker_alive.pid
                                      AND a.backend_type = 'rubberduck index builder')
$$;

-- Starts a build of advice `advice_id`: records the create_index action (status proposed) and links the
-- advice to it. phase 'queued' (apply_index_advice): the "before" latency is the cumulative mean so far;
-- phase 'measuring' (the agent): a pre-window of measure_s seconds is measured first.
CREATE FUNCTION rubberduck._index_begin(advice_id bigint, origin text, phase text, measure_s double precision DEFAULT 0)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    adv rubberduck.index_advice;
    rel_schema text;
    rel_name text;
    idx_name text;
    stmt text;
    affected bigint[];
    snap jsonb;
    predicted jsonb;
    aid bigint;
BEGIN
    SELECT * INTO adv FROM rubberduck.index_advice ia WHERE ia.id = advice_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'index advice % does not exist', advice_id USING ERRCODE = 'no_data_found',
              HINT = 'See SELECT id, relation, ddl, status FROM rubberduck.index_advice.';
    END IF;
    IF adv.action_id IS NOT NULL
       AND EXISTS (SELECT 1 FROM rubberduck.actions a WHERE a.id = adv.action_id AND a.status = 'proposed') THEN
        RAISE EXCEPTION 'index advice % is already being built (action %)', advice_id, adv.action_id
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'Wait for it: CALL rubberduck.wait_action(action_id), or poll rubberduck.actions.';
    END IF;
    IF adv.status IN ('applied', 'verified') THEN
        RAISE EXCEPTION 'index advice % is already % (action %)', advice_id, adv.status, adv.action_id
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = format('rubberduck.revert_action(%s) takes the index back.', adv.action_id);
    END IF;
    SELECT n.nspname, c.relname INTO rel_schema, rel_name
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = adv.relation_oid AND c.relkind IN ('r', 'm', 'p');
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the table of index advice % (%) no longer exists', advice_id, adv.relation
              USING ERRCODE = 'undefined_table', HINT = 'The advice is refreshed at the agent''s next cycle.';
    END IF;
    IF adv.ddl !~ '^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(IF NOT EXISTS )?(("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*) )?ON ' THEN
        RAISE EXCEPTION 'index advice % has an unexpected DDL: %', advice_id, adv.ddl
              USING ERRCODE = 'invalid_parameter_value', HINT = 'Expected CREATE [UNIQUE] INDEX [CONCURRENTLY] [name] ON ...';
    END IF;
    idx_name := 'rd_' || coalesce(nullif(left(regexp_replace(lower(rel_name), '[^a-z0-9_]', '', 'g'), 40), ''), 'idx')
                || '_' || left(md5(adv.advice_key), 8);
    -- Our own name (the advisor's may already exist, e.g. built by hand from its ddl).
    stmt := regexp_replace(adv.ddl, '^CREATE (UNIQUE )?INDEX (CONCURRENTLY )?(IF NOT EXISTS )?(("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*) )?ON ',
                           'CREATE \1INDEX CONCURRENTLY ' || quote_ident(idx_name) || ' ON ');
    IF to_regclass(format('%I.%I', rel_schema, idx_name)) IS NOT NULL THEN
        RAISE EXCEPTION 'index %.% already exists', quote_ident(rel_schema), quote_ident(idx_name)
              USING ERRCODE = 'duplicate_table',
                    HINT = 'An INVALID leftover of a failed build is dropped by the data_persistence agent.';
    END IF;
    affected := ARRAY(SELECT q.queryid FROM rubberduck.index_advice_queries q WHERE q.advice_id = adv.id ORDER BY 1);
    predicted := (SELECT jsonb_object_agg(q.queryid::text, jsonb_build_object('cost_before', q.cost_before,
                                                                             'cost_after', q.cost_after))
                    FROM rubberduck.index_advice_queries q WHERE q.advice_id = adv.id);
    snap := rubberduck._index_latency_snapshot(adv.relation_oid, affected);
    aid := rubberduck.record_action(
        'data_persistence', 'indexing', 'create_index', format('%I.%I', rel_schema, rel_name), stmt,
        CASE WHEN origin = 'manual'
             THEN format('rubberduck.apply_index_advice(%s) by %s', adv.id, session_user)
             ELSE format('advice %s: %s (est. %s%% of the workload''s cost)', adv.id, coalesce(adv.reason, 'advised'),
                         round(adv.est_improvement_pct::numeric, 1)) END,
        'proposed',
        CASE WHEN phase = 'queued' THEN rubberduck._index_affected_mean(snap) END,
        jsonb_build_object('advice_id', adv.id, 'advice_key', adv.advice_key, 'schema', rel_schema,
                           'index_name', idx_name, 'index', format('%I.%I', rel_schema, idx_name),
                           'relation_oid', adv.relation_oid, 'affected', to_jsonb(affected),
                           'predicted', coalesce(predicted, '{}'), 'est_size_bytes', adv.est_size_bytes,
                           'est_improvement_pct', adv.est_improvement_pct, 'origin', origin, 'phase', phase)
        || CASE WHEN phase = 'queued'
                THEN jsonb_build_object('before', snap, 'before_source', 'cumulative', 'queued_at', now())
                ELSE jsonb_build_object('start_snapshot', snap, 'measure_started_at', now(),
                                        'measure_until', now() + make_interval(secs => measure_s)) END);
    UPDATE rubberduck.index_advice ia
       SET action_id = aid, status = CASE WHEN phase = 'queued' THEN 'applied' ELSE ia.status END,
           updated_at = now()
     WHERE ia.id = adv.id;
    RETURN aid;
END
$$;

-- End of the pre-window: "before" = what the affected statements did during it; the build is queued.
CREATE FUNCTION rubberduck._index_queue(action_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
    delta jsonb;
BEGIN
    SELECT a.detail INTO d FROM rubberduck.actions a WHERE a.id = action_id FOR UPDATE;
    delta := rubberduck._index_latency_delta(d->'start_snapshot',
        rubberduck._index_latency_snapshot((d->>'relation_oid')::oid,
                                           ARRAY(SELECT jsonb_array_elements_text(d->'affected')::bigint)));
    UPDATE rubberduck.actions a
       SET metric_before = rubberduck._index_affected_mean(delta),
           detail = a.detail - 'start_snapshot' || jsonb_build_object(
               'before', delta, 'before_source', 'pre-window', 'before_seconds',
               extract(epoch FROM now() - (d->>'measure_started_at')::timestamptz), 'phase', 'queued',
               'queued_at', now()),
           updated_at = now()
     WHERE a.id = action_id;
    UPDATE rubberduck.index_advice ia SET status = 'applied', updated_at = now()
     WHERE ia.id = (d->>'advice_id')::bigint;
END
$$;

CREATE FUNCTION rubberduck._index_launched(action_id bigint, pid integer)
RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
UPDATE rubberduck.actions a
   SET detail = a.detail || jsonb_build_object('launch_pid', pid, 'launched_at', now(),
                                               'launches', coalesce((a.detail->>'launches')::int, 0) + 1),
       updated_at = now()
 WHERE a.id = action_id
$$;

-- Builder worker steps (called by the worker, one short transaction each).
CREATE FUNCTION rubberduck._index_build_claim(action_id bigint, OUT sql text, OUT index text, OUT state text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a rubberduck.actions;
BEGIN
    SELECT * INTO a FROM rubberduck.actions x WHERE x.id = action_id FOR UPDATE;
    IF NOT FOUND THEN
        state := 'absent';  -- not committed yet (or never will be)
        RETURN;
    END IF;
    IF a.status <> 'proposed' OR a.detail->>'phase' IS DISTINCT FROM 'queued' THEN
        state := 'done';
        RETURN;
    END IF;
    UPDATE rubberduck.actions x
       SET detail = x.detail || jsonb_build_object('phase', 'building', 'pid', pg_backend_pid(),
                                                   'build_started_at', clock_timestamp()),
           updated_at = now()
     WHERE x.id = action_id;
    sql := a.sql;
    index := a.detail->>'index';
    state := 'claimed';
END
$$;

-- The builder's lock probe, run with rubberduck.indexing_lock_timeout right before the build: the table lock a
-- CREATE INDEX CONCURRENTLY needs (SHARE UPDATE EXCLUSIVE) is available. The build's later waits for older
-- transactions block no one and are bounded by rubberduck.indexing_statement_timeout instead.
CREATE FUNCTION rubberduck._index_lock_probe(action_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t text;
BEGIN
    SELECT a.target INTO t FROM rubberduck.actions a WHERE a.id = action_id AND a.action = 'create_index';
    IF t IS NOT NULL AND to_regclass(t) IS NOT NULL THEN
        EXECUTE format('LOCK TABLE %s IN SHARE UPDATE EXCLUSIVE MODE', to_regclass(t));
    END IF;
END
$$;

CREATE FUNCTION rubberduck._index_build_done(action_id bigint, build_ms double precision)
RETURNS jsonb
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
    size bigint;
BEGIN
    SELECT a.detail INTO d FROM rubberduck.actions a WHERE a.id = action_id FOR UPDATE;
    size := pg_relation_size(to_regclass(d->>'index'));
    UPDATE rubberduck.actions a
       SET status = 'applied',
           detail = a.detail || jsonb_build_object(
               'phase', 'verifying', 'built_at', now(), 'build_ms', round(build_ms::numeric, 1),
               'index_bytes', size, 'extensions', 0,
               'after_start', rubberduck._index_latency_snapshot(
                   (d->>'relation_oid')::oid, ARRAY(SELECT jsonb_array_elements_text(d->'affected')::bigint))),
           updated_at = now()
     WHERE a.id = action_id;
    UPDATE rubberduck.index_advice ia SET status = 'applied', action_id = _index_build_done.action_id,
           updated_at = now()
     WHERE ia.id = (d->>'advice_id')::bigint;
    RETURN jsonb_build_object('action_id', action_id, 'index', d->>'index', 'advice_id', (d->>'advice_id')::bigint,
                              'build_ms', round(build_ms::numeric, 1), 'index_bytes', size);
END
$$;

CREATE FUNCTION rubberduck._index_build_failed(action_id bigint, error text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
BEGIN
    SELECT a.detail INTO d FROM rubberduck.actions a WHERE a.id = action_id FOR UPDATE;
    UPDATE rubberduck.actions a
       SET status = 'failed', detail = a.detail || jsonb_build_object('phase', 'failed', 'error', error,
                                                                      'failed_at', now()),
           updated_at = now()
     WHERE a.id = action_id;
    UPDATE rubberduck.index_advice ia SET status = 'failed', reason = left('build failed: ' || error, 500),
           updated_at = now()
     WHERE ia.id = (d->>'advice_id')::bigint AND ia.action_id = _index_build_failed.action_id;
END
$$;

CREATE FUNCTION rubberduck._index_drop_claim(action_id bigint, OUT index text, OUT state text)
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a rubberduck.actions;
BEGIN
    SELECT * INTO a FROM rubberduck.actions x WHERE x.id = action_id FOR UPDATE;
    IF NOT FOUND THEN
        state := 'absent';
        RETURN;
    END IF;
    IF a.detail->>'phase' IS DISTINCT FROM 'drop_queued'
       OR NOT ((a.action = 'create_index' AND a.status = 'applied') OR (a.action = 'drop_index' AND a.status = 'proposed')) THEN
        state := 'done';
        RETURN;
    END IF;
    UPDATE rubberduck.actions x
       SET detail = x.detail || jsonb_build_object('phase', 'dropping', 'pid', pg_backend_pid()), updated_at = now()
     WHERE x.id = action_id;
    index := a.detail->>'index';
    state := 'claimed';
END
$$;

CREATE FUNCTION rubberduck._index_drop_done(action_id bigint, error text)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
BEGIN
    SELECT a.detail INTO d FROM rubberduck.actions a WHERE a.id = action_id FOR UPDATE;
    IF (SELECT a.action FROM rubberduck.actions a WHERE a.id = action_id) = 'drop_index' THEN  -- act_on_health
        UPDATE rubberduck.actions a
           SET status = CASE WHEN error IS NULL THEN 'applied' ELSE 'failed' END,
               detail = a.detail || jsonb_build_object('phase', CASE WHEN error IS NULL THEN 'dropped' ELSE 'failed' END,
                                                       'error', error, 'dropped_at', CASE WHEN error IS NULL THEN now() END),
               updated_at = now()
         WHERE a.id = action_id;
    ELSIF error IS NULL THEN
        UPDATE rubberduck.actions a
           SET status = 'reverted', detail = a.detail || jsonb_build_object('phase', 'reverted', 'reverted_at', now(),
                                                                            'reverted_by', 'data_persistence'),
               updated_at = now()
         WHERE a.id = action_id;
        UPDATE rubberduck.index_advice ia SET status = 'reverted', updated_at = now()
         WHERE ia.id = (d->>'advice_id')::bigint;
    ELSE  -- retried at a later cycle
        UPDATE rubberduck.actions a
           SET detail = a.detail || jsonb_build_object('phase', 'drop_queued', 'drop_error', error,
                                                       'drop_attempts', coalesce((a.detail->>'drop_attempts')::int, 0) + 1),
               updated_at = now()
         WHERE a.id = action_id;
    END IF;
END
$$;

-- Housekeeping at each cycle of the agent: builds whose worker died are failed; queued work whose worker is
-- not running is handed back to be (re)started; pre-windows whose advice went away are cancelled. Returns the
-- work to start: (action_id, 'build' | 'drop'), and (NULL, 'cleanup') when INVALID indexes of ours remain.
-- cooldown_s >= 0: advice reverted or failed that long ago turns 'stale' (the advisor advises it again if it
-- still finds it worth it); < 0: never.
CREATE FUNCTION rubberduck._index_autonomy_tick(cooldown_s double precision DEFAULT -1, OUT action_id bigint, OUT job text)
RETURNS SETOF record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a record;
BEGIN
    IF cooldown_s >= 0 THEN
        UPDATE rubberduck.index_advice ia SET status = 'stale', updated_at = now()
         WHERE ia.status IN ('reverted', 'failed') AND ia.updated_at < now() - make_interval(secs => cooldown_s);
    END IF;
    FOR a IN SELECT x.id, x.detail FROM rubberduck.actions x
              WHERE x.action = 'create_index' AND x.skill = 'indexing' AND x.status = 'proposed'
                AND x.detail->>'phase' = 'building'
                AND NOT rubberduck._index_worker_alive((x.detail->>'pid')::int) LOOP
        PERFORM rubberduck._index_build_failed(a.id, 'the index builder exited before finishing (server restart or crash)');
    END LOOP;
    FOR a IN SELECT x.id, x.detail FROM rubberduck.actions x
              WHERE x.action = 'create_index' AND x.skill = 'indexing' AND x.status = 'proposed'
                AND x.detail->>'phase' = 'measuring'
                AND NOT EXISTS (SELECT 1 FROM rubberduck.index_advice ia
                                 WHERE ia.id = (x.detail->>'advice_id')::bigint AND ia.status = 'advised'
                                   AND ia.action_id = x.id) LOOP
        PERFORM rubberduck._index_build_failed(a.id, 'cancelled before the build: the index is no longer advised');
    END LOOP;
    UPDATE rubberduck.actions x SET detail = x.detail || '{"phase": "drop_queued"}', updated_at = now()
     WHERE x.skill = 'indexing' AND ((x.action = 'create_index' AND x.status = 'applied')
                                     OR (x.action = 'drop_index' AND x.status = 'proposed'))
       AND x.detail->>'phase' = 'dropping' AND NOT rubberduck._index_worker_alive((x.detail->>'pid')::int);
    FOR a IN SELECT x.id, x.detail FROM rubberduck.actions x
              WHERE x.action = 'create_index' AND x.skill = 'indexing' AND x.status = 'proposed'
                AND x.detail->>'phase' = 'queued' AND x.updated_at < now() - interval '10 s'
                AND NOT rubberduck._index_worker_alive((x.detail->>'launch_pid')::int) LOOP
        IF coalesce((a.detail->>'launches')::int, 0) >= 5 THEN
            PERFORM rubberduck._index_build_failed(a.id, 'no index builder could be started (5 attempts); '
                                                         'check max_worker_processes');
        ELSE
            action_id := a.id;
            job := 'build';
            RETURN NEXT;
        END IF;
    END LOOP;
    FOR a IN SELECT x.id FROM rubberduck.actions x
              WHERE x.skill = 'indexing' AND ((x.action = 'create_index' AND x.status = 'applied')
                                              OR (x.action = 'drop_index' AND x.status = 'proposed'))
                AND x.detail->>'phase' = 'drop_queued' AND x.updated_at < now() - interval '10 s'
                AND NOT rubberduck._index_worker_alive((x.detail->>'launch_pid')::int) LOOP
        action_id := a.id;
        job := 'drop';
        RETURN NEXT;
    END LOOP;
    IF EXISTS (SELECT 1 FROM rubberduck._index_invalid_leftovers())
       AND NOT EXISTS (SELECT 1 FROM pg_stat_activity s WHERE s.backend_type = 'rubberduck index builder'
                                                          AND s.application_name = 'rubberduck index cleanup') THEN
        action_id := NULL;
        job := 'cleanup';
        RETURN NEXT;
    END IF;
END
$$;

-- INVALID indexes the agent created (an action names them) and that no live builder is working on:
-- leftovers of failed or interrupted concurrent builds. Never any other index.
CREATE FUNCTION rubberduck._index_invalid_leftovers(OUT index text, OUT action_id bigint)
RETURNS SETOF record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
SELECT format('%I.%I', n.nspname, c.relname), max(a.id)
  FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN rubberduck.actions a ON a.action = 'create_index' AND a.skill = 'indexing'
                           AND a.detail->>'index' = format('%I.%I', n.nspname, c.relname)
 WHERE NOT i.indisvalid AND c.relname LIKE 'rd\_%'
   AND NOT EXISTS (SELECT 1 FROM rubberduck.actions b
                    WHERE b.action = 'create_index' AND b.skill = 'indexing' AND b.status = 'proposed'
                      AND b.detail->>'index' = a.detail->>'index'
                      AND (b.detail->>'phase' IN ('queued', 'measuring')
                           OR rubberduck._index_worker_alive((b.detail->>'pid')::int)))
 GROUP BY 1
$$;

-- The verification's inputs: per statement, calls and time before (pre-window or cumulative) and during the
-- verify window (delta since the build finished).
CREATE FUNCTION rubberduck._index_verify_rows(action_id bigint,
    OUT queryid bigint, OUT affected boolean, OUT write boolean, OUT before_calls double precision,
    OUT before_total_ms double precision, OUT after_calls double precision, OUT after_total_ms double precision)
RETURNS SETOF record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
WITH a AS (
    SELECT x.detail FROM rubberduck.actions x WHERE x.id = action_id
), aft AS (
    SELECT rubberduck._index_latency_delta(a.detail->'after_start',
               rubberduck._index_latency_snapshot((a.detail->>'relation_oid')::oid,
                   ARRAY(SELECT jsonb_array_elements_text(a.detail->'affected')::bigint))) AS d FROM a
)
SELECT coalesce(b.key, f.key)::bigint,
       coalesce((f.value->>'affected')::boolean, (b.value->>'affected')::boolean, false),
       coalesce((f.value->>'write')::boolean, (b.value->>'write')::boolean, false),
       coalesce((b.value->>'calls')::float8, 0), coalesce((b.value->>'total_ms')::float8, 0),
       coalesce((f.value->>'calls')::float8, 0), coalesce((f.value->>'total_ms')::float8, 0)
  FROM jsonb_each((SELECT a.detail->'before' FROM a)) b
  FULL JOIN jsonb_each((SELECT d FROM aft)) f ON f.key = b.key
$$;

-- The verdict, written by the agent. verdict: keep | revert | revert_advised | wait.
CREATE FUNCTION rubberduck._index_verdict(action_id bigint, verdict text, reason text, before_ms double precision,
                                          after_ms double precision)
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    d jsonb;
    aft jsonb;
    v jsonb;
BEGIN
    SELECT a.detail INTO d FROM rubberduck.actions a WHERE a.id = action_id FOR UPDATE;
    aft := rubberduck._index_latency_delta(d->'after_start',
               rubberduck._index_latency_snapshot((d->>'relation_oid')::oid,
                   ARRAY(SELECT jsonb_array_elements_text(d->'affected')::bigint)));
    v := jsonb_build_object('verdict', verdict, 'verdict_reason', reason, 'verdict_at', now(),
                            'verify_before_ms', before_ms, 'verify_after_ms', after_ms,
                            'verify_seconds', extract(epoch FROM now() - (d->>'built_at')::timestamptz));
    IF verdict = 'wait' THEN
        UPDATE rubberduck.actions a
           SET detail = a.detail || v || jsonb_build_object('extensions', coalesce((d->>'extensions')::int, 0) + 1),
               updated_at = now()
         WHERE a.id = action_id;
    ELSIF verdict = 'keep' THEN
        UPDATE rubberduck.actions a
           SET status = 'verified', metric_after = after_ms,
               detail = a.detail - 'after_start' || v || jsonb_build_object('phase', 'verified', 'after', aft),
               updated_at = now()
         WHERE a.id = action_id;
        UPDATE rubberduck.index_advice ia SET status = 'verified', updated_at = now()
         WHERE ia.id = (d->>'advice_id')::bigint;
    ELSE  -- revert (the agent drops it) or revert_advised (advise mode: the administrator decides)
        UPDATE rubberduck.actions a
           SET metric_after = after_ms,
               detail = a.detail || v || jsonb_build_object('phase', CASE verdict WHEN 'revert' THEN 'drop_queued'
                                                                                  ELSE 'revert_advised' END,
                                                            'after', aft),
               updated_at = now()
         WHERE a.id = action_id;
    END IF;
END
$$;

-- Build an advised index now, whatever the mode: records the action and starts a builder worker, then
-- returns the action id at once (a concurrent build cannot run, nor be waited for, inside the caller's
-- transaction: it waits for that transaction's snapshot). The build starts when the caller commits.
CREATE FUNCTION rubberduck.apply_index_advice(id bigint)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    aid bigint;
    pid integer;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'index advice id must not be null' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'See SELECT id, relation, ddl, status FROM rubberduck.index_advice.';
    END IF;
    IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'cannot build an index on a hot standby' USING ERRCODE = 'read_only_sql_transaction',
              HINT = 'Apply the advice on the primary.';
    END IF;
    aid := rubberduck._index_begin(apply_index_advice.id, 'manual', 'queued');
    pid := rubberduck._index_launch_worker(aid, 'build');
    IF pid IS NULL THEN
        RAISE NOTICE 'no background worker slot free: the data_persistence agent starts the build later'
              USING HINT = 'Raise max_worker_processes if this persists.';
    ELSE
        PERFORM rubberduck._index_launched(aid, pid);
    END IF;
    RETURN aid;
END
$$;
COMMENT ON FUNCTION rubberduck.apply_index_advice(bigint) IS
    'Builds an advised index (CREATE INDEX CONCURRENTLY in a background worker, after the caller commits); returns the rubberduck.actions id.';

-- Take back an index an action of the indexing skill created: DROP INDEX (in the caller's transaction, with
-- rubberduck.indexing_lock_timeout), action 'reverted', advice 'reverted' (not advised again automatically).
CREATE FUNCTION rubberduck.revert_action(id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    a rubberduck.actions;
    idx regclass;
    old_lock_timeout text;
BEGIN
    IF id IS NULL THEN
        RAISE EXCEPTION 'action id must not be null' USING ERRCODE = 'null_value_not_allowed',
              HINT = 'See SELECT id, action, target, status FROM rubberduck.actions.';
    END IF;
    SELECT * INTO a FROM rubberduck.actions x WHERE x.id = revert_action.id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'action % does not exist', revert_action.id USING ERRCODE = 'no_data_found',
              HINT = 'See SELECT id, action, target, status FROM rubberduck.actions.';
    END IF;
    IF a.action = 'drop_index' AND a.skill = 'indexing' THEN
        RAISE EXCEPTION 'action % dropped index % (index_health); it is not taken back automatically', a.id, a.detail->>'index'
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = format('Recreate it with: %s', coalesce(a.detail->>'definition', '(definition unknown)'));
    END IF;
    IF a.action <> 'create_index' OR a.skill <> 'indexing' THEN
        RAISE EXCEPTION 'action % (% by %) cannot be reverted here', a.id, a.action, a.skill
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'revert_action takes back indexes built by the indexing skill; migrations use rubberduck.rollback_migration(version).';
    END IF;
    IF a.status = 'reverted' THEN
        RAISE EXCEPTION 'action % is already reverted', a.id USING ERRCODE = 'object_not_in_prerequisite_state',
              HINT = format('Its index %s was dropped; see rubberduck.actions.detail.', a.detail->>'index');
    END IF;
    IF a.status = 'failed' THEN
        RAISE EXCEPTION 'action % failed: there is no index to revert', a.id
              USING ERRCODE = 'object_not_in_prerequisite_state', HINT = 'See rubberduck.actions.detail->>''error''.';
    END IF;
    IF a.status = 'proposed' OR a.detail->>'phase' = 'dropping' THEN
        RAISE EXCEPTION 'action % is in progress (%)', a.id, a.detail->>'phase'
              USING ERRCODE = 'object_not_in_prerequisite_state',
                    HINT = 'Wait until it is applied: CALL rubberduck.wait_action(id), then revert it.';
    END IF;
    idx := to_regclass(a.detail->>'index');
    IF idx IS NULL THEN
        RAISE NOTICE 'index % no longer exists', a.detail->>'index';
    ELSE
        old_lock_timeout := current_setting('lock_timeout');
        PERFORM set_config('lock_timeout', current_setting('rubberduck.indexing_lock_timeout', true), true)
          WHERE current_setting('rubberduck.indexing_lock_timeout', true) IS NOT NULL;
        EXECUTE format('DROP INDEX %s', idx);
        PERFORM set_config('lock_timeout', old_lock_timeout, true);  -- the caller's setting again
    END IF;
    UPDATE rubberduck.actions x
       SET status = 'reverted',
           detail = x.detail || jsonb_build_object('phase', 'reverted', 'reverted_at', now(),
                                                   'reverted_by', session_user::text),
           updated_at = now()
     WHERE x.id = a.id;
    UPDATE rubberduck.index_advice ia SET status = 'reverted', updated_at = now()
     WHERE ia.id = (a.detail->>'advice_id')::bigint;
END
$$;
COMMENT ON FUNCTION rubberduck.revert_action(bigint) IS
    'Drops the index a create_index action of the indexing skill built; the action becomes reverted.';

-- Waits (polling every 200 ms, committing between polls so a concurrent build is never held up by this
-- session's snapshot) until the action is no longer proposed, or the timeout; returns its status.
-- Must be CALLed outside a transaction block. No SET search_path: it would forbid the COMMITs; every name is
-- qualified instead, and it runs with the caller's rights (it only reads rubberduck.actions).
CREATE PROCEDURE rubberduck.wait_action(id bigint, timeout interval DEFAULT '10 min', INOUT status text DEFAULT NULL)
LANGUAGE plpgsql
AS $$
DECLARE
    deadline timestamptz := pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) timeout;
BEGIN
    LOOP
        SELECT a.status INTO status FROM rubberduck.actions a WHERE a.id OPERATOR(pg_catalog.=) wait_action.id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'action % does not exist', wait_action.id USING ERRCODE = 'no_data_found',
                  HINT = 'See SELECT id, action, target, status FROM rubberduck.actions.';
        END IF;
        EXIT WHEN status OPERATOR(pg_catalog.<>) 'proposed' OR pg_catalog.clock_timestamp() OPERATOR(pg_catalog.>=) deadline;
        COMMIT;
        PERFORM pg_catalog.pg_sleep(0.2);
        COMMIT;
    END LOOP;
END
$$;
COMMENT ON PROCEDURE rubberduck.wait_action(bigint, interval, text) IS
    'CALL outside a transaction block: waits until an action leaves status proposed (or the timeout), returns its status.';

-- rubberduck.indexing_act_on_health = on (autonomous mode): record a drop_index action for the first invalid or
-- duplicate index rubberduck.index_health reports — never a primary-key, unique or constraint index, never
-- one on a table where an index build is in progress, never an index of an extension — and return its id
-- (NULL: nothing to do). The drop itself is DROP INDEX CONCURRENTLY in a builder worker; the definition is
-- kept in detail->>'definition' to recreate it.
CREATE FUNCTION rubberduck._index_health_begin_drop()
RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h record;
BEGIN
    SELECT format('%I.%I', n.nspname, c.relname) AS index, hh.relation, hh.issue, hh.related_index, hh.size_bytes,
           pg_get_indexdef(i.indexrelid) AS definition
      INTO h
      FROM rubberduck.index_health hh
      JOIN pg_index i ON i.indrelid = to_regclass(hh.relation)
      JOIN pg_class c ON c.oid = i.indexrelid AND c.relname = hh.index
      JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE hh.issue IN ('invalid', 'duplicate')
       AND NOT i.indisprimary AND NOT i.indisunique AND NOT i.indisexclusion
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indrelid
                                                   AND d.deptype = 'e')
       AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.relid = i.indrelid)
       AND NOT EXISTS (SELECT 1 FROM rubberduck.actions a
                        WHERE a.action = 'drop_index' AND a.skill = 'indexing'
                          AND a.detail->>'index' = format('%I.%I', n.nspname, c.relname)
                          AND (a.status = 'proposed' OR a.at > now() - interval '1 hour'))
     ORDER BY hh.issue DESC, hh.size_bytes DESC NULLS LAST, 1
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    RETURN rubberduck.record_action(
        'data_persistence', 'indexing', 'drop_index', h.relation, format('DROP INDEX CONCURRENTLY IF EXISTS %s', h.index),
        format('index_health: %s%s (rubberduck.indexing_act_on_health = on)', h.issue,
               CASE WHEN h.related_index IS NOT NULL THEN ' of ' || h.related_index ELSE '' END),
        'proposed', h.size_bytes,
        jsonb_build_object('index', h.index, 'issue', h.issue, 'related_index', h.related_index,
                           'definition', h.definition, 'phase', 'drop_queued'));
END
$$;

CREATE FUNCTION rubberduck._index_launch_worker(action_id bigint, job text)
RETURNS integer
AS 'MODULE_PATHNAME', 'rubberduck_index_launch_worker'
LANGUAGE C VOLATILE;

REVOKE ALL ON FUNCTION
    rubberduck._index_latency_snapshot(oid, bigint[]), rubberduck._index_latency_delta(jsonb, jsonb),
    rubberduck._index_affected_mean(jsonb), rubberduck._index_worker_alive(integer),
    rubberduck._index_begin(bigint, text, text, double precision), rubberduck._index_queue(bigint),
    rubberduck._index_launched(bigint, integer), rubberduck._index_build_claim(bigint),
    rubberduck._index_lock_probe(bigint),
    rubberduck._index_build_done(bigint, double precision), rubberduck._index_build_failed(bigint, text),
    rubberduck._index_drop_claim(bigint), rubberduck._index_drop_done(bigint, text),
    rubberduck._index_autonomy_tick(double precision), rubberduck._index_invalid_leftovers(),
    rubberduck._index_verify_rows(bigint), rubberduck._index_verdict(bigint, text, text, double precision, double precision),
    rubberduck._index_launch_worker(bigint, text), rubberduck._index_health_begin_drop(),
    rubberduck.apply_index_advice(bigint), rubberduck.revert_action(bigint)
    FROM PUBLIC;
REVOKE ALL ON PROCEDURE rubberduck.wait_action(bigint, interval, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION rubberduck.apply_index_advice(bigint), rubberduck.revert_action(bigint) TO rubberduck_admin;
GRANT EXECUTE ON PROCEDURE rubberduck.wait_action(bigint, interval, text) TO rubberduck_admin;
