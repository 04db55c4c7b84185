//! Waiting out a network that is gone or a server that cannot serve: how long, how often
//! to look again, and who is told. Only an explicit refusal of the refresh credential
//! ends a session; a wait here ends with a try or with [`Error::Offline`](crate::Error).

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use futures::future::{select, Either};

use super::guards::NetworkWaitGuard;
use super::ledger::millis;
use super::Inner;
use crate::{Clock, EventKind, HoldReason, Platform, Policy, RequestId, Transport};

/// Who waits: a request, or the refresh call of a round.
#[derive(Debug, Clone, Copy)]
pub(super) enum Holder {
    Request(RequestId),
    Refresh(u64),
}

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    /// The time, on this tab's clock, until which a wait that starts now may last.
    pub(super) fn network_deadline(&self) -> i64 {
        self.platform
            .clock()
            .now_ms()
            .saturating_add(millis(self.tuning.offline_wait))
    }

    /// The pause after try number `tries` got no answer: doubled each time, capped.
    pub(super) fn backoff(&self, tries: u32) -> Duration {
        let doublings = tries.saturating_sub(1).min(16);
        self.tuning
            .retry_delay
            .saturating_mul(1 << doublings)
            .min(self.tuning.max_retry_delay)
    }

    /// The pause a server asked for with `Retry-After`, or the back-off, capped.
    pub(super) fn pause_after(&self, retry_after: Option<Duration>, tries: u32) -> Duration {
        retry_after
            .unwrap_or_else(|| self.backoff(tries))
            .min(self.tuning.max_retry_delay)
    }

    /// Waits until it is worth trying again: the network is back (the platform's
    /// `online`), the pause is over, or `cancel` resolves. For [`HoldReason::Offline`]
    /// the pause only paces a look at the platform, in case its event was missed, and
    /// the wait goes on while it still reports no network. False once `deadline_ms` has
    /// passed with nothing to try.
    pub(super) async fn hold(
        &self,
        holder: Holder,
        reason: HoldReason,
        pause: Duration,
        deadline_ms: i64,
        cancel: impl Future<Output = ()>,
    ) -> bool {
        let held = match holder {
            Holder::Request(request) => EventKind::Held { request, reason },
            Holder::Refresh(refresh) => EventKind::RefreshHeld { refresh, reason },
        };
        let _waiting = NetworkWaitGuard::enter(self, held);
        let wait = async {
            loop {
                let left = deadline_ms - self.platform.clock().now_ms();
                if left <= 0 {
                    return false;
                }
                let nap = pause.min(Duration::from_millis(left.unsigned_abs()));
                let online = pin!(self.platform.transport().online());
                let nap = pin!(self.platform.clock().sleep(nap));
                select(online, nap).await;
                if reason != HoldReason::Offline || self.platform.transport().is_online() {
                    return true;
                }
            }
        };
        match select(pin!(wait), pin!(cancel)).await {
            Either::Left((go_on, _)) => go_on,
            // Whoever cancelled decides what happens next.
            Either::Right(_) => true,
        }
    }
}
