-- weight: 10  (write: enqueue)
\set p random(0, 9)
INSERT INTO jobs (queue, status, priority, attempts, created_at, run_at, payload)
VALUES ('mail', 'queued', :p, 0, timestamptz '2025-06-01 00:00+00', timestamptz '2025-06-01 00:00+00', '{}');
