//! Native tests of the coordinator against a scripted fake server, a hand-driven clock and
//! a single-threaded executor. Every response can be held and released in any order, so
//! each test forces the interleaving it is about.

mod network;
mod tabs;

use std::cell::{Cell, RefCell};
use std::collections::{HashSet, VecDeque};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::oneshot;
use futures::executor::LocalPool;
use futures::future::{LocalBoxFuture, RemoteHandle};
use futures::task::LocalSpawnExt;
use futures::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::*;

/// The test API's error codes: the seed's four refresh codes, and a few of its others.
mod code {
    pub const OK: i32 = 0;
    pub const MISSING_TOKEN: i32 = 40001;
    pub const INVALID_TOKEN: i32 = 40014;
    pub const EXPIRED_TOKEN: i32 = 42001;
    pub const SESSION_OVER: i32 = 42002;
    pub const BAD_INPUT: i32 = 40002;
    pub const INTERNAL: i32 = 50000;
}

const REFRESH_URL: &str = "/auth/refresh";
const LOGIN_URL: &str = "/auth/login";

/// The test API's answers: HTTP 200 and `{code, message, data}`, as the seed's.
#[derive(Serialize, Deserialize)]
struct Envelope {
    code: i32,
    message: String,
    data: Option<Value>,
}

impl Envelope {
    fn ok(data: Value) -> Self {
        Self {
            code: code::OK,
            message: "ok".into(),
            data: Some(data),
        }
    }

    fn error(code: i32, message: &str) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
}

/// Who logs in, as a login announces it to the other tabs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct TestUser {
    username: String,
}

/// The `data` of a login or refresh answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct TokenData {
    access_token: String,
    expires_in: u64,
}

impl TokenData {
    fn grant(&self) -> Grant {
        Grant::new(&self.access_token, Duration::from_secs(self.expires_in))
    }
}

/// Reads the test API as an application reads the seed's: the refresh codes in the body,
/// `SESSION_OVER` or a refresh code on the refresh call ends the session.
struct TestPolicy {
    triggers: Triggers,
}

impl Default for TestPolicy {
    fn default() -> Self {
        Self {
            triggers: Triggers::seed(),
        }
    }
}

impl Policy for TestPolicy {
    type Answer = Value;
    type Identity = TestUser;

    fn read(&self, response: Response) -> Verdict<Value> {
        let status = response.status;
        match serde_json::from_str::<Envelope>(&response.body) {
            // The server cannot serve now: an envelope or a proxy's page, tried again.
            _ if status == 503 => Verdict::Unavailable(Error::Transport {
                status,
                message: "unavailable".into(),
            }),
            Err(_) => Verdict::Failure(Error::Transport {
                status,
                message: format!("HTTP {status}: not an API response"),
            }),
            Ok(envelope) if envelope.code == code::OK => {
                Verdict::Success(envelope.data.unwrap_or(Value::Null))
            }
            Ok(envelope) => {
                let refused = self.triggers.matches(status, Some(envelope.code));
                let error = Error::Refused {
                    code: envelope.code,
                    message: envelope.message,
                };
                match refused {
                    true => Verdict::RefreshAndReplay(error),
                    false => Verdict::Failure(error),
                }
            }
        }
    }

    fn refresh_request(&self) -> Request {
        Request::post_empty(REFRESH_URL)
    }

    fn read_refresh(&self, response: Response) -> RefreshVerdict {
        match self.read(response) {
            Verdict::Success(data) => match serde_json::from_value::<TokenData>(data) {
                Ok(token) => RefreshVerdict::Granted(token.grant()),
                Err(error) => RefreshVerdict::Failed(Error::Decode(error.to_string())),
            },
            Verdict::RefreshAndReplay(Error::Refused { message, .. })
            | Verdict::Failure(Error::Refused {
                code: code::SESSION_OVER,
                message,
            }) => RefreshVerdict::Refused(message),
            Verdict::Unavailable(error) => RefreshVerdict::Unavailable(error),
            Verdict::RefreshAndReplay(error) | Verdict::Failure(error) => {
                RefreshVerdict::Failed(error)
            }
        }
    }
}

/// The number an error carries: the API's code, or the HTTP status (0 without one).
fn number(error: &Error) -> i32 {
    match error {
        Error::Refused { code, .. } => *code,
        Error::Transport { status, .. } => i32::from(*status),
        Error::SessionOver | Error::Decode(_) | Error::Offline => -1,
    }
}

type TabMessage = crate::TabMessage<TestUser>;
type EventKind = crate::EventKind<TestUser>;

const START_MS: i64 = 1_700_000_000_000;
const LIFETIME_S: i64 = 60;

type Reply = Result<Response, TransportError>;

/// An envelope as the server sends it: HTTP 200 and its JSON.
fn answer(envelope: Envelope) -> Reply {
    answer_with_status(200, envelope)
}

fn answer_with_status(status: u16, envelope: Envelope) -> Reply {
    Ok(Response::new(
        status,
        serde_json::to_string(&envelope).expect("an envelope serialises"),
    ))
}

/// How the fake server answers refresh calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RefreshMode {
    Grant,
    Reject,
    NetworkError,
    ServerError,
    /// HTTP 503 with `Retry-After` in seconds, if set.
    Unavailable(Option<u64>),
}

/// One request the fake server has seen.
#[derive(Clone, Debug, PartialEq)]
struct Seen {
    path: String,
    token: Option<String>,
}

/// What the fake server answers for an unusable token: an expired token, unless a test
/// says otherwise.
#[derive(Clone, Copy)]
struct Rejection(i32);

impl Default for Rejection {
    fn default() -> Self {
        Self(code::EXPIRED_TOKEN)
    }
}

