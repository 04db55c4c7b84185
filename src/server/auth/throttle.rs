//! Failed-login throttling, per account and per client address. An attempt is counted
//! *before* the password is checked ([`LoginThrottle::begin`] reserves a failure) and given
//! back when it succeeds, so a hundred parallel guesses cannot all pass the check before
//! the first failure is recorded. One instance counts in memory ([`LocalThrottle`]:
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
}

/// The key an address is throttled under: the address itself for IPv4, its /64 network
/// for IPv6 (one subscriber usually holds a whole /64).
pub(crate) fn address_key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
        v4 => v4,
    }
}

/// The limits, wherever failures are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    pub per_account: u32,
    pub per_address: u32,
    pub window: Duration,
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
            None => Self::Local(LocalThrottle::new(
                limits.per_account,
                limits.per_address,
                limits.window,
            )),
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
                let address = address_key(address).to_string();
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
    accounts: Mutex<Windows<String>>,
    addresses: Mutex<Windows<IpAddr>>,
}

impl LocalThrottle {
    pub(crate) fn new(max_per_account: u32, max_per_address: u32, window: Duration) -> Arc<Self> {
        Arc::new(Self {
            window,
            accounts: Mutex::new(Windows::new(max_per_account as usize, MAX_TRACKED_KEYS)),
            addresses: Mutex::new(Windows::new(max_per_address as usize, MAX_TRACKED_KEYS)),
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
        let address = address_key(address);
        // Both locks, always in this order, so check-and-reserve is one step.
        let mut accounts = lock(&self.accounts);
        let mut addresses = lock(&self.addresses);
        if !addresses.has_room(&address, now, self.window) {
            return Err(Refusal::Address);
        }
        if !accounts.has_room(account, now, self.window) {
            return Err(Refusal::Account);
        }
        accounts.push(account.to_owned(), now, self.window);
        addresses.push(address, now, self.window);
        Ok(LocalAttempt {
            throttle: Arc::clone(self),
            account: account.to_owned(),
            address,
            at: now,
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

/// One attempt reserved in memory; dropping it keeps the failure counted.
pub(crate) struct LocalAttempt {
    throttle: Arc<LocalThrottle>,
    account: String,
    address: IpAddr,
    at: Instant,
}

impl LocalAttempt {
    /// The password was right: the account's failures are forgiven, and this attempt no
    /// longer counts against the address (its earlier failures still do, so logging into
    /// one's own account does not reset an address that guesses at others).
    pub(crate) fn succeeded(self) {
        lock(&self.throttle.accounts).map.remove(&self.account);
        lock(&self.throttle.addresses).give_back(&self.address, self.at);
    }

    /// The password was never checked (the server was too busy): nothing is counted.
    pub(crate) fn not_tried(self) {
        lock(&self.throttle.accounts).give_back(&self.account, self.at);
        lock(&self.throttle.addresses).give_back(&self.address, self.at);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Recent failures per key inside a sliding window.
struct Windows<K> {
    max_failures: usize,
    max_keys: usize,
    map: HashMap<K, VecDeque<Instant>>,
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    fn new(max_failures: usize, max_keys: usize) -> Self {
        Self {
            max_failures,
            max_keys,
            map: HashMap::new(),
        }
    }

    fn has_room<Q>(&mut self, key: &Q, now: Instant, window: Duration) -> bool
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        match self.map.get_mut(key) {
            Some(recent) => {
                while recent
                    .front()
                    .is_some_and(|first| now.duration_since(*first) >= window)
                {
                    recent.pop_front();
                }
                recent.len() < self.max_failures
            }
            None => true,
        }
    }

    fn push(&mut self, key: K, now: Instant, window: Duration) {
        self.map.entry(key).or_default().push_back(now);
        if self.map.len() > self.max_keys {
            self.shrink(now, window);
        }
    }

    fn give_back<Q>(&mut self, key: &Q, at: Instant)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        if let Some(recent) = self.map.get_mut(key) {
            if let Some(index) = recent.iter().rposition(|t| *t == at) {
                recent.remove(index);
            }
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
                .is_some_and(|last| now.duration_since(*last) < window)
        });
        let target = self.max_keys - self.max_keys / 10;
        if self.map.len() > target {
            let mut last_failures: Vec<Instant> = self
                .map
                .values()
                .filter_map(|recent| recent.back().copied())
                .collect();
            let cut_index = self.map.len() - target;
            let (_, cut, _) = last_failures.select_nth_unstable(cut_index);
            let cut = *cut;
            self.map
                .retain(|_, recent| recent.back().is_some_and(|last| *last >= cut));
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
        let (by_account, by_address): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE account = $1), count(*) FILTER (WHERE address = $2)
             FROM login_failures WHERE (account = $1 OR address = $2) AND at > $3",
        )
        .bind(account)
        .bind(address)
        .bind(since)
        .fetch_one(&mut *transaction)
        .await?;
        if by_address >= i64::from(limits.per_address) {
            return Ok(Err(Refusal::Address));
        }
        if by_account >= i64::from(limits.per_account) {
            return Ok(Err(Refusal::Account));
        }
        let id = sqlx::query_scalar(
            "INSERT INTO login_failures (account, address, at) VALUES ($1, $2, $3) RETURNING id",
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
        sqlx::query("UPDATE login_failures SET account = NULL WHERE account = $1")
            .bind(account)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
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

    fn other_address(n: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn an_account_is_refused_after_max_failures_until_the_window_passes() {
        let throttle = LocalThrottle::new(3, 100, Duration::from_secs(60));
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
        let throttle = LocalThrottle::new(3, 100, Duration::from_secs(60));
        let now = Instant::now();
        let in_flight: Vec<_> = (0..10)
            .filter_map(|_| throttle.begin("acme/demo", HOME, now).ok())
            .collect();
        assert_eq!(
            in_flight.len(),
            3,
            "only max_failures may be in flight at once"
        );
    }

    #[test]
    fn a_success_forgives_the_account_but_not_the_address() {
        let throttle = LocalThrottle::new(2, 2, Duration::from_secs(60));
        let now = Instant::now();
        drop(throttle.begin("a", HOME, now).expect("1"));
        throttle.begin("a", HOME, now).expect("2").succeeded();
        assert!(throttle.begin("a", HOME, now).is_ok(), "account forgiven");
        // The address has two failures counted now (first and third attempts).
        assert_eq!(throttle.begin("b", HOME, now).err(), Some(Refusal::Address));
    }

    #[test]
    fn an_attempt_that_was_never_tried_is_not_counted() {
        let throttle = LocalThrottle::new(1, 1, Duration::from_secs(60));
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
        let throttle = LocalThrottle::new(100, 5, Duration::from_secs(60));
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
    fn ipv6_addresses_share_their_64_and_mapped_v4_is_v4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().expect("v6");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("v6");
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        assert_eq!(address_key(mapped), HOME);
        assert_eq!(
            address_key(IpAddr::V6(Ipv6Addr::LOCALHOST)),
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
