//! Work that runs beside the requests: refused requests are counted in memory (a cheap
//! flood of bad requests must not queue every token check behind the database's lock) and
//! added to the stored counters every few seconds; ended sessions and long-spent refresh
//! tokens are pruned every hour. Both run on the blocking pool through `Db::call`, never
//! on a request's path; a crash loses at most one flush interval of rejection counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{params, Connection};

use super::db::{counter, Db, DbError};
use super::unix_now_ms;
use crate::api::ErrCode;

/// How often counted rejections are written to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// How often ended sessions and old spent tokens are pruned.
pub(crate) const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Spent refresh tokens are kept this long, so that one presented again is recognised as
/// reuse (and revokes its family); older ones are refused as unknown instead.
pub(crate) const SPENT_TOKENS_KEPT: Duration = Duration::from_secs(24 * 3600);
/// Ended sessions are kept this long (the lab and the log can still refer to them).
pub(crate) const ENDED_SESSIONS_KEPT: Duration = Duration::from_secs(24 * 3600);

/// Refused requests per errcode not yet written to the database.
#[derive(Default)]
pub(crate) struct Rejections {
    pending: [AtomicU64; ErrCode::ALL.len()],
}

impl Rejections {
    pub(crate) fn record(&self, code: ErrCode) {
        self.add(code, 1);
    }

    fn add(&self, code: ErrCode, count: u64) {
        if let Some(index) = ErrCode::ALL.iter().position(|c| *c == code) {
            self.pending[index].fetch_add(count, Ordering::Relaxed);
        }
    }

    /// The counts not yet written, without taking them.
    pub(crate) fn pending(&self) -> Vec<(ErrCode, u64)> {
        self.collect(|count| count.load(Ordering::Relaxed))
    }

    /// Takes the counts to write them; `give_back` returns them if writing failed.
    fn take(&self) -> Vec<(ErrCode, u64)> {
        self.collect(|count| count.swap(0, Ordering::Relaxed))
    }

    fn give_back(&self, taken: &[(ErrCode, u64)]) {
        for (code, count) in taken {
            self.add(*code, *count);
        }
    }

    fn collect(&self, read: impl Fn(&AtomicU64) -> u64) -> Vec<(ErrCode, u64)> {
        ErrCode::ALL
            .iter()
            .zip(&self.pending)
            .map(|(code, count)| (*code, read(count)))
            .filter(|(_, count)| *count > 0)
            .collect()
    }
}

/// The stored counter a rejection with `code` counts under.
pub(crate) fn rejection_counter(code: ErrCode) -> String {
    format!("{}{}", counter::REJECTED_PREFIX, code.code())
}

/// Writes the pending rejection counts in one transaction.
pub(crate) async fn flush_rejections(db: &Db, rejections: &Rejections) {
    let taken = rejections.take();
    if taken.is_empty() {
        return;
    }
    let written = taken.clone();
    let result = db
        .call(move |connection| {
            let transaction = connection.transaction()?;
            for (code, count) in &written {
                add_to_counter(&transaction, &rejection_counter(*code), *count)?;
            }
            transaction.commit()?;
            Ok(())
        })
        .await;
    if let Err(error) = result {
        tracing::error!(%error, "could not store rejection counters; will retry");
        rejections.give_back(&taken);
    }
}

fn add_to_counter(connection: &Connection, name: &str, count: u64) -> Result<(), DbError> {
    connection.execute(
        "INSERT INTO counters (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
        params![name, count as i64],
    )?;
    Ok(())
}

/// Deletes sessions that ended (expired or revoked) more than a day ago, with their
/// tokens and counters, and refresh tokens spent more than [`SPENT_TOKENS_KEPT`] ago.
/// Returns (sessions, tokens) deleted.
pub(crate) fn prune(connection: &mut Connection, now_ms: i64) -> Result<(usize, usize), DbError> {
    let transaction = connection.transaction()?;
    let ended_before = (now_ms - ENDED_SESSIONS_KEPT.as_millis() as i64) / 1000;
    let sessions = transaction.execute(
        "DELETE FROM sessions WHERE expires_at < ?1 OR (revoked_at IS NOT NULL AND revoked_at < ?1)",
        params![ended_before],
    )?;
    let spent_before = now_ms - SPENT_TOKENS_KEPT.as_millis() as i64;
    let tokens = transaction.execute(
        "DELETE FROM refresh_tokens WHERE spent_at IS NOT NULL AND spent_at < ?1",
        params![spent_before],
    )?;
    transaction.commit()?;
    Ok((sessions, tokens))
}

