-- weight: 4  (GROUP BY on a filtered set: covering)
\set a random(1, @ACCOUNTS@)
SELECT status, count(*) FROM users WHERE account_id = :a GROUP BY status;
