//! The coordinator: one refresh at a time, every other request parked until it ends, each
//! replayed at most once, every caller handed its own result, and nobody left hanging.
//!
//! - `mod.rs`: the public face, and what the other tabs and the user change (login,
//!   logout, messages);
//! - `ledger.rs`: what the lock holds, and the views of it;
//! - `request.rs`: one request's path: a usable token, the send, the one replay;
//! - `round.rs`: one refresh round: the lock, the other tabs, the call, the outcome;
//! - `network.rs`: waiting out a network that is gone or a server that cannot serve;
//! - `guards.rs`: what must happen however a request ends.

mod guards;
mod ledger;
mod network;
mod request;
mod round;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use ledger::{HeldToken, Phase, Snapshot};

use guards::{CancelGuard, InFlightGuard};
use ledger::{millis, Ledger, RefreshOutcome, Waiter};

use crate::listeners::lock;
use crate::{
    Clock, Error, EventKind, Grant, ListenerId, Listeners, Platform, Policy, Request, TabLink,
    TabMessage, Transport,
};

/// Tuning of the coordinator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuning {
    /// Refresh before sending when the token expires within this margin (default 5 s).
    /// Never more than a third of the token's lifetime, so that very short tokens are not
    /// refreshed before every single request.
    pub margin: Duration,
    /// How long a tab that got the lock, and finds that another tab got a newer token
    /// first, waits for that tab's message before refreshing itself after all
    /// (default 2 s).
    pub message_wait: Duration,
    /// How long a request, or the refresh, waits for the network when the platform
    /// reports none or a try got no answer, before its caller gets [`Error::Offline`]
    /// (default 30 s). Only [repeatable](Request::is_repeatable) requests wait after a
    /// try that got no answer; nothing is sent while the platform reports no network.
    pub offline_wait: Duration,
    /// Tries of a refresh call that gets no answer or a `503` before the waiting requests
    /// get the error (default 3). Keep the tries inside the server's grace window for a
    /// repeated refresh token: a lost answer is then repaired by the next try.
    pub refresh_attempts: u32,
    /// The pause after the first try that got no answer; doubled after each further try,
    /// up to `max_retry_delay` (default 1 s).
    pub retry_delay: Duration,
    /// The longest pause between tries, a server's `Retry-After` included (default 4 s).
    pub max_retry_delay: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            margin: Duration::from_secs(5),
            message_wait: Duration::from_secs(2),
            offline_wait: Duration::from_secs(30),
            refresh_attempts: 3,
            retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(4),
        }
    }
}

/// The single-flight refresh coordinator. Cheap to clone; clones share one state.
///
/// `P` is where it runs ([`Plugins`](crate::Plugins) of a transport, a clock, a spawner
/// and a tab link), `A` how it reads the API (a [`Policy`]).
pub struct Coordinator<P: Platform<A::Identity>, A: Policy> {
    inner: Arc<Inner<P, A>>,
}

impl<P: Platform<A::Identity>, A: Policy> Clone for Coordinator<P, A> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

struct Inner<P: Platform<A::Identity>, A: Policy> {
    platform: P,
    policy: A,
    tuning: Tuning,
    ledger: Mutex<Ledger<A::Identity>>,
    listeners: Listeners<A::Identity>,
}

/// The largest browser-wide generation a tab uses or accepts: one per login, logout or
/// refresh, so a browser never comes near it (2^53, the largest integer JavaScript counts
/// exactly); beyond it, the value was written by something else.
pub const MAX_GENERATION: u64 = 1 << 53;

/// A stored generation, or 0 if it is beyond [`MAX_GENERATION`] (storage another script
/// wrote): ignored, never overflowed.
fn bounded(generation: u64) -> u64 {
    if generation <= MAX_GENERATION {
        generation
    } else {
        0
    }
}

/// Events gathered under the lock and emitted after it is released, so that listeners
/// may call back into the coordinator.
type Pending<I> = Vec<EventKind<I>>;

