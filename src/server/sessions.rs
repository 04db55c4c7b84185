//! Logins as refresh-token families: creation, rotation with reuse detection and a grace
//! window for racing tabs, revocation, and the lookups the access check needs.
//!
//! Every function takes a connection and runs synchronously, so the logic is tested
//! without a server; handlers call them through [`super::db::Db::call`].

use rusqlite::{params, Connection, TransactionBehavior};

use super::db::{bump, counter, optional, DbError};
use super::tokens::{new_refresh_token, random_token, refresh_token_hash};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserRecord {
    pub id: i64,
    pub customer_code: String,
    pub username: String,
    pub display_name: String,
    /// Created from `demo.users`; locked out while demo mode is off.
    pub is_demo: bool,
}

impl UserRecord {
    pub(crate) fn to_api(&self) -> crate::api::User {
        crate::api::User {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            customer_code: self.customer_code.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRecord {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked: bool,
    pub access_version: i64,
    pub access_ttl_secs: Option<i64>,
}

impl SessionRecord {
    pub(crate) fn is_live(&self, now_s: i64) -> bool {
        !self.revoked && now_s < self.expires_at
    }
}

/// A session with its user, as most lookups need both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionWithUser {
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// The outcome of a successful refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refreshed {
    pub found: SessionWithUser,
    /// The new refresh token, or `None` for a grace answer (the cookie already holds the
    /// successor, set by the request that rotated it).
    pub new_refresh_token: Option<String>,
    /// For a grace answer, when the grace window ends (Unix ms): its access token must not
    /// outlive it, so whoever holds only the spent token has to come back with the new one.
    pub grace_ends_at_ms: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RefreshError {
    #[error("no refresh token")]
    Missing,
    #[error("unknown refresh token")]
    Unknown,
    #[error("{0}: revoked")]
    Revoked(Who),
    #[error("{0}: expired")]
    Expired(Who),
    #[error("{0}: idle for too long")]
    Idle(Who),
    #[error("{0}: a demo user's, and demo mode is off")]
    DemoOff(Who),
    /// A spent token came back outside the grace window: the whole family is revoked.
    #[error("{0}: a spent refresh token came back (reuse); session revoked")]
    Reused(Who),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Whose session a refusal concerns, for the security log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Who {
    pub session: String,
    pub customer: String,
    pub user: String,
}

impl Who {
    fn of(found: &SessionWithUser) -> Self {
        Self {
            session: found.session.id.clone(),
            customer: found.user.customer_code.clone(),
            user: found.user.username.clone(),
        }
    }
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "session {} of {}/{}",
            self.session, self.customer, self.user
        )
    }
}

/// What presenting a refresh token would mean, decided without side effects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The family's current token: rotate it.
    Current,
    /// Spent a moment ago by a racing request, and its successor is still current.
    Grace,
    Reused,
    Revoked,
    Expired,
    /// The current token, but unused for longer than the idle timeout.
    Idle,
    /// A demo user's session while demo mode is off.
    DemoOff,
}

/// How long presented refresh tokens stay good, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// The token just spent may come back this long (a racing tab) without being reuse.
    pub grace_ms: i64,
    /// A current token unused for this long is refused: the session went idle.
    pub idle_ms: i64,
    /// Whether sessions of demo users may refresh (demo mode is on).
    pub demo_users: bool,
}

struct TokenRow {
    found: SessionWithUser,
    issued_at: i64,
    spent_at: Option<i64>,
    successor_is_current: bool,
}

const SESSION_COLUMNS: &str =
    "s.id, s.created_at, s.expires_at, s.revoked_at IS NOT NULL, s.access_version, \
     s.access_ttl_secs, u.id, u.customer_code, u.username, u.display_name, u.is_demo";

