//! The store: users, logins as refresh-token families, counters and (for several
//! instances) the shared signing secret. Embedded SQLite is the zero-setup default for one
//! instance; PostgreSQL is the backend for several. The rest of the server sees one
//! [`Store`]; the refresh rules themselves live in [`records`], shared by both backends.

mod backend;
pub(crate) mod cache;
pub mod migrate;
mod postgres;
pub(crate) mod records;
mod rows;
mod sql;
mod sqlite;
pub(crate) mod tally;
#[cfg(test)]
mod tests;
pub(crate) mod users;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::api::{ActiveSession, Counters};
use crate::server::ops::config::{Database, DemoUser, Settings};
use crate::server::ops::timestamp::Timestamp;
use backend::Backend;
use cache::{Changed, SessionCache};
use postgres::PgStore;
use records::{RefreshError, RefreshPolicy, Refreshed, SessionWithUser, UserRecord};
use sqlite::SqliteStore;
use tally::Tally;
use users::{hash_password, verify_password, Identity};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    SqliteMigration(#[from] rusqlite_migration::Error),
    #[error("database: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    PostgresMigration(#[from] sqlx::migrate::MigrateError),
    /// The message names the setting and the server, never the password.
    #[error("`server.database`: cannot use PostgreSQL at {target}: {cause}")]
    Connect { target: String, cause: String },
    /// Refused without trying: the database is known to be unreachable right now.
    #[error("the database is unreachable")]
    Unreachable,
    #[error("database task: {0}")]
    Task(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

impl DbError {
    /// Whether the database could not be reached (rather than refusing the work): the
    /// request may succeed later, and the answer is 503, not 500.
    pub(crate) fn is_unavailable(&self) -> bool {
        match self {
            Self::Unreachable | Self::Connect { .. } => true,
            Self::Postgres(error) => match error {
                // A connection that breaks off mid-handshake reads as a protocol error.
                sqlx::Error::Io(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed => true,
                // Class 08: connection exceptions; 57P0x: the server is shutting down,
                // starting up or restarting.
                sqlx::Error::Database(error) => error
                    .code()
                    .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
                _ => false,
            },
            _ => false,
        }
    }
}

/// A store error, refresh refusals included, as far as the store's health is concerned.
pub(crate) trait AsDbError {
    fn as_db_error(&self) -> Option<&DbError>;
}

impl AsDbError for DbError {
    fn as_db_error(&self) -> Option<&DbError> {
        Some(self)
    }
}

impl AsDbError for RefreshError {
    fn as_db_error(&self) -> Option<&DbError> {
        match self {
            RefreshError::Db(error) => Some(error),
            _ => None,
        }
    }
}

/// Names of the counters; `rejected.<errcode>` counts refused requests.
pub(crate) mod counter {
    pub(crate) const LOGINS: &str = "logins";
    pub(crate) const FAILED_LOGINS: &str = "failed_logins";
    pub(crate) const REFRESHES: &str = "refreshes";
    pub(crate) const ROTATIONS: &str = "rotations";
    pub(crate) const GRACE_REFRESHES: &str = "grace_refreshes";
    pub(crate) const REUSE_DETECTIONS: &str = "reuse_detections";
    pub(crate) const FAILED_REFRESHES: &str = "failed_refreshes";
    pub(crate) const REJECTED_PREFIX: &str = "rejected.";
}

/// Ended sessions are kept this long (the lab and the log can still refer to them), with
/// their refresh tokens. A live session's spent tokens are kept as long as it lives, so
/// that one presented again, however late, is recognised as reuse and revokes the family:
/// a thief who rotated first cannot outwait the victim.
pub(crate) const ENDED_SESSIONS_KEPT: Duration = Duration::from_secs(24 * 3600);

/// One store, either backend. Cheap to clone: everything in it is shared.
#[derive(Clone)]
pub(crate) struct Store {
    backend: Arc<dyn Backend>,
    health: Arc<Health>,
    sessions: Arc<SessionCache>,
    /// Server-wide counts not yet stored (see [`tally`]).
    tally: Arc<Tally>,
}

/// Whether the database answers. An outage is logged once, not once per request;
/// while it lasts requests are refused at once (503) instead of each waiting out the
/// connect timeout, and a probe, once a second, finds its end.
#[derive(Default)]
struct Health {
    down: AtomicBool,
}

impl Store {
    /// Opens the configured database and brings its schema up to date.
    pub(crate) async fn open(settings: &Settings) -> Result<Self, DbError> {
        let backend: Arc<dyn Backend> = match settings.database() {
            Database::Sqlite(path) => {
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                    .await
                    .map_err(|e| DbError::Task(e.to_string()))??;
                Arc::new(store)
            }
            Database::Postgres(url) => Arc::new(
                PgStore::connect(
                    url,
                    settings.server.database_pool_size,
                    settings.server.database_connect_timeout,
                )
                .await?,
            ),
        };
        // One SQLite instance makes every change itself; PostgreSQL instances learn of
        // each other's changes only while listening (see `spawn_listener`).
        let cached = backend.postgres_pool().is_none();
        Ok(Self {
            backend,
            health: Arc::default(),
            sessions: Arc::new(SessionCache::new(cached)),
            tally: Arc::default(),
        })
    }

    /// Where several instances keep failed logins, so that they throttle as one: the
    /// PostgreSQL database's pool; `None` on SQLite (one instance keeps them in memory).
    pub(crate) fn postgres_pool(&self) -> Option<sqlx::PgPool> {
        self.backend.postgres_pool()
    }

    /// Which backend, for the log.
    pub(crate) fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// On PostgreSQL, the task that keeps the session cache in step with the other
    /// instances' changes (`LISTEN`); until it listens, the cache stays off.
    pub(crate) fn spawn_listener(&self) -> Option<tokio::task::JoinHandle<()>> {
        self.backend.spawn_listener(Arc::clone(&self.sessions))
    }

    /// Whether the session cache is serving.
    #[cfg(test)]
    pub(crate) fn session_cache_on(&self) -> bool {
        self.sessions.is_enabled()
    }

    /// Asks the database itself, whatever the health says: readiness and the probe.
    pub(crate) async fn ping(&self) -> Result<(), DbError> {
        let answered = self.backend.ping().await;
        match &answered {
            Ok(()) => self.note_recovery(),
            Err(error) => self.note_failure(error),
        }
        answered
    }

    /// Runs one backend operation, refused at once while the database is known to be down,
    /// and notes whether the database answered.
    async fn guarded<R, E>(&self, operation: impl Future<Output = Result<R, E>>) -> Result<R, E>
    where
        E: AsDbError + From<DbError>,
    {
        if self.health.down.load(Ordering::Acquire) {
            return Err(DbError::Unreachable.into());
        }
        let result = operation.await;
        if let Err(error) = &result {
            self.note_failure(error);
        }
        result
    }

    fn note_failure(&self, error: &impl AsDbError) {
        let Some(error) = error.as_db_error().filter(|e| e.is_unavailable()) else {
            return;
        };
        if self.health.down.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::error!(%error, "database unreachable: /api answers 503 (50301) until it is back");
        // Changes made elsewhere meanwhile may never be announced to this instance.
        self.sessions.forget_all();
        let store = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if store.ping().await.is_ok() {
                    break;
                }
            }
        });
    }

    fn note_recovery(&self) {
        if self.health.down.swap(false, Ordering::AcqRel) {
            tracing::info!("database reachable again");
        }
    }

    /// The user and stored password hash for a login attempt.
    pub(crate) async fn find_user(
        &self,
        identity: &Identity,
    ) -> Result<Option<(UserRecord, String)>, DbError> {
        self.guarded(self.backend.find_user(identity.clone())).await
    }

    /// Creates or updates the demo users. A stored hash is kept when the password still
    /// matches, so restarts do not rehash (and existing sessions keep their user id).
    pub(crate) async fn seed_demo_users(&self, users: &[DemoUser]) -> Result<(), DbError> {
        for user in users {
            let identity = Identity::new(&user.customer_code, &user.username);
            let password = user.password.expose().to_owned();
            let existing = self.find_user(&identity).await?;
            let kept = existing.map(|(_, hash)| hash);
            let password_hash = tokio::task::spawn_blocking(move || match kept {
                Some(hash) if verify_password(&hash, &password) => Ok(hash),
                _ => hash_password(&password),
            })
            .await
            .map_err(|e| DbError::Task(e.to_string()))??;
            let display_name = user.display_name.clone();
            self.guarded(
                self.backend
                    .upsert_demo_user(identity, display_name, password_hash),
            )
            .await?;
        }
        Ok(())
    }

    /// How many demo users the database holds (locked out while demo mode is off).
    pub(crate) async fn count_demo_users(&self) -> Result<i64, DbError> {
        self.guarded(self.backend.count_demo_users()).await
    }

    /// Adds one to a server-wide counter (in memory until the next flush).
    pub(crate) fn count(&self, name: &'static str) {
        self.tally.add(name);
    }

    /// Counts a refused `/api` request (in memory until the next flush).
    pub(crate) fn count_rejection(&self, code: crate::api::ErrCode) {
        self.tally.record_rejection(code);
    }

    /// Adds the server-wide counts made since the last flush to the stored counters, in
    /// one transaction; if that fails they stay pending for the next flush.
    pub(crate) async fn flush_counts(&self) -> Result<(), DbError> {
        if self.health.down.load(Ordering::Acquire) {
            return Err(DbError::Unreachable);
        }
        let taken = self.tally.take();
        if taken.is_empty() {
            return Ok(());
        }
        let written = self.backend.add_to_counters(taken.clone()).await;
        if let Err(error) = &written {
            self.note_failure(error);
            self.tally.give_back(&taken);
        }
        written
    }

    /// Server-wide counters (as stored, plus what this instance has not flushed yet), or
    /// one session's (always exact: counted in the transactions themselves).
    pub(crate) async fn read_counters(&self, session: Option<&str>) -> Result<Counters, DbError> {
        let owned = session.map(str::to_owned);
        let mut rows = self.guarded(self.backend.counter_rows(owned)).await?;
        if session.is_none() {
            for (name, pending) in self.tally.pending() {
                let pending = i64::try_from(pending).unwrap_or(i64::MAX);
                match rows.iter_mut().find(|(stored, _)| *stored == name) {
                    Some((_, value)) => *value = value.saturating_add(pending),
                    None => rows.push((name, pending)),
                }
            }
        }
        Ok(counters_from_rows(rows))
    }

    /// Starts a login: a new family with its first refresh token.
    pub(crate) async fn start_session(
        &self,
        user_id: i64,
        now: Timestamp,
        lifetime: Duration,
    ) -> Result<(SessionWithUser, String), DbError> {
        let tally = Arc::clone(&self.tally);
        self.guarded(self.backend.start_session(user_id, now, lifetime, tally))
            .await
    }

    /// Spends `presented` and returns its successor, in one transaction that is atomic
    /// between processes too. A spent token presented again revokes the family, unless it
    /// is the one spent less than `policy.grace` ago and its successor is still unused:
    /// then it only gets a new access token.
    pub(crate) async fn rotate(
        &self,
        presented: Option<String>,
        now: Timestamp,
        policy: RefreshPolicy,
    ) -> Result<Refreshed, RefreshError> {
        let presented = presented.ok_or(RefreshError::Missing)?;
        let tally = Arc::clone(&self.tally);
        let refreshed = self
            .guarded(self.backend.rotate(presented, now, policy, tally))
            .await;
        if let Err(
            RefreshError::Reused(who) | RefreshError::Idle(who) | RefreshError::DemoOff(who),
        ) = &refreshed
        {
            // These revoked the session.
            self.sessions.forget(&Changed::Session(who.session.clone()));
        }
        refreshed
    }

    /// The session a refresh cookie belongs to, if presenting it now would succeed (used to
    /// decide during server rendering whether the visitor is signed in; changes nothing).
    pub(crate) async fn peek(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
    ) -> Result<Option<SessionWithUser>, DbError> {
        self.guarded(self.backend.peek(presented, now, policy))
            .await
    }

    /// The session a refresh cookie belongs to, spent or not, while the session is live
    /// (logout and the demo controls act on it even when its access token is long expired).
    pub(crate) async fn live_session_of(
        &self,
        presented: String,
        now: Timestamp,
    ) -> Result<Option<SessionWithUser>, DbError> {
        self.guarded(self.backend.live_session_of(presented, now))
            .await
    }

    /// A session and its user by id: what every authenticated request checks, served
    /// from memory where the cache can vouch for it (see [`cache`]).
    pub(crate) async fn load_session(
        &self,
        session_id: &str,
    ) -> Result<Option<SessionWithUser>, DbError> {
        if let Some(found) = self.sessions.get(session_id) {
            return Ok(Some(found));
        }
        let epoch = self.sessions.epoch();
        let found = self
            .guarded(self.backend.load_session(session_id.to_owned()))
            .await?;
        if let Some(found) = &found {
            self.sessions.insert(found, epoch);
        }
        Ok(found)
    }

    /// The user's live sessions, newest first, marking `current`.
    pub(crate) async fn list_live(
        &self,
        user_id: i64,
        current: &str,
        now: Timestamp,
    ) -> Result<Vec<ActiveSession>, DbError> {
        self.guarded(self.backend.list_live(user_id, current.to_owned(), now))
            .await
    }

    /// Ends a session: its refresh tokens stop working and its access tokens answer 30001.
    pub(crate) async fn revoke(
        &self,
        session_id: &str,
        now: Timestamp,
        reason: &'static str,
    ) -> Result<(), DbError> {
        let changed = Changed::Session(session_id.to_owned());
        self.guarded(self.backend.revoke(session_id.to_owned(), now, reason))
            .await?;
        self.sessions.forget(&changed);
        Ok(())
    }

    /// Ends every live session of the user except `keep`; how many were ended.
    pub(crate) async fn revoke_others(
        &self,
        user_id: i64,
        keep: &str,
        now: Timestamp,
    ) -> Result<u64, DbError> {
        let ended = self
            .guarded(self.backend.revoke_others(user_id, keep.to_owned(), now))
            .await?;
        self.sessions.forget(&Changed::User(user_id));
        Ok(ended)
    }

    /// Makes every access token minted so far for the session unusable (they answer 30001).
    pub(crate) async fn supersede_access_tokens(&self, session_id: &str) -> Result<(), DbError> {
        let changed = Changed::Session(session_id.to_owned());
        self.guarded(self.backend.supersede_access_tokens(session_id.to_owned()))
            .await?;
        self.sessions.forget(&changed);
        Ok(())
    }

    /// Sets the access-token lifetime of one session (takes effect at its next refresh).
    pub(crate) async fn set_access_ttl(
        &self,
        session_id: &str,
        lifetime: Duration,
    ) -> Result<(), DbError> {
        let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        self.guarded(self.backend.set_access_ttl(session_id.to_owned(), seconds))
            .await?;
        self.sessions
            .forget(&Changed::Session(session_id.to_owned()));
        Ok(())
    }

    /// Deletes sessions that ended more than [`ENDED_SESSIONS_KEPT`] ago, with their tokens
    /// and counters. Returns (sessions, tokens) deleted.
    pub(crate) async fn prune(&self, now: Timestamp) -> Result<(u64, u64), DbError> {
        self.guarded(self.backend.prune(now - ENDED_SESSIONS_KEPT))
            .await
    }

    /// The signing key every instance shares, generated by whichever instance asks first
    /// (PostgreSQL only: a SQLite deployment keeps its generated key in `data_dir`).
    pub(crate) async fn shared_signing_key(
        &self,
        candidate: String,
    ) -> Result<Option<String>, DbError> {
        self.guarded(self.backend.shared_signing_key(candidate))
            .await
    }

    /// Replaces the stored value of the shared signing key, unless another instance changed
    /// it first; whether it did.
    pub(crate) async fn replace_shared_signing_key(
        &self,
        stored: String,
        replacement: String,
    ) -> Result<bool, DbError> {
        self.guarded(self.backend.replace_shared_signing_key(stored, replacement))
            .await
    }
}

fn counters_from_rows(rows: Vec<(String, i64)>) -> Counters {
    let mut counters = Counters::default();
    for (name, value) in rows {
        let value = u64::try_from(value).unwrap_or_default();
        match name.as_str() {
            counter::LOGINS => counters.logins = value,
            counter::FAILED_LOGINS => counters.failed_logins = value,
            counter::REFRESHES => counters.refreshes = value,
            counter::ROTATIONS => counters.rotations = value,
            counter::GRACE_REFRESHES => counters.grace_refreshes = value,
            counter::REUSE_DETECTIONS => counters.reuse_detections = value,
            counter::FAILED_REFRESHES => counters.failed_refreshes = value,
            other => {
                if let Some(code) = other.strip_prefix(counter::REJECTED_PREFIX) {
                    counters.rejected.insert(code.to_owned(), value);
                }
            }
        }
    }
    counters
}