impl<P: Platform<A::Identity>, A: Policy> Coordinator<P, A> {
    /// A coordinator with no token yet and listeners of its own.
    pub fn new(platform: P, policy: A, tuning: Tuning) -> Self {
        Self::with_listeners(platform, policy, tuning, Listeners::new())
    }

    /// A coordinator that reports to `listeners`, which may have subscribers already.
    pub fn with_listeners(
        platform: P,
        policy: A,
        tuning: Tuning,
        listeners: Listeners<A::Identity>,
    ) -> Self {
        // What other tabs announced before this one opened is not newer than anything
        // this tab will ask for.
        let generation_seen = bounded(platform.tabs().generation());
        Self {
            inner: Arc::new(Inner {
                platform,
                policy,
                tuning,
                ledger: Mutex::new(Ledger::new(generation_seen)),
                listeners,
            }),
        }
    }

    /// The registry its events go to.
    pub fn listeners(&self) -> &Listeners<A::Identity> {
        &self.inner.listeners
    }

    /// Calls `listener` for every event, after the change of state it reports.
    pub fn subscribe(
        &self,
        listener: impl Fn(&crate::Event<A::Identity>) + Send + Sync + 'static,
    ) -> ListenerId {
        self.inner.listeners.subscribe(listener)
    }

    /// Stops calling a listener.
    pub fn unsubscribe(&self, id: ListenerId) {
        self.inner.listeners.unsubscribe(id);
    }

    /// A consistent view of the state now.
    pub fn snapshot(&self) -> Snapshot {
        self.inner.ledger().snapshot()
    }

    /// This tab's name among the browser's tabs.
    pub fn tab_id(&self) -> &str {
        self.inner.platform.tabs().tab_id()
    }

    /// Refresh calls sent by every tab of this browser.
    pub fn browser_refresh_calls(&self) -> u64 {
        self.inner.platform.tabs().refresh_calls()
    }

    /// Says whose session this tab is in, when it learnt that otherwise than by a login
    /// here or in another tab (from the page the server rendered, say). Tokens that other
    /// tabs refresh for someone else are ignored from then on, until a login.
    pub fn identify(&self, identity: A::Identity) {
        self.inner.ledger().identity = Some(identity);
    }

    /// Installs the token of a fresh login and hands it to the other tabs, with who
    /// logged in. A failed or signed-out session becomes usable again, and requests
    /// parked for a refresh go out with this token.
    pub fn install_login(&self, grant: Grant, identity: A::Identity) {
        let inner = &self.inner;
        let mut events = Pending::new();
        let (waiters, message) = {
            let mut ledger = inner.ledger();
            let generation = inner.next_generation(&mut ledger);
            let token = inner.install(&mut ledger, grant, &mut events);
            ledger.identity = Some(identity.clone());
            if ledger.phase != Phase::Idle {
                // A refresh still running is abandoned: its answer must not replace the
                // token of this login.
                ledger.phase = Phase::Idle;
                events.push(EventKind::PhaseChanged(Phase::Idle));
            }
            let message = inner.token_message(&ledger, generation, &token, Some(identity));
            (ledger.end_round(), message)
        };
        inner.platform.tabs().post(&message);
        inner.settle(events, waiters, Ok(()));
    }

    /// Forgets the token after a logout and tells the other tabs. Requests that would need
    /// a refresh now fail with [`Error::SessionOver`] without trying one, and without a
    /// session-over event: the user left on purpose.
    pub fn sign_out(&self) {
        let inner = &self.inner;
        let mut events = Pending::new();
        let (waiters, message) = {
            let mut ledger = inner.ledger();
            let generation = inner.next_generation(&mut ledger);
            drop_token(&mut ledger, &mut events);
            ledger.phase = Phase::SignedOut;
            events.push(EventKind::PhaseChanged(Phase::SignedOut));
            let message = TabMessage::SignedOut {
                from: self.tab_id().to_owned(),
                generation,
            };
            (ledger.end_round(), message)
        };
        inner.platform.tabs().post(&message);
        inner.settle(events, waiters, Err(Error::SessionOver));
    }

