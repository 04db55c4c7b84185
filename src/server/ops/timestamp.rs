//! The server's one time type: a moment as Unix milliseconds (UTC), which is also how
//! both stores keep every time. Lengths of time are `std::time::Duration`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Timestamp(i64);

impl Timestamp {
    /// The wall clock now.
    pub(crate) fn now() -> Self {
        Self(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(millis)
                .unwrap_or_default(),
        )
    }

    pub(crate) const fn from_unix_ms(ms: i64) -> Self {
        Self(ms)
    }

    /// As stored: Unix milliseconds.
    pub(crate) const fn unix_ms(self) -> i64 {
        self.0
    }

    /// Whole Unix seconds, rounded down (JWT claims and the API's times are in seconds).
    pub(crate) const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Whole Unix seconds, rounded up: for an end that must not come early.
    pub(crate) const fn unix_secs_ceil(self) -> i64 {
        (self.0 + 999).div_euclid(1000)
    }

    /// How long after `earlier` this is; zero when it is not after it.
    pub(crate) fn since(self, earlier: Self) -> Duration {
        Duration::from_millis(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }
}

impl std::ops::Add<Duration> for Timestamp {
    type Output = Self;

    fn add(self, length: Duration) -> Self {
        Self(self.0.saturating_add(millis(length)))
    }
}

impl std::ops::Sub<Duration> for Timestamp {
    type Output = Self;

    fn sub(self, length: Duration) -> Self {
        Self(self.0.saturating_sub(millis(length)))
    }
}

/// Milliseconds of a duration, saturating (settings may hold absurdly long ones).
fn millis(length: Duration) -> i64 {
    i64::try_from(length.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_or_up_and_arithmetic_saturates() {
        let t = Timestamp::from_unix_ms(1_500);
        assert_eq!((t.unix_secs(), t.unix_secs_ceil()), (1, 2));
        let whole = Timestamp::from_unix_ms(2_000);
        assert_eq!((whole.unix_secs(), whole.unix_secs_ceil()), (2, 2));
        assert_eq!(t + Duration::from_millis(500), whole);
        assert_eq!(whole - Duration::from_millis(500), t);
        assert_eq!(whole.since(t), Duration::from_millis(500));
        assert_eq!(t.since(whole), Duration::ZERO);
        assert_eq!((t + Duration::MAX).unix_ms(), i64::MAX);
    }
}
