-- weight: 2  (equality then range)
\set u random(1, @USERS@)
\set d random(0, 600)
SELECT id, total FROM orders WHERE user_id = :u
   AND created_at BETWEEN timestamptz '2023-06-01 00:00+00' + :d * interval '1 day'
                      AND timestamptz '2023-06-01 00:00+00' + (:d + 120) * interval '1 day';