    /// Takes in what another tab announced. Anything not newer than what this tab has seen
    /// is dropped: a late message must not replace a newer token or undo a newer login.
    /// So is a generation beyond [`MAX_GENERATION`], which no tab reaches, and a refreshed
    /// token for another user than the one this tab knows is signed in: only a login
    /// (a message that says who logged in) changes the user.
    pub fn receive(&self, message: TabMessage<A::Identity>) {
        let inner = &self.inner;
        let mut events = Pending::new();
        let (waiters, outcome) = {
            let mut ledger = inner.ledger();
            if message.generation() <= ledger.generation_seen
                || message.generation() > MAX_GENERATION
            {
                return;
            }
            if let TabMessage::Token {
                login: None,
                user: Some(user),
                ..
            } = &message
            {
                if ledger.identity.as_ref().is_some_and(|known| known != user) {
                    return;
                }
            }
            ledger.generation_seen = message.generation();
            match message {
                TabMessage::Token {
                    from,
                    generation,
                    access_token,
                    expires_in_ms,
                    login,
                    user,
                } => {
                    let lifetime = Duration::from_millis(expires_in_ms.max(0).unsigned_abs());
                    inner.install(&mut ledger, Grant::new(access_token, lifetime), &mut events);
                    if let Some(identity) = login.clone().or(user) {
                        ledger.identity = Some(identity);
                    }
                    events.push(EventKind::TokenReceived {
                        from,
                        generation,
                        login,
                    });
                    // A token from another tab proves the session alive: whatever this tab
                    // was doing, parked requests go out with it and no refresh is sent.
                    if ledger.phase != Phase::Idle {
                        ledger.phase = Phase::Idle;
                        events.push(EventKind::PhaseChanged(Phase::Idle));
                    }
                    (ledger.end_round(), Ok(()))
                }
                TabMessage::SignedOut { from, .. } => {
                    if ledger.phase == Phase::SignedOut {
                        return;
                    }
                    drop_token(&mut ledger, &mut events);
                    ledger.phase = Phase::SignedOut;
                    events.push(EventKind::PhaseChanged(Phase::SignedOut));
                    events.push(EventKind::SignedOutElsewhere { from });
                    (ledger.end_round(), Err(Error::SessionOver))
                }
                TabMessage::SessionOver { from, .. } => {
                    if matches!(ledger.phase, Phase::Failed | Phase::SignedOut) {
                        // Announced here already, or the user left on purpose.
                        return;
                    }
                    drop_token(&mut ledger, &mut events);
                    ledger.phase = Phase::Failed;
                    events.push(EventKind::PhaseChanged(Phase::Failed));
                    events.push(EventKind::SessionOver {
                        from_tab: Some(from),
                    });
                    (ledger.end_round(), Err(Error::SessionOver))
                }
            }
        };
        inner.settle(events, waiters, outcome);
    }

    /// Call when the page may have slept or been hidden: visible again, back online,
    /// focused, restored from the back/forward cache. Timers do not run while a laptop
    /// sleeps and are throttled in hidden tabs, so only a look at this tab's clock tells
    /// whether the token expired meanwhile. If it did (or expires within the margin)
    /// while signed in, the refresh starts now, so that the next request does not wait
    /// for it. Returns whether it started one: a burst of such events starts at most one,
    /// since a running refresh, a fresh token or no network make this do nothing.
    pub fn wake(&self) -> bool {
        let inner = &self.inner;
        let mut events = Pending::new();
        {
            let mut ledger = inner.ledger();
            let expiring = ledger
                .token
                .as_ref()
                .is_some_and(|token| inner.expires_soon(token));
            if ledger.phase != Phase::Idle || !expiring || !inner.platform.transport().is_online() {
                return false;
            }
            inner.start_refresh(&mut ledger, &mut events);
        }
        inner.emit(events);
        true
    }

    /// Whether another tab announced something (a token, a logout, the end of the
    /// session) that this one never received: true for a page restored from the
    /// back/forward cache, which gets no messages while it is stored. What it shows may
    /// be stale; reloading it is the safe answer.
    pub fn missed_messages(&self) -> bool {
        self.inner.platform.tabs().generation() > self.inner.ledger().generation_seen
    }

