//! Every statement the store runs, in one place. A statement both backends run is written
//! once, in the SQL both speak: `$1`-style parameters (SQLite reads `$1` as a named
//! parameter and numbers names in order of first appearance, so each statement must
//! name `$1`, `$2`, … first in that order: the tests check it), `TRUE`/`FALSE`, and
//! upserts that qualify the existing row by its table's name (PostgreSQL requires it).
//! What only PostgreSQL does (row locks, notifications, the shared key, the shared
//! throttle's clean-up) is in [`postgres_only`]; SQLite gets the same effects from its
//! single writer (an immediate transaction) and its one instance.
//!
//! (The shared throttle's statements are PostgreSQL-only and live beside it, in
//! `auth/throttle/shared.rs`; the SQLite-to-PostgreSQL copy's are in `migrate.rs`.)
//!
//! The tests prepare every statement on each backend, so a statement one of them does not
//! parse fails there, not in production.

use super::rows::{active_session_columns, session_columns, token_columns, user_columns};

/// Defines each statement as a constant, and [`ALL`] (or the module's own list) of them
/// all, for the tests.
macro_rules! statements {
    ($list:ident: $($(#[doc = $doc:literal])+ $name:ident = $sql:expr;)+) => {
        $(
            $(#[doc = $doc])+
            pub(in crate::server::store) const $name: &str = $sql;
        )+
        /// Every statement of this list, by name.
        #[cfg(test)]
        pub(in crate::server::store) const $list: &[(&str, &'static str)] =
            &[$((stringify!($name), $name)),+];
    };
}

statements! { ALL:
    /// Whether the database answers.
    PING = "SELECT 1";
    /// A login identity's user and password hash: `$1` customer code, `$2` username.
    FIND_USER = concat!(
        "SELECT ", user_columns!(), ", password_hash FROM users \
         WHERE customer_code = $1 AND username = $2"
    );
    /// Creates or updates a demo user: code, username, display name, password hash.
    UPSERT_DEMO_USER = "INSERT INTO users (customer_code, username, display_name, password_hash, is_demo)
         VALUES ($1, $2, $3, $4, TRUE)
         ON CONFLICT (customer_code, username) DO UPDATE
         SET display_name = excluded.display_name,
             password_hash = excluded.password_hash, is_demo = TRUE";
    /// How many demo users there are.
    COUNT_DEMO_USERS = "SELECT count(*) FROM users WHERE is_demo = TRUE";
    /// Adds `$2` to the server-wide counter `$1`.
    ADD_TO_COUNTER = "INSERT INTO counters (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value";
    /// Adds one to session `$1`'s counter `$2`.
    COUNT_FOR_SESSION = "INSERT INTO session_counters (session_id, name, value) VALUES ($1, $2, 1)
         ON CONFLICT (session_id, name) DO UPDATE SET value = session_counters.value + 1";
    /// The server-wide counters.
    SERVER_COUNTERS = "SELECT name, value FROM counters";
    /// Session `$1`'s counters.
    SESSION_COUNTERS = "SELECT name, value FROM session_counters WHERE session_id = $1";
    /// A new session: id, user, created, expires.
    INSERT_SESSION = "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
    /// A new refresh token: hash, session, issued.
    INSERT_TOKEN = "INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)";
    /// The presented token (by hash `$1`), its session and user.
    TOKEN_ROW = concat!(
        "SELECT ", token_columns!(), " FROM refresh_tokens t \
         JOIN sessions s ON s.id = t.session_id \
         JOIN users u ON u.id = s.user_id \
         WHERE t.hash = $1"
    );
    /// Session `$1` and its user.
    LOAD_SESSION = concat!(
        "SELECT ", session_columns!(), " FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1"
    );
    /// Spends, at `$1`, every unspent token of session `$3` but the new one `$2`, which
    /// replaces them.
    SPEND_FAMILY = "UPDATE refresh_tokens SET spent_at = $1, replaced_by = $2
         WHERE session_id = $3 AND spent_at IS NULL AND hash <> $2";
    /// Ends session `$3` at `$1` for reason `$2`, unless it has ended.
    REVOKE = "UPDATE sessions SET revoked_at = $1, revoked_reason = $2
         WHERE id = $3 AND revoked_at IS NULL";
    /// Ends, at `$1`, user `$2`'s live sessions but `$3`.
    REVOKE_OTHERS = "UPDATE sessions SET revoked_at = $1, revoked_reason = 'signed out from another session'
         WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL";
    /// User `$1`'s sessions live at `$2`, newest first.
    LIST_LIVE = concat!(
        "SELECT ", active_session_columns!(), " FROM sessions s \
         WHERE s.user_id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
         ORDER BY s.created_at DESC, s.id"
    );
    /// Makes session `$1`'s access tokens so far unusable.
    SUPERSEDE_ACCESS_TOKENS = "UPDATE sessions SET access_version = access_version + 1 WHERE id = $1";
    /// Session `$2`'s access-token lifetime, `$1` seconds.
    SET_ACCESS_TTL = "UPDATE sessions SET access_ttl_secs = $1 WHERE id = $2";
    /// The refresh tokens of sessions that ended before `$1`.
    PRUNE_TOKENS = "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions
         WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1))";
    /// The sessions that ended before `$1`.
    PRUNE_SESSIONS = "DELETE FROM sessions
         WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)";
}

/// What only the PostgreSQL backend runs.
pub(super) mod postgres_only {
    statements! { ALL:
        /// The session of the token with hash `$1`, read before the rotation's transaction.
        SESSION_OF_TOKEN = "SELECT session_id FROM refresh_tokens WHERE hash = $1";
        /// Holds session `$1`'s row until the transaction ends: rotations of one family
        /// take turns across instances (SQLite: its immediate transaction).
        LOCK_SESSION = "SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE";
        /// Announces `$2` on channel `$1` to the other instances, at commit.
        ANNOUNCE = "SELECT pg_notify($1, $2)";
        /// The shared throttle's failures older than `$1` (SQLite's throttle is in memory).
        PRUNE_LOGIN_FAILURES = "DELETE FROM login_failures WHERE at < $1";
        /// Stores `$1` as the shared signing key unless one is stored.
        OFFER_SIGNING_KEY = "INSERT INTO shared_secrets (name, value) VALUES ('jwt_secret', $1)
             ON CONFLICT (name) DO NOTHING";
        /// The shared signing key's stored value.
        SIGNING_KEY = "SELECT value FROM shared_secrets WHERE name = 'jwt_secret'";
        /// Replaces the stored signing key `$1` by `$2` (compare and swap).
        REPLACE_SIGNING_KEY = "UPDATE shared_secrets SET value = $2
             WHERE name = 'jwt_secret' AND value = $1";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The numbering SQLite gives `$n` parameters is their order of first appearance; a
    /// statement that names `$2` before `$1` would bind its values to the wrong places.
    #[test]
    fn every_shared_statement_prepares_on_sqlite_with_its_parameters_in_order() {
        let dir = tempfile::tempdir().expect("temp dir");
        drop(super::super::sqlite::SqliteStore::open(&dir.path().join("db.sqlite")).expect("open"));
        let connection = rusqlite::Connection::open(dir.path().join("db.sqlite")).expect("open");
        for (name, sql) in ALL {
            let statement = connection
                .prepare(sql)
                .unwrap_or_else(|e| panic!("{name} does not prepare on SQLite: {e}"));
            let count = statement.parameter_count();
            assert!(count > 0 || !sql.contains('$'), "{name}");
            for index in 1..=count {
                assert_eq!(
                    statement.parameter_name(index),
                    Some(format!("${index}").as_str()),
                    "{name}: parameter {index} is not ${index}"
                );
            }
        }
    }

    #[test]
    fn a_parameter_named_out_of_order_is_caught() {
        let connection = rusqlite::Connection::open_in_memory().expect("open");
        let statement = connection.prepare("SELECT $2, $1").expect("prepares");
        assert_eq!(statement.parameter_name(1), Some("$2"));
    }
}
