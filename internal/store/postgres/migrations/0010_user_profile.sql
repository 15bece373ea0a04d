-- Graph's user properties givenName, surname and mail, which the optional
-- claims given_name, family_name and email carry. Empty means unset: Graph
-- shows null and tokens leave the claim out.
ALTER TABLE users ADD COLUMN given_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN surname TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN mail TEXT NOT NULL DEFAULT '';
