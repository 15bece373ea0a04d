-- The applications a browser session signed in to (their app ids, space
-- separated), for front-channel logout.
ALTER TABLE browser_sessions ADD COLUMN client_ids TEXT NOT NULL DEFAULT '';
