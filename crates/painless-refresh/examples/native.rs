//! A native client of the painless demo server's API, on tokio and reqwest: it logs in,
//! waits until its access token has expired, fires concurrent requests that all need a
//! new one, and prints what came back. One refresh serves them all.
//!
//! ```text
//! cargo run -p painless-refresh --example native -- http://127.0.0.1:3000 ACME demo demo-password 20
//! ```
//!
//! With a sixth argument, a number of seconds, it then keeps up a steady flow of requests
//! (ten a second) for that long and reports how they ended: restart the server meanwhile
//! and every request is still answered, the session kept (`scripts/native-example.sh`
//! does exactly that).
//!
//! With `--expiries <rounds> [--tabs <clients>]` instead (demo mode on, for the lab's
//! "expire" control), it measures what `scripts/bench-peers.sh` compares with other
//! clients: each round expires the session's access tokens and fires the requests at
//! once from each of `clients` coordinators sharing the session, as tabs in separate
//! processes would, and prints one `peers:` line per round and client: answers, failures,
//! refresh calls, and the stall from the first refused token to the last answer.
//!
//! Everything the library needs from a native program is here: a transport (reqwest,
//! with a cookie store for the refresh cookie), a clock and a spawner (tokio's local
//! tasks), and a policy that reads this API's `{errcode, errmsg, data}` envelope.

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::future::{join_all, LocalBoxFuture};
use painless_refresh::{
    Clock, Coordinator, Error, EventKind, Grant, Plugins, Policy, RefreshVerdict, Request,
    Response, SingleTab, Spawn, Transport, TransportError, Triggers, Tuning, Verdict,
};
use reqwest::cookie::{CookieStore, Jar};
use serde::Deserialize;
use serde_json::Value;

/// The transport: a few lines of reqwest. The refresh cookie lives in its cookie store,
/// as it would in a browser.
struct Reqwest {
    http: reqwest::Client,
    base: String,
}

impl Transport for Reqwest {
    fn send(
        &self,
        request: &Request,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .unwrap_or(reqwest::Method::GET);
        let mut builder = self
            .http
            .request(method, format!("{}{}", self.base, request.url));
        if let Some(token) = access_token {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = &request.body {
            builder = builder
                .header("content-type", "application/json")
                .body(body.clone());
        }
        async move {
            let failed = |status: u16| {
                move |e: reqwest::Error| TransportError {
                    status,
                    message: e.to_string(),
                }
            };
            let response = builder.send().await.map_err(failed(0))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok()?.parse().ok())
                .map(Duration::from_secs);
            let body = response.text().await.map_err(failed(status))?;
            Ok(Response {
                status,
                body,
                retry_after,
            })
        }
    }
}

/// The clock: the system's, and tokio's timers.
struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let since_epoch = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
        tokio::time::sleep(duration)
    }
}

/// The spawner: tokio's local tasks (the coordinator's futures stay on one thread).
struct LocalTasks;

impl Spawn for LocalTasks {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        tokio::task::spawn_local(task);
    }
}

/// The API's envelope, `data` kept as JSON.
#[derive(Deserialize)]
struct Envelope {
    errcode: i32,
    errmsg: String,
    data: Option<Value>,
}

/// The `data` of a login or refresh answer (the fields this client needs).
#[derive(Deserialize)]
struct TokenData {
    access_token: String,
    expires_in: u64,
}

/// The policy: the seed's contract, every answer HTTP 200 and the verdict in `errcode`.
struct SeedApi {
    triggers: Triggers,
}

/// The errcode of a refused refresh token.
const SESSION_OVER: i32 = 42002;

impl Policy for SeedApi {
    type Answer = Value;
    type Identity = String;

    fn read(&self, response: Response) -> Verdict<Value> {
        let Ok(envelope) = serde_json::from_str::<Envelope>(&response.body) else {
            return Verdict::Failure(Error::Transport {
                status: response.status,
                message: "not an API response".into(),
            });
        };
        let error = Error::Refused {
            code: envelope.errcode,
            message: envelope.errmsg,
        };
        match envelope.errcode {
            // The server cannot serve now (its database, its hashing queue): try again.
            _ if response.status == 503 => Verdict::Unavailable(error),
            0 => Verdict::Success(envelope.data.unwrap_or(Value::Null)),
            code if self.triggers.matches(response.status, Some(code)) => {
                Verdict::RefreshAndReplay(error)
            }
            _ => Verdict::Failure(error),
        }
    }

    fn refresh_request(&self) -> Request {
        Request::post_empty("/api/auth/refresh")
    }

    fn read_refresh(&self, response: Response) -> RefreshVerdict {
        match self.read(response) {
            Verdict::Success(data) => match grant_of(data) {
                Ok(grant) => RefreshVerdict::Granted(grant),
                Err(error) => RefreshVerdict::Failed(error),
            },
            Verdict::RefreshAndReplay(error) => RefreshVerdict::Refused(error.to_string()),
            Verdict::Failure(Error::Refused { code, message }) if code == SESSION_OVER => {
                RefreshVerdict::Refused(message)
            }
            Verdict::Unavailable(error) => RefreshVerdict::Unavailable(error),
            Verdict::Failure(error) => RefreshVerdict::Failed(error),
        }
    }
}

