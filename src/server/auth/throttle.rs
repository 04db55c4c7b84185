//! Failed-login throttling, per account and per client address. An attempt is counted
//! *before* the password is checked ([`LoginThrottle::begin`] reserves a failure) and given
//! back when it succeeds, so a hundred parallel guesses cannot all pass the check before
//! the first failure is recorded. A limit reached by failures refuses the login
//! ([`Refusal::Account`], [`Refusal::Address`]); one reached only because attempts are
//! still being checked says so ([`Refusal::InFlight`]: busy, try again in a moment), since
//! a burst of correct logins has not failed at all. One instance counts in memory ([`LocalThrottle`]:
//! bounded, old failures expire and the number of tracked keys is capped); several
//! instances on PostgreSQL count in the database ([`SharedFailures`]), by the same rules,
//! so that a brute force spread over instances is still throttled.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::server::ops::timestamp::Timestamp;
use sqlx::PgPool;

use crate::server::store::DbError;

/// Tracked keys per kind (accounts, addresses) before the least recently failed are
/// forgotten; about 100 bytes each.
const MAX_TRACKED_KEYS: usize = 50_000;

/// Why an attempt is refused before any hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    Account,
    Address,
    /// The limit is reached only counting attempts whose password is still being checked.
    InFlight,
}

impl Refusal {
    /// The refusal as a metric label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Refusal::Account => "account",
            Refusal::Address => "address",
            Refusal::InFlight => "in_flight",
        }
    }
}

/// The key an address is throttled under: the address itself for IPv4, its network of
/// `ipv6_prefix_len` bits for IPv6 (`login.ipv6_prefix_len`: one subscriber usually holds
/// a whole /64).
pub(crate) fn address_key(address: IpAddr, ipv6_prefix_len: u8) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u32::from(ipv6_prefix_len.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6((u128::from(v6) & mask).into())
        }
        v4 => v4,
    }
}

/// The limits, wherever failures are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub per_account: u32,
    pub per_address: u32,
    pub window: Duration,
    pub ipv6_prefix_len: u8,
}

/// The throttle of this deployment.
pub(crate) enum LoginThrottle {
    Local(Arc<LocalThrottle>),
    Shared {
        failures: SharedFailures,
        limits: Limits,
    },
}

/// One reserved login attempt; dropping it keeps the failure counted.
pub(crate) enum Attempt {
    Local(LocalAttempt),
    Shared {
        failures: SharedFailures,
        account: String,
        id: i64,
    },
}

impl LoginThrottle {
    pub(crate) fn new(limits: Limits, shared: Option<SharedFailures>) -> Self {
        match shared {
            Some(failures) => Self::Shared { failures, limits },
            None => Self::Local(LocalThrottle::new(limits)),
        }
    }

    /// Counts a failed attempt for both keys now, unless either is over its limit.
    pub(crate) async fn begin(
        &self,
        account: &str,
        address: IpAddr,
    ) -> Result<Result<Attempt, Refusal>, DbError> {
        match self {
            Self::Local(throttle) => Ok(throttle
                .begin(account, address, Instant::now())
                .map(Attempt::Local)),
            Self::Shared { failures, limits } => {
                let address = address_key(address, limits.ipv6_prefix_len).to_string();
                let reserved = failures
                    .reserve(account, &address, Timestamp::now(), limits)
                    .await?;
                Ok(reserved.map(|id| Attempt::Shared {
                    failures: failures.clone(),
                    account: account.to_owned(),
                    id,
                }))
            }
        }
    }
}

impl Attempt {
    /// The password was wrong: the reserved attempt counts as a failure from now on.
    pub(crate) async fn failed(self) -> Result<(), DbError> {
        match self {
            Self::Local(attempt) => {
                attempt.failed();
                Ok(())
            }
            Self::Shared { failures, id, .. } => failures.failed(id).await,
        }
    }

