-- weight: 10  (join on primary keys: nothing to add)
\set o random(1, @ROWS@)
SELECT o.id, o.total, o.status, u.email FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = :o;
