-- weight: 10  (activity feed: equality then ORDER BY DESC LIMIT)
\set u random(1, @USERS@)
SELECT kind, created_at FROM events WHERE user_id = :u ORDER BY created_at DESC LIMIT 50;
