-- weight: 4  (aggregate of one user's orders: covering)
\set u random(1, @USERS@)
SELECT count(*), sum(total) FROM orders WHERE user_id = :u AND status <> 'cancelled';
