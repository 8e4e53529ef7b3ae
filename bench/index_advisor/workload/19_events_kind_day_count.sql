-- weight: 2  (dashboard: count of one kind in a day → index-only scan)
\set d random(0, 140)
SELECT count(*) FROM events WHERE kind = 'checkout'
   AND created_at >= timestamptz '2025-01-01 00:00+00' + :d * interval '1 day'
   AND created_at < timestamptz '2025-01-01 00:00+00' + (:d + 1) * interval '1 day';