#[derive(Default)]
struct ServerState {
    valid_tokens: HashSet<String>,
    /// When each token expires, in Unix seconds on the server's clock.
    expiry: std::collections::HashMap<String, i64>,
    issued: u32,
    /// The code for a present but unusable token.
    rejection: Rejection,
    /// The HTTP status of that answer: 200 as the seed's server, 401 as RFC 6750's.
    rejection_status: Option<u16>,
    /// When set, even freshly issued tokens are refused (to prove the retry cap).
    refuse_everything: bool,
    refresh_mode: Option<RefreshMode>,
    hold_data: bool,
    hold_refresh: bool,
    data_log: Vec<Seen>,
    /// Every data request as the transport received it, with the token it carried.
    sent: Vec<(Request, Option<String>)>,
    refresh_calls: usize,
    held_data: Vec<(Seen, Reply, oneshot::Sender<Reply>)>,
    held_refresh: Vec<(Reply, oneshot::Sender<Reply>)>,
    /// Business error for a path, answered with a valid token.
    business_errors: Vec<(String, i32, String)>,
    transport_failures: Vec<(String, u16)>,
    clock: Option<Rc<Cell<i64>>>,
    /// The browser reports no network: `send` fails at once, and `online` waits.
    offline: bool,
    online_waiters: Vec<oneshot::Sender<()>>,
    /// Refresh answers still to lose on the way back: the server grants, the browser
    /// sees a network error.
    lost_refresh_answers: u32,
    /// The `Retry-After` of a 503 from `transport_failures`, in seconds.
    retry_after_s: Option<u64>,
    /// How far the server's clock is ahead of the browser's (negative: behind).
    server_ahead_ms: i64,
}

impl ServerState {
    /// A new token of the usual lifetime, as a login or refresh answers it.
    fn grant(&mut self) -> TokenData {
        self.issued += 1;
        let token = format!("t{}", self.issued);
        self.valid_tokens.insert(token.clone());
        let now_s = self.now_ms() / 1000;
        self.expiry.insert(token.clone(), now_s + LIFETIME_S);
        TokenData {
            access_token: token,
            expires_in: LIFETIME_S as u64,
        }
    }

    /// Delivers every held refresh answer (the caller runs the executor).
    fn release_refreshes(&mut self) {
        for (reply, sender) in std::mem::take(&mut self.held_refresh) {
            let _ = sender.send(reply);
        }
    }

    /// The server's clock.
    fn now_ms(&self) -> i64 {
        self.clock.as_ref().map_or(START_MS, |c| c.get()) + self.server_ahead_ms
    }

    fn is_valid(&self, token: &str) -> bool {
        self.valid_tokens.contains(token)
            && self
                .expiry
                .get(token)
                .is_none_or(|expires_at| self.now_ms() / 1000 < *expires_at)
    }

    fn answer_data(&self, seen: &Seen) -> Reply {
        if let Some((_, status)) = self
            .transport_failures
            .iter()
            .find(|(p, _)| *p == seen.path)
        {
            // A proxy's error page, or nothing at all.
            return match status {
                0 => Err(TransportError {
                    status: 0,
                    message: "network down".into(),
                }),
                status => {
                    let response = Response::new(*status, format!("<html>HTTP {status}</html>"));
                    Ok(match self.retry_after_s {
                        Some(seconds) => response.with_retry_after(Duration::from_secs(seconds)),
                        None => response,
                    })
                }
            };
        }
        let refusal = match &seen.token {
            None => Some(code::MISSING_TOKEN),
            Some(t) if self.refuse_everything || !self.is_valid(t) => Some(self.rejection.0),
            Some(_) => None,
        };
        if let Some(errcode) = refusal {
            let status = self.rejection_status.unwrap_or(200);
            return answer_with_status(status, Envelope::error(errcode, "refused"));
        }
        if let Some((_, code, msg)) = self
            .business_errors
            .iter()
            .find(|(p, _, _)| *p == seen.path)
        {
            return answer(Envelope::error(*code, msg));
        }
        answer(Envelope::ok(
            json!({ "path": seen.path, "token": seen.token }),
        ))
    }

    fn answer_refresh(&mut self) -> Reply {
        match self.refresh_mode.unwrap_or(RefreshMode::Grant) {
            RefreshMode::Grant => answer(Envelope::ok(
                serde_json::to_value(self.grant()).expect("a grant serialises"),
            )),
            RefreshMode::Reject => answer(Envelope::error(code::SESSION_OVER, "session is over")),
            RefreshMode::ServerError => {
                answer(Envelope::error(code::INTERNAL, "internal server error"))
            }
            RefreshMode::NetworkError => Err(TransportError {
                status: 0,
                message: "network down".into(),
            }),
            RefreshMode::Unavailable(retry_after) => {
                let reply = answer_with_status(503, Envelope::error(50301, "try again later"));
                match retry_after {
                    Some(seconds) => {
                        reply.map(|r| r.with_retry_after(Duration::from_secs(seconds)))
                    }
                    None => reply,
                }
            }
        }
    }
}

#[derive(Clone)]
struct FakeTransport(Rc<RefCell<ServerState>>);

impl Transport for FakeTransport {
    fn send(
        &self,
        request: &Request,
        access_token: Option<&str>,
    ) -> impl std::future::Future<Output = Reply> {
        let mut server = self.0.borrow_mut();
        if server.offline {
            // `fetch` rejects at once without a network.
            let failure = Err(TransportError {
                status: 0,
                message: "offline".into(),
            });
            return futures::future::ready(failure).left_future();
        }
        let (reply, hold) = if request.url == REFRESH_URL {
            server.refresh_calls += 1;
            let mut reply = server.answer_refresh();
            if server.lost_refresh_answers > 0 {
                server.lost_refresh_answers -= 1;
                reply = Err(TransportError {
                    status: 0,
                    message: "the answer was lost".into(),
                });
            }
            (reply, server.hold_refresh)
        } else {
            let seen = Seen {
                path: request.url.clone(),
                token: access_token.map(str::to_owned),
            };
            server.data_log.push(seen.clone());
            server
                .sent
                .push((request.clone(), access_token.map(str::to_owned)));
            (server.answer_data(&seen), server.hold_data)
        };
        if !hold {
            return futures::future::ready(reply).left_future();
        }
        // The reply is decided when the server processes the call; only its delivery waits.
        let (sender, receiver) = oneshot::channel();
        if request.url == REFRESH_URL {
            server.held_refresh.push((reply, sender));
        } else {
            let seen = server.data_log.last().cloned().expect("just logged");
            server.held_data.push((seen, reply, sender));
        }
        // A reply dropped unreleased belongs to a closed tab: its fetch never completes.
        receiver
            .then(|reply| match reply {
                Ok(reply) => futures::future::ready(reply).left_future(),
                Err(_) => futures::future::pending().right_future(),
            })
            .right_future()
    }

