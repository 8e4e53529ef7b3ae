-- Schema contract of the indexing area (DESIGN.md §3 "Indexes"): views/tables, columns and types, functions,
-- grants, directives.
BEGIN;
SELECT plan(50);

SELECT has_view('rubberduck', 'index_health', 'view rubberduck.index_health');
SELECT has_table('rubberduck', t, 'table rubberduck.' || t) FROM unnest(ARRAY['index_advice', 'index_advice_queries']) t;

SELECT col_type_is('rubberduck', 'index_health', c, t, 'index_health.' || c || ' is ' || t)
  FROM (VALUES ('relation', 'text'), ('index', 'text'), ('issue', 'text'), ('size_bytes', 'bigint'),
               ('scans', 'bigint'), ('fix_sql', 'text')) AS x(c, t);

SELECT col_type_is('rubberduck', 'index_advice', c, t, 'index_advice.' || c || ' is ' || t)
  FROM (VALUES ('id', 'bigint'), ('relation', 'text'), ('columns', 'text[]'), ('include', 'text[]'),
               ('method', 'text'), ('predicate', 'text'), ('ddl', 'text'), ('est_size_bytes', 'bigint'),
               ('est_improvement_pct', 'double precision'), ('queries_improved', 'integer'), ('status', 'text'),
               ('created_at', 'timestamp with time zone')) AS x(c, t);

SELECT col_type_is('rubberduck', 'index_advice_queries', c, t, 'index_advice_queries.' || c || ' is ' || t)
  FROM (VALUES ('advice_id', 'bigint'), ('queryid', 'bigint'), ('cost_before', 'double precision'),
               ('cost_after', 'double precision')) AS x(c, t);

SELECT has_function('rubberduck', 'hypothetical_explain', ARRAY['text', 'text[]'], 'hypothetical_explain(text, text[])');
SELECT function_returns('rubberduck', 'hypothetical_explain', ARRAY['text', 'text[]'], 'setof text',
                        'hypothetical_explain returns setof text');
SELECT has_function('rubberduck', 'hypothetical_index_size', ARRAY['text'], 'hypothetical_index_size(text)');
SELECT function_returns('rubberduck', 'hypothetical_index_size', ARRAY['text'], 'bigint',
                        'hypothetical_index_size returns bigint');

-- Grants: reading and what-if planning for everyone; per-query costs and planning as another role for admins.
SELECT ok(has_function_privilege('public', 'rubberduck.hypothetical_explain(text, text[])', 'EXECUTE'),
          'PUBLIC may run hypothetical_explain');
SELECT ok(has_function_privilege('public', 'rubberduck.hypothetical_index_size(text)', 'EXECUTE'),
          'PUBLIC may run hypothetical_index_size');
SELECT ok(NOT has_function_privilege('public',
          'rubberduck._whatif_cost(text, regclass, text[], text, text[], text, text[], regtype[], regrole)', 'EXECUTE'),
          'PUBLIC may not run _whatif_cost');
SELECT ok(has_function_privilege('rubberduck_admin',
          'rubberduck._whatif_cost(text, regclass, text[], text, text[], text, text[], regtype[], regrole)', 'EXECUTE'),
          'rubberduck_admin may run _whatif_cost');
SELECT ok(has_table_privilege('public', 'rubberduck.index_health', 'SELECT'), 'PUBLIC reads index_health');
SELECT ok(has_table_privilege('public', 'rubberduck.index_advice', 'SELECT'), 'PUBLIC reads index_advice');
SELECT ok(NOT has_table_privilege('public', 'rubberduck.index_advice_queries', 'SELECT'),
          'PUBLIC does not read index_advice_queries');
SELECT ok(NOT has_table_privilege('public', 'rubberduck.index_advice', 'INSERT'), 'PUBLIC does not write index_advice');

-- Directives (defined when preloaded), with their defaults.
SELECT is(current_setting(n), v, n || ' defaults to ' || v)
  FROM (VALUES ('rubberduck.indexing_max_indexes', '20'), ('rubberduck.indexing_storage_budget', '-1'),
               ('rubberduck.indexing_min_improvement', '0.05'), ('rubberduck.indexing_verify_window', '10min'),
               ('rubberduck.indexing_maintenance_window', ''), ('rubberduck.indexing_unused_window', '7d')) AS x(n, v);
SELECT is((SELECT context FROM pg_settings WHERE name = 'rubberduck.indexing_max_indexes'), 'sighup',
          'indexing_max_indexes is reloadable');
SELECT is((SELECT context FROM pg_settings WHERE name = 'rubberduck.indexing_unused_window'), 'superuser',
          'indexing_unused_window is superuser-settable');
SELECT throws_ok($$SET rubberduck.indexing_max_indexes = 3$$, '55P02', NULL, 'indexing_max_indexes is not a session setting');

-- The view and functions work on an empty database.
SELECT lives_ok($$SELECT * FROM rubberduck.index_health$$, 'index_health answers');
SELECT is((SELECT count(*)::int FROM rubberduck.hypothetical_explain('SELECT 1', '{}')), 1, 'hypothetical_explain of SELECT 1');
SELECT throws_ok($$SELECT rubberduck.hypothetical_explain('SELECT 1', ARRAY['CREATE INDEX ON pg_class (']) $$,
                 '42601', NULL, 'bad DDL is a syntax error');
SELECT throws_ok($$SELECT rubberduck.hypothetical_explain('VACUUM', '{}')$$, '22023', NULL, 'utility query rejected');

SELECT * FROM finish();
ROLLBACK;