fn session_with_user(row: &rusqlite::Row<'_>) -> rusqlite::Result<SessionWithUser> {
    Ok(SessionWithUser {
        session: SessionRecord {
            id: row.get(0)?,
            created_at: row.get(1)?,
            expires_at: row.get(2)?,
            revoked: row.get(3)?,
            access_version: row.get(4)?,
            access_ttl_secs: row.get(5)?,
        },
        user: UserRecord {
            id: row.get(6)?,
            customer_code: row.get(7)?,
            username: row.get(8)?,
            display_name: row.get(9)?,
            is_demo: row.get(10)?,
        },
    })
}

fn token_row(connection: &Connection, hash: &[u8]) -> Result<Option<TokenRow>, DbError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS}, t.spent_at, t.issued_at,
                (SELECT n.spent_at IS NULL FROM refresh_tokens n WHERE n.hash = t.replaced_by)
         FROM refresh_tokens t
         JOIN sessions s ON s.id = t.session_id
         JOIN users u ON u.id = s.user_id
         WHERE t.hash = ?1"
    );
    optional(connection.query_row(&sql, params![hash], |row| {
        Ok(TokenRow {
            found: session_with_user(row)?,
            spent_at: row.get(11)?,
            issued_at: row.get(12)?,
            successor_is_current: row.get::<_, Option<bool>>(13)?.unwrap_or(false),
        })
    }))
}

fn verdict(row: &TokenRow, now_ms: i64, policy: RefreshPolicy) -> Verdict {
    let session = &row.found.session;
    if session.revoked {
        return Verdict::Revoked;
    }
    if row.found.user.is_demo && !policy.demo_users {
        return Verdict::DemoOff;
    }
    if now_ms / 1000 >= session.expires_at {
        return Verdict::Expired;
    }
    match row.spent_at {
        None if now_ms - row.issued_at >= policy.idle_ms => Verdict::Idle,
        None => Verdict::Current,
        Some(spent_at) if row.successor_is_current && now_ms - spent_at < policy.grace_ms => {
            Verdict::Grace
        }
        Some(_) => Verdict::Reused,
    }
}

fn insert_token(
    connection: &Connection,
    session_id: &str,
    now_ms: i64,
) -> Result<(String, Vec<u8>), DbError> {
    let token = new_refresh_token();
    let hash = refresh_token_hash(&token)
        .ok_or_else(|| DbError::Task("fresh token did not hash".into()))?;
    connection.execute(
        "INSERT INTO refresh_tokens (hash, session_id, issued_at) VALUES (?1, ?2, ?3)",
        params![hash, session_id, now_ms],
    )?;
    Ok((token, hash))
}

/// Starts a login: a new family with its first refresh token.
pub(crate) fn start(
    connection: &mut Connection,
    user_id: i64,
    now_ms: i64,
    session_ttl_secs: i64,
) -> Result<(SessionWithUser, String), DbError> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let session_id = random_token(16);
    let now_s = now_ms / 1000;
    transaction.execute(
        "INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![session_id, user_id, now_s, now_s + session_ttl_secs],
    )?;
    let (token, _) = insert_token(&transaction, &session_id, now_ms)?;
    bump(&transaction, counter::LOGINS, Some(&session_id))?;
    let found =
        load(&transaction, &session_id)?.ok_or_else(|| DbError::Task("session vanished".into()))?;
    transaction.commit()?;
    Ok((found, token))
}

