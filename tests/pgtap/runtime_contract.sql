-- Schema contract of the runtime (DESIGN.md §3 "Runtime"): views, columns and types, functions, grants, directives.
BEGIN;
SELECT plan(55);

SELECT has_schema('rubberduck');
SELECT has_view('rubberduck', v, 'view rubberduck.' || v) FROM unnest(ARRAY['agents', 'skills', 'directives', 'signals']) v;
SELECT has_table('rubberduck', 'actions', 'table rubberduck.actions');

SELECT col_type_is('rubberduck', 'agents', c, t, 'agents.' || c || ' is ' || t)
  FROM (VALUES ('agent', 'text'), ('pid', 'integer'), ('state', 'text'), ('mode', 'text'), ('skills', 'text[]'),
               ('cycles', 'bigint'), ('last_cycle_at', 'timestamp with time zone'),
               ('last_cycle_ms', 'double precision'), ('last_error', 'text'),
               ('last_error_at', 'timestamp with time zone'), ('restarts', 'integer')) AS x(c, t);

SELECT col_type_is('rubberduck', 'skills', c, t, 'skills.' || c || ' is ' || t)
  FROM (VALUES ('skill', 'text'), ('agent', 'text'), ('enabled', 'boolean'), ('runs', 'bigint'),
               ('last_run_at', 'timestamp with time zone'), ('errors', 'bigint'), ('description', 'text')) AS x(c, t);

SELECT col_type_is('rubberduck', 'signals', c, t, 'signals.' || c || ' is ' || t)
  FROM (VALUES ('at', 'timestamp with time zone'), ('from_agent', 'text'), ('to_agent', 'text'), ('kind', 'text'),
               ('payload', 'jsonb')) AS x(c, t);

SELECT col_type_is('rubberduck', 'actions', c, t, 'actions.' || c || ' is ' || t)
  FROM (VALUES ('id', 'bigint'), ('at', 'timestamp with time zone'), ('agent', 'text'), ('skill', 'text'),
               ('action', 'text'), ('target', 'text'), ('sql', 'text'), ('reason', 'text'), ('status', 'text'),
               ('metric_before', 'double precision'), ('metric_after', 'double precision'),
               ('detail', 'jsonb')) AS x(c, t);

SELECT has_column('rubberduck', 'directives', c, 'directives.' || c) FROM unnest(ARRAY['name', 'value', 'source', 'description']) c;

SELECT has_function('rubberduck', 'reset', ARRAY['text'], 'reset(text)');
SELECT function_returns('rubberduck', 'reset', ARRAY['text'], 'void', 'reset returns void');
SELECT is(
    (SELECT count(*)::int FROM rubberduck.agents),
    4, 'four agents');
SELECT set_eq(
    'SELECT skill FROM rubberduck.skills',
    ARRAY['query_optimization', 'indexing', 'connection_pooling', 'caching', 'scaling', 'migration_safety',
          'health_monitoring', 'anomaly_detection', 'capacity_planning'],
    'the nine skills of the contract');
SELECT ok(NOT has_function_privilege('public', 'rubberduck.reset(text)', 'EXECUTE'), 'reset is not granted to PUBLIC');
SELECT ok(has_function_privilege('rubberduck_admin', 'rubberduck.reset(text)', 'EXECUTE'), 'reset is granted to rubberduck_admin');
SELECT set_has(
    'SELECT name FROM rubberduck.directives',
    $$VALUES ('rubberduck.enabled'), ('rubberduck.database'), ('rubberduck.mode'), ('rubberduck.skills'),
             ('rubberduck.naptime'), ('rubberduck.track'), ('rubberduck.sample_rate'), ('rubberduck.max_queries')$$,
    'the directives DESIGN.md §4 names');
SELECT is((SELECT count(*)::int FROM pg_settings WHERE name LIKE 'rubberduck.%' AND name ~ '^rubberduck\.[^.]+\.'), 0,
          'every directive has exactly one dot');
SELECT is((SELECT context FROM pg_settings WHERE name = 'rubberduck.max_queries'), 'postmaster',
          'max_queries sizes shared memory (postmaster)');
SELECT is((SELECT context FROM pg_settings WHERE name = 'rubberduck.skills'), 'sighup', 'skills reloads (sighup)');

SELECT * FROM finish();
ROLLBACK;
