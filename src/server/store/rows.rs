//! Rows as both backends read them: each record's columns listed once (a macro, so that
//! the lists can be spliced into static SQL with `concat!`) and mapped by column name,
//! through [`Columns`], which each backend's row type implements.

use std::time::Duration;

use sqlx::postgres::PgRow;
use sqlx::Row as _;

use super::records::{SessionRecord, SessionWithUser, TokenRow, UserRecord};
use crate::api::ActiveSession;
use crate::server::ops::timestamp::Timestamp;

/// The columns [`user_record`] reads, from `users` (unqualified).
macro_rules! user_columns {
    () => {
        "id AS user_id, customer_code, username, display_name, is_demo"
    };
}
pub(super) use user_columns;

/// The columns [`session_with_user`] reads, from `sessions s JOIN users u`.
macro_rules! session_columns {
    () => {
        "s.id AS session_id, s.created_at, s.expires_at, s.revoked_at IS NOT NULL AS revoked, \
         s.access_version, s.access_ttl_secs, u.id AS user_id, u.customer_code, u.username, \
         u.display_name, u.is_demo"
    };
}
pub(super) use session_columns;

/// The columns [`presented_token`] reads: a session's, and the presented token's from
/// `refresh_tokens t`.
macro_rules! token_columns {
    () => {
        concat!(
            $crate::server::store::rows::session_columns!(),
            ", t.spent_at, t.issued_at, \
             (SELECT n.spent_at IS NULL FROM refresh_tokens n WHERE n.hash = t.replaced_by) \
             AS successor_is_current"
        )
    };
}
pub(super) use token_columns;

/// The columns [`active_session`] reads, from `sessions s`.
macro_rules! active_session_columns {
    () => {
        "s.id AS session_id, s.created_at, s.expires_at, \
         (SELECT max(t.issued_at) FROM refresh_tokens t WHERE t.session_id = s.id) AS last_issued"
    };
}
pub(super) use active_session_columns;

/// A row of either backend, read by column name.
pub(super) trait Columns {
    type Error;
    fn text(&self, name: &str) -> Result<String, Self::Error>;
    fn int(&self, name: &str) -> Result<i64, Self::Error>;
    fn maybe_int(&self, name: &str) -> Result<Option<i64>, Self::Error>;
    fn flag(&self, name: &str) -> Result<bool, Self::Error>;
    fn maybe_flag(&self, name: &str) -> Result<Option<bool>, Self::Error>;
}

impl Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn text(&self, name: &str) -> rusqlite::Result<String> {
        self.get(name)
    }

    fn int(&self, name: &str) -> rusqlite::Result<i64> {
        self.get(name)
    }

    fn maybe_int(&self, name: &str) -> rusqlite::Result<Option<i64>> {
        self.get(name)
    }

    fn flag(&self, name: &str) -> rusqlite::Result<bool> {
        self.get(name)
    }

    fn maybe_flag(&self, name: &str) -> rusqlite::Result<Option<bool>> {
        self.get(name)
    }
}

impl Columns for PgRow {
    type Error = sqlx::Error;

    fn text(&self, name: &str) -> Result<String, sqlx::Error> {
        self.try_get(name)
    }

    fn int(&self, name: &str) -> Result<i64, sqlx::Error> {
        self.try_get(name)
    }

    fn maybe_int(&self, name: &str) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(name)
    }

    fn flag(&self, name: &str) -> Result<bool, sqlx::Error> {
        self.try_get(name)
    }

    fn maybe_flag(&self, name: &str) -> Result<Option<bool>, sqlx::Error> {
        self.try_get(name)
    }
}

/// A user, from [`user_columns!`] (or [`session_columns!`]).
pub(super) fn user_record<R: Columns>(row: &R) -> Result<UserRecord, R::Error> {
    Ok(UserRecord {
        id: row.int("user_id")?,
        customer_code: row.text("customer_code")?,
        username: row.text("username")?,
        display_name: row.text("display_name")?,
        is_demo: row.flag("is_demo")?,
    })
}

/// A session and its user, from [`session_columns!`].
pub(super) fn session_with_user<R: Columns>(row: &R) -> Result<SessionWithUser, R::Error> {
    let access_ttl = row.maybe_int("access_ttl_secs")?;
    Ok(SessionWithUser {
        session: SessionRecord {
            id: row.text("session_id")?,
            created_at: Timestamp::from_unix_ms(row.int("created_at")?),
            expires_at: Timestamp::from_unix_ms(row.int("expires_at")?),
            revoked: row.flag("revoked")?,
            access_version: row.int("access_version")?,
            access_ttl: access_ttl.map(|s| Duration::from_secs(s.max(0).unsigned_abs())),
        },
        user: user_record(row)?,
    })
}

/// The presented token and its session, from [`token_columns!`].
pub(super) fn presented_token<R: Columns>(row: &R) -> Result<TokenRow, R::Error> {
    Ok(TokenRow {
        found: session_with_user(row)?,
        spent_at: row.maybe_int("spent_at")?.map(Timestamp::from_unix_ms),
        issued_at: Timestamp::from_unix_ms(row.int("issued_at")?),
        successor_is_current: row.maybe_flag("successor_is_current")?.unwrap_or(false),
    })
}

/// A live session as its user sees it, from [`active_session_columns!`]; `current` is the
/// asking session's id.
pub(super) fn active_session<R: Columns>(
    row: &R,
    current: &str,
) -> Result<ActiveSession, R::Error> {
    let started = Timestamp::from_unix_ms(row.int("created_at")?);
    Ok(ActiveSession {
        started_at: started.unix_secs(),
        last_active_at: row
            .maybe_int("last_issued")?
            .map_or(started, Timestamp::from_unix_ms)
            .unix_secs(),
        expires_at: Timestamp::from_unix_ms(row.int("expires_at")?).unix_secs(),
        current: row.text("session_id")? == current,
    })
}

/// A counter's name and value, from `SELECT name, value`.
pub(super) fn counter<R: Columns>(row: &R) -> Result<(String, i64), R::Error> {
    Ok((row.text("name")?, row.int("value")?))
}
