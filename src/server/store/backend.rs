//! What a backend does, written once: every operation of the store, as SQLite
//! (`sqlite.rs`) and PostgreSQL (`postgres.rs`) each implement it. [`Store`](super::Store)
//! holds one behind this trait and adds what both share: the health check, the session
//! cache, the in-memory counts. The refresh rules themselves are `records.rs`.
//!
//! Adding a query: one method here, its SQL in each backend, one test in `tests.rs`
//! (which runs every test on both).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::cache::SessionCache;
use super::records::{RefreshError, RefreshPolicy, Refreshed, SessionWithUser, UserRecord};
use super::tally::Tally;
use super::users::Identity;
use super::DbError;
use crate::api::ActiveSession;
use crate::server::ops::timestamp::Timestamp;

/// One database, as the store uses it. Times are [`Timestamp`]s; ids and tokens are owned
/// strings, so that a backend may move them to another thread.
#[async_trait]
pub(super) trait Backend: Send + Sync {
    /// Its name, for the log: `sqlite` or `postgres`.
    fn name(&self) -> &'static str;

    /// Asks the database itself whether it answers.
    async fn ping(&self) -> Result<(), DbError>;

    /// The user of a login identity and the stored password hash.
    async fn find_user(&self, identity: Identity) -> Result<Option<(UserRecord, String)>, DbError>;

    /// Creates or updates a demo user (marked as one).
    async fn upsert_demo_user(
        &self,
        identity: Identity,
        display_name: String,
        password_hash: String,
    ) -> Result<(), DbError>;

    /// How many demo users there are.
    async fn count_demo_users(&self) -> Result<i64, DbError>;

    /// Adds server-wide counts to the stored counters, in one transaction.
    async fn add_to_counters(&self, counts: Vec<(String, u64)>) -> Result<(), DbError>;

    /// The stored counters: the server's, or one session's.
    async fn counter_rows(&self, session: Option<String>) -> Result<Vec<(String, i64)>, DbError>;

    /// A new session (refresh-token family) with its first refresh token.
    async fn start_session(
        &self,
        user_id: i64,
        now: Timestamp,
        lifetime: Duration,
        tally: Arc<Tally>,
    ) -> Result<(SessionWithUser, String), DbError>;

    /// Spends `presented` by the rules of `records.rs`, in one transaction that is atomic
    /// between processes too.
    async fn rotate(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
        tally: Arc<Tally>,
    ) -> Result<Refreshed, RefreshError>;

    /// The session `presented` would refresh now, changing nothing.
    async fn peek(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
    ) -> Result<Option<SessionWithUser>, DbError>;

    /// The live session `presented` belongs to, spent or not.
    async fn live_session_of(
        &self,
        presented: String,
        now: Timestamp,
    ) -> Result<Option<SessionWithUser>, DbError>;

    /// A session and its user by id.
    async fn load_session(&self, session_id: String) -> Result<Option<SessionWithUser>, DbError>;

    /// The user's live sessions, newest first, `current` marked.
    async fn list_live(
        &self,
        user_id: i64,
        current: String,
        now: Timestamp,
    ) -> Result<Vec<ActiveSession>, DbError>;

    /// Ends a session.
    async fn revoke(
        &self,
        session_id: String,
        now: Timestamp,
        reason: &'static str,
    ) -> Result<(), DbError>;

    /// Ends the user's live sessions but `keep`; how many.
    async fn revoke_others(
        &self,
        user_id: i64,
        keep: String,
        now: Timestamp,
    ) -> Result<u64, DbError>;

    /// Makes the session's access tokens so far unusable.
    async fn supersede_access_tokens(&self, session_id: String) -> Result<(), DbError>;

    /// The session's access-token lifetime from its next refresh.
    async fn set_access_ttl(&self, session_id: String, seconds: i64) -> Result<(), DbError>;

    /// Deletes sessions ended before `ended_before` with their refresh tokens, spent or not
    /// (and, where they are stored, failed logins older than that): (sessions, tokens).
    async fn prune(&self, ended_before: Timestamp) -> Result<(u64, u64), DbError>;

    /// The signing key every instance shares, `candidate` if none is stored yet; `None`
    /// where one instance keeps its own (SQLite: in `data_dir`).
    async fn shared_signing_key(&self, _candidate: String) -> Result<Option<String>, DbError> {
        Ok(None)
    }

    /// Replaces the shared signing key's stored value `stored` by `replacement` (the same
    /// key, wrapped), unless another instance changed it first; whether it did.
    async fn replace_shared_signing_key(
        &self,
        _stored: String,
        _replacement: String,
    ) -> Result<bool, DbError> {
        Ok(false)
    }

    /// The connection pool, where several instances share one database (the throttle's
    /// shared half counts there).
    fn postgres_pool(&self) -> Option<sqlx::PgPool> {
        None
    }

    /// The task that keeps `cache` in step with other instances' changes, where there can
    /// be any.
    fn spawn_listener(&self, _cache: Arc<SessionCache>) -> Option<tokio::task::JoinHandle<()>> {
        None
    }

    /// Every stored refresh-token hash (the tests check that no raw token is kept).
    #[cfg(test)]
    async fn token_hashes(&self) -> Vec<Vec<u8>>;

    /// Runs `sql` as it is (the tests change rows behind the store's back).
    #[cfg(test)]
    async fn execute_for_test(&self, sql: &str);
}
