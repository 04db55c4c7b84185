//! The coordinator: one refresh at a time, every other request parked until it ends, each
//! replayed at most once, every caller handed its own result, and nobody left hanging.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures::channel::oneshot;
use futures::FutureExt;
use serde::de::DeserializeOwned;

use super::{Answer, Response};
use super::{
    ApiRequest, ClientError, Clock, Event, EventKind, QueueReason, RequestId, Spawn, TabLink,
    TabMessage, Transport,
};
use crate::api::{paths, AccessGrant, ErrCode, User};

/// Tuning of the coordinator, from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Errcodes that mean "refresh the access token and replay".
    pub refresh_errcodes: Vec<i32>,
    /// Refresh before sending when the token expires within this many milliseconds. Never
    /// more than a third of the token's lifetime, so very short tokens are not refreshed
    /// before every single request.
    pub margin: Duration,
    /// How long a tab that holds the lock, and finds that another tab got a newer token
    /// first, waits for that tab's message before refreshing itself after all.
    pub message_wait: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            refresh_errcodes: ErrCode::default_refresh_codes(),
            margin: crate::api::DEFAULT_REFRESH_MARGIN,
            message_wait: Duration::from_secs(2),
        }
    }
}

/// Where the refresh machinery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No refresh running; requests go straight out.
    Idle,
    /// One refresh is running; requests that need a token wait for it.
    Refreshing,
    /// The last refresh was refused: the session is over until the next login.
    Failed,
    /// The user logged out: requests that need a refresh fail without trying one.
    SignedOut,
}

/// A consistent view of the coordinator's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub phase: Phase,
    /// The token held, if any.
    pub token: Option<HeldToken>,
    /// Bumped whenever this tab's token is replaced or dropped.
    pub token_generation: u64,
    /// The newest browser-wide generation this tab has seen (see [`TabLink`]).
    pub seen_generation: u64,
    pub in_flight: usize,
    pub queued: usize,
    /// Refresh rounds begun; a round may end without a call when another tab delivers.
    pub rounds: u64,
    /// Refresh calls this tab sent.
    pub refreshes_started: u64,
}

/// An access token in memory, with its lifetime measured on this tab's own clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldToken {
    pub value: String,
    /// Unix seconds on the server's clock: shown, never compared with this tab's clock.
    pub expires_at: i64,
    /// This tab's clock (Unix ms) when the token arrived.
    pub received_at_ms: i64,
    /// How long it was good for when it arrived.
    pub lifetime_ms: i64,
}

impl HeldToken {
    /// When the token expires, on this tab's clock (Unix ms).
    pub fn valid_until_ms(&self) -> i64 {
        self.received_at_ms + self.lifetime_ms
    }
}

/// The single-flight refresh coordinator. Cheap to clone; clones share one state.
pub struct Coordinator<T, C, S, L> {
    inner: Arc<Inner<T, C, S, L>>,
}

impl<T, C, S, L> Clone for Coordinator<T, C, S, L> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// Names a listener, to unsubscribe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerId(u64);

/// What a parked request learns when the refresh it waits for ends.
type RefreshOutcome = Result<(), ClientError>;

struct Inner<T, C, S, L> {
    transport: T,
    clock: C,
    spawner: S,
    tabs: L,
    settings: Settings,
    state: Mutex<State>,
    listeners: Mutex<Listeners>,
}

#[derive(Default)]
struct Listeners {
    next: u64,
    all: Vec<(ListenerId, Listener)>,
}

struct State {
    token: Option<HeldToken>,
    generation: u64,
    seen_generation: u64,
    phase: Phase,
    waiters: Vec<(RequestId, oneshot::Sender<RefreshOutcome>)>,
    /// Wakes a refresh task waiting for another tab's message when the round ends.
    round_watch: Option<oneshot::Sender<()>>,
    next_request: RequestId,
    in_flight: usize,
    rounds: u64,
    refreshes_started: u64,
}

impl State {
    /// Whether refresh round `round` is still the one running.
    fn in_round(&self, round: u64) -> bool {
        self.phase == Phase::Refreshing && self.rounds == round
    }

