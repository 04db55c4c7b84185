//! The coordinator: one refresh at a time, every other request parked until it ends, each
//! replayed at most once, every caller handed its own result, and nobody left hanging.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::channel::oneshot;
use futures::FutureExt;
use serde::de::DeserializeOwned;

use super::{
    ApiRequest, ClientError, Clock, Event, EventKind, QueueReason, RequestId, Spawn, Transport,
};
use crate::api::{paths, AccessGrant, ErrCode, RawEnvelope};

/// Tuning of the coordinator, from the server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Errcodes that mean "refresh the access token and replay".
    pub refresh_errcodes: Vec<i32>,
    /// Refresh before sending when the token expires within this many milliseconds. Never
    /// more than a third of the token's lifetime, so very short tokens are not refreshed
    /// before every single request.
    pub margin_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            refresh_errcodes: ErrCode::DEFAULT_REFRESH_SET.to_vec(),
            margin_ms: 5_000,
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
    /// Unix seconds, when a token is held.
    pub token_expires_at: Option<i64>,
    /// Bumped whenever the token is replaced or dropped.
    pub token_generation: u64,
    pub in_flight: usize,
    pub queued: usize,
    pub refreshes_started: u64,
}

/// The single-flight refresh coordinator. Cheap to clone; clones share one state.
pub struct Coordinator<T, C, S> {
    inner: Arc<Inner<T, C, S>>,
}

impl<T, C, S> Clone for Coordinator<T, C, S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

type Listener = Box<dyn Fn(&Event) + Send + Sync>;

/// What a parked request learns when the refresh it waits for ends.
type RefreshOutcome = Result<(), ClientError>;

struct Inner<T, C, S> {
    transport: T,
    clock: C,
    spawner: S,
    settings: Settings,
    state: Mutex<State>,
    listeners: Mutex<Vec<Listener>>,
}

struct AccessToken {
    value: String,
    /// Unix seconds, as the server sent it.
    expires_at: i64,
    /// Client clock when the token arrived, to know its lifetime.
    received_at_ms: i64,
}

struct State {
    token: Option<AccessToken>,
    generation: u64,
    phase: Phase,
    waiters: Vec<(RequestId, oneshot::Sender<RefreshOutcome>)>,
    next_request: RequestId,
    in_flight: usize,
    refreshes_started: u64,
}

/// Events gathered under the lock and emitted after it is released, so that listeners
/// may call back into the coordinator.
type Pending = Vec<EventKind>;