    fn is_online(&self) -> bool {
        !self.0.borrow().offline
    }

    fn online(&self) -> impl std::future::Future<Output = ()> + 'static {
        let (sender, receiver) = oneshot::channel();
        self.0.borrow_mut().online_waiters.push(sender);
        receiver.map(|_| ())
    }
}

fn demo_user() -> TestUser {
    TestUser {
        username: "demo".into(),
    }
}

type Timers = Rc<RefCell<Vec<(i64, oneshot::Sender<()>)>>>;

/// The browser's clock: moves only when a test advances it, which fires due timers.
#[derive(Clone)]
struct FakeClock {
    now: Rc<Cell<i64>>,
    timers: Timers,
}

impl FakeClock {
    fn new(now: Rc<Cell<i64>>) -> Self {
        Self {
            now,
            timers: Timers::default(),
        }
    }

    fn advance(&self, ms: i64) {
        self.now.set(self.now.get() + ms);
        let now = self.now.get();
        let due: Vec<_> = {
            let mut timers = self.timers.borrow_mut();
            let (due, pending) = std::mem::take(&mut *timers)
                .into_iter()
                .partition(|(at, _)| *at <= now);
            *timers = pending;
            due
        };
        for (_, timer) in due {
            let _ = timer.send(());
        }
    }
}

impl Clock for FakeClock {
    fn now_ms(&self) -> i64 {
        self.now.get()
    }

    fn sleep(&self, duration: Duration) -> impl std::future::Future<Output = ()> + 'static {
        let (timer, fired) = oneshot::channel();
        let at = self.now.get() + duration.as_millis() as i64;
        self.timers.borrow_mut().push((at, timer));
        fired.map(|_| ())
    }
}

/// What the tabs of one fake browser share: the lock with its queue, the generation
/// counter and the refresh tally of `localStorage`, and a mailbox per tab for messages.
#[derive(Default)]
struct BrowserState {
    /// `navigator.locks` is missing (older browsers, plain-HTTP origins).
    no_locks: bool,
    /// The holder of the lock: grant number and tab.
    holder: Option<(u64, usize)>,
    grants: u64,
    lock_queue: VecDeque<(usize, oneshot::Sender<Option<FakeGuard>>)>,
    generation: u64,
    refresh_calls: u64,
    /// Messages posted but not yet delivered, by tab index.
    mailboxes: Vec<VecDeque<TabMessage>>,
    /// Tabs that were closed: nothing is delivered to them any more.
    closed: HashSet<usize>,
}

type SharedBrowser = Rc<RefCell<BrowserState>>;

impl BrowserState {
    /// Gives the lock to the next tab still waiting, or frees it.
    fn pass_lock(browser: &SharedBrowser) {
        loop {
            let next = browser.borrow_mut().lock_queue.pop_front();
            let Some((tab, waiter)) = next else {
                browser.borrow_mut().holder = None;
                return;
            };
            let guard = FakeGuard::grant(browser, tab);
            if let Err(Some(guard)) = waiter.send(Some(guard)) {
                // That tab stopped waiting: the guard goes back without releasing twice.
                std::mem::forget(guard);
                continue;
            }
            return;
        }
    }
}

/// The lock as one tab holds it; dropping it passes the lock on, as the browser does when
/// the callback's promise resolves.
struct FakeGuard {
    browser: SharedBrowser,
    grant: u64,
}

impl FakeGuard {
    fn grant(browser: &SharedBrowser, tab: usize) -> Self {
        let mut state = browser.borrow_mut();
        state.grants += 1;
        state.holder = Some((state.grants, tab));
        Self {
            browser: Rc::clone(browser),
            grant: state.grants,
        }
    }
}

impl Drop for FakeGuard {
    fn drop(&mut self) {
        // A guard whose tab was closed was released by the browser already.
        let holder = self.browser.borrow().holder;
        if holder.is_some_and(|(grant, _)| grant == self.grant) {
            BrowserState::pass_lock(&self.browser);
        }
    }
}

/// One tab's link to the fake browser.
struct FakeTabs {
    browser: SharedBrowser,
    index: usize,
    id: String,
}

impl FakeTabs {
    fn open(browser: &SharedBrowser) -> Self {
        let mut state = browser.borrow_mut();
        state.mailboxes.push(VecDeque::new());
        let index = state.mailboxes.len() - 1;
        Self {
            browser: Rc::clone(browser),
            index,
            id: format!("tab{}", index + 1),
        }
    }
}

impl TabLink<TestUser> for FakeTabs {
    type Guard = FakeGuard;

    fn tab_id(&self) -> &str {
        &self.id
    }

    fn lock(&self) -> impl std::future::Future<Output = Option<FakeGuard>> + 'static {
        let mut state = self.browser.borrow_mut();
        if state.no_locks {
            return futures::future::ready(None).left_future();
        }
        if state.holder.is_none() {
            drop(state);
            let guard = FakeGuard::grant(&self.browser, self.index);
            return futures::future::ready(Some(guard)).left_future();
        }
        let (waiter, granted) = oneshot::channel();
        state.lock_queue.push_back((self.index, waiter));
        granted.map(|guard| guard.ok().flatten()).right_future()
    }

    fn generation(&self) -> u64 {
        self.browser.borrow().generation
    }

    fn set_generation(&self, generation: u64) {
        self.browser.borrow_mut().generation = generation;
    }

    fn count_refresh_call(&self) {
        self.browser.borrow_mut().refresh_calls += 1;
    }

    fn refresh_calls(&self) -> u64 {
        self.browser.borrow().refresh_calls
    }

    fn post(&self, message: &TabMessage) {
        let mut state = self.browser.borrow_mut();
        let closed = state.closed.clone();
        for (index, mailbox) in state.mailboxes.iter_mut().enumerate() {
            if index != self.index && !closed.contains(&index) {
                mailbox.push_back(message.clone());
            }
        }
    }
}

