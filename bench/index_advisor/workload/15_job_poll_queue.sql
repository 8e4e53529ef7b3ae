-- weight: 10  (queue poll of one queue, due jobs only)
\set q random(1, 5)
SELECT id, payload FROM jobs
 WHERE queue = (ARRAY['mail', 'billing', 'export', 'webhook', 'search'])[:q] AND status = 'queued'
   AND run_at <= timestamptz '2025-05-25 00:00+00'
 ORDER BY priority, created_at LIMIT 5;