impl<T, C, S> Coordinator<T, C, S>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
{
    pub fn new(transport: T, clock: C, spawner: S, settings: Settings) -> Self {
        Self {
            inner: Arc::new(Inner {
                transport,
                clock,
                spawner,
                settings,
                state: Mutex::new(State {
                    token: None,
                    generation: 0,
                    phase: Phase::Idle,
                    waiters: Vec::new(),
                    next_request: 1,
                    in_flight: 0,
                    refreshes_started: 0,
                }),
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Calls `listener` for every event, after the state change it reports.
    pub fn subscribe(&self, listener: impl Fn(&Event) + Send + Sync + 'static) {
        lock(&self.inner.listeners).push(Box::new(listener));
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = self.inner.state();
        Snapshot {
            phase: state.phase,
            token_expires_at: state.token.as_ref().map(|t| t.expires_at),
            token_generation: state.generation,
            in_flight: state.in_flight,
            queued: state.waiters.len(),
            refreshes_started: state.refreshes_started,
        }
    }

    /// Installs the token of a fresh login; a failed or signed-out session becomes usable.
    pub fn install_token(&self, access_token: String, expires_at: i64) {
        let mut events = Pending::new();
        let waiters = {
            let mut state = self.inner.state();
            self.inner
                .install(&mut state, access_token, expires_at, &mut events);
            if state.phase != Phase::Idle {
                // A refresh still running is abandoned: its answer must not replace the
                // token of this login.
                state.phase = Phase::Idle;
                events.push(EventKind::PhaseChanged(Phase::Idle));
            }
            std::mem::take(&mut state.waiters)
        };
        self.inner.emit(events);
        for (_, waiter) in waiters {
            // Parked requests go out with the new login's token.
            let _ = waiter.send(Ok(()));
        }
    }

    /// Forgets the token after a logout. Requests that would need a refresh now fail with
    /// [`ClientError::SessionOver`] without trying one, and without a session-over event:
    /// the user left on purpose.
    pub fn sign_out(&self) {
        let mut events = Pending::new();
        let waiters = {
            let mut state = self.inner.state();
            Inner::<T, C, S>::drop_token(&mut state, &mut events);
            state.phase = Phase::SignedOut;
            events.push(EventKind::PhaseChanged(Phase::SignedOut));
            std::mem::take(&mut state.waiters)
        };
        self.inner.emit(events);
        for (_, waiter) in waiters {
            // A waiter that went away no longer needs an answer.
            let _ = waiter.send(Err(ClientError::SessionOver));
        }
    }

    /// Sends `request` and decodes its data as `R`.
    pub async fn call<R: DeserializeOwned>(&self, request: ApiRequest) -> Result<R, ClientError> {
        let data = self.send(request).await?;
        serde_json::from_value(data).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends `request` with a usable access token, refreshing and replaying as needed, and
    /// returns the envelope's `data`.
    pub async fn send(&self, request: ApiRequest) -> Result<serde_json::Value, ClientError> {
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

impl<T, C, S> Inner<T, C, S>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
{
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn emit(&self, events: Pending) {
        if events.is_empty() {
            return;
        }
        let at_ms = self.clock.now_ms();
        let listeners = lock(&self.listeners);
        for kind in events {
            let event = Event { at_ms, kind };
            for listener in listeners.iter() {
                listener(&event);
            }
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
    ) -> Result<serde_json::Value, ClientError> {
        if request.bypass {
            let token = self.state().token.as_ref().map(|t| t.value.clone());
            let envelope = self.transmit(id, request, token, false).await?;
            return into_data(envelope);
        }
        let mut replayed = false;
        loop {
            let (token, generation) = self.usable_token(id).await?;
            let envelope = self.transmit(id, request, token, replayed).await?;
            if !self.is_refresh_errcode(envelope.errcode) {
                return into_data(envelope);
            }
            self.emit(vec![EventKind::GotErrcode {
                request: id,
                errcode: envelope.errcode,
            }]);
            if replayed {
                // Replayed once already: hand the error over instead of looping.
                return into_data(envelope);
            }
            self.await_fresh_token(id, generation, QueueReason::Errcode(envelope.errcode))
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
    ) -> Result<RawEnvelope, ClientError> {
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
        self.transport
            .send(request, token.as_deref())
            .await
            .map_err(|e| ClientError::Transport {
                status: e.status,
                message: e.message,
            })
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

    fn expires_soon(&self, token: &AccessToken) -> bool {
        let lifetime_ms = token.expires_at * 1000 - token.received_at_ms;
        let margin_ms = self.settings.margin_ms.min(lifetime_ms / 3).max(0);
        token.expires_at * 1000 - self.clock.now_ms() <= margin_ms
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
        state.refreshes_started += 1;
        let refresh = state.refreshes_started;
        events.push(EventKind::PhaseChanged(Phase::Refreshing));
        events.push(EventKind::RefreshStarted { refresh });
        let inner = Arc::clone(self);
        self.spawner
            .spawn(async move { inner.refresh(refresh).await }.boxed_local());
    }

    /// The refresh call itself: it bypasses the queue (the original deadlocks when the
    /// refresh request waits behind itself) and settles every waiter, whatever happens.
    async fn refresh(self: Arc<Self>, refresh: u64) {
        let request = ApiRequest::post_empty(paths::REFRESH).bypassing_refresh();
        let answer = self.transport.send(&request, None).await;
        let mut events = Pending::new();
        let (waiters, outcome) = {
            let mut state = self.state();
            if state.phase != Phase::Refreshing || state.refreshes_started != refresh {
                // A login or logout happened meanwhile and settled the waiters itself.
                return;
            }
            let outcome = match answer {
                Ok(envelope) if envelope.errcode == ErrCode::Ok.code() => {
                    match serde_json::from_value::<AccessGrant>(envelope.data.unwrap_or_default()) {
                        Ok(grant) => {
                            events.push(EventKind::RefreshSucceeded {
                                refresh,
                                expires_at: grant.expires_at,
                            });
                            self.install(
                                &mut state,
                                grant.access_token,
                                grant.expires_at,
                                &mut events,
                            );
                            state.phase = Phase::Idle;
                            Ok(())
                        }
                        Err(e) => {
                            let error = ClientError::Decode(e.to_string());
                            self.fail_transiently(&mut state, refresh, &error, &mut events);
                            Err(error)
                        }
                    }
                }
                Ok(envelope) if self.ends_session(envelope.errcode) => {
                    Self::drop_token(&mut state, &mut events);
                    state.phase = Phase::Failed;
                    events.push(EventKind::RefreshFailed {
                        refresh,
                        session_over: true,
                        reason: envelope.errmsg,
                    });
                    events.push(EventKind::SessionOver);
                    Err(ClientError::SessionOver)
                }
                Ok(envelope) => {
                    let error = ClientError::Api {
                        errcode: envelope.errcode,
                        errmsg: envelope.errmsg,
                    };
                    self.fail_transiently(&mut state, refresh, &error, &mut events);
                    Err(error)
                }
                Err(e) => {
                    let error = ClientError::Transport {
                        status: e.status,
                        message: e.message,
                    };
                    self.fail_transiently(&mut state, refresh, &error, &mut events);
                    Err(error)
                }
            };
            events.push(EventKind::PhaseChanged(state.phase));
            (std::mem::take(&mut state.waiters), outcome)
        };
        self.emit(events);
        for (_, waiter) in waiters {
            // A waiter whose caller went away no longer needs an answer.
            let _ = waiter.send(outcome.clone());
        }
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
            events.push(EventKind::TokenChanged {
                token: None,
                expires_at: None,
            });
        }
    }

    fn install(&self, state: &mut State, value: String, expires_at: i64, events: &mut Pending) {
        events.push(EventKind::TokenChanged {
            token: Some(value.clone()),
            expires_at: Some(expires_at),
        });
        state.token = Some(AccessToken {
            value,
            expires_at,
            received_at_ms: self.clock.now_ms(),
        });
        state.generation += 1;
    }
}

/// Turns an envelope into its data, or the typed error for a non-zero errcode.
fn into_data(envelope: RawEnvelope) -> Result<serde_json::Value, ClientError> {
    if envelope.errcode == ErrCode::Ok.code() {
        Ok(envelope.data.unwrap_or_default())
    } else {
        Err(ClientError::Api {
            errcode: envelope.errcode,
            errmsg: envelope.errmsg,
        })
    }
}

fn lock<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    // The state stays consistent between statements, so a panic elsewhere must not make
    // every later request panic too.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counts a logical request as in flight for exactly as long as it lives.
struct InFlightGuard<T: Transport + 'static, C: Clock + 'static, S: Spawn + 'static> {
    inner: Arc<Inner<T, C, S>>,
}

impl<T: Transport + 'static, C: Clock + 'static, S: Spawn + 'static> Drop
    for InFlightGuard<T, C, S>
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
struct CancelGuard<T: Transport + 'static, C: Clock + 'static, S: Spawn + 'static> {
    inner: Arc<Inner<T, C, S>>,
    request: RequestId,
    armed: bool,
}

impl<T: Transport + 'static, C: Clock + 'static, S: Spawn + 'static> Drop for CancelGuard<T, C, S> {
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
