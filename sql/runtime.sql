-- Runtime surface: agents, skills, directives, signals, actions, reset, privileges.
CREATE EXTENSION rubberduck_agents;
SET client_min_messages = warning;

-- Polls until a query returns true (agents act asynchronously; this keeps the test deterministic).
CREATE FUNCTION wait_until(cond text, timeout_s int DEFAULT 30) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE ok boolean;
BEGIN
    FOR i IN 1 .. timeout_s * 20 LOOP
        EXECUTE cond INTO ok;
        IF ok THEN RETURN true; END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN false;
END $$;

-- The four agents run as background workers named after them.
SELECT wait_until($$SELECT count(*) = 4 FROM rubberduck.agents WHERE pid IS NOT NULL AND cycles > 0$$);
SELECT agent, state IN ('running', 'idle') AS alive, mode, skills FROM rubberduck.agents ORDER BY agent;
SELECT backend_type FROM pg_stat_activity WHERE backend_type LIKE 'rubberduck%' ORDER BY 1;
SELECT skill, agent, enabled, mode FROM rubberduck.skills ORDER BY agent, skill;

-- wake_agent returns once a cycle that started after the call has finished.
SELECT rubberduck.wake_agent('migration') > 0 AS cycled;
SELECT rubberduck.wake_agent('nobody');

-- Directives: listed with their source; invalid values are rejected with a reason.
SELECT name, value FROM rubberduck.directives
 WHERE name IN ('rubberduck.mode', 'rubberduck.skills', 'rubberduck.enabled', 'rubberduck.track') ORDER BY name;
ALTER SYSTEM SET rubberduck.mode = 'yolo';
ALTER SYSTEM SET rubberduck.skills = 'indexing,telepathy';
ALTER SYSTEM SET rubberduck.skills = 'indexing,,caching';
ALTER SYSTEM SET rubberduck.indexing_mode = 'sometimes';
ALTER SYSTEM SET rubberduck.debug_inject_fault = 'migration:explode';
SET rubberduck.mode = 'observe';

-- A reload switches a skill off and a mode over in the running agent, without a restart.
ALTER SYSTEM SET rubberduck.skills = 'query_optimization,migration_safety,health_monitoring';
ALTER SYSTEM SET rubberduck.migration_mode = 'observe';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);  -- SIGHUP is processed between statements, not inside wait_until
SELECT wait_until($$SELECT current_setting('rubberduck.skills') = 'query_optimization,migration_safety,health_monitoring'$$);
SELECT pg_sleep(0.3);
SELECT rubberduck.wake_agent('data_persistence') > 0 AS cycled;
SELECT skill, enabled, mode, CASE WHEN NOT enabled THEN note END AS why_off
  FROM rubberduck.skills WHERE agent IN ('data_persistence', 'migration') ORDER BY skill;
SELECT agent, mode, skills FROM rubberduck.agents ORDER BY agent;
ALTER SYSTEM RESET rubberduck.skills;
ALTER SYSTEM RESET rubberduck.migration_mode;
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);  -- SIGHUP is processed between statements, not inside wait_until
SELECT wait_until($$SELECT current_setting('rubberduck.skills') = 'all'$$);

-- Signals: published, delivered to every agent but the sender (NOTIFY mirroring: tests/scenarios).
SELECT rubberduck.reset('signals');
SELECT rubberduck.publish_signal('test_broadcast', '{"n": 1}') > 0 AS published;
SELECT rubberduck.publish_signal('test_direct', '{"n": 2}', 'health_sensor') > 0 AS published;
SELECT rubberduck.publish_signal('bad', '[1, 2]');
SELECT rubberduck.publish_signal('bad', '{}', 'nobody');
SELECT rubberduck.publish_signal('', '{}');
SELECT rubberduck.wake_agent(a) > 0 AS cycled FROM unnest(ARRAY['query_optimizer','data_persistence','migration','health_sensor']) a;
SELECT from_agent, to_agent, kind, payload, delivered_to FROM rubberduck.signals ORDER BY seq;
-- Actions: the audit API.
SELECT rubberduck.record_action('data_persistence', 'indexing', 'create_index', 'public.t', 'CREATE INDEX ...',
                                'test', 'applied', 10.0) AS id \gset
SELECT rubberduck.update_action(:id, 'verified', 2.5, '{"checked": true}');
SELECT agent, skill, action, status, metric_before, metric_after, detail FROM rubberduck.actions;
SELECT rubberduck.update_action(:id, 'exploded');
SELECT rubberduck.update_action(-1, 'verified');
SELECT rubberduck.reset('actions');
SELECT count(*) FROM rubberduck.actions;

-- reset(): unknown targets are named.
SELECT rubberduck.reset('everything');
SELECT rubberduck.reset('errors');

-- Privileges: changing functions need rubberduck_admin; the views are readable by everyone.
CREATE ROLE rd_plain_user;
SET ROLE rd_plain_user;
SELECT count(*) FROM rubberduck.agents;
SELECT rubberduck.reset('signals');
SELECT rubberduck.publish_signal('x');
SELECT rubberduck.wake_agent('migration');
RESET ROLE;
GRANT rubberduck_admin TO rd_plain_user;
SET ROLE rd_plain_user;
SELECT rubberduck.reset('signals');
RESET ROLE;
DROP ROLE rd_plain_user;

-- The extension can be dropped and created again while the agents run.
DROP EXTENSION rubberduck_agents;
CREATE EXTENSION rubberduck_agents;
SELECT count(*) FROM rubberduck.agents;
DROP FUNCTION wait_until(text, int);
