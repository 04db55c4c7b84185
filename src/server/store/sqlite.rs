//! The embedded SQLite backend: one file in `data_dir`, one connection behind a mutex
//! (SQLite serialises writers anyway), every call on the blocking thread pool so that
//! database work never blocks the async runtime. Times are Unix milliseconds.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use super::backend::Backend;
use super::records::{
    RefreshError, RefreshPolicy, Refreshed, SessionWithUser, TokenRow, UserRecord, Verdict,
};
use super::rows::{self, presented_token, session_with_user, user_record};
use super::sql;
use super::tally::Tally;
use super::{counter, DbError};
use crate::api::ActiveSession;
use crate::server::ops::secrets::{new_refresh_token, random_token, refresh_token_hash};
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::users::Identity;

/// Schema history, one file per step in `migrations/sqlite/` (beside PostgreSQL's);
/// append, never edit a released step: a database records how many steps it has taken.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(include_str!("../../../migrations/sqlite/0001_schema.sql")),
        M::up(include_str!(
            "../../../migrations/sqlite/0002_demo_users.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0003_milliseconds.sql"
        )),
        M::up(include_str!(
            "../../../migrations/sqlite/0004_token_indexes.sql"
        )),
    ])
}

/// Creates the database file as owner-only (0600), or makes an existing one so. SQLite
/// gives its `-wal` and `-shm` files the database file's mode.
fn owner_only(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.permissions().mode() & 0o077 != 0 => {
                tracing::warn!(path = %path.display(), "database was readable by others; now 0600");
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)?;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[derive(Clone)]
pub(crate) struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub(super) fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::server::ops::secrets::create_private_dir(parent).map_err(|source| {
                DbError::DataDir {
                    path: parent.display().to_string(),
                    source,
                }
            })?;
        }
        owner_only(path).map_err(|source| DbError::DataDir {
            path: path.display().to_string(),
            source,
        })?;
        let mut connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.busy_timeout(Duration::from_secs(5))?;
        migrations().to_latest(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` with the connection on the blocking thread pool.
    async fn call<R, F>(&self, work: F) -> Result<R, DbError>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R, DbError> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut guard = connection.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut guard)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }
}

#[async_trait]
impl Backend for SqliteStore {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> Result<(), DbError> {
        self.call(|connection| Ok(connection.query_row(sql::PING, [], |_| Ok(()))?))
            .await
    }

    async fn find_user(&self, identity: Identity) -> Result<Option<(UserRecord, String)>, DbError> {
        self.call(move |connection| {
            Ok(connection
                .query_row(
                    sql::FIND_USER,
                    params![identity.customer_code, identity.username],
                    |row| Ok((user_record(row)?, row.get("password_hash")?)),
                )
                .optional()?)
        })
        .await
    }

    async fn upsert_demo_user(
        &self,
        identity: Identity,
        display_name: String,
        password_hash: String,
    ) -> Result<(), DbError> {
        self.call(move |connection| {
            connection.execute(
                sql::UPSERT_DEMO_USER,
                params![
                    identity.customer_code,
                    identity.username,
                    display_name,
                    password_hash
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn count_demo_users(&self) -> Result<i64, DbError> {
        self.call(|connection| {
            Ok(connection.query_row(sql::COUNT_DEMO_USERS, [], |row| row.get(0))?)
        })
        .await
    }

    async fn add_to_counters(&self, counts: Vec<(String, u64)>) -> Result<(), DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            for (name, count) in &counts {
                transaction.execute(
                    sql::ADD_TO_COUNTER,
                    params![name, i64::try_from(*count).unwrap_or(i64::MAX)],
                )?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await
    }

    async fn counter_rows(&self, session: Option<String>) -> Result<Vec<(String, i64)>, DbError> {
        self.call(move |connection| {
            let rows = match session {
                None => connection
                    .prepare_cached(sql::SERVER_COUNTERS)?
                    .query_map([], |row| rows::counter(row))?
                    .collect::<Result<_, _>>()?,
                Some(session) => connection
                    .prepare_cached(sql::SESSION_COUNTERS)?
                    .query_map(params![session], |row| rows::counter(row))?
                    .collect::<Result<_, _>>()?,
            };
            Ok(rows)
        })
        .await
    }

    async fn start_session(
        &self,
        user_id: i64,
        now: Timestamp,
        lifetime: Duration,
        tally: Arc<Tally>,
    ) -> Result<(SessionWithUser, String), DbError> {
        self.call(move |connection| {
            let transaction =
                connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let session_id = random_token(16);
            transaction.execute(
                sql::INSERT_SESSION,
                params![
                    session_id,
                    user_id,
                    now.unix_ms(),
                    (now + lifetime).unix_ms()
                ],
            )?;
            let (token, _) = insert_token(&transaction, &session_id, now)?;
            count_for_session(&transaction, counter::LOGINS, &session_id)?;
            let found = load(&transaction, &session_id)?
                .ok_or_else(|| DbError::Task("session vanished".into()))?;
            transaction.commit()?;
            tally.add(counter::LOGINS);
            Ok((found, token))
        })
        .await
    }

    async fn rotate(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
        tally: Arc<Tally>,
    ) -> Result<Refreshed, RefreshError> {
        self.call(move |connection| Ok(rotate(connection, &presented, now, policy, &tally)))
            .await?
    }

    async fn peek(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
    ) -> Result<Option<SessionWithUser>, DbError> {
        self.call(move |connection| {
            Ok(token_row(connection, &presented)?
                .filter(|row| Verdict::of(row, now, policy).succeeds())
                .map(|row| row.found))
        })
        .await
    }

    async fn live_session_of(
        &self,
        presented: String,
        now: Timestamp,
    ) -> Result<Option<SessionWithUser>, DbError> {
        self.call(move |connection| {
            Ok(token_row(connection, &presented)?
                .map(|row| row.found)
                .filter(|found| found.session.is_live(now)))
        })
        .await
    }

    async fn load_session(&self, session_id: String) -> Result<Option<SessionWithUser>, DbError> {
        self.call(move |connection| load(connection, &session_id))
            .await
    }

    async fn list_live(
        &self,
        user_id: i64,
        current: String,
        now: Timestamp,
    ) -> Result<Vec<ActiveSession>, DbError> {
        self.call(move |connection| {
            let mut statement = connection.prepare_cached(sql::LIST_LIVE)?;
            let rows = statement.query_map(params![user_id, now.unix_ms()], |row| {
                rows::active_session(row, &current)
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn revoke(
        &self,
        session_id: String,
        now: Timestamp,
        reason: &'static str,
    ) -> Result<(), DbError> {
        self.call(move |connection| revoke(connection, &session_id, now, reason))
            .await
    }

    async fn revoke_others(
        &self,
        user_id: i64,
        keep: String,
        now: Timestamp,
    ) -> Result<u64, DbError> {
        self.call(move |connection| {
            let ended =
                connection.execute(sql::REVOKE_OTHERS, params![now.unix_ms(), user_id, keep])?;
            Ok(ended as u64)
        })
        .await
    }

    async fn supersede_access_tokens(&self, session_id: String) -> Result<(), DbError> {
        self.call(move |connection| {
            connection.execute(sql::SUPERSEDE_ACCESS_TOKENS, params![session_id])?;
            Ok(())
        })
        .await
    }

    async fn set_access_ttl(&self, session_id: String, seconds: i64) -> Result<(), DbError> {
        self.call(move |connection| {
            connection.execute(sql::SET_ACCESS_TTL, params![seconds, session_id])?;
            Ok(())
        })
        .await
    }

    async fn prune(&self, ended_before: Timestamp) -> Result<(u64, u64), DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let tokens = transaction.execute(sql::PRUNE_TOKENS, params![ended_before.unix_ms()])?;
            let sessions =
                transaction.execute(sql::PRUNE_SESSIONS, params![ended_before.unix_ms()])?;
            transaction.commit()?;
            Ok((sessions as u64, tokens as u64))
        })
        .await
    }

    /// Every stored refresh-token hash (the tests check that no raw token is kept).
    #[cfg(test)]
    async fn token_hashes(&self) -> Vec<Vec<u8>> {
        self.call(|connection| {
            let mut statement = connection.prepare("SELECT hash FROM refresh_tokens")?;
            let hashes = statement.query_map([], |row| row.get(0))?;
            Ok(hashes.collect::<Result<_, _>>()?)
        })
        .await
        .expect("hashes")
    }

    #[cfg(test)]
    async fn execute_for_test(&self, sql: &str) {
        let sql = sql.to_owned();
        self.call(move |connection| Ok(connection.execute_batch(&sql)?))
            .await
            .expect("statement");
    }
}

fn rotate(
    connection: &mut Connection,
    presented: &str,
    now: Timestamp,
    policy: RefreshPolicy,
    tally: &Tally,
) -> Result<Refreshed, RefreshError> {
    // Immediate: the write lock is taken before the token is read, so two rotations of
    // one token are one after the other, never both on the same unspent row.
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(DbError::from)?;
    let Some(row) = token_row(&transaction, presented)? else {
        tally.add(counter::FAILED_REFRESHES);
        return Err(RefreshError::Unknown);
    };
    let session_id = row.found.session.id.clone();
    let verdict = Verdict::of(&row, now, policy);
    let plan = verdict.plan();
    let new_token = if plan.issue_token {
        let (token, new_hash) = insert_token(&transaction, &session_id, now)?;
        if plan.spend_family {
            // Cached, like the rotation's other statements on its usual path: planning
            // this one anew (three indexes to weigh) cost 12 % of the refresh row.
            transaction
                .prepare_cached(sql::SPEND_FAMILY)
                .and_then(|mut spend| spend.execute(params![now.unix_ms(), new_hash, session_id]))
                .map_err(DbError::from)?;
        }
        Some(token)
    } else {
        None
    };
    if let Some(reason) = plan.revoke {
        revoke(&transaction, &session_id, now, reason)?;
    }
    for name in plan.counts {
        count_for_session(&transaction, name, &session_id)?;
    }
    transaction.commit().map_err(DbError::from)?;
    for name in plan.counts {
        tally.add(name);
    }
    verdict.outcome(row, new_token, policy)
}

/// The presented token's row; `None` for unknown and malformed tokens alike.
fn token_row(connection: &Connection, presented: &str) -> Result<Option<TokenRow>, DbError> {
    let Some(hash) = refresh_token_hash(presented) else {
        return Ok(None);
    };
    Ok(connection
        .prepare_cached(sql::TOKEN_ROW)?
        .query_row(params![hash], |row| presented_token(row))
        .optional()?)
}

fn load(connection: &Connection, session_id: &str) -> Result<Option<SessionWithUser>, DbError> {
    Ok(connection
        .prepare_cached(sql::LOAD_SESSION)?
        .query_row(params![session_id], |row| session_with_user(row))
        .optional()?)
}

fn insert_token(
    transaction: &Transaction<'_>,
    session_id: &str,
    now: Timestamp,
) -> Result<(String, Vec<u8>), DbError> {
    let token = new_refresh_token();
    let hash = refresh_token_hash(&token)
        .ok_or_else(|| DbError::Task("fresh token did not hash".into()))?;
    transaction
        .prepare_cached(sql::INSERT_TOKEN)?
        .execute(params![hash, session_id, now.unix_ms()])?;
    Ok((token, hash))
}

fn revoke(
    connection: &Connection,
    session_id: &str,
    now: Timestamp,
    reason: &str,
) -> Result<(), DbError> {
    connection.execute(sql::REVOKE, params![now.unix_ms(), reason, session_id])?;
    Ok(())
}

/// Adds one to the session's counter (the server-wide one is counted in the [`Tally`]).
fn count_for_session(connection: &Connection, name: &str, session_id: &str) -> Result<(), DbError> {
    connection
        .prepare_cached(sql::COUNT_FOR_SESSION)?
        .execute(params![session_id, name])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        migrations()
            .validate()
            .expect("migrations apply to an empty database");
    }

    /// What SQLite's planner says it reads for `sql`, one line per step.
    fn plan(connection: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
        let mut statement = connection
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .expect("explain");
        let steps = statement
            .query_map(params, |row| row.get::<_, String>("detail"))
            .expect("plan");
        steps
            .map(|step| step.expect("step"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_rotation_reads_the_unspent_tokens_not_the_whole_family() {
        // Spent tokens are kept while their session lives: spending the family through
        // the session index alone made each rotation slower than the last.
        let mut connection = Connection::open_in_memory().expect("database");
        migrations().to_latest(&mut connection).expect("migrated");
        let spend = plan(
            &connection,
            sql::SPEND_FAMILY,
            params![1, b"new", "session"],
        );
        assert!(
            spend.contains("USING INDEX refresh_tokens_unspent"),
            "{spend}"
        );
        let list = plan(&connection, sql::LIST_LIVE, params![1, 1]);
        // Each session's latest refresh is read off the index, not from its rows.
        assert!(
            list.contains("COVERING INDEX refresh_tokens_by_session"),
            "{list}"
        );
    }
}
