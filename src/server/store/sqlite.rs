//! The embedded SQLite backend: one file in `data_dir`, one connection behind a mutex
//! (SQLite serialises writers anyway), every call on the blocking thread pool so that
//! database work never blocks the async runtime. Times are Unix milliseconds.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction, TransactionBehavior};
use rusqlite_migration::{Migrations, M};

use super::backend::Backend;
use super::records::{
    RefreshError, RefreshPolicy, Refreshed, SessionWithUser, TokenRow, UserRecord, Verdict,
};
use super::rows::{
    presented_token, session_columns, session_with_user, token_columns, user_columns, user_record,
};
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
        self.call(|connection| Ok(connection.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn find_user(&self, identity: Identity) -> Result<Option<(UserRecord, String)>, DbError> {
        self.call(move |connection| {
            Ok(connection
                .query_row(
                    concat!(
                        "SELECT ",
                        user_columns!(),
                        ", password_hash FROM users WHERE customer_code = ?1 AND username = ?2"
                    ),
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
                "INSERT INTO users (customer_code, username, display_name, password_hash, is_demo)
                 VALUES (?1, ?2, ?3, ?4, 1)
                 ON CONFLICT (customer_code, username) DO UPDATE
                 SET display_name = excluded.display_name,
                     password_hash = excluded.password_hash, is_demo = 1",
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
            Ok(
                connection.query_row(
                    "SELECT count(*) FROM users WHERE is_demo = 1",
                    [],
                    |row| row.get(0),
                )?,
            )
        })
        .await
    }

    async fn add_to_counters(&self, counts: Vec<(String, u64)>) -> Result<(), DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            for (name, count) in &counts {
                transaction.execute(
                    "INSERT INTO counters (name, value) VALUES (?1, ?2)
                     ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
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
            let pair = |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?));
            let rows = match session {
                None => connection
                    .prepare_cached("SELECT name, value FROM counters")?
                    .query_map([], pair)?
                    .collect::<Result<_, _>>()?,
                Some(session) => connection
                    .prepare_cached(
                        "SELECT name, value FROM session_counters WHERE session_id = ?1",
                    )?
                    .query_map(params![session], pair)?
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
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![session_id, user_id, now.unix_ms(), (now + lifetime).unix_ms()],
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
            let mut statement = connection.prepare_cached(
                "SELECT s.id, s.created_at, s.expires_at,
                        (SELECT max(t.issued_at) FROM refresh_tokens t WHERE t.session_id = s.id)
                 FROM sessions s
                 WHERE s.user_id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
                 ORDER BY s.created_at DESC, s.id",
            )?;
            let rows = statement.query_map(params![user_id, now.unix_ms()], |row| {
                Ok(super::records::active_session(
                    &current,
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                ))
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
            let ended = connection.execute(
                "UPDATE sessions SET revoked_at = ?1, revoked_reason = 'signed out from another session'
                 WHERE user_id = ?2 AND id <> ?3 AND revoked_at IS NULL",
                params![now.unix_ms(), user_id, keep],
            )?;
            Ok(ended as u64)
        })
        .await
    }

    async fn supersede_access_tokens(&self, session_id: String) -> Result<(), DbError> {
        self.call(move |connection| {
            connection.execute(
                "UPDATE sessions SET access_version = access_version + 1 WHERE id = ?1",
                params![session_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn set_access_ttl(&self, session_id: String, seconds: i64) -> Result<(), DbError> {
        self.call(move |connection| {
            connection.execute(
                "UPDATE sessions SET access_ttl_secs = ?1 WHERE id = ?2",
                params![seconds, session_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn prune(&self, ended_before: Timestamp) -> Result<(u64, u64), DbError> {
        self.call(move |connection| {
            let transaction = connection.transaction()?;
            let tokens = transaction.execute(
                "DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM sessions
                 WHERE expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?1))",
                params![ended_before.unix_ms()],
            )?;
            let sessions = transaction.execute(
                "DELETE FROM sessions
                 WHERE expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?1)",
                params![ended_before.unix_ms()],
            )?;
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
            transaction
                .execute(
                    "UPDATE refresh_tokens SET spent_at = ?1, replaced_by = ?2
                     WHERE session_id = ?3 AND spent_at IS NULL AND hash <> ?2",
                    params![now.unix_ms(), new_hash, session_id],
                )
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
    let sql = concat!(
        "SELECT ",
        token_columns!(),
        " FROM refresh_tokens t
         JOIN sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         WHERE t.hash = ?1"
    );
    Ok(connection
        .prepare_cached(sql)?
        .query_row(params![hash], |row| presented_token(row))
        .optional()?)
}

fn load(connection: &Connection, session_id: &str) -> Result<Option<SessionWithUser>, DbError> {
    let sql = concat!(
        "SELECT ",
        session_columns!(),
        " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1"
    );
    Ok(connection
        .prepare_cached(sql)?
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
    transaction.execute(
        "INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
        params![hash, session_id, now.unix_ms()],
    )?;
    Ok((token, hash))
}

fn revoke(
    connection: &Connection,
    session_id: &str,
    now: Timestamp,
    reason: &str,
) -> Result<(), DbError> {
    connection.execute(
        "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2 WHERE id = ?3 AND revoked_at IS NULL",
        params![now.unix_ms(), reason, session_id],
    )?;
    Ok(())
}

/// Adds one to the session's counter (the server-wide one is counted in the [`Tally`]).
fn count_for_session(connection: &Connection, name: &str, session_id: &str) -> Result<(), DbError> {
    connection
        .prepare_cached(
            "INSERT INTO session_counters (session_id, name, value) VALUES (?1, ?2, 1)
             ON CONFLICT (session_id, name) DO UPDATE SET value = value + 1",
        )?
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
}
