-- apply_index_advice / revert_action / wait_action: errors (SQLSTATE, message, hint) and privileges. The
-- builds themselves run in background workers and are covered by tests/scenarios/52_index_autonomy.sh.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS rubberduck_agents;
RESET client_min_messages;
\set VERBOSITY terse

-- Runs sql; returns ok or SQLSTATE: message HINT: hint, with the action id `id` (varies) shown as N.
CREATE FUNCTION pg_temp.try(sql text, id bigint DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN regexp_replace(st || ': ' || msg || coalesce(' HINT: ' || nullif(hint, ''), ''),
                          '\m' || coalesce(id::text, 'none') || '\M', 'N', 'g');
END $$;

CREATE TABLE ia_t (id int PRIMARY KEY, a int, b int);
INSERT INTO ia_t SELECT g, g % 10, g % 7 FROM generate_series(1, 100) g;

-- Unknown ids, null ids.
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(NULL)');
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(987654)');
SELECT pg_temp.try('SELECT rubberduck.revert_action(NULL)');
SELECT pg_temp.try('SELECT rubberduck.revert_action(987654)');

-- Everything below in one transaction: the agent (advise mode) never sees these hand-made rows.
BEGIN;
-- An advice that is already applied cannot be applied again.
INSERT INTO rubberduck.index_advice (id, advice_key, relation, relation_oid, columns, ddl, status, action_id)
VALUES (900001, 'test:ia_t(a)', 'public.ia_t', 'ia_t'::regclass, '{a}',
        'CREATE INDEX CONCURRENTLY ON public.ia_t USING btree (a)', 'applied', 800001);
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(900001)');
-- A DDL that is not a CREATE INDEX is refused.
INSERT INTO rubberduck.index_advice (id, advice_key, relation, relation_oid, columns, ddl)
VALUES (900002, 'test:bad', 'public.ia_t', 'ia_t'::regclass, '{b}', 'DROP TABLE public.ia_t');
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(900002)');
-- An advice whose table is gone.
INSERT INTO rubberduck.index_advice (id, advice_key, relation, relation_oid, columns, ddl)
VALUES (900003, 'test:gone', 'public.gone', 0, '{x}', 'CREATE INDEX CONCURRENTLY ON public.gone USING btree (x)');
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(900003)');

-- revert_action: only create_index actions of the indexing skill, and only once.
SELECT rubberduck.record_action('migration', 'migration_safety', 'rollback_migration', 'v1', NULL, 'test',
                                'applied') AS other_id \gset
SELECT pg_temp.try(format('SELECT rubberduck.revert_action(%s)', :other_id), :other_id);
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.ia_t', 'CREATE ...', 'test',
                                'failed', NULL, '{"index": "public.rd_ia_t_x", "phase": "failed"}') AS failed_id \gset
SELECT pg_temp.try(format('SELECT rubberduck.revert_action(%s)', :failed_id), :failed_id);
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.ia_t', 'CREATE ...', 'test',
                                'proposed', NULL, '{"index": "public.rd_ia_t_y", "phase": "building"}') AS busy_id \gset
SELECT pg_temp.try(format('SELECT rubberduck.revert_action(%s)', :busy_id), :busy_id);
-- wait_action commits between polls: in an atomic context (a transaction block, a function) it cannot wait.
SELECT pg_temp.try(format('CALL rubberduck.wait_action(%s, ''1s'')', :busy_id), :busy_id);

-- An applied action whose index exists: dropped, action and advice reverted.
CREATE INDEX rd_ia_t_test ON ia_t (a);
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.ia_t', 'CREATE ...', 'test',
                                'applied', 1.5,
                                '{"index": "public.rd_ia_t_test", "phase": "revert_advised", "advice_id": 900001}')
       AS applied_id \gset
SELECT pg_temp.try(format('SELECT rubberduck.revert_action(%s)', :applied_id), :applied_id);
SELECT to_regclass('public.rd_ia_t_test') IS NULL AS index_dropped;
SELECT status, detail->>'phase' AS phase, detail->>'reverted_by' = session_user AS by_me
  FROM rubberduck.actions WHERE id = :applied_id;
SELECT status FROM rubberduck.index_advice WHERE id = 900001;
SELECT pg_temp.try(format('SELECT rubberduck.revert_action(%s)', :applied_id), :applied_id);
-- An applied action whose index someone else dropped: a NOTICE, then reverted.
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.ia_t', 'CREATE ...', 'test',
                                'applied', NULL, '{"index": "public.rd_ia_t_gone", "phase": "revert_advised"}')
       AS gone_id \gset
SELECT rubberduck.revert_action(:gone_id);
SELECT status FROM rubberduck.actions WHERE id = :gone_id;
ROLLBACK;

-- wait_action: returns the status of a finished action at once; needs a non-atomic context (CALL at top
-- level, outside a transaction block) because it commits between polls.
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.ia_t', 'CREATE ...', 'test',
                                'failed') AS done_id \gset
CALL rubberduck.wait_action(:done_id, '1s');
SELECT pg_temp.try('CALL rubberduck.wait_action(987654, ''1s'')');
DELETE FROM rubberduck.actions WHERE id = :done_id;

-- The autonomous-indexing directives exist with their defaults.
SELECT name, setting, unit FROM pg_settings
 WHERE name IN ('rubberduck.indexing_regression_threshold', 'rubberduck.indexing_verify_min_improvement',
                'rubberduck.indexing_verify_min_calls', 'rubberduck.indexing_lock_timeout',
                'rubberduck.indexing_statement_timeout', 'rubberduck.indexing_act_on_health',
                'rubberduck.indexing_retry_after')
 ORDER BY name;

-- Privileges: not for PUBLIC; rubberduck_admin may.
CREATE ROLE ia_user;
CREATE ROLE ia_admin IN ROLE rubberduck_admin;
SET ROLE ia_user;
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(1)');
SELECT pg_temp.try('SELECT rubberduck.revert_action(1)');
SELECT pg_temp.try('SELECT rubberduck._index_launch_worker(1, ''build'')');
SELECT pg_temp.try('SELECT rubberduck._index_autonomy_tick()');
RESET ROLE;
SET ROLE ia_admin;
SELECT pg_temp.try('SELECT rubberduck.apply_index_advice(987654)');
SELECT pg_temp.try('SELECT rubberduck.revert_action(987654)');
RESET ROLE;
SELECT has_function_privilege('ia_user', 'rubberduck.apply_index_advice(bigint)', 'EXECUTE') AS user_apply,
       has_function_privilege('ia_admin', 'rubberduck.apply_index_advice(bigint)', 'EXECUTE') AS admin_apply,
       has_function_privilege('ia_admin', 'rubberduck.revert_action(bigint)', 'EXECUTE') AS admin_revert,
       has_function_privilege('ia_admin', 'rubberduck.wait_action(bigint, interval, text)', 'EXECUTE') AS admin_wait;
DROP ROLE ia_user;
DROP ROLE ia_admin;
DROP TABLE ia_t;
