//! One refresh round: take the browser-wide lock, make sure no other tab got ahead,
//! refresh, announce the outcome. Every waiter is settled, whatever happens.

use std::sync::Arc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::FutureExt;

use super::ledger::Ledger;
use super::network::Holder;
use super::{drop_token, Inner, Pending, Phase};
use crate::{
    Clock, Error, EventKind, HoldReason, Platform, Policy, RefreshVerdict, Spawn, TabLink,
    TabMessage, Transport,
};

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    pub(super) fn start_refresh(
        self: &Arc<Self>,
        ledger: &mut Ledger<A::Identity>,
        events: &mut Pending<A::Identity>,
    ) {
        ledger.phase = Phase::Refreshing;
        ledger.rounds += 1;
        let round = ledger.rounds;
        events.push(EventKind::PhaseChanged(Phase::Refreshing));
        let inner = Arc::clone(self);
        self.platform
            .spawner()
            .spawn(async move { inner.refresh(round).await }.boxed_local());
    }

    async fn refresh(self: Arc<Self>, round: u64) {
        let tabs = self.platform.tabs();
        let guard = tabs.lock().await;
        let awaiting_message = {
            let mut ledger = self.ledger();
            if !ledger.in_round(round) {
                // A message, a login or a logout ended the round while the lock was taken.
                return;
            }
            let ahead = tabs.generation() > ledger.generation_seen;
            ahead.then(|| {
                let (sender, receiver) = oneshot::channel();
                ledger.round_watch = Some(sender);
                receiver
            })
        };
        let mut events = vec![EventKind::RefreshLocked {
            refresh: round,
            exclusive: guard.is_some(),
        }];
        if awaiting_message.is_some() {
            events.push(EventKind::AwaitingOtherTab { refresh: round });
        }
        self.emit(events);
        if let Some(round_ended) = awaiting_message {
            // Another tab announced something newer while this one waited for the lock;
            // its message is on the way. Refresh anyway only if it never comes.
            let timeout = Box::pin(self.platform.clock().sleep(self.tuning.message_wait));
            futures::future::select(round_ended, timeout).await;
            if !self.ledger().in_round(round) {
                return;
            }
        }
        self.send_refresh(round).await;
        // Released only now: the new generation is recorded and announced.
        drop(guard);
    }

    /// The refresh call itself, tried again after no answer or a `503` while the tries
    /// last, and not sent while the platform reports no network. It bypasses the queue:
    /// the original interceptor deadlocks when the refresh request waits behind itself.
    async fn send_refresh(&self, round: u64) {
        let request = self.policy.refresh_request().bypassing_refresh();
        let deadline = self.network_deadline();
        let mut attempt = 0;
        let verdict = loop {
            let (reason, pause, verdict) = if !self.platform.transport().is_online() {
                let verdict = RefreshVerdict::Failed(Error::Offline);
                (HoldReason::Offline, self.tuning.max_retry_delay, verdict)
            } else {
                attempt += 1;
                match self.refresh_call(round, attempt, &request).await {
                    Ok(verdict) => break verdict,
                    Err(retry) => retry,
                }
            };
            let out_of_tries =
                reason != HoldReason::Offline && attempt >= self.tuning.refresh_attempts.max(1);
            if out_of_tries || !self.hold_round(round, reason, pause, deadline).await {
                break verdict;
            }
            if !self.ledger().in_round(round) {
                // A login, a logout or another tab's token settled the waiters meanwhile.
                return;
            }
        };
        let mut events = Pending::new();
        let mut announce = None;
        let (waiters, outcome) = {
            let mut ledger = self.ledger();
            if !ledger.in_round(round) {
                // A login, a logout or another tab's token settled the waiters meanwhile.
                return;
            }
            let outcome = match verdict {
                RefreshVerdict::Granted(grant) => {
                    events.push(EventKind::RefreshSucceeded {
                        refresh: round,
                        lifetime: grant.lifetime,
                    });
                    let generation = self.next_generation(&mut ledger);
                    let token = self.install(&mut ledger, grant, &mut events);
                    announce = Some(self.token_message(&ledger, generation, &token, None));
                    ledger.phase = Phase::Idle;
                    Ok(())
                }
                RefreshVerdict::Refused(reason) => {
                    let generation = self.next_generation(&mut ledger);
                    announce = Some(TabMessage::SessionOver {
                        from: self.platform.tabs().tab_id().to_owned(),
                        generation,
                    });
                    drop_token(&mut ledger, &mut events);
                    ledger.phase = Phase::Failed;
                    events.push(EventKind::RefreshFailed {
                        refresh: round,
                        session_over: true,
                        reason,
                    });
                    events.push(EventKind::SessionOver { from_tab: None });
                    Err(Error::SessionOver)
                }
                RefreshVerdict::Failed(error) | RefreshVerdict::Unavailable(error) => {
                    // Nothing proves the session over (network, server error): the waiters
                    // get this error, and the next request may try again.
                    ledger.phase = Phase::Idle;
                    events.push(EventKind::RefreshFailed {
                        refresh: round,
                        session_over: false,
                        reason: error.to_string(),
                    });
                    Err(error)
                }
            };
            events.push(EventKind::PhaseChanged(ledger.phase));
            (ledger.end_round(), outcome)
        };
        if let Some(message) = announce {
            self.platform.tabs().post(&message);
        }
        self.settle(events, waiters, outcome);
    }

    /// One refresh call: its verdict, or why and how long to wait before the next try
    /// together with the verdict to settle with if there is none.
    async fn refresh_call(
        &self,
        round: u64,
        attempt: u32,
        request: &crate::Request,
    ) -> Result<RefreshVerdict, (HoldReason, Duration, RefreshVerdict)> {
        {
            let mut ledger = self.ledger();
            ledger.refresh_calls += 1;
            if attempt > 1 {
                ledger.retries += 1;
            }
        }
        self.platform.tabs().count_refresh_call();
        self.emit(vec![EventKind::RefreshStarted {
            refresh: round,
            attempt,
        }]);
        match self.platform.transport().send(request, None).await {
            Err(error) if error.status == 0 => {
                let verdict = RefreshVerdict::Failed(Error::Offline);
                Err((HoldReason::NoAnswer, self.backoff(attempt), verdict))
            }
            Err(error) => Ok(RefreshVerdict::Failed(error.into())),
            Ok(response) => {
                let retry_after = response.retry_after;
                match self.policy.read_refresh(response) {
                    RefreshVerdict::Unavailable(error) => Err((
                        HoldReason::Unavailable,
                        self.pause_after(retry_after, attempt),
                        RefreshVerdict::Failed(error),
                    )),
                    verdict => Ok(verdict),
                }
            }
        }
    }

    /// Holds the refresh of `round` (see `hold`), cut short when the round ends.
    async fn hold_round(
        &self,
        round: u64,
        reason: HoldReason,
        pause: Duration,
        deadline_ms: i64,
    ) -> bool {
        let round_ended = {
            let mut ledger = self.ledger();
            if !ledger.in_round(round) {
                return true;
            }
            let (sender, receiver) = oneshot::channel();
            ledger.round_watch = Some(sender);
            receiver
        };
        let ended = round_ended.map(|_| ());
        self.hold(Holder::Refresh(round), reason, pause, deadline_ms, ended)
            .await
    }
}
