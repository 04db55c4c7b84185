//! Bookkeeping that must happen however a request ends, its caller's drop included.

use std::sync::Arc;

use super::Inner;
use crate::{EventKind, Platform, Policy, RequestId};

/// Counts a logical request as in flight for exactly as long as it lives.
pub(super) struct InFlightGuard<P: Platform<A::Identity>, A: Policy> {
    pub(super) inner: Arc<Inner<P, A>>,
}

impl<P: Platform<A::Identity>, A: Policy> Drop for InFlightGuard<P, A> {
    fn drop(&mut self) {
        let in_flight = {
            let mut ledger = self.inner.ledger();
            ledger.in_flight -= 1;
            ledger.in_flight
        };
        self.inner.emit(vec![EventKind::InFlight(in_flight)]);
    }
}

/// Takes a request whose caller dropped it out of the refresh queue.
pub(super) struct CancelGuard<P: Platform<A::Identity>, A: Policy> {
    pub(super) inner: Arc<Inner<P, A>>,
    pub(super) request: RequestId,
    pub(super) armed: bool,
}

impl<P: Platform<A::Identity>, A: Policy> Drop for CancelGuard<P, A> {
    fn drop(&mut self) {
        if self.armed {
            self.inner
                .ledger()
                .waiters
                .retain(|(waiting, _)| *waiting != self.request);
            self.inner.emit(vec![EventKind::Cancelled {
                request: self.request,
            }]);
        }
    }
}

/// Counts a request or the refresh as waiting for the network for as long as it waits,
/// and tells listeners when the first wait begins and the last ends.
pub(super) struct NetworkWaitGuard<'a, P: Platform<A::Identity>, A: Policy> {
    inner: &'a Inner<P, A>,
}

impl<'a, P: Platform<A::Identity>, A: Policy> NetworkWaitGuard<'a, P, A> {
    /// Begins a wait, reported as `held` (a `Held` or `RefreshHeld` event).
    pub(super) fn enter(inner: &'a Inner<P, A>, held: EventKind<A::Identity>) -> Self {
        let first = {
            let mut ledger = inner.ledger();
            ledger.network_waits += 1;
            ledger.network_waits == 1
        };
        let mut events = vec![held];
        if first {
            events.push(EventKind::NetworkWait(true));
        }
        inner.emit(events);
        Self { inner }
    }
}

impl<P: Platform<A::Identity>, A: Policy> Drop for NetworkWaitGuard<'_, P, A> {
    fn drop(&mut self) {
        let last = {
            let mut ledger = self.inner.ledger();
            ledger.network_waits -= 1;
            ledger.network_waits == 0
        };
        if last {
            self.inner.emit(vec![EventKind::NetworkWait(false)]);
        }
    }
}
