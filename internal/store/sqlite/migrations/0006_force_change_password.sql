-- Graph's passwordProfile.forceChangePasswordNextSignIn: the next interactive
-- sign-in must set a new password. Existing users are not affected.
ALTER TABLE users ADD COLUMN force_change_password INTEGER NOT NULL DEFAULT 0;
