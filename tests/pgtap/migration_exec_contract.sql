-- Schema contract of guarded migration execution (DESIGN.md §3 "Migrations"): the ledger, migrate(),
-- rollback_migration(), their grants, the directives, pg_dump registration.
BEGIN;
SELECT plan(41);

SELECT has_table('rubberduck', 'migrations', 'table rubberduck.migrations');
SELECT col_type_is('rubberduck', 'migrations', c, t, 'migrations.' || c || ' is ' || t)
  FROM (VALUES ('version', 'text'), ('checksum', 'text'), ('up_sql', 'text'), ('down_sql', 'text'),
               ('analysis', 'jsonb'), ('predicted_ms', 'double precision'), ('actual_ms', 'double precision'),
               ('status', 'text'), ('started_at', 'timestamp with time zone'),
               ('finished_at', 'timestamp with time zone'), ('applied_by', 'text'), ('error', 'text'),
               ('options', 'jsonb'), ('progress', 'jsonb'), ('watch', 'jsonb'),
               ('rollback_reason', 'text')) AS x(c, t);
SELECT col_is_pk('rubberduck', 'migrations', 'version', 'version is the primary key');
SELECT ok(EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'rubberduck_agents'
                  AND 'rubberduck.migrations'::regclass = ANY (e.extconfig)), 'the ledger is dumped by pg_dump');
SELECT throws_ok($$INSERT INTO rubberduck.migrations (version, checksum, up_sql, status) VALUES ('t', 'x', 'y', 'done')$$,
                 '23514', NULL, 'status is one of pending|running|applied|failed|rolled_back');

SELECT has_function('rubberduck', 'migrate', ARRAY['text', 'text', 'text', 'jsonb'], 'migrate(version, up_sql, down_sql, options)');
SELECT function_returns('rubberduck', 'migrate', ARRAY['text', 'text', 'text', 'jsonb'], 'rubberduck.migrations', 'migrate returns the ledger row');
SELECT has_function('rubberduck', 'rollback_migration', ARRAY['text'], 'rollback_migration(version)');
SELECT function_returns('rubberduck', 'rollback_migration', ARRAY['text'], 'rubberduck.migrations', 'rollback_migration returns the ledger row');
SELECT ok(NOT has_function_privilege('public', 'rubberduck.migrate(text, text, text, jsonb)', 'EXECUTE'), 'migrate is not granted to PUBLIC');
SELECT ok(has_function_privilege('rubberduck_admin', 'rubberduck.migrate(text, text, text, jsonb)', 'EXECUTE'), 'migrate is granted to rubberduck_admin');
SELECT ok(has_function_privilege('rubberduck_admin', 'rubberduck.rollback_migration(text)', 'EXECUTE'), 'rollback_migration is granted to rubberduck_admin');
SELECT ok(has_table_privilege('public', 'rubberduck.migrations', 'SELECT'), 'everyone may read the ledger');
SELECT ok(NOT has_table_privilege('public', 'rubberduck.migrations', 'INSERT'), 'nobody but admins writes it');

SELECT ok(current_setting(d, true) IS NOT NULL, d || ' is defined')
  FROM unnest(ARRAY['rubberduck.migration_lock_timeout', 'rubberduck.migration_lock_retries',
                    'rubberduck.migration_watch_window', 'rubberduck.migration_max_regression',
                    'rubberduck.migration_watch_min_calls', 'rubberduck.migration_watch_min_delta']) d;
SELECT is(current_setting('rubberduck.migration_max_regression'), '1.5', 'default max regression 1.5x');
SELECT is(current_setting('rubberduck.migration_watch_window'), '5min', 'default watch window 5min');
SELECT throws_ok($$SET rubberduck.migration_max_regression = 0.5$$, '22023', NULL, 'a ratio below 1 is rejected');
SELECT lives_ok($$SELECT rubberduck._migration_options('{"lock_timeout": "2s", "watch": false, "allow": ["drop_column"]}')$$, 'valid options');
SELECT is((rubberduck._migration_options('{"lock_timeout": "2s"}')).lock_timeout_ms, 2000, 'lock_timeout in ms');
SELECT throws_ok($$SELECT rubberduck._migration_options('{"nope": 1}')$$, '22023', NULL, 'unknown option rejected');

SELECT * FROM finish();
ROLLBACK;
