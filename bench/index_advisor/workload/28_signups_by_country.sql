-- weight: 1  (report: equality then range, count only)
\set d random(0, 1400)
SELECT count(*) FROM users WHERE country = 'DE'
   AND created_at >= timestamptz '2021-01-01 00:00+00' + :d * interval '1 day'
   AND created_at < timestamptz '2021-01-01 00:00+00' + (:d + 30) * interval '1 day';
