//! The PostgreSQL backend, for several instances on one database: a connection pool,
//! migrations run at start-up under sqlx's advisory lock (instances starting together
//! take turns), and rotations made atomic between processes by locking the session row.
//! Times are Unix milliseconds, as in SQLite.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use sqlx::postgres::{PgListener, PgPool};
use sqlx::{Postgres, Row, Transaction};

use super::backend::Backend;
use super::cache::{Changed, SessionCache};
use super::records::{
    RefreshError, RefreshPolicy, Refreshed, SessionWithUser, TokenRow, UserRecord, Verdict,
};
use super::rows::{self, presented_token, session_with_user, user_record};
use super::sql::{self, postgres_only};
use super::tally::Tally;
use super::{counter, DbError};
use crate::api::ActiveSession;
use crate::server::ops::secrets::{new_refresh_token, random_token, refresh_token_hash};
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::users::Identity;

/// The channel on which every change to a session is announced to the other instances,
/// from inside the transaction that makes it (PostgreSQL delivers it at commit).
const CHANGES: &str = "painless_sessions";

#[derive(Clone)]
pub(crate) struct PgStore {
    pool: PgPool,
}

mod connect; // connecting, migrating, and describing a URL without its password

/// A statement with its values bound, ready to run.
type Statement<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

impl PgStore {
    /// Runs `statement` and tells the other instances to forget what `changed` names, in
    /// one transaction (so they hear of it only once it is true); the rows it changed.
    async fn change(&self, statement: Statement<'_>, changed: Changed) -> Result<u64, DbError> {
        let mut transaction = self.pool.begin().await?;
        let affected = statement.execute(&mut *transaction).await?.rows_affected();
        announce(&mut *transaction, &changed).await?;
        transaction.commit().await?;
        Ok(affected)
    }
}

