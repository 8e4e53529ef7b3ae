-- weight: 3  (back office: the rare status, oldest first)
\set d random(300, 700)
SELECT id, user_id, total, created_at FROM orders WHERE status = 'pending'
   AND created_at < timestamptz '2023-06-01 00:00+00' + :d * interval '1 day'
 ORDER BY created_at LIMIT 50;
