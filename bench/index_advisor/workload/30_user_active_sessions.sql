-- weight: 3  (equality then range)
\set u random(1, @USERS@)
SELECT id, created_at FROM sessions WHERE user_id = :u AND expires_at > timestamptz '2025-05-25 00:00+00';
