-- weight: 10  (write: keep a session alive, found by token)
\set s random(1, @USERS@)
UPDATE sessions SET last_seen = timestamptz '2025-06-01 00:00+00' WHERE token = md5(:s || '');
