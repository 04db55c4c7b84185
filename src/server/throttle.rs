//! Failed-login throttling per account: after `max_failures` failures within the window,
//! further attempts are refused (45009) until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

pub struct LoginThrottle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    pub fn new(max_failures: u32, window: Duration) -> Self {
        Self {
            max_failures: max_failures as usize,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may try to log in at `now`.
    pub fn allows(&self, key: &str, now: Instant) -> bool {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        match failures.get_mut(key) {
            Some(recent) => {
                self.forget_old(recent, now);
                recent.len() < self.max_failures
            }
            None => true,
        }
    }

    pub fn record_failure(&self, key: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let recent = failures.entry(key.to_owned()).or_default();
        self.forget_old(recent, now);
        recent.push_back(now);
        // Keep the map from growing without bound under a spray of usernames.
        if failures.len() > 10_000 {
            let window = self.window;
            failures.retain(|_, recent| {
                recent
                    .back()
                    .is_some_and(|last| now.duration_since(*last) < window)
            });
        }
    }

    pub fn record_success(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }

    fn forget_old(&self, recent: &mut VecDeque<Instant>, now: Instant) {
        while recent
            .front()
            .is_some_and(|first| now.duration_since(*first) >= self.window)
        {
            recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_after_max_failures_until_the_window_passes() {
        let throttle = LoginThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(throttle.allows("acme/demo", t0), "attempt {i}");
            throttle.record_failure("acme/demo", t0 + Duration::from_secs(i));
        }
        assert!(!throttle.allows("acme/demo", t0 + Duration::from_secs(10)));
        assert!(
            throttle.allows("acme/other", t0 + Duration::from_secs(10)),
            "other accounts unaffected"
        );
        assert!(
            throttle.allows("acme/demo", t0 + Duration::from_secs(60)),
            "oldest failure left the window"
        );
    }

    #[test]
    fn a_success_clears_the_failures() {
        let throttle = LoginThrottle::new(2, Duration::from_secs(60));
        let t0 = Instant::now();
        throttle.record_failure("k", t0);
        throttle.record_success("k");
        throttle.record_failure("k", t0);
        assert!(throttle.allows("k", t0));
    }
}
