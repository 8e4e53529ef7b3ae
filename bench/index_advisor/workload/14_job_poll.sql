-- weight: 30  (queue poll: rare status, ORDER BY priority, created_at LIMIT → partial ordered index)
SELECT id, queue, payload FROM jobs WHERE status = 'queued' ORDER BY priority, created_at LIMIT 10;
