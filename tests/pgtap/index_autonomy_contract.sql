-- Schema contract of autonomous indexing (DESIGN.md §3 "Indexes": apply_index_advice(id), revert_action(id)):
-- functions, return types, security, grants, directives.
BEGIN;
SELECT plan(24);

SELECT has_function('rubberduck', 'apply_index_advice', ARRAY['bigint'], 'apply_index_advice(bigint)');
SELECT function_returns('rubberduck', 'apply_index_advice', ARRAY['bigint'], 'bigint',
                        'apply_index_advice returns the action id (bigint)');
SELECT is_definer('rubberduck', 'apply_index_advice', ARRAY['bigint'], 'apply_index_advice is SECURITY DEFINER');
SELECT has_function('rubberduck', 'revert_action', ARRAY['bigint'], 'revert_action(bigint)');
SELECT function_returns('rubberduck', 'revert_action', ARRAY['bigint'], 'void', 'revert_action returns void');
SELECT is_definer('rubberduck', 'revert_action', ARRAY['bigint'], 'revert_action is SECURITY DEFINER');
SELECT is((SELECT prokind::text FROM pg_proc WHERE oid = 'rubberduck.wait_action(bigint, interval, text)'::regprocedure),
          'p', 'wait_action is a procedure (it commits between polls)');

-- Pinned search_path on the SECURITY DEFINER functions.
SELECT ok((SELECT proconfig @> ARRAY['search_path=pg_catalog, pg_temp'] FROM pg_proc
            WHERE oid = ('rubberduck.' || f)::regprocedure), f || ' pins search_path')
  FROM unnest(ARRAY['apply_index_advice(bigint)', 'revert_action(bigint)']) f;

-- Grants: rubberduck_admin, not PUBLIC; the internal helpers for nobody but their owner.
SELECT ok(NOT has_function_privilege('public', 'rubberduck.' || f, 'EXECUTE'), f || ' not executable by PUBLIC')
  FROM unnest(ARRAY['apply_index_advice(bigint)', 'revert_action(bigint)', 'wait_action(bigint, interval, text)',
                    '_index_launch_worker(bigint, text)', '_index_begin(bigint, text, text, double precision)']) f;
SELECT ok(has_function_privilege('rubberduck_admin', 'rubberduck.' || f, 'EXECUTE'), f || ' executable by rubberduck_admin')
  FROM unnest(ARRAY['apply_index_advice(bigint)', 'revert_action(bigint)', 'wait_action(bigint, interval, text)']) f;

-- Directives (defined when preloaded).
SELECT ok(EXISTS (SELECT 1 FROM pg_settings WHERE name = d), d || ' exists')
  FROM unnest(ARRAY['rubberduck.indexing_regression_threshold', 'rubberduck.indexing_verify_min_improvement',
                    'rubberduck.indexing_verify_min_calls', 'rubberduck.indexing_lock_timeout',
                    'rubberduck.indexing_statement_timeout', 'rubberduck.indexing_act_on_health', 'rubberduck.indexing_retry_after']) d;

SELECT * FROM finish();
ROLLBACK;
