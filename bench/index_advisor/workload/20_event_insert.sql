-- weight: 15  (write: append an event)
\set u random(1, @USERS@)
INSERT INTO events (id, user_id, kind, created_at, payload)
VALUES (nextval('events_new_id'), :u, 'view', timestamptz '2025-06-01 00:00+00', '{}');
