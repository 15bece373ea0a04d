-- The sid of the browser session a refresh token family was signed in
-- from, so id_tokens issued by a refresh name the same session as the
-- code's did; a column, not part of doc, so a session's end can find its
-- families. Families from before have none ('').
ALTER TABLE refresh_families ADD COLUMN sid TEXT NOT NULL DEFAULT '';