#[async_trait]
impl Backend for PgStore {
    fn name(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> Result<(), DbError> {
        sqlx::query(sql::PING).execute(&self.pool).await?;
        Ok(())
    }

    /// Listens for the other instances' changes and forgets what they name. The cache is
    /// on only while listening: when the connection drops, notifications may have been
    /// missed, so the cache goes off (every check reads the database) until listening
    /// again, and starts empty.
    fn spawn_listener(&self, cache: Arc<SessionCache>) -> Option<tokio::task::JoinHandle<()>> {
        let pool = self.pool.clone();
        Some(tokio::spawn(async move {
            let mut retry = tokio::time::interval(Duration::from_secs(1));
            loop {
                retry.tick().await;
                let mut listener = match PgListener::connect_with(&pool).await {
                    Ok(listener) => listener,
                    Err(_) => continue, // the store notes the outage on its own calls
                };
                if listener.listen(CHANGES).await.is_err() {
                    continue;
                }
                cache.set_enabled(true);
                // `Ok(None)`: the connection was lost (and would be silently reopened).
                while let Ok(Some(notification)) = listener.try_recv().await {
                    match Changed::from_payload(notification.payload()) {
                        Some(changed) => cache.forget(&changed),
                        None => cache.forget_all(),
                    }
                }
                cache.set_enabled(false);
                tracing::warn!("session change channel lost: every access check reads the database until it is back");
            }
        }))
    }

    fn postgres_pool(&self) -> Option<PgPool> {
        Some(self.pool.clone())
    }

    async fn find_user(&self, identity: Identity) -> Result<Option<(UserRecord, String)>, DbError> {
        let row = sqlx::query(sql::FIND_USER)
            .bind(&identity.customer_code)
            .bind(&identity.username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((user_record(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn upsert_demo_user(
        &self,
        identity: Identity,
        display_name: String,
        password_hash: String,
    ) -> Result<(), DbError> {
        sqlx::query(sql::UPSERT_DEMO_USER)
            .bind(&identity.customer_code)
            .bind(&identity.username)
            .bind(&display_name)
            .bind(&password_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn count_demo_users(&self) -> Result<i64, DbError> {
        Ok(sqlx::query_scalar(sql::COUNT_DEMO_USERS)
            .fetch_one(&self.pool)
            .await?)
    }

    async fn add_to_counters(&self, counts: Vec<(String, u64)>) -> Result<(), DbError> {
        let mut transaction = self.pool.begin().await?;
        for (name, count) in &counts {
            sqlx::query(sql::ADD_TO_COUNTER)
                .bind(name)
                .bind(i64::try_from(*count).unwrap_or(i64::MAX))
                .execute(&mut *transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn counter_rows(&self, session: Option<String>) -> Result<Vec<(String, i64)>, DbError> {
        let rows = match session {
            None => {
                sqlx::query(sql::SERVER_COUNTERS)
                    .fetch_all(&self.pool)
                    .await?
            }
            Some(session) => {
                sqlx::query(sql::SESSION_COUNTERS)
                    .bind(session)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        Ok(rows.iter().map(rows::counter).collect::<Result<_, _>>()?)
    }

    async fn start_session(
        &self,
        user_id: i64,
        now: Timestamp,
        lifetime: Duration,
        tally: Arc<Tally>,
    ) -> Result<(SessionWithUser, String), DbError> {
        let mut transaction = self.pool.begin().await?;
        let session_id = random_token(16);
        sqlx::query(sql::INSERT_SESSION)
            .bind(&session_id)
            .bind(user_id)
            .bind(now.unix_ms())
            .bind((now + lifetime).unix_ms())
            .execute(&mut *transaction)
            .await?;
        let (token, _) = insert_token(&mut transaction, &session_id, now).await?;
        count_for_session(&mut transaction, counter::LOGINS, &session_id).await?;
        let found = load(&mut *transaction, &session_id)
            .await?
            .ok_or_else(|| DbError::Task("session vanished".into()))?;
        transaction.commit().await?;
        tally.add(counter::LOGINS);
        Ok((found, token))
    }

    async fn rotate(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
        tally: Arc<Tally>,
    ) -> Result<Refreshed, RefreshError> {
        // Which family, before any transaction: a flood of unknown tokens costs one read
        // each. The token itself is read again under the family's lock below.
        let found: Option<String> = match refresh_token_hash(&presented) {
            Some(hash) => sqlx::query_scalar(postgres_only::SESSION_OF_TOKEN)
                .bind(hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(DbError::from)?,
            None => None,
        };
        let Some(session_id) = found else {
            tally.add(counter::FAILED_REFRESHES);
            return Err(RefreshError::Unknown);
        };
        let mut transaction = self.pool.begin().await.map_err(DbError::from)?;
        // Every rotation of a family holds its session row until it commits, so a second
        // request with the same token, on this instance or another, waits here and then
        // reads the token as spent. The token is read after the lock, in a new statement,
        // so that it sees what the request before it committed.
        sqlx::query(postgres_only::LOCK_SESSION)
            .bind(&session_id)
            .execute(&mut *transaction)
            .await
            .map_err(DbError::from)?;
        let Some(row) = token_row(&mut *transaction, &presented).await? else {
            // Pruned in between: as unknown as it gets.
            tally.add(counter::FAILED_REFRESHES);
            return Err(RefreshError::Unknown);
        };
        let verdict = Verdict::of(&row, now, policy);
        let plan = verdict.plan();
        let new_token = if plan.issue_token {
            let (token, new_hash) = insert_token(&mut transaction, &session_id, now).await?;
            if plan.spend_family {
                sqlx::query(sql::SPEND_FAMILY)
                    .bind(now.unix_ms())
                    .bind(new_hash)
                    .bind(&session_id)
                    .execute(&mut *transaction)
                    .await
                    .map_err(DbError::from)?;
            }
            Some(token)
        } else {
            None
        };
        if let Some(reason) = plan.revoke {
            revoke(&session_id, now, reason)
                .execute(&mut *transaction)
                .await
                .map_err(DbError::from)?;
            announce(&mut *transaction, &Changed::Session(session_id.clone())).await?;
        }
        for name in plan.counts {
            count_for_session(&mut transaction, name, &session_id).await?;
        }
        transaction.commit().await.map_err(DbError::from)?;
        for name in plan.counts {
            tally.add(name);
        }
        verdict.outcome(row, new_token, policy)
    }

    async fn peek(
        &self,
        presented: String,
        now: Timestamp,
        policy: RefreshPolicy,
    ) -> Result<Option<SessionWithUser>, DbError> {
        Ok(token_row(&self.pool, &presented)
            .await?
            .filter(|row| Verdict::of(row, now, policy).succeeds())
            .map(|row| row.found))
    }

    async fn live_session_of(
        &self,
        presented: String,
        now: Timestamp,
    ) -> Result<Option<SessionWithUser>, DbError> {
        Ok(token_row(&self.pool, &presented)
            .await?
            .map(|row| row.found)
            .filter(|found| found.session.is_live(now)))
    }

    async fn load_session(&self, session_id: String) -> Result<Option<SessionWithUser>, DbError> {
        load(&self.pool, &session_id).await
    }

    async fn list_live(
        &self,
        user_id: i64,
        current: String,
        now: Timestamp,
    ) -> Result<Vec<ActiveSession>, DbError> {
        let rows = sqlx::query(sql::LIST_LIVE)
            .bind(user_id)
            .bind(now.unix_ms())
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|row| rows::active_session(row, &current))
            .collect::<Result<_, _>>()?)
    }

    async fn revoke(
        &self,
        session_id: String,
        now: Timestamp,
        reason: &'static str,
    ) -> Result<(), DbError> {
        let statement = revoke(&session_id, now, reason);
        self.change(statement, Changed::Session(session_id.clone()))
            .await?;
        Ok(())
    }

    async fn revoke_others(
        &self,
        user_id: i64,
        keep: String,
        now: Timestamp,
    ) -> Result<u64, DbError> {
        let statement = sqlx::query(sql::REVOKE_OTHERS)
            .bind(now.unix_ms())
            .bind(user_id)
            .bind(keep);
        self.change(statement, Changed::User(user_id)).await
    }

    async fn supersede_access_tokens(&self, session_id: String) -> Result<(), DbError> {
        let statement = sqlx::query(sql::SUPERSEDE_ACCESS_TOKENS).bind(session_id.clone());
        self.change(statement, Changed::Session(session_id)).await?;
        Ok(())
    }

    async fn set_access_ttl(&self, session_id: String, seconds: i64) -> Result<(), DbError> {
        let statement = sqlx::query(sql::SET_ACCESS_TTL)
            .bind(seconds)
            .bind(session_id.clone());
        self.change(statement, Changed::Session(session_id)).await?;
        Ok(())
    }

    async fn prune(&self, ended_before: Timestamp) -> Result<(u64, u64), DbError> {
        let mut transaction = self.pool.begin().await?;
        let tokens = sqlx::query(sql::PRUNE_TOKENS)
            .bind(ended_before.unix_ms())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        let sessions = sqlx::query(sql::PRUNE_SESSIONS)
            .bind(ended_before.unix_ms())
            .execute(&mut *transaction)
            .await?
            .rows_affected();
        // Failed logins outlive no throttle window (at most a day).
        sqlx::query(postgres_only::PRUNE_LOGIN_FAILURES)
            .bind(ended_before.unix_ms())
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok((sessions, tokens))
    }

    /// Stores `candidate` as the signing key unless an instance did so first, and returns
    /// the stored one. Two instances starting together: the second insert waits for the
    /// first on the primary key, then does nothing, and both read the first's key.
    async fn shared_signing_key(&self, candidate: String) -> Result<Option<String>, DbError> {
        sqlx::query(postgres_only::OFFER_SIGNING_KEY)
            .bind(candidate)
            .execute(&self.pool)
            .await?;
        Ok(Some(
            sqlx::query_scalar(postgres_only::SIGNING_KEY)
                .fetch_one(&self.pool)
                .await?,
        ))
    }

    async fn replace_shared_signing_key(
        &self,
        stored: String,
        replacement: String,
    ) -> Result<bool, DbError> {
        // Compare and swap: of two instances wrapping at once, one writes and both keep
        // using the same key.
        let done = sqlx::query(postgres_only::REPLACE_SIGNING_KEY)
            .bind(stored)
            .bind(replacement)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every stored refresh-token hash (the tests check that no raw token is kept).
    #[cfg(test)]
    async fn token_hashes(&self) -> Vec<Vec<u8>> {
        sqlx::query_scalar("SELECT hash FROM refresh_tokens")
            .fetch_all(&self.pool)
            .await
            .expect("hashes")
    }

    /// Runs a statement outside the store's interface (to simulate what it never does).
    #[cfg(test)]
    async fn execute_for_test(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&self.pool)
            .await
            .expect("statement");
    }
}

async fn token_row<'e, E>(executor: E, presented: &str) -> Result<Option<TokenRow>, DbError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let Some(hash) = refresh_token_hash(presented) else {
        return Ok(None);
    };
    let row = sqlx::query(sql::TOKEN_ROW)
        .bind(hash)
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|row| presented_token(&row)).transpose()?)
}

async fn load<'e, E>(executor: E, session_id: &str) -> Result<Option<SessionWithUser>, DbError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    let row = sqlx::query(sql::LOAD_SESSION)
        .bind(session_id)
        .fetch_optional(executor)
        .await?;
    Ok(row.map(|row| session_with_user(&row)).transpose()?)
}

async fn insert_token(
    transaction: &mut Transaction<'_, Postgres>,
    session_id: &str,
    now: Timestamp,
) -> Result<(String, Vec<u8>), DbError> {
    let token = new_refresh_token();
    let hash = refresh_token_hash(&token)
        .ok_or_else(|| DbError::Task("fresh token did not hash".into()))?;
    sqlx::query(sql::INSERT_TOKEN)
        .bind(&hash)
        .bind(session_id)
        .bind(now.unix_ms())
        .execute(&mut **transaction)
        .await?;
    Ok((token, hash))
}

/// Ends the session at `now` for `reason`, unless it has ended.
fn revoke<'q>(session_id: &'q str, now: Timestamp, reason: &'q str) -> Statement<'q> {
    sqlx::query(sql::REVOKE)
        .bind(now.unix_ms())
        .bind(reason)
        .bind(session_id)
}

/// Tells the other instances, at commit, to forget what `changed` names.
async fn announce<'e, E>(executor: E, changed: &Changed) -> Result<(), DbError>
where
    E: sqlx::Executor<'e, Database = Postgres>,
{
    sqlx::query(postgres_only::ANNOUNCE)
        .bind(CHANGES)
        .bind(changed.to_payload())
        .execute(executor)
        .await?;
    Ok(())
}

/// Adds one to the session's counter (the server-wide one is counted in the [`Tally`]).
async fn count_for_session(
    transaction: &mut Transaction<'_, Postgres>,
    name: &str,
    session_id: &str,
) -> Result<(), DbError> {
    sqlx::query(sql::COUNT_FOR_SESSION)
        .bind(session_id)
        .bind(name)
        .execute(&mut **transaction)
        .await?;
    Ok(())
}