    /// Ends the running round (if any): the waiters to settle, and a waiting refresh task
    /// woken so that it sees the round is over.
    fn end_round(&mut self) -> Vec<(RequestId, oneshot::Sender<RefreshOutcome>)> {
        if let Some(watch) = self.round_watch.take() {
            // The task may be gone already; then nobody needs waking.
            let _ = watch.send(());
        }
        std::mem::take(&mut self.waiters)
    }
}

/// Events gathered under the lock and emitted after it is released, so that listeners
/// may call back into the coordinator.
type Pending = Vec<EventKind>;

impl<T, C, S, L> Coordinator<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    pub fn new(transport: T, clock: C, spawner: S, tabs: L, settings: Settings) -> Self {
        // What other tabs announced before this one opened is not newer than anything this
        // tab will ask for.
        let seen_generation = tabs.generation();
        Self {
            inner: Arc::new(Inner {
                transport,
                clock,
                spawner,
                tabs,
                settings,
                state: Mutex::new(State {
                    token: None,
                    generation: 0,
                    seen_generation,
                    phase: Phase::Idle,
                    waiters: Vec::new(),
                    round_watch: None,
                    next_request: 1,
                    in_flight: 0,
                    rounds: 0,
                    refreshes_started: 0,
                }),
                listeners: Mutex::new(Listeners::default()),
            }),
        }
    }

    /// Calls `listener` for every event, after the state change it reports.
    pub fn subscribe(&self, listener: impl Fn(&Event) + Send + Sync + 'static) -> ListenerId {
        let mut listeners = lock(&self.inner.listeners);
        listeners.next += 1;
        let id = ListenerId(listeners.next);
        listeners.all.push((id, Arc::new(listener)));
        id
    }

    /// Stops calling a listener (a view that goes away).
    pub fn unsubscribe(&self, id: ListenerId) {
        lock(&self.inner.listeners)
            .all
            .retain(|(listening, _)| *listening != id);
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = self.inner.state();
        Snapshot {
            phase: state.phase,
            token: state.token.clone(),
            token_generation: state.generation,
            seen_generation: state.seen_generation,
            in_flight: state.in_flight,
            queued: state.waiters.len(),
            rounds: state.rounds,
            refreshes_started: state.refreshes_started,
        }
    }

    /// This tab's name among the browser's tabs.
    pub fn tab_id(&self) -> &str {
        self.inner.tabs.tab_id()
    }

    /// Refresh calls sent by every tab of this browser.
    pub fn browser_refresh_calls(&self) -> u64 {
        self.inner.tabs.refresh_calls()
    }

    /// Installs the token of a fresh login and hands it to the other tabs; a failed or
    /// signed-out session becomes usable.
    pub fn install_login(&self, grant: &AccessGrant) {
        let mut events = Pending::new();
        let (waiters, message) = {
            let mut state = self.inner.state();
            let generation = self.inner.next_generation(&mut state);
            let token = self.inner.install(&mut state, grant, &mut events);
            if state.phase != Phase::Idle {
                // A refresh still running is abandoned: its answer must not replace the
                // token of this login.
                state.phase = Phase::Idle;
                events.push(EventKind::PhaseChanged(Phase::Idle));
            }
            let message = self
                .inner
                .token_message(generation, &token, Some(grant.user.clone()));
            (state.end_round(), message)
        };
        self.inner.tabs.post(&message);
        // Parked requests go out with the new login's token.
        self.inner.settle(events, waiters, Ok(()));
    }

    /// Forgets the token after a logout and tells the other tabs. Requests that would need
    /// a refresh now fail with [`ClientError::SessionOver`] without trying one, and without
    /// a session-over event: the user left on purpose.
    pub fn sign_out(&self) {
        let mut events = Pending::new();
        let (waiters, message) = {
            let mut state = self.inner.state();
            let generation = self.inner.next_generation(&mut state);
            Inner::<T, C, S, L>::drop_token(&mut state, &mut events);
            state.phase = Phase::SignedOut;
            events.push(EventKind::PhaseChanged(Phase::SignedOut));
            let message = TabMessage::SignedOut {
                from: self.tab_id().to_owned(),
                generation,
            };
            (state.end_round(), message)
        };
        self.inner.tabs.post(&message);
        self.inner
            .settle(events, waiters, Err(ClientError::SessionOver));
    }

    /// Takes in what another tab announced. Anything not newer than what this tab has seen
    /// is dropped: a late message must not replace a newer token or undo a newer login.
    pub fn receive(&self, message: TabMessage) {
        let mut events = Pending::new();
        let (waiters, outcome) = {
            let mut state = self.inner.state();
            if message.generation() <= state.seen_generation {
                return;
            }
            state.seen_generation = message.generation();
            match message {
                TabMessage::Token {
                    from,
                    generation,
                    access_token,
                    expires_at,
                    expires_in_ms,
                    login,
                } => {
                    self.inner.install_held(
                        &mut state,
                        access_token,
                        expires_at,
                        expires_in_ms,
                        &mut events,
                    );
                    events.push(EventKind::TokenReceived {
                        from,
                        generation,
                        login,
                    });
                    // A token from another tab proves the session alive: whatever this tab
                    // was doing, parked requests go out with it and no refresh is sent.
                    if state.phase != Phase::Idle {
                        state.phase = Phase::Idle;
                        events.push(EventKind::PhaseChanged(Phase::Idle));
                    }
                    (state.end_round(), Ok(()))
                }
                TabMessage::SignedOut { from, .. } => {
                    if state.phase == Phase::SignedOut {
                        return;
                    }
                    Inner::<T, C, S, L>::drop_token(&mut state, &mut events);
                    state.phase = Phase::SignedOut;
                    events.push(EventKind::PhaseChanged(Phase::SignedOut));
                    events.push(EventKind::SignedOutElsewhere { from });
                    (state.end_round(), Err(ClientError::SessionOver))
                }
                TabMessage::SessionOver { from, .. } => {
                    if matches!(state.phase, Phase::Failed | Phase::SignedOut) {
                        // Announced here already, or the user left on purpose.
                        return;
                    }
                    Inner::<T, C, S, L>::drop_token(&mut state, &mut events);
                    state.phase = Phase::Failed;
                    events.push(EventKind::PhaseChanged(Phase::Failed));
                    events.push(EventKind::SessionOver {
                        from_tab: Some(from),
                    });
                    (state.end_round(), Err(ClientError::SessionOver))
                }
            }
        };
        self.inner.settle(events, waiters, outcome);
    }

    /// Sends `request` and decodes its data as `R`.
    pub async fn call<R: DeserializeOwned>(&self, request: ApiRequest) -> Result<R, ClientError> {
        self.send(request).await?.decode()
    }

    /// Sends `request` with a usable access token, refreshing and replaying as needed, and
    /// returns the successful answer (errcode 0), its `data` not decoded yet.
    pub async fn send(&self, request: ApiRequest) -> Result<Answer, ClientError> {
        let id = self.inner.begin_request();
        // Both guards act on drop, so a cancelled caller is accounted for as well.
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
            result: result.as_ref().map(|_| ()).map_err(ClientError::errcode),
        }]);
        result
    }
}

