-- weight: 1  (report: a week of orders by day)
\set d random(0, 700)
SELECT date_trunc('day', created_at) AS day, count(*), sum(total) FROM orders
 WHERE created_at >= timestamptz '2023-06-01 00:00+00' + :d * interval '1 day'
   AND created_at < timestamptz '2023-06-01 00:00+00' + (:d + 7) * interval '1 day'
 GROUP BY 1 ORDER BY 1;
