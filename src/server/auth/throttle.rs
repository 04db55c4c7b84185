//! Failed-login throttling, per account and per requester address. An attempt is counted
//! *before* the password is checked ([`LoginThrottle::begin`] reserves a failure) and given
//! back when it succeeds, so a hundred parallel guesses cannot all pass the check before
//! the first failure is recorded. A limit reached by failures refuses the login
//! ([`Refusal::Account`], [`Refusal::Address`]); one reached only because attempts are
//! still being checked says so ([`Refusal::InFlight`]: busy, try again in a moment), since
//! a burst of correct logins has not failed at all. One instance counts in memory ([`LocalThrottle`]:
//! bounded, old failures expire and the number of tracked keys is capped); several
//! instances on PostgreSQL count in the database ([`SharedFailures`]), by the same rules,
//! so that a brute force spread over instances is still throttled.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::server::ops::timestamp::Timestamp;
use crate::server::store::DbError;

mod local; // failures counted in this process's memory
mod shared; // failures counted in PostgreSQL, for several instances
#[cfg(test)]
mod tests;

pub(crate) use local::{LocalAttempt, LocalThrottle};
pub(crate) use shared::SharedFailures;

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
    /// An account at its limit refuses every login (`login.account_lockout = "refuse"`);
    /// else only addresses are limited.
    pub account_refuses_all: bool,
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