impl<T, C, S, L> Inner<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn emit(&self, events: Pending) {
        if events.is_empty() {
            return;
        }
        let at_ms = self.clock.now_ms();
        // Called without the lock held, so that a listener may subscribe or unsubscribe.
        let listeners: Vec<Listener> = lock(&self.listeners)
            .all
            .iter()
            .map(|(_, listener)| Arc::clone(listener))
            .collect();
        for kind in events {
            let event = Event { at_ms, kind };
            for listener in listeners.iter() {
                listener(&event);
            }
        }
    }

    /// Emits `events`, then hands every waiter the round's outcome.
    fn settle(
        &self,
        events: Pending,
        waiters: Vec<(RequestId, oneshot::Sender<RefreshOutcome>)>,
        outcome: RefreshOutcome,
    ) {
        self.emit(events);
        for (_, waiter) in waiters {
            // A waiter whose caller went away no longer needs an answer.
            let _ = waiter.send(outcome.clone());
        }
    }

    /// Takes the next browser-wide generation for something this tab is about to announce.
    fn next_generation(&self, state: &mut State) -> u64 {
        let generation = self.tabs.generation().max(state.seen_generation) + 1;
        self.tabs.set_generation(generation);
        state.seen_generation = generation;
        generation
    }

    /// The message that hands `token` to the other tabs, with what is left of its lifetime.
    fn token_message(&self, generation: u64, token: &HeldToken, login: Option<User>) -> TabMessage {
        TabMessage::Token {
            from: self.tabs.tab_id().to_owned(),
            generation,
            access_token: token.value.clone(),
            expires_at: token.expires_at,
            expires_in_ms: (token.valid_until_ms() - self.clock.now_ms()).max(0),
            login,
        }
    }

    fn is_refresh_errcode(&self, errcode: i32) -> bool {
        self.settings.refresh_errcodes.contains(&errcode)
    }

    fn begin_request(&self) -> RequestId {
        let (id, in_flight) = {
            let mut state = self.state();
            let id = state.next_request;
            state.next_request += 1;
            state.in_flight += 1;
            (id, state.in_flight)
        };
        self.emit(vec![EventKind::InFlight(in_flight)]);
        id
    }

    async fn run(
        self: &Arc<Self>,
        id: RequestId,
        request: &ApiRequest,
    ) -> Result<Answer, ClientError> {
        if request.bypass {
            let token = self.state().token.as_ref().map(|t| t.value.clone());
            return self.transmit(id, request, token, false).await?.success();
        }
        let mut replayed = false;
        loop {
            let (token, generation) = self.usable_token(id).await?;
            let answer = self.transmit(id, request, token, replayed).await?;
            if !self.is_refresh_errcode(answer.errcode) {
                return answer.success();
            }
            self.emit(vec![EventKind::GotErrcode {
                request: id,
                errcode: answer.errcode,
            }]);
            if replayed {
                // Replayed once already: hand the error over instead of looping.
                return answer.success();
            }
            self.await_fresh_token(id, generation, QueueReason::Errcode(answer.errcode))
                .await?;
            replayed = true;
        }
    }

    /// One transmission, reported as a replay when `replay` is set.
    async fn transmit(
        &self,
        id: RequestId,
        request: &ApiRequest,
        token: Option<String>,
        replay: bool,
    ) -> Result<Answer, ClientError> {
        let generation = self.state().generation;
        let event = match replay {
            true => EventKind::Replayed {
                request: id,
                token_generation: generation,
            },
            false => EventKind::Sent {
                request: id,
                label: request.label(),
                token_generation: generation,
            },
        };
        self.emit(vec![event]);
        read(self.transport.send(request, token.as_deref()).await)
    }

    /// The token to send now, refreshing first when there is none, when it is about to
    /// expire (the proactive check), or when a refresh is already running.
    async fn usable_token(
        self: &Arc<Self>,
        id: RequestId,
    ) -> Result<(Option<String>, u64), ClientError> {
        let (generation, reason) = {
            let state = self.state();
            match (state.phase, &state.token) {
                (Phase::Failed | Phase::SignedOut, _) => return Err(ClientError::SessionOver),
                (Phase::Refreshing, _) => (state.generation, QueueReason::RefreshRunning),
                (Phase::Idle, None) => (state.generation, QueueReason::NoToken),
                (Phase::Idle, Some(token)) if self.expires_soon(token) => {
                    (state.generation, QueueReason::ExpiresSoon)
                }
                (Phase::Idle, Some(token)) => {
                    return Ok((Some(token.value.clone()), state.generation))
                }
            }
        };
        self.await_fresh_token(id, generation, reason).await?;
        // Whatever the refresh brought is used as it is: checking it again could loop.
        let state = self.state();
        Ok((
            state.token.as_ref().map(|t| t.value.clone()),
            state.generation,
        ))
    }

    /// Judged on this tab's clock alone: a clock minutes ahead of or behind the server's
    /// changes nothing.
    fn expires_soon(&self, token: &HeldToken) -> bool {
        let margin_ms = (self.settings.margin.as_millis() as i64)
            .min(token.lifetime_ms / 3)
            .max(0);
        token.valid_until_ms() - self.clock.now_ms() <= margin_ms
    }

    /// Waits until a token newer than `stale_generation` is installed, starting the one
    /// refresh if none is running. Returns at once when a newer token already exists: a
    /// request that failed late, after the refresh finished, is replayed without a second
    /// refresh.
    async fn await_fresh_token(
        self: &Arc<Self>,
        id: RequestId,
        stale_generation: u64,
        reason: QueueReason,
    ) -> Result<(), ClientError> {
        let mut events = Pending::new();
        let receiver = {
            let mut state = self.state();
            match state.phase {
                Phase::Failed | Phase::SignedOut => return Err(ClientError::SessionOver),
                Phase::Idle if state.generation != stale_generation => return Ok(()),
                Phase::Idle => self.start_refresh(&mut state, &mut events),
                Phase::Refreshing => {}
            }
            let (sender, receiver) = oneshot::channel();
            state.waiters.push((id, sender));
            events.insert(
                0,
                EventKind::Queued {
                    request: id,
                    reason,
                },
            );
            receiver
        };
        self.emit(events);
        // A dropped sender means the coordinator itself went away mid-refresh.
        receiver.await.unwrap_or(Err(ClientError::SessionOver))
    }

    fn start_refresh(self: &Arc<Self>, state: &mut State, events: &mut Pending) {
        state.phase = Phase::Refreshing;
        state.rounds += 1;
        let round = state.rounds;
        events.push(EventKind::PhaseChanged(Phase::Refreshing));
        let inner = Arc::clone(self);
        self.spawner
            .spawn(async move { inner.refresh(round).await }.boxed_local());
    }

    /// One refresh round: take the browser-wide lock, make sure no other tab got ahead,
    /// refresh, announce. Settles every waiter, whatever happens.
    async fn refresh(self: Arc<Self>, round: u64) {
        let guard = self.tabs.lock().await;
        let awaiting_message = {
            let mut state = self.state();
            if !state.in_round(round) {
                // A message, a login or a logout ended the round while the lock was taken.
                return;
            }
            let ahead = self.tabs.generation() > state.seen_generation;
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
            let timeout = Box::pin(self.clock.sleep(self.settings.message_wait));
            futures::future::select(round_ended, timeout).await;
            if !self.state().in_round(round) {
                return;
            }
        }
        self.send_refresh(round).await;
        // Released only now: the new generation is recorded and announced.
        drop(guard);
    }

    /// The refresh call itself: it bypasses the queue (the original deadlocks when the
    /// refresh request waits behind itself).
    async fn send_refresh(&self, round: u64) {
        self.state().refreshes_started += 1;
        self.tabs.count_refresh_call();
        self.emit(vec![EventKind::RefreshStarted { refresh: round }]);
        let request = ApiRequest::post_empty(paths::REFRESH).bypassing_refresh();
        let answer = read(self.transport.send(&request, None).await);
        let mut events = Pending::new();
        let mut announce = None;
        let (waiters, outcome) = {
            let mut state = self.state();
            if !state.in_round(round) {
                // A login, a logout or another tab's token settled the waiters meanwhile.
                return;
            }
            let outcome = match answer {
                Ok(answer) if answer.is_ok() => match answer.decode::<AccessGrant>() {
                    Ok(grant) => {
                        events.push(EventKind::RefreshSucceeded {
                            refresh: round,
                            expires_at: grant.expires_at,
                        });
                        let generation = self.next_generation(&mut state);
                        let token = self.install(&mut state, &grant, &mut events);
                        announce = Some(self.token_message(generation, &token, None));
                        state.phase = Phase::Idle;
                        Ok(())
                    }
                    Err(error) => {
                        self.fail_transiently(&mut state, round, &error, &mut events);
                        Err(error)
                    }
                },
                Ok(answer) if self.ends_session(answer.errcode) => {
                    let generation = self.next_generation(&mut state);
                    announce = Some(TabMessage::SessionOver {
                        from: self.tabs.tab_id().to_owned(),
                        generation,
                    });
                    Self::drop_token(&mut state, &mut events);
                    state.phase = Phase::Failed;
                    events.push(EventKind::RefreshFailed {
                        refresh: round,
                        session_over: true,
                        reason: answer.errmsg,
                    });
                    events.push(EventKind::SessionOver { from_tab: None });
                    Err(ClientError::SessionOver)
                }
                Ok(answer) => {
                    let error = ClientError::Api {
                        errcode: answer.errcode,
                        errmsg: answer.errmsg,
                    };
                    self.fail_transiently(&mut state, round, &error, &mut events);
                    Err(error)
                }
                Err(error) => {
                    self.fail_transiently(&mut state, round, &error, &mut events);
                    Err(error)
                }
            };
            events.push(EventKind::PhaseChanged(state.phase));
            (state.end_round(), outcome)
        };
        if let Some(message) = announce {
            self.tabs.post(&message);
        }
        self.settle(events, waiters, outcome);
    }

    /// The server refused the refresh token: no refresh can succeed until a new login.
    fn ends_session(&self, errcode: i32) -> bool {
        errcode == ErrCode::SessionOver.code() || self.is_refresh_errcode(errcode)
    }

    /// A refresh that failed for a reason that does not prove the session over (network,
    /// server error): waiters get that error and the next request may try again.
    fn fail_transiently(
        &self,
        state: &mut State,
        refresh: u64,
        error: &ClientError,
        events: &mut Pending,
    ) {
        state.phase = Phase::Idle;
        events.push(EventKind::RefreshFailed {
            refresh,
            session_over: false,
            reason: error.to_string(),
        });
    }

    fn drop_token(state: &mut State, events: &mut Pending) {
        if state.token.take().is_some() {
            state.generation += 1;
            events.push(EventKind::TokenChanged(None));
        }
    }

    /// Installs the token of a login or refresh answer, timed from now on this tab's clock.
    fn install(&self, state: &mut State, grant: &AccessGrant, events: &mut Pending) -> HeldToken {
        self.install_held(
            state,
            grant.access_token.clone(),
            grant.expires_at,
            grant.expires_in.saturating_mul(1000),
            events,
        )
    }

    fn install_held(
        &self,
        state: &mut State,
        value: String,
        expires_at: i64,
        lifetime_ms: i64,
        events: &mut Pending,
    ) -> HeldToken {
        let token = HeldToken {
            value,
            expires_at,
            received_at_ms: self.clock.now_ms(),
            lifetime_ms: lifetime_ms.max(0),
        };
        events.push(EventKind::TokenChanged(Some(token.clone())));
        state.token = Some(token.clone());
        state.generation += 1;
        token
    }
}

