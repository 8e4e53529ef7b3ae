-- weight: 20  (primary key: nothing to add)
\set u random(1, @USERS@)
SELECT id, account_id, email, name, status, last_login_at FROM users WHERE id = :u;
