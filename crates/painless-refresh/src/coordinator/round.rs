//! One refresh round: take the browser-wide lock, make sure no other tab got ahead,
//! refresh, announce the outcome. Every waiter is settled, whatever happens.

use std::sync::Arc;

use futures::channel::oneshot;
use futures::FutureExt;

use super::state::State;
use super::{drop_token, Inner, Pending, Phase};
use crate::{
    Clock, Error, EventKind, Platform, Policy, RefreshVerdict, Spawn, TabLink, TabMessage,
    Transport,
};

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    pub(super) fn start_refresh(
        self: &Arc<Self>,
        state: &mut State,
        events: &mut Pending<A::Identity>,
    ) {
        state.phase = Phase::Refreshing;
        state.rounds += 1;
        let round = state.rounds;
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
            let mut state = self.state();
            if !state.in_round(round) {
                // A message, a login or a logout ended the round while the lock was taken.
                return;
            }
            let ahead = tabs.generation() > state.generation_seen;
            ahead.then(|| {
                let (sender, receiver) = oneshot::channel();
                state.round_watch = Some(sender);
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
            let timeout = Box::pin(self.platform.clock().sleep(self.settings.message_wait));
            futures::future::select(round_ended, timeout).await;
            if !self.state().in_round(round) {
                return;
            }
        }
        self.send_refresh(round).await;
        // Released only now: the new generation is recorded and announced.
        drop(guard);
    }

    /// The refresh call itself. It bypasses the queue: the original interceptor deadlocks
    /// when the refresh request waits behind itself.
    async fn send_refresh(&self, round: u64) {
        self.state().refresh_calls += 1;
        self.platform.tabs().count_refresh_call();
        self.emit(vec![EventKind::RefreshStarted { refresh: round }]);
        let request = self.policy.refresh_request().bypassing_refresh();
        let verdict = match self.platform.transport().send(&request, None).await {
            Ok(response) => self.policy.read_refresh(response),
            Err(error) => RefreshVerdict::Failed(error.into()),
        };
        let mut events = Pending::new();
        let mut announce = None;
        let (waiters, outcome) = {
            let mut state = self.state();
            if !state.in_round(round) {
                // A login, a logout or another tab's token settled the waiters meanwhile.
                return;
            }
            let outcome = match verdict {
                RefreshVerdict::Granted(grant) => {
                    events.push(EventKind::RefreshSucceeded {
                        refresh: round,
                        lifetime: grant.lifetime,
                    });
                    let generation = self.next_generation(&mut state);
                    let token = self.install(&mut state, grant, &mut events);
                    announce = Some(self.token_message(generation, &token, None));
                    state.phase = Phase::Idle;
                    Ok(())
                }
                RefreshVerdict::Refused(reason) => {
                    let generation = self.next_generation(&mut state);
                    announce = Some(TabMessage::SessionOver {
                        from: self.platform.tabs().tab_id().to_owned(),
                        generation,
                    });
                    drop_token(&mut state, &mut events);
                    state.phase = Phase::Failed;
                    events.push(EventKind::RefreshFailed {
                        refresh: round,
                        session_over: true,
                        reason,
                    });
                    events.push(EventKind::SessionOver { from_tab: None });
                    Err(Error::SessionOver)
                }
                RefreshVerdict::Failed(error) => {
                    // Nothing proves the session over (network, server error): the waiters
                    // get this error, and the next request may try again.
                    state.phase = Phase::Idle;
                    events.push(EventKind::RefreshFailed {
                        refresh: round,
                        session_over: false,
                        reason: error.to_string(),
                    });
                    Err(error)
                }
            };
            events.push(EventKind::PhaseChanged(state.phase));
            (state.end_round(), outcome)
        };
        if let Some(message) = announce {
            self.platform.tabs().post(&message);
        }
        self.settle(events, waiters, outcome);
    }
}