/// A transport's result as an answer: a network failure or a body that is not an
/// envelope becomes a transport error with the HTTP status (0 without a response).
fn read(sent: Result<Response, super::TransportError>) -> Result<Answer, ClientError> {
    match sent {
        Ok(response) => Answer::read(response),
        Err(e) => Err(ClientError::Transport {
            status: e.status,
            message: e.message,
        }),
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // The state stays consistent between statements, so a panic elsewhere must not make
    // every later request panic too.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a logical request as in flight for exactly as long as it lives.
struct InFlightGuard<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    inner: Arc<Inner<T, C, S, L>>,
}

impl<T, C, S, L> Drop for InFlightGuard<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    fn drop(&mut self) {
        let in_flight = {
            let mut state = self.inner.state();
            state.in_flight -= 1;
            state.in_flight
        };
        self.inner.emit(vec![EventKind::InFlight(in_flight)]);
    }
}

/// Removes a request that its caller dropped from the refresh queue.
struct CancelGuard<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    inner: Arc<Inner<T, C, S, L>>,
    request: RequestId,
    armed: bool,
}

impl<T, C, S, L> Drop for CancelGuard<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink + 'static,
{
    fn drop(&mut self) {
        if self.armed {
            self.inner
                .state()
                .waiters
                .retain(|(waiting, _)| *waiting != self.request);
            self.inner.emit(vec![EventKind::Cancelled {
                request: self.request,
            }]);
        }
    }
}
