//! The embedded SQLite store: opening, migrations, and the counters that survive restarts.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use rusqlite::{params, Connection, OptionalExtension};
use rusqlite_migration::{Migrations, M};

use crate::api::Counters;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database migration: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    #[error("database task: {0}")]
    Task(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

/// Schema history; append, never edit a released step.
fn migrations() -> Migrations<'static> {
    Migrations::new(vec![
        M::up(
            r#"
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
        "#,
        ),
        // Demo users are marked, so that switching demo mode off locks them out. Until now
        // the demo upsert was the only way a user got into the database, so every existing
        // user is one.
        M::up(
            r#"
        ALTER TABLE users ADD COLUMN is_demo INTEGER NOT NULL DEFAULT 0;
        UPDATE users SET is_demo = 1;
        "#,
        ),
    ])
}

/// A shared connection. SQLite serialises writers anyway; one connection behind a mutex
/// keeps every rotation a plain transaction, run on the blocking pool.
#[derive(Clone)]
pub(crate) struct Db {
    connection: Arc<Mutex<Connection>>,
}

impl Db {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub(crate) fn open(path: &Path) -> Result<Self, DbError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            super::tokens::create_private_dir(parent).map_err(|source| DbError::DataDir {
                path: parent.display().to_string(),
                source,
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
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations().to_latest(&mut connection)?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
        })
    }

    /// Runs `work` with the connection on the blocking thread pool.
    pub(crate) async fn call<R, F>(&self, work: F) -> Result<R, DbError>
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

/// Adds one to a server-wide counter and, when given, to the session's.
pub(crate) fn bump(
    connection: &Connection,
    name: &str,
    session: Option<&str>,
) -> Result<(), DbError> {
    connection.execute(
        "INSERT INTO counters (name, value) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1",
        params![name],
    )?;
    if let Some(session) = session {
        connection.execute(
            "INSERT INTO session_counters (session_id, name, value) VALUES (?1, ?2, 1)
             ON CONFLICT (session_id, name) DO UPDATE SET value = value + 1",
            params![session, name],
        )?;
    }
    Ok(())
}

pub(crate) fn read_counters(
    connection: &Connection,
    session: Option<&str>,
) -> Result<Counters, DbError> {
    let rows: Vec<(String, i64)> = match session {
        None => {
            let mut statement = connection.prepare("SELECT name, value FROM counters")?;
            let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        }
        Some(session) => {
            let mut statement = connection
                .prepare("SELECT name, value FROM session_counters WHERE session_id = ?1")?;
            let rows =
                statement.query_map(params![session], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        }
    };
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
    Ok(counters)
}

/// A single value from a query that may find nothing.
pub(crate) fn optional<T>(result: rusqlite::Result<T>) -> Result<Option<T>, DbError> {
    Ok(result.optional()?)
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

    #[test]
    fn counters_count_per_server_and_per_session() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open(&dir.path().join("nested/test.db")).expect("open");
        let connection = db.connection.lock().expect("lock");
        connection
            .execute(
                "INSERT INTO users (id, customer_code, username, display_name, password_hash) VALUES (1, 'A', 'u', 'U', 'x')",
                [],
            )
            .expect("user");
        connection
            .execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES ('s1', 1, 0, 10)",
                [],
            )
            .expect("session");
        bump(&connection, counter::REFRESHES, Some("s1")).expect("bump");
        bump(&connection, counter::REFRESHES, None).expect("bump");
        bump(&connection, "rejected.42001", None).expect("bump");
        let server = read_counters(&connection, None).expect("read");
        assert_eq!(server.refreshes, 2);
        assert_eq!(server.rejected.get("42001"), Some(&1));
        assert_eq!(
            read_counters(&connection, Some("s1"))
                .expect("read")
                .refreshes,
            1
        );
    }
}