/// Runs the flushes and the pruning until the returned task is aborted.
pub(crate) fn spawn(db: Db, rejections: std::sync::Arc<Rejections>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // The first flush one interval after start: nothing is pending before.
        let mut flush =
            tokio::time::interval_at(tokio::time::Instant::now() + FLUSH_EVERY, FLUSH_EVERY);
        let mut prune_tick = tokio::time::interval(PRUNE_EVERY);
        // A second instance or a restart storm does not need to catch up on missed ticks.
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        prune_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = flush.tick() => flush_rejections(&db, &rejections).await,
                _ = prune_tick.tick() => {
                    let now_ms = unix_now_ms();
                    match db.call(move |connection| prune(connection, now_ms)).await {
                        Ok((0, 0)) => {}
                        Ok((sessions, tokens)) => {
                            tracing::info!(sessions, tokens, "pruned ended sessions and old spent tokens")
                        }
                        Err(error) => tracing::error!(%error, "pruning failed; will retry"),
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::db::read_counters;

    #[test]
    fn rejections_are_counted_taken_and_given_back() {
        let rejections = Rejections::default();
        for _ in 0..3 {
            rejections.record(ErrCode::InvalidCredential);
        }
        rejections.record(ErrCode::NotFound);
        assert_eq!(
            rejections.pending(),
            vec![(ErrCode::InvalidCredential, 3), (ErrCode::NotFound, 1)]
        );
        let taken = rejections.take();
        assert!(rejections.pending().is_empty());
        rejections.give_back(&taken);
        assert_eq!(rejections.pending(), taken);
    }

    #[tokio::test]
    async fn a_flush_adds_to_the_stored_counters() {
        let dir = tempfile::tempdir().expect("dir");
        let db = Db::open(&dir.path().join("c.db")).expect("db");
        let rejections = Rejections::default();
        rejections.record(ErrCode::InvalidCredential);
        flush_rejections(&db, &rejections).await;
        rejections.record(ErrCode::InvalidCredential);
        rejections.record(ErrCode::InvalidCredential);
        flush_rejections(&db, &rejections).await;
        let stored = db
            .call(|connection| read_counters(connection, None))
            .await
            .expect("read");
        assert_eq!(stored.rejected.get("40001"), Some(&3));
        assert!(rejections.pending().is_empty());
    }

    #[test]
    fn pruning_keeps_live_sessions_and_recently_spent_tokens() {
        use crate::server::sessions::{rotate, start, RefreshPolicy};
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("p.db");
        drop(Db::open(&path).expect("migrated"));
        let mut connection = Connection::open(&path).expect("open");
        connection
            .execute(
                "INSERT INTO users (customer_code, username, display_name, password_hash) VALUES ('A', 'u', 'U', 'x')",
                [],
            )
            .expect("user");
        let policy = RefreshPolicy {
            grace_ms: 0,
            idle_ms: i64::MAX / 4,
            demo_users: true,
        };
        let day = 24 * 3600 * 1000;
        let t0 = 1_800_000_000_000;
        let (_, first) = start(&mut connection, 1, t0, 30 * 24 * 3600).expect("login");
        let second = rotate(&mut connection, Some(&first), t0 + 1, policy)
            .expect("rotate")
            .new_refresh_token
            .expect("token");
        let (short, _) = start(&mut connection, 1, t0, 60).expect("short login");
        assert_eq!(prune(&mut connection, t0 + 1000).expect("prune"), (0, 0));
        let (sessions, tokens) = prune(&mut connection, t0 + 2 * day).expect("prune");
        assert_eq!(sessions, 1, "the 60 s session ended more than a day ago");
        assert_eq!(tokens, 1, "the first token was spent more than a day ago");
        assert!(
            crate::server::sessions::load(&connection, &short.session.id)
                .expect("load")
                .is_none()
        );
        assert!(
            rotate(&mut connection, Some(&second), t0 + 2 * day, policy).is_ok(),
            "the current token of the long session still works"
        );
    }
}
