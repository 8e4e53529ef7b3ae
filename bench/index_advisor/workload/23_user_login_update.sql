-- weight: 5  (write: by primary key)
\set u random(1, @USERS@)
UPDATE users SET last_login_at = timestamptz '2025-06-01 00:00+00' WHERE id = :u;
