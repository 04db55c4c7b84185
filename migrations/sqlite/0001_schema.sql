-- The first schema: users, sessions (one per login: a refresh-token family), refresh
-- tokens (stored only as SHA-256 hashes), server-wide and per-session counters.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    customer_code TEXT NOT NULL,
    username      TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    UNIQUE (customer_code, username)
);
-- One row per login: a refresh-token family.
CREATE TABLE sessions (
    id              TEXT PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at      INTEGER NOT NULL,      -- Unix seconds
    expires_at      INTEGER NOT NULL,      -- absolute end, Unix seconds
    revoked_at      INTEGER,
    revoked_reason  TEXT,
    access_version  INTEGER NOT NULL DEFAULT 0, -- older access tokens answer 30001
    access_ttl_secs INTEGER                -- per-session override (demo)
);
-- Refresh tokens are stored only as SHA-256 hashes.
CREATE TABLE refresh_tokens (
    hash        BLOB PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    issued_at   INTEGER NOT NULL,          -- Unix milliseconds
    spent_at    INTEGER,                   -- Unix milliseconds, when rotated
    replaced_by BLOB
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE session_counters (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    value      INTEGER NOT NULL,
    PRIMARY KEY (session_id, name)
);