struct PoolSpawner(futures::executor::LocalSpawner);

impl Spawn for PoolSpawner {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        self.0.spawn_local(task).expect("executor alive");
    }
}

type TestCoordinator =
    Coordinator<Plugins<FakeTransport, FakeClock, PoolSpawner, FakeTabs>, TestPolicy>;
type Events = Arc<Mutex<Vec<EventKind>>>;

/// The fake server, on the browser's clock until a test shifts it (`server_ahead_ms`).
fn fake_server(clock: &FakeClock) -> Rc<RefCell<ServerState>> {
    Rc::new(RefCell::new(ServerState {
        clock: Some(Rc::clone(&clock.now)),
        ..ServerState::default()
    }))
}

/// A coordinator in a new tab of `browser`, and the events it reports.
fn open_tab(
    server: &Rc<RefCell<ServerState>>,
    clock: &FakeClock,
    pool: &LocalPool,
    browser: &SharedBrowser,
    tuning: Tuning,
    policy: TestPolicy,
) -> (TestCoordinator, Events) {
    let platform = Plugins {
        transport: FakeTransport(Rc::clone(server)),
        clock: clock.clone(),
        spawner: PoolSpawner(pool.spawner()),
        tabs: FakeTabs::open(browser),
    };
    let coordinator = Coordinator::new(platform, policy, tuning);
    let events = Events::default();
    let sink = Arc::clone(&events);
    coordinator.subscribe(move |event| sink.lock().expect("events").push(event.kind.clone()));
    (coordinator, events)
}
type Outcome = Rc<RefCell<Option<Result<Value, Error>>>>;

struct Harness {
    pool: LocalPool,
    server: Rc<RefCell<ServerState>>,
    clock: FakeClock,
    coordinator: TestCoordinator,
    events: Events,
}

impl Harness {
    fn new() -> Self {
        Self::with(Tuning::default(), TestPolicy::default())
    }

    fn with(tuning: Tuning, policy: TestPolicy) -> Self {
        let pool = LocalPool::new();
        let clock = FakeClock::new(Rc::new(Cell::new(START_MS)));
        let server = fake_server(&clock);
        let browser = SharedBrowser::default();
        let (coordinator, events) = open_tab(&server, &clock, &pool, &browser, tuning, policy);
        Self {
            pool,
            server,
            clock,
            coordinator,
            events,
        }
    }

    /// A logged-in client: the server issued `t1` and the coordinator holds it.
    fn logged_in() -> Self {
        let harness = Self::new();
        harness.login();
        harness
    }

    fn login(&self) {
        let grant = self.server.borrow_mut().grant();
        self.coordinator.install_login(grant.grant(), demo_user());
    }

    /// The server stops accepting every token issued so far.
    fn expire_tokens_on_server(&self) {
        self.server.borrow_mut().valid_tokens.clear();
    }

    fn start(&self, request: Request) -> (Outcome, RemoteHandle<()>) {
        let outcome: Outcome = Rc::new(RefCell::new(None));
        let slot = Rc::clone(&outcome);
        let coordinator = self.coordinator.clone();
        let handle = self
            .pool
            .spawner()
            .spawn_local_with_handle(async move {
                let result = coordinator.send(request).await;
                *slot.borrow_mut() = Some(result);
            })
            .expect("executor alive");
        (outcome, handle)
    }

    /// Starts a request whose completion the test does not cancel.
    fn fire(&self, path: &str) -> Outcome {
        let (outcome, handle) = self.start(Request::get(path));
        handle.forget();
        outcome
    }

    fn run(&mut self) {
        self.pool.run_until_stalled();
    }

    fn release_data(&mut self, order: impl IntoIterator<Item = usize>) {
        let mut held: Vec<_> = std::mem::take(&mut self.server.borrow_mut().held_data)
            .into_iter()
            .map(Some)
            .collect();
        for index in order {
            let (_, reply, sender) = held[index].take().expect("each held reply released once");
            let _ = sender.send(reply);
        }
        let rest: Vec<_> = held.into_iter().flatten().collect();
        self.server.borrow_mut().held_data.extend(rest);
        self.run();
    }

    /// Delivers the first held reply for `path`.
    fn release_path(&mut self, path: &str) {
        let index = self
            .server
            .borrow()
            .held_data
            .iter()
            .position(|(seen, _, _)| seen.path == path)
            .unwrap_or_else(|| panic!("a held reply for {path}"));
        self.release_data([index]);
    }

    fn release_refresh(&mut self) {
        self.server.borrow_mut().release_refreshes();
        self.run();
    }

    fn refresh_calls(&self) -> usize {
        self.server.borrow().refresh_calls
    }

