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
//! Everything the library needs from a native program is here: a transport (reqwest,
//! with a cookie store for the refresh cookie), a clock and a spawner (tokio's local
//! tasks), and a policy that reads this API's `{errcode, errmsg, data}` envelope.

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::{join_all, LocalBoxFuture};
use painless_refresh::{
    Clock, Coordinator, Error, EventKind, Grant, Plugins, Policy, RefreshVerdict, Request,
    Response, SingleTab, Spawn, Transport, TransportError, Triggers, Tuning, Verdict,
};
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
        let error = Error::Api {
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
            Verdict::Failure(Error::Api { code, message }) if code == SESSION_OVER => {
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
    /// How long to keep up steady traffic after the burst, if at all.
    traffic: Option<Duration>,
}

fn args() -> Result<Args, String> {
    let usage =
        "usage: native <base URL> <customer code> <username> <password> <requests> [<seconds>]";
    let mut args = std::env::args().skip(1);
    let mut next = || args.next().ok_or_else(|| usage.to_owned());
    Ok(Args {
        base: next()?.trim_end_matches('/').to_owned(),
        customer_code: next()?,
        username: next()?,
        password: next()?,
        requests: next()?
            .parse()
            .map_err(|_| format!("{usage}\n<requests> must be a number"))?,
        traffic: match next() {
            Ok(seconds) => {
                Some(Duration::from_secs(seconds.parse().map_err(|_| {
                    format!("{usage}\n<seconds> must be a number")
                })?))
            }
            Err(_) => None,
        },
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

async fn run(args: Args) -> Result<(), Error> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .map_err(|e| Error::Transport {
            status: 0,
            message: e.to_string(),
        })?;
    let platform = Plugins {
        transport: Reqwest {
            http,
            base: args.base,
        },
        clock: SystemClock,
        spawner: LocalTasks,
        tabs: SingleTab,
    };
    let policy = SeedApi {
        triggers: Triggers::seed(),
    };
    let coordinator = Coordinator::new(platform, policy, Tuning::default());
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
    coordinator.install_login(grant, args.username);
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
    if let Some(length) = args.traffic {
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
