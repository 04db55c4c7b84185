//! Work that runs beside the requests: refused requests are counted in memory (a cheap
//! flood of bad requests must not queue every token check behind the database's lock) and
//! added to the stored counters every few seconds; ended sessions and long-spent refresh
//! tokens are pruned every hour. Neither runs on a request's path; a crash loses at most
//! one flush interval of rejection counts. With several instances each flushes its own
//! counts (they add up) and each prunes (deleting what another deleted is a no-op).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::store::{counter, Store};
use super::timestamp::Timestamp;
use crate::api::ErrCode;

/// How often counted rejections are written to the database.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// How often ended sessions and old spent tokens are pruned.
pub(crate) const PRUNE_EVERY: Duration = Duration::from_secs(3600);
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
pub(crate) async fn flush_rejections(store: &Store, rejections: &Rejections) {
    let taken = rejections.take();
    if taken.is_empty() {
        return;
    }
    let counts = taken
        .iter()
        .map(|(code, count)| (rejection_counter(*code), *count))
        .collect();
    if let Err(error) = store.add_to_counters(counts).await {
        if !error.is_unavailable() {
            tracing::error!(%error, "could not store rejection counters; will retry");
        }
        rejections.give_back(&taken);
    }
}

/// Runs the flushes and the pruning until the returned task is aborted.
pub(crate) fn spawn(
    store: Store,
    rejections: std::sync::Arc<Rejections>,
) -> tokio::task::JoinHandle<()> {
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
                _ = flush.tick() => flush_rejections(&store, &rejections).await,
                _ = prune_tick.tick() => {
                    match store.prune(Timestamp::now()).await {
                        Ok((0, 0)) => {}
                        Ok((sessions, tokens)) => {
                            tracing::info!(sessions, tokens, "pruned ended sessions and old spent tokens")
                        }
                        Err(error) if error.is_unavailable() => {}
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
}