fn grant_of(data: Value) -> Result<Grant, Error> {
    let token: TokenData =
        serde_json::from_value(data).map_err(|e| Error::Decode(e.to_string()))?;
    Ok(Grant::new(
        token.access_token,
        Duration::from_secs(token.expires_in),
    ))
}

struct Args {
    base: String,
    customer_code: String,
    username: String,
    password: String,
    requests: usize,
    then: Then,
}

/// What follows the first burst.
enum Then {
    Nothing,
    /// Steady traffic for this long.
    Traffic(Duration),
    /// Rounds of expiry and burst, from this many clients sharing the session.
    Expiries {
        rounds: usize,
        clients: usize,
    },
}

fn args() -> Result<Args, String> {
    let usage = "usage: native <base URL> <customer code> <username> <password> <requests> \
                 [<seconds> | --expiries <rounds> [--tabs <clients>]]";
    let mut args = std::env::args().skip(1);
    let mut next = || args.next().ok_or_else(|| usage.to_owned());
    let number = |text: String, what: &str| {
        text.parse::<usize>()
            .map_err(|_| format!("{usage}\n<{what}> must be a number"))
    };
    let base = next()?.trim_end_matches('/').to_owned();
    let (customer_code, username, password) = (next()?, next()?, next()?);
    let requests = number(next()?, "requests")?;
    let then = match next().ok().as_deref() {
        None => Then::Nothing,
        Some("--expiries") => {
            let rounds = number(next()?, "rounds")?;
            let clients = match next().ok().as_deref() {
                Some("--tabs") => number(next()?, "clients")?.max(1),
                _ => 1,
            };
            Then::Expiries { rounds, clients }
        }
        Some(seconds) => Then::Traffic(Duration::from_secs(
            number(seconds.to_owned(), "seconds")? as u64
        )),
    };
    Ok(Args {
        base,
        customer_code,
        username,
        password,
        requests,
        then,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(usage) => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let outcome = tokio::task::LocalSet::new().run_until(run(args)).await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("native: {error}");
            ExitCode::FAILURE
        }
    }
}

type NativeCoordinator = Coordinator<Plugins<Reqwest, SystemClock, LocalTasks, SingleTab>, SeedApi>;

/// A coordinator whose refresh cookie lives in `jar`, and the HTTP client it sends with.
fn coordinator_on(
    base: &str,
    jar: &Arc<Jar>,
) -> Result<(NativeCoordinator, reqwest::Client), Error> {
    let http = reqwest::Client::builder()
        .cookie_provider(Arc::clone(jar))
        .build()
        .map_err(|e| Error::Transport {
            status: 0,
            message: e.to_string(),
        })?;
    let platform = Plugins {
        transport: Reqwest {
            http: http.clone(),
            base: base.to_owned(),
        },
        clock: SystemClock,
        spawner: LocalTasks,
        tabs: SingleTab,
    };
    let policy = SeedApi {
        triggers: Triggers::seed(),
    };
    Ok((Coordinator::new(platform, policy, Tuning::default()), http))
}

async fn run(args: Args) -> Result<(), Error> {
    let jar = Arc::new(Jar::default());
    let (coordinator, http) = coordinator_on(&args.base, &jar)?;
    let refused = Arc::new(AtomicUsize::new(0));
    let sessions_over = Arc::new(AtomicUsize::new(0));
    let (counter, ended) = (Arc::clone(&refused), Arc::clone(&sessions_over));
    coordinator.subscribe(move |event| match event.kind {
        EventKind::TokenRefused { .. } => {
            counter.fetch_add(1, Relaxed);
        }
        EventKind::SessionOver { .. } => {
            ended.fetch_add(1, Relaxed);
        }
        _ => {}
    });

    // The login itself bypasses the coordinator's queue; its token is handed over.
    let login = serde_json::json!({
        "customer_code": args.customer_code,
        "username": args.username,
        "password": args.password,
    });
    let answer = coordinator
        .send(Request::post("/api/auth/login", login.to_string()).bypassing_refresh())
        .await?;
    let grant = grant_of(answer)?;
    let lifetime = grant.lifetime;
    coordinator.install_login(grant.clone(), args.username.clone());
    if let Then::Expiries { rounds, clients } = args.then {
        let session = Session { jar, http, grant };
        return expiry_rounds(&args, coordinator, session, rounds, clients).await;
    }
    println!("logged in; waiting {lifetime:?} for the access token to expire");
    tokio::time::sleep(lifetime + Duration::from_millis(500)).await;

    let calls = (0..args.requests).map(|_| coordinator.send(Request::get("/api/me")));
    let results = join_all(calls).await;
    let ok = results.iter().filter(|result| result.is_ok()).count();
    for error in results.iter().filter_map(|result| result.as_ref().err()) {
        eprintln!("failed: {error}");
    }
    let snapshot = coordinator.snapshot();
    println!("answers that refused a token: {}", refused.load(Relaxed));
    println!(
        "requests: {ok} ok, {} failed, refreshes: {}",
        results.len() - ok,
        snapshot.refresh_calls
    );
    if let Then::Traffic(length) = args.then {
        let (ok, sent) = steady_traffic(&coordinator, length).await;
        println!(
            "traffic: {ok} of {sent} ok, sessions ended: {}, sends repeated: {}",
            sessions_over.load(Relaxed),
            coordinator.snapshot().retries
        );
    }
    Ok(())
}

