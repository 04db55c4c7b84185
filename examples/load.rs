//! A small load generator for what `wrk` cannot do: logins, and refreshes where every
//! session carries its own rotated cookie. Used by `scripts/bench.sh`.
//!
//!   cargo run --release --features ssr --example load -- <base url> refresh <connections> <seconds> <sessions>
//!   cargo run --release --features ssr --example load -- <base url> login <connections> <seconds>
//!
//! Prints one line: `requests=… rps=… p50_ms=… p99_ms=… ok=… other=…` (other: answers
//! with a non-zero errcode, e.g. 50300 when hashing is saturated).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

const DEMO_LOGIN: &str = r#"{"customer_code":"ACME","username":"demo","password":"demo-password"}"#;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |index: usize, default: u64| -> u64 {
        args.get(index)
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let (Some(base), Some(mode)) = (args.first(), args.get(1)) else {
        eprintln!("usage: load <base url> refresh|login <connections> <seconds> [sessions]");
        std::process::exit(2);
    };
    let connections = number(2, 16) as usize;
    let duration = Duration::from_secs(number(3, 10));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client");
    let report = match mode.as_str() {
        "refresh" => {
            let sessions = number(4, connections as u64) as usize;
            let cookies = log_in_sessions(&http, base, sessions).await;
            let base = base.clone();
            run(connections, duration, cookies, move |cookie| {
                refresh_once(http.clone(), base.clone(), cookie)
            })
            .await
        }
        "login" => {
            let base = base.clone();
            run(
                connections,
                duration,
                vec![String::new(); connections],
                move |state| login_once(http.clone(), base.clone(), state),
            )
            .await
        }
        other => {
            eprintln!("unknown mode {other:?}");
            std::process::exit(2);
        }
    };
    println!("{report}");
}

/// Logs `count` sessions in, four at a time (hashing is bounded), and returns their cookies.
async fn log_in_sessions(http: &reqwest::Client, base: &str, count: usize) -> Vec<String> {
    let mut cookies = Vec::with_capacity(count);
    while cookies.len() < count {
        let batch = (count - cookies.len()).min(4);
        let logins = (0..batch).map(|_| async {
            let response = http
                .post(format!("{base}/api/auth/login"))
                .header("content-type", "application/json")
                .body(DEMO_LOGIN)
                .send()
                .await
                .ok()?;
            refresh_cookie(&response)
        });
        cookies.extend(
            futures::future::join_all(logins)
                .await
                .into_iter()
                .flatten(),
        );
    }
    cookies
}

fn refresh_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|cookie| cookie.split(';').next().map(str::to_owned))
}

/// One refresh with `cookie`; whether it succeeded, and the rotated cookie.
async fn refresh_once(http: reqwest::Client, base: String, cookie: String) -> (bool, String) {
    let Ok(response) = http
        .post(format!("{base}/api/auth/refresh"))
        .header("cookie", cookie.as_str())
        .send()
        .await
    else {
        return (false, cookie);
    };
    let next = refresh_cookie(&response).unwrap_or(cookie);
    (errcode_of(response).await == Some(0), next)
}

async fn login_once(http: reqwest::Client, base: String, state: String) -> (bool, String) {
    let sent = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"customer_code": "ACME", "username": "demo", "password": "demo-password"}))
        .send()
        .await;
    let ok = match sent {
        Ok(response) => errcode_of(response).await == Some(0),
        Err(_) => false,
    };
    (ok, state)
}

async fn errcode_of(response: reqwest::Response) -> Option<i64> {
    response.json::<Value>().await.ok()?["errcode"].as_i64()
}

/// Runs `connections` workers for `duration`; each owns a share of `states` (cookies)
/// and sends one request after the other, round robin over its share.
async fn run<F, Fut>(
    connections: usize,
    duration: Duration,
    states: Vec<String>,
    request: F,
) -> String
where
    F: Fn(String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (bool, String)> + Send + 'static,
{
    let started = Instant::now();
    let deadline = started + duration;
    let per_worker = states.len().div_ceil(connections).max(1);
    let workers: Vec<_> = states
        .chunks(per_worker)
        .map(|share| {
            let mut share = share.to_vec();
            let request = request.clone();
            tokio::spawn(async move {
                let (mut latencies, mut ok, mut other) = (Vec::new(), 0u64, 0u64);
                let mut next = 0;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let state = std::mem::take(&mut share[next]);
                    let (succeeded, state) = request(state).await;
                    share[next] = state;
                    next = (next + 1) % share.len();
                    latencies.push(sent.elapsed());
                    if succeeded {
                        ok += 1
                    } else {
                        other += 1
                    }
                }
                (latencies, ok, other)
            })
        })
        .collect();
    let (mut latencies, mut ok, mut other) = (Vec::new(), 0, 0);
    for worker in workers {
        let (worker_latencies, worker_ok, worker_other) = worker.await.expect("worker");
        latencies.extend(worker_latencies);
        ok += worker_ok;
        other += worker_other;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: usize| {
        latencies
            .get((latencies.len() * p / 100).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    format!(
        "requests={} rps={:.0} p50_ms={:.2} p99_ms={:.2} ok={ok} other={other}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        percentile(50),
        percentile(99),
    )
}
