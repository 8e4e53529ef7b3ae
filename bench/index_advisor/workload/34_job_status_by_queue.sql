-- weight: 1  (ops dashboard)
\set q random(1, 5)
SELECT status, count(*) FROM jobs WHERE queue = (ARRAY['mail', 'billing', 'export', 'webhook', 'search'])[:q] GROUP BY status;