/// Spends `presented` and returns its successor, in one transaction. A spent token
/// presented again revokes the family, unless it is the one spent just now (within
/// less than `grace_ms` ago) and its successor is still unused: then it only gets a new access token.
pub(crate) fn rotate(
    connection: &mut Connection,
    presented: Option<&str>,
    now_ms: i64,
    policy: RefreshPolicy,
) -> Result<Refreshed, RefreshError> {
    let presented = presented.ok_or(RefreshError::Missing)?;
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(DbError::from)?;
    let Some(hash) = refresh_token_hash(presented) else {
        return fail(transaction, None, RefreshError::Unknown);
    };
    let Some(row) = token_row(&transaction, &hash)? else {
        return fail(transaction, None, RefreshError::Unknown);
    };
    let session_id = row.found.session.id.clone();
    // A refusal: revokes the family where the verdict calls for it (a revocation must
    // stick), then counts the failure and commits.
    let refuse = |transaction: rusqlite::Transaction<'_>,
                  error: fn(Who) -> RefreshError,
                  revoke_reason: Option<&str>| {
        if let Some(reason) = revoke_reason {
            revoke_in(&transaction, &session_id, now_ms / 1000, reason)?;
        }
        fail(transaction, Some(&session_id), error(Who::of(&row.found)))
    };
    let outcome = match verdict(&row, now_ms, policy) {
        Verdict::Current => {
            let (token, new_hash) = insert_token(&transaction, &session_id, now_ms)?;
            transaction
                .execute(
                    "UPDATE refresh_tokens SET spent_at = ?1, replaced_by = ?2 WHERE hash = ?3",
                    params![now_ms, new_hash, hash],
                )
                .map_err(DbError::from)?;
            bump(&transaction, counter::ROTATIONS, Some(&session_id))?;
            Some(token)
        }
        Verdict::Grace => {
            bump(&transaction, counter::GRACE_REFRESHES, Some(&session_id))?;
            None
        }
        Verdict::Reused => {
            bump(&transaction, counter::REUSE_DETECTIONS, Some(&session_id))?;
            return refuse(
                transaction,
                RefreshError::Reused,
                Some("refresh token reuse"),
            );
        }
        Verdict::Revoked => return refuse(transaction, RefreshError::Revoked, None),
        Verdict::Expired => return refuse(transaction, RefreshError::Expired, None),
        Verdict::Idle => return refuse(transaction, RefreshError::Idle, Some("idle timeout")),
        Verdict::DemoOff => {
            return refuse(transaction, RefreshError::DemoOff, Some("demo mode off"))
        }
    };
    bump(&transaction, counter::REFRESHES, Some(&session_id))?;
    transaction.commit().map_err(DbError::from)?;
    let grace_ends_at_ms = match (&outcome, row.spent_at) {
        (None, Some(spent_at)) => Some(spent_at + policy.grace_ms),
        _ => None,
    };
    Ok(Refreshed {
        found: row.found,
        new_refresh_token: outcome,
        grace_ends_at_ms,
    })
}

/// Counts the failed refresh and commits what was done (a reuse revocation must stick).
fn fail(
    transaction: rusqlite::Transaction<'_>,
    session_id: Option<&str>,
    error: RefreshError,
) -> Result<Refreshed, RefreshError> {
    bump(&transaction, counter::FAILED_REFRESHES, session_id)?;
    transaction.commit().map_err(DbError::from)?;
    Err(error)
}

/// The session a refresh cookie belongs to, if presenting it now would succeed (used to
/// decide during server rendering whether the visitor is logged in; changes nothing).
pub(crate) fn peek(
    connection: &Connection,
    presented: &str,
    now_ms: i64,
    policy: RefreshPolicy,
) -> Result<Option<SessionWithUser>, DbError> {
    let Some(hash) = refresh_token_hash(presented) else {
        return Ok(None);
    };
    Ok(token_row(connection, &hash)?
        .filter(|row| {
            matches!(
                verdict(row, now_ms, policy),
                Verdict::Current | Verdict::Grace
            )
        })
        .map(|row| row.found))
}

/// The session a refresh cookie belongs to, spent or not, while the session is live
/// (the demo controls act on it even when its access token is long expired).
pub(crate) fn by_refresh_token(
    connection: &Connection,
    presented: &str,
    now_s: i64,
) -> Result<Option<SessionWithUser>, DbError> {
    let Some(hash) = refresh_token_hash(presented) else {
        return Ok(None);
    };
    Ok(token_row(connection, &hash)?
        .map(|row| row.found)
        .filter(|found| found.session.is_live(now_s)))
}

/// A session and its user by id.
pub(crate) fn load(
    connection: &Connection,
    session_id: &str,
) -> Result<Option<SessionWithUser>, DbError> {
    let sql = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1"
    );
    optional(connection.query_row(&sql, params![session_id], session_with_user))
}

