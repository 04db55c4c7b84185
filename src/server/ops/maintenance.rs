//! Work that runs beside the requests: the server-wide counters kept in memory (see
//! `store/tally.rs`) are added to the stored ones every few seconds; sessions ended a day
//! ago are pruned, with their refresh tokens, every hour. Neither runs on a request's
//! path; a crash loses at most one flush interval of server-wide counts. With several
//! instances each flushes its own counts (they add up) and each prunes (deleting what
//! another deleted is a no-op).

use std::time::Duration;

use crate::server::ops::timestamp::Timestamp;
use crate::server::store::Store;

/// How often the server-wide counts are written to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// How often ended sessions are pruned.
pub(crate) const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Writes the server-wide counts made since the last flush; on failure they stay
/// pending for the next.
pub(crate) async fn flush_counts(store: &Store) {
    if let Err(error) = store.flush_counts().await {
        if !error.is_unavailable() {
            tracing::error!(%error, "could not store the counters; will retry");
        }
    }
}

/// Runs the flushes and the pruning until the returned task is aborted.
pub(crate) fn spawn(store: Store) -> tokio::task::JoinHandle<()> {
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
                _ = flush.tick() => flush_counts(&store).await,
                _ = prune_tick.tick() => {
                    match store.prune(Timestamp::now()).await {
                        Ok((0, 0)) => {}
                        Ok((sessions, tokens)) => {
                            tracing::info!(sessions, tokens, "pruned ended sessions and their tokens")
                        }
                        Err(error) if error.is_unavailable() => {}
                        Err(error) => tracing::error!(%error, "pruning failed; will retry"),
                    }
                }
            }
        }
    })
}
