-- One unit for every time: sessions move from Unix seconds to milliseconds, like refresh
-- tokens (and like the PostgreSQL schema).
UPDATE sessions SET created_at = created_at * 1000,
                    expires_at = expires_at * 1000,
                    revoked_at = revoked_at * 1000;
CREATE INDEX sessions_by_user ON sessions (user_id);