/// The user's live sessions, newest first, marking `current`.
pub(crate) fn list_live(
    connection: &Connection,
    user_id: i64,
    current: &str,
    now_s: i64,
) -> Result<Vec<crate::api::ActiveSession>, DbError> {
    let mut statement = connection.prepare(
        "SELECT s.id, s.created_at, s.expires_at,
                (SELECT max(t.issued_at) FROM refresh_tokens t WHERE t.session_id = s.id)
         FROM sessions s
         WHERE s.user_id = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
         ORDER BY s.created_at DESC, s.id",
    )?;
    let rows = statement.query_map(params![user_id, now_s], |row| {
        let id: String = row.get(0)?;
        let started_at: i64 = row.get(1)?;
        let last_ms: Option<i64> = row.get(3)?;
        Ok(crate::api::ActiveSession {
            started_at,
            last_active_at: last_ms.map_or(started_at, |ms| ms / 1000),
            expires_at: row.get(2)?,
            current: id == current,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Ends every live session of the user except `keep`; how many were ended.
pub(crate) fn revoke_others(
    connection: &Connection,
    user_id: i64,
    keep: &str,
    now_s: i64,
) -> Result<usize, DbError> {
    Ok(connection.execute(
        "UPDATE sessions SET revoked_at = ?1, revoked_reason = 'signed out from another session'
         WHERE user_id = ?2 AND id <> ?3 AND revoked_at IS NULL",
        params![now_s, user_id, keep],
    )?)
}

fn revoke_in(
    connection: &Connection,
    session_id: &str,
    now_s: i64,
    reason: &str,
) -> Result<(), DbError> {
    connection.execute(
        "UPDATE sessions SET revoked_at = ?1, revoked_reason = ?2 WHERE id = ?3 AND revoked_at IS NULL",
        params![now_s, reason, session_id],
    )?;
    Ok(())
}

/// Ends a session: its refresh tokens stop working and its access tokens answer 30001.
pub(crate) fn revoke(
    connection: &Connection,
    session_id: &str,
    now_s: i64,
    reason: &str,
) -> Result<(), DbError> {
    revoke_in(connection, session_id, now_s, reason)
}

/// Makes every access token minted so far for the session unusable (they answer 30001).
pub(crate) fn supersede_access_tokens(
    connection: &Connection,
    session_id: &str,
) -> Result<(), DbError> {
    connection.execute(
        "UPDATE sessions SET access_version = access_version + 1 WHERE id = ?1",
        params![session_id],
    )?;
    Ok(())
}

/// Sets the access-token lifetime of one session (takes effect at its next refresh).
pub(crate) fn set_access_ttl(
    connection: &Connection,
    session_id: &str,
    seconds: u32,
) -> Result<(), DbError> {
    connection.execute(
        "UPDATE sessions SET access_ttl_secs = ?1 WHERE id = ?2",
        params![seconds, session_id],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::{read_counters, Db};

    const T0: i64 = 1_800_000_000_000;
    const GRACE: i64 = 10_000;
    const POLICY: RefreshPolicy = RefreshPolicy {
        grace_ms: GRACE,
        idle_ms: 600_000, // a sixth of the session's lifetime
        demo_users: true,
    };
    const TTL: i64 = 3_600;

    struct Fixture {
        _dir: tempfile::TempDir,
        connection: Connection,
    }

    fn fixture() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sessions.db");
        drop(Db::open(&path).expect("migrated"));
        let connection = Connection::open(&path).expect("open");
        connection
            .execute(
                "INSERT INTO users (id, customer_code, username, display_name, password_hash)
                 VALUES (1, 'ACME', 'demo', 'Dana', 'x')",
                [],
            )
            .expect("user");
        Fixture {
            _dir: dir,
            connection,
        }
    }

    fn login(f: &mut Fixture) -> (String, String) {
        let (found, token) = start(&mut f.connection, 1, T0, TTL).expect("login");
        (found.session.id, token)
    }

    fn rotated(f: &mut Fixture, token: &str, at: i64) -> String {
        rotate(&mut f.connection, Some(token), at, POLICY)
            .expect("rotates")
            .new_refresh_token
            .expect("a new token")
    }

    fn session(f: &Fixture, id: &str) -> SessionRecord {
        load(&f.connection, id)
            .expect("query")
            .expect("exists")
            .session
    }

    #[test]
    fn a_current_token_rotates_into_a_new_one_and_is_spent() {
        let mut f = fixture();
        let (_, first) = login(&mut f);
        let second = rotated(&mut f, &first, T0 + 1_000);
        assert_ne!(first, second);
        let third = rotated(&mut f, &second, T0 + 2_000);
        assert_ne!(second, third);
        let counters = read_counters(&f.connection, None).expect("counters");
        assert_eq!(
            (counters.rotations, counters.refreshes, counters.logins),
            (2, 2, 1)
        );
    }

    #[test]
    fn the_raw_token_is_never_stored() {
        let mut f = fixture();
        let (_, token) = login(&mut f);
        let stored: Vec<Vec<u8>> = f
            .connection
            .prepare("SELECT hash FROM refresh_tokens")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
        assert_eq!(stored, vec![refresh_token_hash(&token).expect("hash")]);
        assert!(!stored[0]
            .windows(token.len())
            .any(|w| w == token.as_bytes()));
    }

    #[test]
    fn the_token_just_spent_gets_a_grace_answer_inside_the_window() {
        let mut f = fixture();
        let (id, first) = login(&mut f);
        let second = rotated(&mut f, &first, T0 + 1_000);
        let again = rotate(
            &mut f.connection,
            Some(&first),
            T0 + 1_000 + GRACE - 1,
            POLICY,
        )
        .expect("grace");
        assert_eq!(again.new_refresh_token, None, "no second successor");
        assert!(session(&f, &id).is_live(T0 / 1000));
        // The successor still works: the racing tab did not break the family.
        rotated(&mut f, &second, T0 + 20_000);
        let counters = read_counters(&f.connection, Some(&id)).expect("counters");
        assert_eq!(
            (counters.grace_refreshes, counters.reuse_detections),
            (1, 0)
        );
    }

    #[test]
    fn a_spent_token_outside_the_window_revokes_the_whole_family() {
        let mut f = fixture();
        let (id, first) = login(&mut f);
        let second = rotated(&mut f, &first, T0 + 1_000);
        let reuse = rotate(&mut f.connection, Some(&first), T0 + 1_000 + GRACE, POLICY);
        assert!(matches!(reuse, Err(RefreshError::Reused(_))));
        assert!(session(&f, &id).revoked);
        // The legitimate successor dies with the family.
        assert!(matches!(
            rotate(&mut f.connection, Some(&second), T0 + 20_000, POLICY),
            Err(RefreshError::Revoked(_))
        ));
        assert_eq!(
            read_counters(&f.connection, None)
                .expect("counters")
                .reuse_detections,
            1
        );
    }

    #[test]
    fn a_token_two_rotations_old_is_reuse_even_inside_the_window() {
        let mut f = fixture();
        let (id, first) = login(&mut f);
        let second = rotated(&mut f, &first, T0 + 1_000);
        rotated(&mut f, &second, T0 + 2_000);
        assert!(matches!(
            rotate(&mut f.connection, Some(&first), T0 + 3_000, POLICY),
            Err(RefreshError::Reused(_))
        ));
        assert!(session(&f, &id).revoked);
    }

    #[test]
    fn a_revoked_or_expired_session_cannot_refresh() {
        let mut f = fixture();
        let (id, token) = login(&mut f);
        revoke(&f.connection, &id, T0 / 1000, "logout").expect("revoke");
        assert!(matches!(
            rotate(&mut f.connection, Some(&token), T0 + 1, POLICY),
            Err(RefreshError::Revoked(_))
        ));

        let (_, token) = login(&mut f);
        let after_lifetime = T0 + TTL * 1000;
        assert!(matches!(
            rotate(&mut f.connection, Some(&token), after_lifetime, POLICY),
            Err(RefreshError::Expired(_))
        ));
    }

    #[test]
    fn a_token_unused_for_the_idle_timeout_ends_the_session_and_each_rotation_renews_it() {
        let mut f = fixture();
        let (id, token) = login(&mut f);
        let idle = POLICY.idle_ms;
        let renewed = rotate(&mut f.connection, Some(&token), T0 + idle - 1, POLICY)
            .expect("just inside the idle timeout")
            .new_refresh_token
            .expect("rotated");
        assert!(
            rotate(&mut f.connection, Some(&renewed), T0 + 2 * idle - 2, POLICY).is_ok(),
            "the clock restarts with every rotation"
        );
        let (id2, token2) = login(&mut f);
        assert!(matches!(
            rotate(&mut f.connection, Some(&token2), T0 + idle, POLICY),
            Err(RefreshError::Idle(ref who)) if who.session == id2
        ));
        assert!(session(&f, &id2).revoked, "an idle session ends for good");
        assert!(!session(&f, &id).revoked);
    }

    #[test]
    fn missing_garbage_and_unknown_tokens_are_refused_and_counted() {
        let mut f = fixture();
        assert!(matches!(
            rotate(&mut f.connection, None, T0, POLICY),
            Err(RefreshError::Missing)
        ));
        assert!(matches!(
            rotate(&mut f.connection, Some("not-a-token"), T0, POLICY),
            Err(RefreshError::Unknown)
        ));
        assert!(matches!(
            rotate(&mut f.connection, Some(&new_refresh_token()), T0, POLICY),
            Err(RefreshError::Unknown)
        ));
        let counters = read_counters(&f.connection, None).expect("counters");
        assert_eq!(
            counters.failed_refreshes, 2,
            "a missing cookie never reaches the store"
        );
    }

    #[test]
    fn peek_agrees_with_rotate_and_changes_nothing() {
        let mut f = fixture();
        let (_, first) = login(&mut f);
        assert!(peek(&f.connection, &first, T0, POLICY)
            .expect("peek")
            .is_some());
        assert!(
            peek(&f.connection, &first, T0, POLICY)
                .expect("peek")
                .is_some(),
            "still current"
        );
        let second = rotated(&mut f, &first, T0 + 1_000);
        assert!(
            peek(&f.connection, &first, T0 + 2_000, POLICY)
                .expect("peek")
                .is_some(),
            "grace"
        );
        assert!(
            peek(&f.connection, &first, T0 + 1_000 + GRACE, POLICY)
                .expect("peek")
                .is_none(),
            "reuse"
        );
        assert!(peek(&f.connection, &second, T0 + 1_001 + GRACE, POLICY)
            .expect("peek")
            .is_some());
        assert!(peek(&f.connection, "garbage", T0, POLICY)
            .expect("peek")
            .is_none());
    }

    #[test]
    fn superseding_raises_the_access_version_and_lifetime_is_per_session() {
        let mut f = fixture();
        let (id, _) = login(&mut f);
        assert_eq!(session(&f, &id).access_version, 0);
        supersede_access_tokens(&f.connection, &id).expect("supersede");
        assert_eq!(session(&f, &id).access_version, 1);
        set_access_ttl(&f.connection, &id, 7).expect("ttl");
        assert_eq!(session(&f, &id).access_ttl_secs, Some(7));
    }

    #[test]
    fn demo_lookup_finds_live_sessions_by_any_of_their_tokens() {
        let mut f = fixture();
        let (id, first) = login(&mut f);
        let second = rotated(&mut f, &first, T0 + 1_000);
        for token in [&first, &second] {
            let found = by_refresh_token(&f.connection, token, T0 / 1000).expect("query");
            assert_eq!(found.map(|s| s.session.id), Some(id.clone()));
        }
        revoke(&f.connection, &id, T0 / 1000, "demo").expect("revoke");
        assert_eq!(
            by_refresh_token(&f.connection, &second, T0 / 1000).expect("query"),
            None
        );
    }
}