    fn count(&self, matches: impl Fn(&EventKind) -> bool) -> usize {
        self.events
            .lock()
            .expect("events")
            .iter()
            .filter(|e| matches(e))
            .count()
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    /// The browser loses its network (`navigator.onLine` false).
    fn go_offline(&self) {
        self.server.borrow_mut().offline = true;
    }

    /// The network is back: the `online` event fires.
    fn go_online(&mut self) {
        let waiters = {
            let mut server = self.server.borrow_mut();
            server.offline = false;
            std::mem::take(&mut server.online_waiters)
        };
        for waiter in waiters {
            let _ = waiter.send(());
        }
        self.run();
    }

    /// Requests the fake server saw for `path`.
    fn sends_of(&self, path: &str) -> usize {
        let server = self.server.borrow();
        server.data_log.iter().filter(|s| s.path == path).count()
    }

    /// Every test ends here: nothing in flight, nothing queued, and the in-flight counter
    /// went up exactly as often as it came down.
    fn assert_settled(&mut self) {
        self.run();
        let snapshot = self.coordinator.snapshot();
        assert_eq!(snapshot.in_flight, 0, "in-flight counter back to zero");
        assert_eq!(snapshot.queued, 0, "nobody left in the queue");
        let events = self.events.lock().expect("events");
        let mut level = 0usize;
        for event in events.iter() {
            if let EventKind::InFlight(n) = event {
                assert!(n.abs_diff(level) == 1, "counter moves one step at a time");
                level = *n;
            }
        }
        assert_eq!(level, 0);
    }
}

fn data_path(outcome: &Outcome) -> String {
    match outcome.borrow().as_ref() {
        Some(Ok(data)) => data["path"].as_str().expect("path in data").to_owned(),
        other => panic!("expected data, got {other:?}"),
    }
}

fn error_of(outcome: &Outcome) -> Error {
    match outcome.borrow().as_ref() {
        Some(Err(e)) => e.clone(),
        other => panic!("expected an error, got {other:?}"),
    }
}

// 1. Proactive check

#[test]
fn a_token_about_to_expire_is_refreshed_before_the_request_is_sent_once() {
    let mut h = Harness::logged_in();
    h.advance((LIFETIME_S - 4) * 1000); // 4 s left, inside the 5 s margin
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.refresh_calls(), 1);
    let log = h.server.borrow().data_log.clone();
    assert_eq!(
        log,
        vec![Seen {
            path: "/api/me".into(),
            token: Some("t2".into())
        }],
        "sent once, with the new token"
    );
    assert_eq!(
        h.count(|e| matches!(
            e,
            EventKind::Queued {
                reason: QueueReason::ExpiresSoon,
                ..
            }
        )),
        1
    );
    h.assert_settled();
}

#[test]
fn a_token_outside_the_margin_is_used_without_refreshing() {
    let mut h = Harness::logged_in();
    h.advance((LIFETIME_S - 6) * 1000);
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

#[test]
fn the_margin_shrinks_to_a_third_of_a_short_token_lifetime() {
    let mut h = Harness::new();
    let mut grant = h.server.borrow_mut().grant();
    grant.expires_in = 6; // 6 s token: margin 2 s, not 5 s
    h.coordinator.install_login(grant.grant(), demo_user());
    h.advance(3_500);
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.refresh_calls(), 0, "2.5 s left is outside a 2 s margin");
    h.advance(1_000);
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.refresh_calls(), 1, "1.5 s left is inside it");
    h.assert_settled();
}

#[test]
fn without_a_token_the_first_request_refreshes_from_the_cookie_first() {
    let mut h = Harness::new();
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(h.server.borrow().data_log[0].token.as_deref(), Some("t1"));
    assert_eq!(
        h.count(|e| matches!(
            e,
            EventKind::Queued {
                reason: QueueReason::NoToken,
                ..
            }
        )),
        1
    );
    h.assert_settled();
}

// 2. Reactive check

#[test]
fn every_refresh_code_triggers_a_refresh_the_caller_never_sees() {
    for errcode in Triggers::seed().codes {
        let mut h = Harness::logged_in();
        h.server.borrow_mut().rejection = Rejection(errcode);
        h.expire_tokens_on_server();
        let outcome = h.fire("/api/orders");
        h.run();
        assert_eq!(data_path(&outcome), "/api/orders", "errcode {errcode:?}");
        assert_eq!(h.refresh_calls(), 1, "errcode {errcode:?}");
        assert_eq!(
            h.count(
                |e| matches!(e, EventKind::TokenRefused { error, .. } if number(error) == errcode)
            ),
            1
        );
        let tokens: Vec<_> = h
            .server
            .borrow()
            .data_log
            .iter()
            .map(|s| s.token.clone())
            .collect();
        assert_eq!(tokens, vec![Some("t1".into()), Some("t2".into())]);
        h.assert_settled();
    }
}

#[test]
fn a_configured_refresh_set_replaces_the_default() {
    let policy = TestPolicy {
        triggers: Triggers {
            codes: vec![code::EXPIRED_TOKEN],
            statuses: Vec::new(),
        },
    };
    let mut h = Harness::with(Tuning::default(), policy);
    h.login();
    h.server.borrow_mut().rejection = Rejection(code::INVALID_TOKEN);
    h.expire_tokens_on_server();
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(
        number(&error_of(&outcome)),
        code::INVALID_TOKEN,
        "not in this set"
    );
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

#[test]
fn the_same_coordinator_serves_an_api_that_answers_401_through_its_policy() {
    // Refused tokens answer HTTP 401 with a code outside the seed's set.
    let refused_by_status = |triggers: Triggers| {
        let mut h = Harness::with(Tuning::default(), TestPolicy { triggers });
        h.login();
        {
            let mut server = h.server.borrow_mut();
            server.rejection = Rejection(40100);
            server.rejection_status = Some(401);
        }
        h.expire_tokens_on_server();
        let outcomes: Vec<_> = (0..3).map(|i| h.fire(&format!("/api/{i}"))).collect();
        h.run();
        h.assert_settled();
        (h, outcomes)
    };

    let (h, outcomes) = refused_by_status(Triggers::rfc6750());
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(data_path(outcome), format!("/api/{i}"));
    }
    assert_eq!(h.refresh_calls(), 1, "one refresh for three 401s");

    // A policy that only knows the seed's codes takes the same 401 for an error.
    let (h, outcomes) = refused_by_status(Triggers::seed());
    for outcome in &outcomes {
        assert_eq!(number(&error_of(outcome)), 40100);
    }
    assert_eq!(h.refresh_calls(), 0);
}

// 3. Single flight

