//! Failures counted in this process's memory: a sliding window per key, bounded (old
//! failures expire and the number of tracked keys is capped).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::{address_key, Limits, Refusal};

/// Tracked keys per kind (accounts, addresses) before the least recently failed are
/// forgotten; about 100 bytes each.
const MAX_TRACKED_KEYS: usize = 50_000;

/// Failures counted in this process's memory.
pub(crate) struct LocalThrottle {
    window: Duration,
    ipv6_prefix_len: u8,
    account_refuses_all: bool,
    accounts: Mutex<Windows<String>>,
    addresses: Mutex<Windows<IpAddr>>,
}

impl LocalThrottle {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            window: limits.window,
            ipv6_prefix_len: limits.ipv6_prefix_len,
            account_refuses_all: limits.account_refuses_all,
            accounts: Mutex::new(Windows::new(limits.per_account as usize, MAX_TRACKED_KEYS)),
            addresses: Mutex::new(Windows::new(limits.per_address as usize, MAX_TRACKED_KEYS)),
        })
    }

    /// Counts a failed attempt for both keys now, unless either is over its limit. The
    /// returned [`Attempt`] stays counted as a failure unless it [`Attempt::succeeded`] or
    /// is [`Attempt::not_tried`].
    pub(crate) fn begin(
        self: &Arc<Self>,
        account: &str,
        address: IpAddr,
        now: Instant,
    ) -> Result<LocalAttempt, Refusal> {
        let address = address_key(address, self.ipv6_prefix_len);
        // Both locks, always in this order, so check-and-reserve is one step.
        let mut accounts = lock(&self.accounts);
        let mut addresses = lock(&self.addresses);
        let by_address = addresses.room(&address, now, self.window);
        let by_account = match accounts.room(account, now, self.window) {
            _ if !self.account_refuses_all => Room::Free,
            room => room,
        };
        match (by_address, by_account) {
            (Room::Full, _) => return Err(Refusal::Address),
            (_, Room::Full) => return Err(Refusal::Account),
            (Room::InFlight, _) | (_, Room::InFlight) => return Err(Refusal::InFlight),
            (Room::Free, Room::Free) => {}
        }
        let account_entry = accounts.push(account.to_owned(), now, self.window);
        let address_entry = addresses.push(address, now, self.window);
        Ok(LocalAttempt {
            throttle: Arc::clone(self),
            account: account.to_owned(),
            address,
            account_entry,
            address_entry,
            open: true,
        })
    }

    #[cfg(test)]
    pub(super) fn tracked(&self) -> (usize, usize) {
        (
            lock(&self.accounts).map.len(),
            lock(&self.addresses).map.len(),
        )
    }
}

/// One attempt reserved in memory; dropping it (a request abandoned while its password
/// was checked) counts it as a failure.
pub(crate) struct LocalAttempt {
    throttle: Arc<LocalThrottle>,
    account: String,
    address: IpAddr,
    account_entry: u64,
    address_entry: u64,
    /// Not yet settled, given back or forgiven.
    open: bool,
}

impl LocalAttempt {
    /// The password was wrong: the attempt is a failure from now on.
    pub(crate) fn failed(mut self) {
        self.settle();
    }

    /// The password was right: the account's failures are forgiven (attempts of it still
    /// in flight count when they fail), and this attempt no longer counts against the
    /// address (its earlier failures still do, so logging into one's own account does not
    /// reset an address that guesses at others).
    pub(crate) fn succeeded(mut self) {
        self.open = false;
        lock(&self.throttle.accounts).forgive(&self.account, self.account_entry);
        lock(&self.throttle.addresses).give_back(&self.address, self.address_entry);
    }

    /// The password was never checked (the server was too busy): nothing is counted.
    pub(crate) fn not_tried(mut self) {
        self.open = false;
        lock(&self.throttle.accounts).give_back(&self.account, self.account_entry);
        lock(&self.throttle.addresses).give_back(&self.address, self.address_entry);
    }

    fn settle(&mut self) {
        if std::mem::take(&mut self.open) {
            lock(&self.throttle.accounts).settle(&self.account, self.account_entry);
            lock(&self.throttle.addresses).settle(&self.address, self.address_entry);
        }
    }
}

impl Drop for LocalAttempt {
    fn drop(&mut self) {
        self.settle();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Whether a key may take one more attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Room {
    Free,
    /// Full only counting attempts still in flight.
    InFlight,
    /// Full of failures.
    Full,
}

/// A reserved attempt: in flight until settled as a failure.
pub(super) struct Entry {
    at: Instant,
    id: u64,
    settled: bool,
}

/// Recent attempts per key inside a sliding window.
pub(super) struct Windows<K> {
    max_failures: usize,
    max_keys: usize,
    pub(super) map: HashMap<K, VecDeque<Entry>>,
    next_id: u64,
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    pub(super) fn new(max_failures: usize, max_keys: usize) -> Self {
        Self {
            max_failures,
            max_keys,
            map: HashMap::new(),
            next_id: 0,
        }
    }

    fn room<Q>(&mut self, key: &Q, now: Instant, window: Duration) -> Room
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let Some(recent) = self.map.get_mut(key) else {
            return Room::Free;
        };
        while recent
            .front()
            .is_some_and(|first| now.duration_since(first.at) >= window)
        {
            recent.pop_front();
        }
        let failed = recent.iter().filter(|entry| entry.settled).count();
        if failed >= self.max_failures {
            Room::Full
        } else if recent.len() >= self.max_failures {
            Room::InFlight
        } else {
            Room::Free
        }
    }

    /// Reserves an attempt in flight; its id.
    pub(super) fn push(&mut self, key: K, now: Instant, window: Duration) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.map.entry(key).or_default().push_back(Entry {
            at: now,
            id,
            settled: false,
        });
        if self.map.len() > self.max_keys {
            self.shrink(now, window);
        }
        id
    }

    /// Counts the attempt as a failure.
    fn settle<Q>(&mut self, key: &Q, id: u64)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let entries = self.map.get_mut(key).into_iter().flatten();
        if let Some(entry) = entries.into_iter().find(|entry| entry.id == id) {
            entry.settled = true;
        }
    }

    /// Forgets the key's failures and the attempt `own`; other attempts still in flight
    /// stay reserved.
    fn forgive<Q>(&mut self, key: &Q, own: u64)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(recent) = self.map.get_mut(key) {
            recent.retain(|entry| !entry.settled && entry.id != own);
            if recent.is_empty() {
                self.map.remove(key);
            }
        }
    }

    fn give_back<Q>(&mut self, key: &Q, id: u64)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(recent) = self.map.get_mut(key) {
            recent.retain(|entry| entry.id != id);
            if recent.is_empty() {
                self.map.remove(key);
            }
        }
    }

    /// Drops expired keys; if that is not enough (a spray of fresh keys), forgets the
    /// tenth of keys whose last failure is oldest. Amortised: runs once per max_keys/10.
    fn shrink(&mut self, now: Instant, window: Duration) {
        self.map.retain(|_, recent| {
            recent
                .back()
                .is_some_and(|last| now.duration_since(last.at) < window)
        });
        let target = self.max_keys - self.max_keys / 10;
        if self.map.len() > target {
            let mut last_failures: Vec<Instant> = self
                .map
                .values()
                .filter_map(|recent| recent.back().map(|last| last.at))
                .collect();
            let cut_index = self.map.len() - target;
            let (_, cut, _) = last_failures.select_nth_unstable(cut_index);
            let cut = *cut;
            self.map
                .retain(|_, recent| recent.back().is_some_and(|last| last.at >= cut));
        }
    }
}
