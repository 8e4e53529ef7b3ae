-- weight: 8  (two equalities then a range)
\set a random(1, @ACCOUNTS@)
\set d random(0, 600)
SELECT id, user_id, total, created_at FROM orders
 WHERE account_id = :a AND status = 'paid'
   AND created_at >= timestamptz '2023-06-01 00:00+00' + :d * interval '1 day'
   AND created_at < timestamptz '2023-06-01 00:00+00' + (:d + 90) * interval '1 day';
