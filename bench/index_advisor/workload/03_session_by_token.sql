-- weight: 25  (every request: equality on a unique token)
\set s random(1, @USERS@)
SELECT user_id, expires_at FROM sessions WHERE token = md5(:s || '') AND expires_at > timestamptz '2025-05-20 00:00+00';
