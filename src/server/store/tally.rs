//! Server-wide counters, counted in memory and added to the stored ones every few
//! seconds (`ops/maintenance.rs`). Written in every refresh's transaction instead, one row per
//! counter would serialise every refresh of every instance on that row's lock (measured:
//! 864 refreshes/s on PostgreSQL); a flood of refused requests would queue behind the
//! database. Per-session counters stay in the transaction that counts them: they are
//! exact, and a session's rows contend with nothing but that session. A crash loses at
//! most one flush interval of server-wide counts; reports add this instance's pending
//! counts to the stored ones.

use std::sync::atomic::{AtomicU64, Ordering};

use super::counter;
use crate::api::ErrCode;

/// The named counters, in the order of [`Tally::named`].
const NAMED: [&str; 7] = [
    counter::LOGINS,
    counter::FAILED_LOGINS,
    counter::REFRESHES,
    counter::ROTATIONS,
    counter::GRACE_REFRESHES,
    counter::REUSE_DETECTIONS,
    counter::FAILED_REFRESHES,
];

#[derive(Default)]
pub(crate) struct Tally {
    named: [AtomicU64; NAMED.len()],
    /// Refused requests, per errcode of [`ErrCode::ALL`].
    rejected: [AtomicU64; ErrCode::ALL.len()],
}

/// The stored counter a rejection with `code` counts under.
pub(crate) fn rejection_counter(code: ErrCode) -> String {
    format!("{}{}", counter::REJECTED_PREFIX, code.code())
}

impl Tally {
    /// One more of a named counter (`counter::*`).
    pub(crate) fn add(&self, name: &str) {
        self.add_to(name, 1);
    }

    pub(crate) fn record_rejection(&self, code: ErrCode) {
        if let Some(index) = ErrCode::ALL.iter().position(|c| *c == code) {
            self.rejected[index].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The counts not yet written, by stored name, without taking them.
    pub(crate) fn pending(&self) -> Vec<(String, u64)> {
        self.collect(|count| count.load(Ordering::Relaxed))
    }

    /// Takes the counts to write them; [`Self::give_back`] returns them if that failed.
    pub(crate) fn take(&self) -> Vec<(String, u64)> {
        self.collect(|count| count.swap(0, Ordering::Relaxed))
    }

    pub(crate) fn give_back(&self, taken: &[(String, u64)]) {
        for (name, count) in taken {
            self.add_to(name, *count);
        }
    }

    fn add_to(&self, name: &str, count: u64) {
        let slot = match NAMED.iter().position(|n| *n == name) {
            Some(index) => &self.named[index],
            None => {
                let code = name
                    .strip_prefix(counter::REJECTED_PREFIX)
                    .and_then(|code| code.parse().ok())
                    .and_then(ErrCode::from_code);
                match code.and_then(|code| ErrCode::ALL.iter().position(|c| *c == code)) {
                    Some(index) => &self.rejected[index],
                    None => {
                        debug_assert!(false, "no such counter: {name}");
                        return;
                    }
                }
            }
        };
        slot.fetch_add(count, Ordering::Relaxed);
    }

    fn collect(&self, read: impl Fn(&AtomicU64) -> u64) -> Vec<(String, u64)> {
        let named = NAMED
            .iter()
            .zip(&self.named)
            .map(|(name, count)| ((*name).to_owned(), read(count)));
        let rejected = ErrCode::ALL
            .iter()
            .zip(&self.rejected)
            .map(|(code, count)| (rejection_counter(*code), read(count)));
        named
            .chain(rejected)
            .filter(|(_, count)| *count > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_kept_taken_and_given_back_by_their_stored_names() {
        let tally = Tally::default();
        tally.add(counter::REFRESHES);
        tally.add(counter::REFRESHES);
        for _ in 0..3 {
            tally.record_rejection(ErrCode::InvalidCredential);
        }
        tally.record_rejection(ErrCode::NotFound);
        let expected = vec![
            ("refreshes".to_owned(), 2),
            ("rejected.40001".to_owned(), 3),
            ("rejected.40400".to_owned(), 1),
        ];
        assert_eq!(tally.pending(), expected);
        let taken = tally.take();
        assert!(tally.pending().is_empty());
        tally.give_back(&taken);
        assert_eq!(tally.pending(), expected);
    }
}