fn single_flight(n: usize, release_order: impl Fn(usize) -> Vec<usize>) {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_data = true;
    h.server.borrow_mut().hold_refresh = true;
    let outcomes: Vec<_> = (0..n).map(|i| h.fire(&format!("/api/item/{i}"))).collect();
    h.run();
    assert_eq!(h.coordinator.snapshot().in_flight, n);
    // All N fail with the old token, in a scrambled order; the first starts the refresh.
    h.release_data(release_order(n));
    assert_eq!(h.refresh_calls(), 1, "exactly one refresh for {n} failures");
    assert_eq!(h.coordinator.snapshot().queued, n);
    h.release_refresh();
    // All N are replayed with the new token; their answers arrive scrambled too.
    assert_eq!(h.server.borrow().held_data.len(), n);
    assert!(h
        .server
        .borrow()
        .held_data
        .iter()
        .all(|(seen, _, _)| seen.token.as_deref() == Some("t2")));
    h.release_data(release_order(n).into_iter().rev());
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(
            data_path(outcome),
            format!("/api/item/{i}"),
            "caller {i} gets its own response"
        );
    }
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(h.count(|e| matches!(e, EventKind::Replayed { .. })), n);
    h.assert_settled();
}

/// A deterministic scramble: odd positions first, then even ones backwards.
fn scrambled(n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    order.extend((0..n).filter(|i| i % 2 == 0).rev());
    order
}

#[test]
fn one_failing_request_makes_one_refresh_and_one_replay() {
    single_flight(1, scrambled);
}

#[test]
fn two_failing_requests_share_one_refresh() {
    single_flight(2, |n| (0..n).rev().collect());
}

#[test]
fn a_hundred_failing_requests_share_one_refresh_and_each_gets_its_own_answer() {
    single_flight(100, scrambled);
}

#[test]
fn requests_started_while_a_refresh_runs_wait_for_it_instead_of_sending_the_old_token() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let first = h.fire("/api/a");
    h.run();
    assert_eq!(h.coordinator.snapshot().phase, Phase::Refreshing);
    let second = h.fire("/api/b");
    h.run();
    assert_eq!(
        h.server.borrow().data_log.len(),
        1,
        "the second request did not go out yet"
    );
    h.release_refresh();
    assert_eq!(data_path(&first), "/api/a");
    assert_eq!(data_path(&second), "/api/b");
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(
        h.count(|e| matches!(
            e,
            EventKind::Queued {
                reason: QueueReason::RefreshRunning,
                ..
            }
        )),
        1
    );
    h.assert_settled();
}

// 4. Late failures

#[test]
fn a_failure_that_arrives_after_the_refresh_is_replayed_without_a_second_refresh() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_data = true;
    let early = h.fire("/api/early");
    let late = h.fire("/api/late");
    h.run();
    // Only the early 42001 arrives; the refresh completes and the early request is replayed.
    h.release_path("/api/early");
    h.release_path("/api/early");
    assert_eq!(data_path(&early), "/api/early");
    assert_eq!(h.refresh_calls(), 1);
    assert!(late.borrow().is_none());
    // Now the late 42001 for the old token arrives: replayed at once with t2.
    h.release_path("/api/late");
    assert_eq!(
        h.server.borrow().held_data[0].0.token.as_deref(),
        Some("t2")
    );
    h.release_path("/api/late");
    assert_eq!(data_path(&late), "/api/late");
    assert_eq!(h.refresh_calls(), 1, "no second refresh");
    h.assert_settled();
}

#[test]
fn a_login_during_a_refresh_wins_over_the_refresh_answer() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let waiting = h.fire("/api/a");
    h.run();
    h.login(); // t3: the held refresh already issued t2
    h.run();
    assert_eq!(data_path(&waiting), "/api/a");
    assert_eq!(
        h.server
            .borrow()
            .data_log
            .last()
            .and_then(|s| s.token.clone())
            .as_deref(),
        Some("t3")
    );
    h.release_refresh();
    let after = h.fire("/api/b");
    h.run();
    assert_eq!(data_path(&after), "/api/b");
    assert_eq!(
        h.server
            .borrow()
            .data_log
            .last()
            .and_then(|s| s.token.clone())
            .as_deref(),
        Some("t3")
    );
    h.assert_settled();
}

#[test]
fn a_token_that_expires_again_later_gets_a_new_refresh() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    let first = h.fire("/api/a");
    h.run();
    assert_eq!(data_path(&first), "/api/a");
    h.expire_tokens_on_server();
    let second = h.fire("/api/b");
    h.run();
    assert_eq!(data_path(&second), "/api/b");
    assert_eq!(
        h.refresh_calls(),
        2,
        "a genuinely new expiry is a new round"
    );
    h.assert_settled();
}

// 5. Refresh failure

fn refused_refresh(n: usize) {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Reject);
    h.server.borrow_mut().hold_data = true;
    let outcomes: Vec<_> = (0..n).map(|i| h.fire(&format!("/api/item/{i}"))).collect();
    h.run();
    h.release_data(scrambled(n));
    for outcome in &outcomes {
        assert_eq!(error_of(outcome), Error::SessionOver, "nobody hangs");
    }
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(
        h.count(|e| matches!(e, EventKind::SessionOver { .. })),
        1,
        "one event for {n} waiters"
    );
    assert_eq!(h.coordinator.snapshot().phase, Phase::Failed);
    assert_eq!(h.coordinator.snapshot().token, None, "the token is dropped");
    h.assert_settled();
}

#[test]
fn a_refused_refresh_ends_every_waiting_request_with_session_over_and_one_event() {
    refused_refresh(1);
    refused_refresh(2);
    refused_refresh(100);
}

