-- weight: 2  (lookup by a natural key)
\set a random(1, @ACCOUNTS@)
SELECT id, plan, country FROM accounts WHERE name = 'Account ' || :a;
