-- weight: 6  (two equalities then ORDER BY LIMIT)
\set a random(1, @ACCOUNTS@)
SELECT id, email, name FROM users WHERE account_id = :a AND status = 'active' ORDER BY created_at LIMIT 50;
