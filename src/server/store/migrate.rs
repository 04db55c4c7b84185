//! Moving a SQLite deployment to PostgreSQL (`painless migrate --to <url>`): users, live
//! and recently ended sessions, refresh tokens (hashes, so every refresh cookie keeps
//! working), counters, and the generated signing key (so access tokens stay valid too).
//! Nobody is logged out by the move. Run it with the server stopped: what the old server
//! changes after the copy is not carried over.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};
use sqlx::{Postgres, QueryBuilder};

use super::DbError;
use crate::server::ops::config::{Database, Settings};
use crate::server::ops::secrets::SECRET_FILE;

/// What was copied.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Moved {
    pub users: usize,
    pub sessions: usize,
    pub refresh_tokens: usize,
    pub counters: usize,
    /// Whether the generated signing key went along.
    pub signing_key: bool,
}

/// Moves the SQLite store of `settings` (and its generated signing key, unless a key is
/// configured) into the PostgreSQL database at `url`.
pub async fn move_to_postgres(settings: &Settings, url: &str) -> Result<Moved, DbError> {
    let Database::Sqlite(sqlite) = settings.database() else {
        return Err(DbError::Task(
            "`server.database` is not a SQLite file: there is nothing to move".into(),
        ));
    };
    let signing_key = if settings.tokens.jwt_secret.is_empty() {
        match std::fs::read_to_string(settings.server.data_dir.join(SECRET_FILE)) {
            Ok(text) => Some(text.trim().to_owned()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => return Err(DbError::Task(format!("reading the signing key: {error}"))),
        }
    } else {
        None // configured: configure the same key for the PostgreSQL instances
    };
    sqlite_to_postgres(&sqlite, signing_key, url).await
}

/// Rows per `INSERT` (PostgreSQL takes at most 65,535 parameters per statement).
const BATCH: usize = 1_000;

/// Copies the SQLite database at `sqlite` (and `signing_key`, the generated key file's
/// text, if there is one) into the empty PostgreSQL database at `url`, in one transaction.
async fn sqlite_to_postgres(
    sqlite: &Path,
    signing_key: Option<String>,
    url: &str,
) -> Result<Moved, DbError> {
    let rows = read_sqlite(sqlite.to_path_buf()).await?;
    // Connecting migrates the target's schema, as a server start would.
    let target = super::postgres::PgStore::connect(url, 2, std::time::Duration::from_secs(10))
        .await?
        .pool();
    let mut transaction = target.begin().await?;
    let existing: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut *transaction)
        .await?;
    if existing > 0 {
        return Err(DbError::Task(format!(
            "the PostgreSQL database already holds {existing} users: migrate into an empty one"
        )));
    }
    insert(
        &mut transaction,
        "INSERT INTO users (id, customer_code, username, display_name, password_hash, is_demo) ",
        &rows.users,
        |mut row, user| {
            row.push_bind(user.0)
                .push_bind(user.1.clone())
                .push_bind(user.2.clone())
                .push_bind(user.3.clone())
                .push_bind(user.4.clone())
                .push_bind(user.5);
        },
    )
    .await?;
    // New users get ids after the copied ones.
    sqlx::query(
        "SELECT setval(pg_get_serial_sequence('users', 'id'), greatest(max(id), 1)) FROM users",
    )
    .execute(&mut *transaction)
    .await?;
    insert(
        &mut transaction,
        "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, revoked_reason, \
         access_version, access_ttl_secs) ",
        &rows.sessions,
        |mut row, session| {
            row.push_bind(session.0.clone())
                .push_bind(session.1)
                .push_bind(session.2)
                .push_bind(session.3)
                .push_bind(session.4)
                .push_bind(session.5.clone())
                .push_bind(session.6)
                .push_bind(session.7);
        },
    )
    .await?;
    insert(
        &mut transaction,
        "INSERT INTO refresh_tokens (hash, session_id, issued_at, spent_at, replaced_by) ",
        &rows.refresh_tokens,
        |mut row, token| {
            row.push_bind(token.0.clone())
                .push_bind(token.1.clone())
                .push_bind(token.2)
                .push_bind(token.3)
                .push_bind(token.4.clone());
        },
    )
    .await?;
    insert(
        &mut transaction,
        "INSERT INTO counters (name, value) ",
        &rows.counters,
        |mut row, counter| {
            row.push_bind(counter.0.clone()).push_bind(counter.1);
        },
    )
    .await?;
    insert(
        &mut transaction,
        "INSERT INTO session_counters (session_id, name, value) ",
        &rows.session_counters,
        |mut row, counter| {
            row.push_bind(counter.0.clone())
                .push_bind(counter.1.clone())
                .push_bind(counter.2);
        },
    )
    .await?;
    let signing_key = match &signing_key {
        Some(key) => {
            sqlx::query(
                "INSERT INTO shared_secrets (name, value) VALUES ('jwt_secret', $1)
                 ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .execute(&mut *transaction)
            .await?;
            true
        }
        None => false,
    };
    transaction.commit().await?;
    Ok(Moved {
        users: rows.users.len(),
        sessions: rows.sessions.len(),
        refresh_tokens: rows.refresh_tokens.len(),
        counters: rows.counters.len() + rows.session_counters.len(),
        signing_key,
    })
}

type User = (i64, String, String, String, String, bool);
type Session = (
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    Option<i64>,
);
type Token = (Vec<u8>, String, i64, Option<i64>, Option<Vec<u8>>);

struct Rows {
    users: Vec<User>,
    sessions: Vec<Session>,
    refresh_tokens: Vec<Token>,
    counters: Vec<(String, i64)>,
    session_counters: Vec<(String, String, i64)>,
}

/// Everything, read in one transaction (one consistent snapshot), on the blocking pool.
async fn read_sqlite(path: std::path::PathBuf) -> Result<Rows, DbError> {
    tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return Err(DbError::Task(format!(
                "no SQLite database at {}",
                path.display()
            )));
        }
        // Read-write, so that an old schema is brought up to date (times in ms) first.
        drop(super::sqlite::SqliteStore::open(&path)?);
        let mut connection = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let transaction = connection.transaction()?;
        let rows = Rows {
            users: collect(
                &transaction,
                "SELECT id, customer_code, username, display_name, password_hash, is_demo \
                 FROM users",
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                    ))
                },
            )?,
            sessions: collect(
                &transaction,
                "SELECT id, user_id, created_at, expires_at, revoked_at, revoked_reason, \
                 access_version, access_ttl_secs FROM sessions",
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                        row.get(5)?,
                        row.get(6)?,
                        row.get(7)?,
                    ))
                },
            )?,
            refresh_tokens: collect(
                &transaction,
                "SELECT hash, session_id, issued_at, spent_at, replaced_by FROM refresh_tokens",
                |row| {
                    Ok((
                        row.get(0)?,
                        row.get(1)?,
                        row.get(2)?,
                        row.get(3)?,
                        row.get(4)?,
                    ))
                },
            )?,
            counters: collect(&transaction, "SELECT name, value FROM counters", |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?,
            session_counters: collect(
                &transaction,
                "SELECT session_id, name, value FROM session_counters",
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )?,
        };
        Ok(rows)
    })
    .await
    .map_err(|e| DbError::Task(e.to_string()))?
}

fn collect<T>(
    connection: &Connection,
    sql: &str,
    read: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DbError> {
    let mut statement = connection.prepare(sql)?;
    let rows = statement.query_map([], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// `INSERT … VALUES (…), (…)` in batches.
async fn insert<T>(
    transaction: &mut sqlx::Transaction<'_, Postgres>,
    head: &'static str,
    rows: &[T],
    bind: impl Fn(sqlx::query_builder::Separated<'_, Postgres, &'static str>, &T) + Copy,
) -> Result<(), DbError> {
    for batch in rows.chunks(BATCH) {
        let mut query = QueryBuilder::<Postgres>::new(head);
        query.push_values(batch, bind);
        query.build().execute(&mut **transaction).await?;
    }
    Ok(())
}
