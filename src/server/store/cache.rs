//! Sessions as the access check reads them, kept in memory so that an authenticated
//! request does not cost a database read (a network round trip on PostgreSQL).
//!
//! Exact, not eventually right: every change to a session made through this instance
//! forgets the entry at once; changes made by other instances arrive through PostgreSQL
//! `LISTEN/NOTIFY` (see `postgres.rs`), and while that channel is down the cache is off and
//! every check reads the database. An epoch makes the race safe in which a read started
//! before a change finishes after it: the stale result is used for that one request but
//! never cached. Entries also age out after [`MAX_AGE`], for changes made behind the
//! server's back (a manual `UPDATE`), and the map is bounded.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, Instant};

use super::records::SessionWithUser;

/// How long an entry is trusted without any notification.
pub(crate) const MAX_AGE: Duration = Duration::from_secs(5);
/// Entries kept at most (about 300 bytes each).
const MAX_ENTRIES: usize = 100_000;

pub(crate) struct SessionCache {
    entries: RwLock<HashMap<String, Entry>>,
    /// Bumped by every forget, before the entries go.
    epoch: AtomicU64,
    enabled: AtomicBool,
}

struct Entry {
    found: SessionWithUser,
    cached_at: Instant,
}

/// What a change notification names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Changed {
    Session(String),
    /// Every session of the user (sign out everywhere else).
    User(i64),
}

impl Changed {
    /// As sent through `NOTIFY`: `s:<session id>` or `u:<user id>`.
    pub(crate) fn to_payload(&self) -> String {
        match self {
            Self::Session(id) => format!("s:{id}"),
            Self::User(id) => format!("u:{id}"),
        }
    }

    pub(crate) fn from_payload(payload: &str) -> Option<Self> {
        match payload.split_once(':')? {
            ("s", id) if !id.is_empty() => Some(Self::Session(id.to_owned())),
            ("u", id) => id.parse().ok().map(Self::User),
            _ => None,
        }
    }
}

impl SessionCache {
    /// On from the start (one instance), or off until told otherwise.
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            enabled: AtomicBool::new(enabled),
        }
    }

    /// A fresh entry, if the cache is on.
    pub(crate) fn get(&self, session_id: &str) -> Option<SessionWithUser> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(session_id)
            .filter(|entry| entry.cached_at.elapsed() < MAX_AGE)
            .map(|entry| entry.found.clone())
    }

    /// Taken before reading the database, handed to [`Self::insert`] after.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Caches what a read that started at `epoch` found, unless something changed since.
    pub(crate) fn insert(&self, found: &SessionWithUser, epoch: u64) {
        if !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        // Checked under the lock: a forget bumps the epoch before it takes the lock.
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, entry| entry.cached_at.elapsed() < MAX_AGE);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            found.session.id.clone(),
            Entry {
                found: found.clone(),
                cached_at: Instant::now(),
            },
        );
    }

    pub(crate) fn forget(&self, changed: &Changed) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        match changed {
            Changed::Session(id) => {
                entries.remove(id);
            }
            Changed::User(user_id) => entries.retain(|_, entry| entry.found.user.id != *user_id),
        }
    }

    pub(crate) fn forget_all(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Turns the cache on (the change channel is listening) or off (it is not: every
    /// check reads the database, and nothing cached before is trusted again).
    pub(crate) fn set_enabled(&self, enabled: bool) {
        self.forget_all();
        self.enabled.store(enabled, Ordering::Release);
        self.forget_all();
    }

    #[cfg(test)]
    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ops::timestamp::Timestamp;
    use crate::server::store::records::{SessionRecord, UserRecord};

    fn session(id: &str, user_id: i64) -> SessionWithUser {
        SessionWithUser {
            session: SessionRecord {
                id: id.into(),
                created_at: Timestamp::from_unix_ms(0),
                expires_at: Timestamp::from_unix_ms(1),
                revoked: false,
                access_version: 0,
                access_ttl: None,
            },
            user: UserRecord {
                id: user_id,
                customer_code: "ACME".into(),
                username: "demo".into(),
                display_name: "Dana".into(),
                is_demo: false,
            },
        }
    }

    #[test]
    fn entries_are_forgotten_by_session_by_user_and_all_at_once() {
        let cache = SessionCache::new(true);
        for (id, user) in [("a", 1), ("b", 1), ("c", 2)] {
            cache.insert(&session(id, user), cache.epoch());
        }
        assert!(cache.get("a").is_some());
        cache.forget(&Changed::Session("a".into()));
        assert!(cache.get("a").is_none());
        assert!(cache.get("b").is_some());
        cache.forget(&Changed::User(1));
        assert!(cache.get("b").is_none());
        assert!(cache.get("c").is_some(), "another user's session stays");
        cache.forget_all();
        assert!(cache.get("c").is_none());
    }

    #[test]
    fn a_read_that_started_before_a_change_is_not_cached() {
        let cache = SessionCache::new(true);
        let epoch = cache.epoch();
        cache.forget(&Changed::Session("a".into())); // the change lands meanwhile
        cache.insert(&session("a", 1), epoch);
        assert!(
            cache.get("a").is_none(),
            "the stale read must not be cached"
        );
        cache.insert(&session("a", 1), cache.epoch());
        assert!(cache.get("a").is_some());
    }

    #[test]
    fn a_disabled_cache_answers_nothing_and_stores_nothing() {
        let cache = SessionCache::new(false);
        cache.insert(&session("a", 1), cache.epoch());
        assert!(cache.get("a").is_none());
        cache.set_enabled(true);
        assert!(cache.get("a").is_none(), "nothing from before");
        cache.insert(&session("a", 1), cache.epoch());
        assert!(cache.get("a").is_some());
        cache.set_enabled(false);
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn payloads_round_trip_and_garbage_is_ignored() {
        for changed in [Changed::Session("abc_-1".into()), Changed::User(42)] {
            assert_eq!(Changed::from_payload(&changed.to_payload()), Some(changed));
        }
        for garbage in ["", "s:", "u:x", "x:1", "s"] {
            assert_eq!(Changed::from_payload(garbage), None, "{garbage:?}");
        }
    }
}
