-- weight: 20  (login: expression index on lower(email))
\set u random(1, @USERS@)
SELECT id, account_id, name, status FROM users WHERE lower(email) = lower('User' || :u || '@example.com');