    /// Sends `request` with a usable access token, refreshing and replaying as needed,
    /// and returns its successful answer as the policy read it.
    pub async fn send(&self, request: Request) -> Result<A::Answer, Error> {
        let id = self.inner.begin_request();
        // Both guards act on drop, so that a cancelled caller is accounted for as well.
        let _in_flight = InFlightGuard {
            inner: Arc::clone(&self.inner),
        };
        let mut cancellation = CancelGuard {
            inner: Arc::clone(&self.inner),
            request: id,
            armed: true,
        };
        let result = self.inner.run(id, &request).await;
        cancellation.armed = false;
        self.inner.emit(vec![EventKind::Delivered {
            request: id,
            result: result.as_ref().map(|_| ()).map_err(Clone::clone),
        }]);
        result
    }
}

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    fn ledger(&self) -> MutexGuard<'_, Ledger<A::Identity>> {
        lock(&self.ledger)
    }

    fn emit(&self, events: Pending<A::Identity>) {
        if !events.is_empty() {
            self.listeners.emit(self.platform.clock().now_ms(), events);
        }
    }

    /// Emits `events`, then hands every waiter the round's outcome.
    fn settle(&self, events: Pending<A::Identity>, waiters: Vec<Waiter>, outcome: RefreshOutcome) {
        self.emit(events);
        for (_, waiter) in waiters {
            // A waiter whose caller went away no longer needs an answer.
            let _ = waiter.send(outcome.clone());
        }
    }

    /// Takes the next browser-wide generation for something this tab is about to announce.
    fn next_generation(&self, ledger: &mut Ledger<A::Identity>) -> u64 {
        let tabs = self.platform.tabs();
        // An absurd stored generation is overwritten below; none of ours comes near the bound.
        let generation =
            (bounded(tabs.generation()).max(ledger.generation_seen) + 1).min(MAX_GENERATION);
        tabs.set_generation(generation);
        ledger.generation_seen = generation;
        generation
    }

    /// The message that hands `token` to the other tabs, with what is left of its lifetime.
    fn token_message(
        &self,
        ledger: &Ledger<A::Identity>,
        generation: u64,
        token: &HeldToken,
        login: Option<A::Identity>,
    ) -> TabMessage<A::Identity> {
        TabMessage::Token {
            from: self.platform.tabs().tab_id().to_owned(),
            generation,
            access_token: token.value.clone(),
            expires_in_ms: (token.valid_until_ms() - self.platform.clock().now_ms()).max(0),
            login,
            user: ledger.identity.clone(),
        }
    }

    /// Installs a login's, a refresh's or another tab's token, timed from now on this
    /// tab's clock.
    fn install(
        &self,
        ledger: &mut Ledger<A::Identity>,
        grant: Grant,
        events: &mut Pending<A::Identity>,
    ) -> HeldToken {
        let token = HeldToken {
            value: grant.access_token,
            received_at_ms: self.platform.clock().now_ms(),
            lifetime: grant.lifetime,
        };
        events.push(EventKind::TokenChanged(Some(token.clone())));
        ledger.token = Some(token.clone());
        ledger.token_version += 1;
        token
    }
}

/// The session ended (here or in another tab): no token, and nobody's.
fn drop_token<I>(ledger: &mut Ledger<I>, events: &mut Pending<I>) {
    ledger.identity = None;
    if ledger.token.take().is_some() {
        ledger.token_version += 1;
        events.push(EventKind::TokenChanged(None));
    }
}

impl<P: Platform<A::Identity>, A: Policy> Inner<P, A> {
    /// Whether `token` expires within the margin, on this tab's clock alone (a clock
    /// minutes ahead of or behind the server's changes nothing). The margin is the
    /// configured one, but never more than a third of the token's lifetime.
    fn expires_soon(&self, token: &HeldToken) -> bool {
        let margin_ms = millis(self.tuning.margin)
            .min(millis(token.lifetime) / 3)
            .max(0);
        token.valid_until_ms() - self.platform.clock().now_ms() <= margin_ms
    }
}