#[test]
fn after_a_refused_refresh_requests_fail_at_once_without_another_refresh_or_event() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Reject);
    let first = h.fire("/api/a");
    h.run();
    assert_eq!(error_of(&first), Error::SessionOver);
    let sent_before = h.server.borrow().data_log.len();
    let later = h.fire("/api/b");
    h.run();
    assert_eq!(error_of(&later), Error::SessionOver);
    assert_eq!(
        h.server.borrow().data_log.len(),
        sent_before,
        "nothing sent"
    );
    assert_eq!(h.refresh_calls(), 1);
    assert_eq!(h.count(|e| matches!(e, EventKind::SessionOver { .. })), 1);
    // A new login makes the coordinator usable again.
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Grant);
    h.login();
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    let after_login = h.fire("/api/c");
    h.run();
    assert_eq!(data_path(&after_login), "/api/c");
    h.assert_settled();
}

#[test]
fn a_refresh_refused_by_a_server_error_fails_the_waiters_but_not_the_session() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::ServerError);
    let a = h.fire("/api/a");
    let b = h.fire("/api/b");
    h.run();
    let expected = Error::Refused {
        code: code::INTERNAL,
        message: "internal server error".into(),
    };
    assert_eq!(error_of(&a), expected);
    assert_eq!(error_of(&b), expected);
    assert_eq!(h.refresh_calls(), 1, "a 500 is an answer: not tried again");
    assert_eq!(h.count(|e| matches!(e, EventKind::SessionOver { .. })), 0);
    assert_eq!(h.coordinator.snapshot().phase, Phase::Idle);
    // The next request tries again, and this time the refresh works.
    h.server.borrow_mut().refresh_mode = Some(RefreshMode::Grant);
    let c = h.fire("/api/c");
    h.run();
    assert_eq!(data_path(&c), "/api/c");
    assert_eq!(h.refresh_calls(), 2);
    h.assert_settled();
}

// 6. Retry cap

/// The replay is built from the caller's request, not from what the first attempt
/// consumed: the same method, URL and body, with the new token.
#[test]
fn a_post_with_a_body_is_replayed_whole_with_the_new_token() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    let order = Request::post("/api/orders", r#"{"item":"tea","count":2}"#);
    let (outcome, handle) = h.start(order.clone());
    handle.forget();
    h.run();
    assert_eq!(data_path(&outcome), "/api/orders");
    assert_eq!(h.refresh_calls(), 1);
    let sent = h.server.borrow().sent.clone();
    assert_eq!(
        sent,
        vec![
            (order.clone(), Some("t1".into())),
            (order, Some("t2".into()))
        ],
        "sent twice, whole, the second time with the refreshed token"
    );
    h.assert_settled();
}

#[test]
fn a_replay_that_still_fails_hands_the_error_over_instead_of_looping() {
    let mut h = Harness::logged_in();
    h.server.borrow_mut().refuse_everything = true;
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(
        error_of(&outcome),
        Error::Refused {
            code: code::EXPIRED_TOKEN,
            message: "refused".into()
        }
    );
    assert_eq!(
        h.server.borrow().data_log.len(),
        2,
        "sent once, replayed once"
    );
    assert_eq!(h.refresh_calls(), 1);
    h.assert_settled();
}

// 7. Bypass

#[test]
fn a_bypass_request_goes_out_while_a_refresh_runs_and_never_triggers_one() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let waiting = h.fire("/api/a");
    h.run();
    assert_eq!(h.coordinator.snapshot().phase, Phase::Refreshing);
    let (login, handle) = h.start(Request::post(LOGIN_URL, "{}").bypassing_refresh());
    handle.forget();
    h.run();
    // The bypass request was answered (42001 for the stale token) without waiting.
    assert_eq!(number(&error_of(&login)), code::EXPIRED_TOKEN);
    assert_eq!(h.refresh_calls(), 1, "no refresh of its own");
    h.release_refresh();
    assert_eq!(data_path(&waiting), "/api/a");
    h.assert_settled();
}

#[test]
fn a_bypass_request_without_a_token_is_sent_as_it_is() {
    let mut h = Harness::new();
    let (outcome, handle) = h.start(Request::get("/api/public").bypassing_refresh());
    handle.forget();
    h.run();
    assert_eq!(number(&error_of(&outcome)), code::MISSING_TOKEN);
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

// 8. Loading bookkeeping (also checked at the end of every test by `assert_settled`)

#[test]
fn the_in_flight_counter_follows_queued_replayed_failed_and_dropped_requests() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let kept = h.fire("/api/kept");
    let (_dropped, handle) = h.start(Request::get("/api/dropped"));
    h.run();
    assert_eq!(h.coordinator.snapshot().in_flight, 2);
    drop(handle);
    h.run();
    assert_eq!(h.coordinator.snapshot().in_flight, 1);
    h.release_refresh();
    assert_eq!(data_path(&kept), "/api/kept");
    h.server
        .borrow_mut()
        .transport_failures
        .push(("/api/down".into(), 503));
    let (failed, handle) = h.start(Request::post("/api/down", "{}"));
    handle.forget();
    h.run();
    assert_eq!(number(&error_of(&failed)), 503);
    h.assert_settled();
}

// 9. Cancellation

#[test]
fn a_caller_that_drops_its_queued_request_leaves_the_queue_and_changes_nothing_else() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let first = h.fire("/api/1");
    let (second, handle) = h.start(Request::get("/api/2"));
    let third = h.fire("/api/3");
    h.run();
    assert_eq!(h.coordinator.snapshot().queued, 3);
    drop(handle);
    h.run();
    assert_eq!(h.coordinator.snapshot().queued, 2, "removed from the queue");
    assert_eq!(h.count(|e| matches!(e, EventKind::Cancelled { .. })), 1);
    h.release_refresh();
    assert_eq!(data_path(&first), "/api/1");
    assert_eq!(data_path(&third), "/api/3");
    assert!(second.borrow().is_none(), "the dropped caller gets nothing");
    let sends_of_second = h
        .server
        .borrow()
        .data_log
        .iter()
        .filter(|s| s.path == "/api/2")
        .count();
    assert_eq!(
        sends_of_second, 0,
        "it waited for the refresh and was never sent"
    );
    assert_eq!(h.refresh_calls(), 1);
    h.assert_settled();
}