    /// The password was right; see [`LocalAttempt::succeeded`].
    pub(crate) async fn succeeded(self) -> Result<(), DbError> {
        match self {
            Self::Local(attempt) => {
                attempt.succeeded();
                Ok(())
            }
            Self::Shared {
                failures,
                account,
                id,
            } => failures.succeeded(&account, id).await,
        }
    }

    /// The password was never checked: nothing is counted.
    pub(crate) async fn not_tried(self) -> Result<(), DbError> {
        match self {
            Self::Local(attempt) => {
                attempt.not_tried();
                Ok(())
            }
            Self::Shared { failures, id, .. } => failures.not_tried(id).await,
        }
    }
}

/// Failures counted in this process's memory.
pub(crate) struct LocalThrottle {
    window: Duration,
    ipv6_prefix_len: u8,
    accounts: Mutex<Windows<String>>,
    addresses: Mutex<Windows<IpAddr>>,
}

impl LocalThrottle {
    pub(crate) fn new(limits: Limits) -> Arc<Self> {
        Arc::new(Self {
            window: limits.window,
            ipv6_prefix_len: limits.ipv6_prefix_len,
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
        let by_account = accounts.room(account, now, self.window);
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
    fn tracked(&self) -> (usize, usize) {
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
struct Entry {
    at: Instant,
    id: u64,
    settled: bool,
}

/// Recent attempts per key inside a sliding window.
struct Windows<K> {
    max_failures: usize,
    max_keys: usize,
    map: HashMap<K, VecDeque<Entry>>,
    next_id: u64,
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    fn new(max_failures: usize, max_keys: usize) -> Self {
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
    fn push(&mut self, key: K, now: Instant, window: Duration) -> u64 {
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
        if failed_by_account >= per_account {
            return Ok(Err(Refusal::Account));
        }
        if by_address >= per_address || by_account >= per_account {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    /// A throttle of `per_account` and `per_address` failures a minute.
    fn local(per_account: u32, per_address: u32) -> Arc<LocalThrottle> {
        LocalThrottle::new(Limits {
            per_account,
            per_address,
            window: Duration::from_secs(60),
            ipv6_prefix_len: 64,
        })
    }

    fn other_address(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn an_account_is_refused_after_max_failures_until_the_window_passes() {
        let throttle = local(3, 100);
        let t0 = Instant::now();
        for i in 0..3 {
            drop(
                throttle
                    .begin(
                        "acme/demo",
                        other_address(i),
                        t0 + Duration::from_secs(i.into()),
                    )
                    .expect("allowed"),
            );
        }
        let later = t0 + Duration::from_secs(10);
        assert_eq!(
            throttle.begin("acme/demo", HOME, later).err(),
            Some(Refusal::Account)
        );
        assert!(throttle.begin("acme/other", HOME, later).is_ok());
        assert!(
            throttle
                .begin("acme/demo", HOME, t0 + Duration::from_secs(60))
                .is_ok(),
            "the oldest failure left the window"
        );
    }

    #[test]
    fn parallel_attempts_are_counted_before_they_finish() {
        let throttle = local(3, 100);
        let now = Instant::now();
        let in_flight: Vec<_> = (0..10)
            .filter_map(|_| throttle.begin("acme/demo", HOME, now).ok())
            .collect();
        assert_eq!(
            in_flight.len(),
            3,
            "only max_failures may be in flight at once"
        );
        assert_eq!(
            throttle.begin("acme/demo", HOME, now).err(),
            Some(Refusal::InFlight),
            "busy: none of them failed yet"
        );
        for attempt in in_flight {
            attempt.failed();
        }
        assert_eq!(
            throttle.begin("acme/demo", HOME, now).err(),
            Some(Refusal::Account),
            "now they did"
        );
    }

    #[test]
    fn a_burst_of_correct_logins_is_told_to_wait_then_gets_through() {
        let throttle = local(3, 100);
        let now = Instant::now();
        let mut burst: Vec<_> = (0..3)
            .map(|_| throttle.begin("acme/demo", HOME, now).expect("room"))
            .collect();
        assert_eq!(
            throttle.begin("acme/demo", HOME, now).err(),
            Some(Refusal::InFlight)
        );
        burst.pop().expect("one").succeeded();
        assert!(
            throttle.begin("acme/demo", HOME, now).is_ok(),
            "the retry finds room"
        );
        // An abandoned attempt (its request cancelled) counts as a failure.
        drop(burst);
        let throttle = local(1, 100);
        drop(throttle.begin("a", HOME, now).expect("room"));
        assert_eq!(throttle.begin("a", HOME, now).err(), Some(Refusal::Account));
    }

    #[test]
    fn a_success_keeps_the_accounts_attempts_in_flight_counted() {
        let throttle = local(2, 100);
        let now = Instant::now();
        let guess = throttle.begin("a", HOME, now).expect("guess");
        throttle
            .begin("a", other_address(1), now)
            .expect("owner")
            .succeeded();
        guess.failed();
        throttle
            .begin("a", HOME, now)
            .expect("one failure of two")
            .failed();
        assert_eq!(
            throttle.begin("a", HOME, now).err(),
            Some(Refusal::Account),
            "the guess in flight during the owner's login counted"
        );
    }

    #[test]
    fn a_success_forgives_the_account_but_not_the_address() {
        let throttle = local(2, 2);
        let now = Instant::now();
        throttle.begin("a", HOME, now).expect("1").failed();
        throttle.begin("a", HOME, now).expect("2").succeeded();
        assert!(throttle.begin("a", HOME, now).is_ok(), "account forgiven");
        // The address has two failures counted now (first and third attempts).
        assert_eq!(throttle.begin("b", HOME, now).err(), Some(Refusal::Address));
    }

    #[test]
    fn an_attempt_that_was_never_tried_is_not_counted() {
        let throttle = local(1, 1);
        let now = Instant::now();
        throttle.begin("a", HOME, now).expect("1").not_tried();
        throttle
            .begin("a", HOME, now)
            .expect("still allowed")
            .not_tried();
        assert_eq!(throttle.tracked(), (0, 0), "nothing left behind");
    }

    #[test]
    fn addresses_are_limited_across_accounts() {
        let throttle = local(100, 5);
        let now = Instant::now();
        for i in 0..5 {
            drop(
                throttle
                    .begin(&format!("user{i}"), HOME, now)
                    .expect("allowed"),
            );
        }
        assert_eq!(
            throttle.begin("user99", HOME, now).err(),
            Some(Refusal::Address)
        );
        assert!(throttle.begin("user99", other_address(1), now).is_ok());
    }

    #[test]
    fn ipv6_addresses_share_their_network_of_the_configured_prefix_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("v6");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(address_key(a, 64), address_key(b, 64));
        assert_ne!(address_key(a, 64), address_key(c, 64));
        assert_eq!(address_key(a, 48), address_key(c, 48), "one /48");
        assert_ne!(address_key(a, 128), address_key(b, 128), "per address");
        assert_eq!(address_key(a, 128), a);
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        assert_eq!(address_key(mapped, 64), HOME);
        assert_eq!(
            address_key(IpAddr::V6(Ipv6Addr::LOCALHOST), 64),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            "::1 is in ::/64"
        );
    }

    #[test]
    fn a_spray_of_keys_stays_bounded_and_keeps_the_newest() {
        let mut windows = Windows::new(5, 100);
        let t0 = Instant::now();
        let window = Duration::from_secs(600);
        for i in 0..1_000u32 {
            windows.push(i, t0 + Duration::from_millis(i.into()), window);
            assert!(windows.map.len() <= 100, "bounded at {i}");
        }
        assert!(windows.map.contains_key(&999), "the newest key is kept");
        assert!(!windows.map.contains_key(&0), "the oldest is forgotten");
    }
}