/// Ten requests a second for `length`, each on its own (a request waiting for the network
/// does not hold up the next): how many were answered, of how many.
async fn steady_traffic<P, A>(coordinator: &Coordinator<P, A>, length: Duration) -> (usize, usize)
where
    P: painless_refresh::Platform<A::Identity>,
    A: Policy,
{
    println!("traffic: started");
    let started = std::time::Instant::now();
    let mut calls = Vec::new();
    while started.elapsed() < length {
        let coordinator = coordinator.clone();
        calls.push(tokio::task::spawn_local(async move {
            coordinator.send(Request::get("/api/me")).await.map(|_| ())
        }));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let sent = calls.len();
    let mut ok = 0;
    for call in join_all(calls).await {
        match call {
            Ok(Ok(())) => ok += 1,
            Ok(Err(error)) => eprintln!("failed: {error}"),
            Err(panic) => eprintln!("failed: {panic}"),
        }
    }
    (ok, sent)
}

/// The session the login started: its cookie jar, the client that sends with it, and the
/// login's token.
struct Session {
    jar: Arc<Jar>,
    http: reqwest::Client,
    grant: Grant,
}

/// `rounds` times: the lab's "expire" on the session, then `args.requests` requests at
/// once from each of `clients` coordinators sharing the session (each its own process,
/// as far as the others know: the cookie and the login's token copied, nothing shared).
async fn expiry_rounds(
    args: &Args,
    first: NativeCoordinator,
    session: Session,
    rounds: usize,
    clients: usize,
) -> Result<(), Error> {
    let transport = |e: reqwest::Error| Error::Transport {
        status: 0,
        message: e.to_string(),
    };
    let url = reqwest::Url::parse(&args.base).map_err(|e| Error::Transport {
        status: 0,
        message: e.to_string(),
    })?;
    let cookie = session
        .jar
        .cookies(&url)
        .and_then(|value| value.to_str().ok().map(str::to_owned))
        .unwrap_or_default();
    let mut tabs = vec![first];
    for _ in 1..clients {
        let jar = Arc::new(Jar::default());
        for pair in cookie.split("; ") {
            jar.add_cookie_str(pair, &url);
        }
        let (coordinator, _) = coordinator_on(&args.base, &jar)?;
        coordinator.install_login(session.grant.clone(), args.username.clone());
        tabs.push(coordinator);
    }
    // When each client's first refused answer of the round came.
    let first_refused: Vec<Arc<std::sync::Mutex<Option<Instant>>>> =
        tabs.iter().map(|_| Arc::default()).collect();
    for (tab, seen) in tabs.iter().zip(&first_refused) {
        let seen = Arc::clone(seen);
        tab.subscribe(move |event| {
            if let EventKind::TokenRefused { .. } = event.kind {
                let mut first = seen.lock().unwrap_or_else(|e| e.into_inner());
                first.get_or_insert_with(Instant::now);
            }
        });
    }
    for round in 1..=rounds {
        let expired: Value = session
            .http
            .post(format!("{}/api/demo/expire", args.base))
            .send()
            .await
            .map_err(transport)?
            .json()
            .await
            .map_err(transport)?;
        if expired["errcode"] != 0 {
            return Err(Error::Decode(format!(
                "the lab's expire answered {expired}"
            )));
        }
        for seen in &first_refused {
            *seen.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
        let before: Vec<u64> = tabs
            .iter()
            .map(|tab| tab.snapshot().refresh_calls)
            .collect();
        let bursts = tabs.iter().map(|tab| async move {
            let calls = (0..args.requests).map(|_| tab.send(Request::get("/api/me")));
            let results = join_all(calls).await;
            (results, Instant::now())
        });
        for (index, (results, ended)) in join_all(bursts).await.into_iter().enumerate() {
            let ok = results.iter().filter(|result| result.is_ok()).count();
            let refused = *first_refused[index]
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let stall = refused.map_or(Duration::ZERO, |first| ended.duration_since(first));
            println!(
                "peers: client=ours tab={} round={round} answers={ok} failed={} \
                 refresh_calls={} stall_ms={:.1}",
                index + 1,
                results.len() - ok,
                tabs[index].snapshot().refresh_calls - before[index],
                stall.as_secs_f64() * 1000.0
            );
        }
    }
    Ok(())
}
