-- weight: 15  (equality then ORDER BY ... DESC LIMIT)
\set u random(1, @USERS@)
SELECT id, status, total, created_at FROM orders WHERE user_id = :u ORDER BY created_at DESC LIMIT 20;