#[test]
fn the_refresh_completes_even_if_the_request_that_started_it_is_dropped() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let (_starter, handle) = h.start(Request::get("/api/starter"));
    let other = h.fire("/api/other");
    h.run();
    drop(handle);
    h.run();
    h.release_refresh();
    assert_eq!(data_path(&other), "/api/other");
    assert_eq!(
        h.coordinator.snapshot().token_version,
        2,
        "the new token was installed"
    );
    h.assert_settled();
}

// 10. Business and transport errors

#[test]
fn business_errors_reach_the_caller_with_their_code_and_message() {
    let mut h = Harness::logged_in();
    h.server.borrow_mut().business_errors.push((
        "/api/orders".into(),
        code::BAD_INPUT,
        "page must be at least 1".into(),
    ));
    let outcome = h.fire("/api/orders");
    h.run();
    assert_eq!(
        error_of(&outcome),
        Error::Refused {
            code: code::BAD_INPUT,
            message: "page must be at least 1".into()
        }
    );
    assert_eq!(h.refresh_calls(), 0);
    h.assert_settled();
}

/// A `POST` may have reached the server before the network failed: its caller gets the
/// failure at once (a `GET` waits and tries again: see `network.rs`).
#[test]
fn transport_failures_carry_the_http_status_or_zero_without_an_answer() {
    let mut h = Harness::logged_in();
    h.server
        .borrow_mut()
        .transport_failures
        .push(("/api/bad-gateway".into(), 502));
    h.server
        .borrow_mut()
        .transport_failures
        .push(("/api/offline".into(), 0));
    let bad_gateway = h.fire("/api/bad-gateway");
    let (offline, handle) = h.start(Request::post("/api/offline", "{}"));
    handle.forget();
    h.run();
    assert_eq!(number(&error_of(&bad_gateway)), 502);
    assert_eq!(number(&error_of(&offline)), 0);
    h.assert_settled();
}

// Logout

#[test]
fn signing_out_releases_waiters_quietly_and_stops_refreshing() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    h.server.borrow_mut().hold_refresh = true;
    let waiting = h.fire("/api/a");
    h.run();
    h.coordinator.sign_out();
    h.run();
    assert_eq!(error_of(&waiting), Error::SessionOver);
    h.release_refresh();
    let later = h.fire("/api/b");
    h.run();
    assert_eq!(error_of(&later), Error::SessionOver);
    assert_eq!(
        h.count(|e| matches!(e, EventKind::SessionOver { .. })),
        0,
        "no session-over toast after a logout"
    );
    assert_eq!(h.refresh_calls(), 1);
    h.assert_settled();
}

#[test]
fn token_events_carry_each_new_token_and_its_expiry_and_nothing_once_dropped() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    h.coordinator.sign_out();
    h.run();
    let expiry = START_MS + LIFETIME_S * 1000;
    let tokens: Vec<_> = h
        .events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            EventKind::TokenChanged(token) => Some((
                token.as_ref().map(|t| t.value.clone()),
                token.as_ref().map(HeldToken::valid_until_ms),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        tokens,
        [
            (Some("t1".to_owned()), Some(expiry)),
            (Some("t2".to_owned()), Some(expiry)),
            (None, None),
        ]
    );
    h.assert_settled();
}

#[test]
fn each_request_reports_sent_then_delivered_in_order() {
    let mut h = Harness::logged_in();
    h.expire_tokens_on_server();
    let outcome = h.fire("/api/me");
    h.run();
    assert_eq!(data_path(&outcome), "/api/me");
    let events = h.events.lock().expect("events").clone();
    let names: Vec<&str> = events
        .iter()
        .filter_map(|e| match e {
            EventKind::Sent { .. } => Some("sent"),
            EventKind::TokenRefused { .. } => Some("refused"),
            EventKind::Queued { .. } => Some("queued"),
            EventKind::RefreshStarted { .. } => Some("refresh"),
            EventKind::RefreshSucceeded { .. } => Some("refreshed"),
            EventKind::Replayed { .. } => Some("replayed"),
            EventKind::Delivered { .. } => Some("delivered"),
            _ => None,
        })
        .collect();
    assert_eq!(
        names,
        [
            "sent",
            "refused",
            "queued",
            "refresh",
            "refreshed",
            "replayed",
            "delivered"
        ]
    );
    h.assert_settled();
}

#[test]
fn debug_output_never_shows_an_access_token() {
    let secret = "eyJ.secret-token.sig";
    let grant = Grant::new(secret, Duration::from_secs(30));
    let held = HeldToken {
        value: secret.into(),
        received_at_ms: 1,
        lifetime: Duration::from_secs(30),
    };
    let message = TabMessage::Token {
        from: "tab-1".into(),
        generation: 7,
        access_token: secret.into(),
        expires_in_ms: 30_000,
        login: Some(TestUser {
            username: "demo".into(),
        }),
        user: None,
    };
    for shown in [
        format!("{grant:?}"),
        format!("{held:?}"),
        format!("{message:?}"),
        format!("{message:#?}"),
    ] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("***"), "{shown}");
    }
    assert!(
        format!("{message:?}").contains("generation: 7"),
        "the rest is shown"
    );
}

#[test]
fn a_token_message_of_an_older_version_without_its_user_still_reads() {
    let old = json!({"token": {
        "from": "tab9", "generation": 3, "access_token": "t", "expires_in_ms": 1000,
        "login": null
    }});
    let message: TabMessage = serde_json::from_value(old).expect("reads");
    assert!(matches!(message, TabMessage::Token { user: None, .. }));
    let new = serde_json::to_value(TabMessage::Token {
        from: "tab9".into(),
        generation: 4,
        access_token: "t".into(),
        expires_in_ms: 1000,
        login: None,
        user: Some(demo_user()),
    })
    .expect("writes");
    assert_eq!(new["token"]["user"]["username"], "demo");
}
