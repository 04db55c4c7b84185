//! The failed-login throttle's shared half, in PostgreSQL: what several instances count
//! as one.

use sqlx::PgPool;

use super::{Limits, Refusal};
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::DbError;

/// The failed-login throttle's shared half: attempts reserved, forgiven and given back in
/// the database (by the rules above, which the in-memory throttle of a single instance follows
/// too).
#[derive(Clone)]
pub(crate) struct SharedFailures {
    pool: PgPool,
}

impl SharedFailures {
    /// The shared half on the deployment's PostgreSQL database.
    pub(crate) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

impl SharedFailures {
    /// Counts a failure for the account and the address now, unless either is at its
    /// limit (then which one). Two advisory locks, always the
    /// account's first, make check-and-reserve one step across instances.
    pub(crate) async fn reserve(
        &self,
        account: &str,
        address: &str,
        now: Timestamp,
        limits: &Limits,
    ) -> Result<Result<i64, Refusal>, DbError> {
        let mut transaction = self.pool.begin().await?;
        for key in [format!("account {account}"), format!("address {address}")] {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                .bind(key)
                .execute(&mut *transaction)
                .await?;
        }
        let since = (now - limits.window).unix_ms();
        let (failed_by_account, by_account, failed_by_address, by_address): (i64, i64, i64, i64) =
            sqlx::query_as(
                "SELECT count(*) FILTER (WHERE account = $1 AND settled),
                        count(*) FILTER (WHERE account = $1),
                        count(*) FILTER (WHERE address = $2 AND settled),
                        count(*) FILTER (WHERE address = $2)
                 FROM login_failures WHERE (account = $1 OR address = $2) AND at > $3",
            )
            .bind(account)
            .bind(address)
            .bind(since)
            .fetch_one(&mut *transaction)
            .await?;
        let (per_account, per_address) =
            (i64::from(limits.per_account), i64::from(limits.per_address));
        if failed_by_address >= per_address {
            return Ok(Err(Refusal::Address));
        }
        let account_counts = limits.account_refuses_all;
        if account_counts && failed_by_account >= per_account {
            return Ok(Err(Refusal::Account));
        }
        if by_address >= per_address || (account_counts && by_account >= per_account) {
            return Ok(Err(Refusal::InFlight));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO login_failures (account, address, at, settled)
             VALUES ($1, $2, $3, FALSE) RETURNING id",
        )
        .bind(account)
        .bind(address)
        .bind(now.unix_ms())
        .fetch_one(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(Ok(id))
    }

    /// The password was right: the account's failures are forgiven (the addresses keep
    /// theirs) and this attempt no longer counts at all.
    pub(crate) async fn succeeded(&self, account: &str, attempt: i64) -> Result<(), DbError> {
        let mut transaction = self.pool.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(attempt)
            .execute(&mut *transaction)
            .await?;
        // Attempts of the account still in flight stay reserved: they count if they fail.
        sqlx::query("UPDATE login_failures SET account = NULL WHERE account = $1 AND settled")
            .bind(account)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(())
    }

    /// The password was wrong: the attempt counts as a failure from now on. (An attempt
    /// never settled, its instance gone, stays in flight until the window passes.)
    pub(crate) async fn failed(&self, attempt: i64) -> Result<(), DbError> {
        sqlx::query("UPDATE login_failures SET settled = TRUE WHERE id = $1")
            .bind(attempt)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The password was never checked: the attempt is not counted.
    pub(crate) async fn not_tried(&self, attempt: i64) -> Result<(), DbError> {
        sqlx::query("DELETE FROM login_failures WHERE id = $1")
            .bind(attempt)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
