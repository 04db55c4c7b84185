-- Demo users are marked, so that switching demo mode off locks them out. Until now the
-- demo upsert was the only way a user got into the database, so every existing user is one.
ALTER TABLE users ADD COLUMN is_demo INTEGER NOT NULL DEFAULT 0;
UPDATE users SET is_demo = 1;
