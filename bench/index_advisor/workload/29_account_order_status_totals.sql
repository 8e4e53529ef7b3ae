-- weight: 3  (GROUP BY status of one account's orders: covering)
\set a random(1, @ACCOUNTS@)
SELECT status, count(*), sum(total) FROM orders WHERE account_id = :a GROUP BY status;
