//! The server binary as deployed: configuration from `Leptos.toml` and the environment,
//! start-up errors, logs without secrets, and a clean stop on SIGTERM.

#[path = "common/process.rs"]
mod process;

use std::io::Read;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use process::*;

use serde_json::{json, Value};

/// Runs the binary until it exits on its own (start-up failures), at most 30 s.
fn run_to_exit(mut command: Command) -> Output {
    let child = command.spawn().expect("binary starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut child = child;
    while child.try_wait().expect("status").is_none() {
        assert!(Instant::now() < deadline, "the binary should have stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn an_invalid_environment_value_stops_start_up_naming_the_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = command(dir.path());
    command.env("PAINLESS_TOKENS__ACCESS_TTL_SECS", "soon");
    let output = run_to_exit(command);
    assert_eq!(output.status.code(), Some(78), "EX_CONFIG");
    let stderr = stderr_of(&output);
    assert!(stderr.contains("tokens.access_ttl_secs"), "{stderr}");
    assert!(
        stderr.contains("PAINLESS_TOKENS__ACCESS_TTL_SECS"),
        "says where the value came from: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn an_unknown_or_invalid_key_in_leptos_toml_stops_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Leptos.toml"),
        "[tokens]\naccess_tll_secs = 10\n",
    )
    .expect("write");
    let output = run_to_exit(command(dir.path()));
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr_of(&output).contains("access_tll_secs"),
        "{}",
        stderr_of(&output)
    );

    std::fs::write(
        dir.path().join("Leptos.toml"),
        "[tokens]\naccess_ttl_secs = 0\n",
    )
    .expect("write");
    let output = run_to_exit(command(dir.path()));
    assert_eq!(output.status.code(), Some(78));
    assert!(stderr_of(&output).contains("`tokens.access_ttl_secs` must be between 1 and 86400"));
}

#[test]
fn a_config_file_that_was_asked_for_must_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = command(dir.path());
    command.args(["--config", "missing.toml"]);
    let output = run_to_exit(command);
    assert_eq!(output.status.code(), Some(78));
    assert!(
        stderr_of(&output).contains("missing.toml: not found"),
        "{}",
        stderr_of(&output)
    );

    let mut command = self::command(dir.path());
    command.arg("--frobnicate");
    let output = run_to_exit(command);
    assert_eq!(output.status.code(), Some(2), "usage error");
}

#[test]
fn an_unusable_database_url_stops_start_up_naming_the_key_but_never_the_password() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = format!(
        "postgres://app:pa55-word@127.0.0.1:{}/painless",
        free_port()
    );
    for (variable, url, cause) in [
        ("PAINLESS_SERVER__DATABASE", refused.as_str(), "refused"),
        // The conventional variable is read too.
        ("DATABASE_URL", refused.as_str(), "refused"),
        (
            "PAINLESS_SERVER__DATABASE",
            "postgres://app:pa55-word@127.0.0.1:99999/painless",
            "not a valid PostgreSQL URL",
        ),
    ] {
        let mut command = self::command(dir.path());
        command
            .env(variable, url)
            .env("PAINLESS_SERVER__DATABASE_CONNECT_TIMEOUT_SECS", "2");
        let output = run_to_exit(command);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{variable}={url}: {stderr}");
        assert!(
            stderr.contains("server.database"),
            "names the key: {stderr}"
        );
        assert!(stderr.contains(cause), "says why: {stderr}");
        assert!(
            !stderr.contains("pa55-word"),
            "never the password: {stderr}"
        );
    }
}

#[test]
fn environment_overrides_apply_secrets_stay_out_of_the_log_and_sigterm_stops_cleanly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), |command| {
        command
            .env("PAINLESS_DEMO__ENABLED", "true")
            .env(
                "PAINLESS_DEMO__USERS",
                r#"[{customer_code="ACME", username="demo", password="demo-password", display_name="Dana Demo"}]"#,
            )
            .env("PAINLESS_TOKENS__ACCESS_TTL_SECS", "17")
            .env("PAINLESS_SERVER__QUERY_TOKENS", "true");
    });
    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("{}/api/auth/login", server.base))
        .json(&json!({"customer_code": "ACME", "username": "demo", "password": "demo-password"}))
        .send()
        .and_then(|r| r.json())
        .expect("login answer");
    assert_eq!(login["errcode"], 0, "{login}");
    let access = login["data"]["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let lifetime = login["data"]["expires_at"].as_i64().expect("expiry") - now;
    assert!(
        (16..=18).contains(&lifetime),
        "PAINLESS_TOKENS__ACCESS_TTL_SECS applies: {lifetime}"
    );

    let by_query: Value = http
        .get(format!("{}/api/me?appkey=ACME&token={access}", server.base))
        .send()
        .and_then(|r| r.json())
        .expect("me");
    assert_eq!(by_query["errcode"], 0);
    let by_header: Value = http
        .get(format!("{}/api/me", server.base))
        .bearer_auth(&access)
        .send()
        .and_then(|r| r.json())
        .expect("me");
    assert_eq!(by_header["errcode"], 0);
    // A TLS proxy missing from trusted_proxies: said once, however often it happens.
    for _ in 0..3 {
        http.get(format!("{}/api/me", server.base))
            .header("x-forwarded-proto", "https")
            .send()
            .expect("me");
    }

    let (exit, log) = server.stop();
    assert_eq!(
        log.matches("not in server.trusted_proxies").count(),
        1,
        "one warning for three requests:\n{log}"
    );
    assert!(
        log.contains("errcode=40001"),
        "the errcode on the access line:\n{log}"
    );
    assert_eq!(
        log.contains("signing key in plain text"),
        on_postgres(),
        "a generated key in the database is warned about:\n{log}"
    );
    assert_eq!(exit, Some(0), "clean exit on SIGTERM:\n{log}");
    assert!(
        log.contains("/api/me"),
        "requests are logged (debug level):\n{log}"
    );
    assert!(log.contains("stopped"), "{log}");
    let signature = access.rsplit('.').next().expect("signature");
    assert!(
        !log.contains(signature),
        "the access token must never be logged"
    );
    assert!(!log.contains("demo-password"), "nor the password");
    // SQLite keeps the data and the generated key under the working directory;
    // PostgreSQL keeps both in the database, shared by every instance.
    let on_sqlite = !on_postgres();
    assert_eq!(
        dir.path().join("data/painless.db").is_file(),
        on_sqlite,
        "data under the working directory"
    );
    assert_eq!(
        dir.path().join("data/jwt-secret").is_file(),
        on_sqlite,
        "generated secret kept"
    );
}

#[test]
fn under_cargo_leptos_watch_the_pages_policy_lets_live_reload_connect() {
    let policy_of = |watching: bool| {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = Server::start(dir.path(), |command| {
            command.env("LEPTOS_RELOAD_PORT", "3901");
            if watching {
                // What `cargo leptos watch` sets (it does not set LEPTOS_ENV).
                command.env("LEPTOS_WATCH", "true");
            }
        });
        let page = reqwest::blocking::get(format!("{}/login", server.base)).expect("page");
        let policy = page.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        server.stop();
        policy
    };
    assert!(policy_of(true).contains("connect-src 'self' ws://127.0.0.1:3901 ws://localhost:3901;"));
    assert!(policy_of(false).contains("connect-src 'self';"));
}

/// Resident memory of a process in bytes: now (`VmRSS`) or at its peak (`VmHWM`).
fn memory_of(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map(|kb| kb * 1024)
        .expect("memory field")
}

const MIB: u64 = 1024 * 1024;

#[test]
fn a_login_flood_keeps_memory_flat_and_refreshes_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), |command| {
        with_demo_user(command);
        // A file, not a pipe: nobody reads the pipe while the flood runs, and a full pipe
        // would block the server's logging.
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
        command
            .stderr(log)
            .env("RUST_LOG", "warn")
            // Loopback stands for a proxy, so every flooding client can have its own
            // address and the per-address limit does not hide the hashing bound.
            .env("PAINLESS_SERVER__TRUSTED_PROXIES", r#"["127.0.0.1/32"]"#);
    });
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(flood_and_refresh(&server));
    let (exit, _) = server.stop();
    assert_eq!(exit, Some(0));
}

async fn flood_and_refresh(server: &Server) {
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let login_url = format!("{}/api/auth/login", server.base);
    let refresh_url = format!("{}/api/auth/refresh", server.base);
    let mut cookies = Vec::new();
    for _ in 0..10 {
        let answer = http
            .post(&login_url)
            .json(
                &json!({"customer_code": "ACME", "username": "demo", "password": "demo-password"}),
            )
            .send()
            .await
            .expect("login");
        cookies.push(refresh_cookie_of(&answer).expect("refresh cookie"));
    }
    let idle = memory_of(pid, "VmRSS:");

    // 64 clients, 10 wrong-password logins each, random usernames and addresses: the
    // flood that took the unbounded server to 11 GB.
    let flooding = std::sync::atomic::AtomicBool::new(true);
    let flood = futures::future::join_all((0..64u32).map(|client| {
        let (http, login_url) = (&http, &login_url);
        async move {
            let mut codes = Vec::new();
            for attempt in 0..10u32 {
                let answer: Value = http
                    .post(login_url)
                    .header("x-forwarded-for", format!("10.{}.{}.1", client, attempt))
                    .json(&json!({"customer_code": "ACME", "username": format!("u{client}-{attempt}"), "password": "wrong-password"}))
                    .send()
                    .await
                    .expect("the server answers")
                    .json()
                    .await
                    .expect("an envelope");
                codes.push(answer["errcode"].as_i64().expect("errcode"));
            }
            codes
        }
    }));
    let refreshes = futures::future::join_all(cookies.into_iter().map(|mut cookie| {
        let (http, refresh_url, flooding) = (&http, &refresh_url, &flooding);
        async move {
            let mut latencies = Vec::new();
            while flooding.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let answer = http
                    .post(refresh_url)
                    .header("cookie", &cookie)
                    .send()
                    .await
                    .expect("refresh answered");
                let rotated = refresh_cookie_of(&answer);
                let body: Value = answer.json().await.expect("envelope");
                latencies.push(started.elapsed());
                assert_eq!(
                    body["errcode"], 0,
                    "refreshes succeed during the flood: {body}"
                );
                cookie = rotated.expect("rotated cookie");
            }
            latencies
        }
    }));
    let flood = async {
        let codes = flood.await;
        flooding.store(false, std::sync::atomic::Ordering::Relaxed);
        codes
    };
    let (codes, latencies) = tokio::join!(flood, refreshes);
    let peak = memory_of(pid, "VmHWM:");
    let codes: Vec<i64> = codes.into_iter().flatten().collect();
    let bad_login = codes.iter().filter(|c| **c == 40101).count();
    let overloaded = codes.iter().filter(|c| **c == 50300).count();
    assert_eq!(
        bad_login + overloaded,
        640,
        "only 40101 or 50300: {codes:?}"
    );
    let mut latencies: Vec<Duration> = latencies.into_iter().flatten().collect();
    latencies.sort();
    assert!(!latencies.is_empty());
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    let after = memory_of(pid, "VmRSS:");
    println!(
        "login flood: {bad_login} hashed, {overloaded} refused (50300); {} refreshes, p50 {:?}, p99 {p99:?}; RSS idle {} MiB, peak {} MiB, after {} MiB",
        latencies.len(),
        latencies[latencies.len() / 2],
        idle / MIB,
        peak / MIB,
        after / MIB
    );
    assert!(peak < 100 * MIB, "peak RSS {} MiB", peak / MIB);
    assert!(
        after < idle + 16 * MIB,
        "back near idle after the flood: {} MiB after, {} MiB before",
        after / MIB,
        idle / MIB
    );
}

/// Sends a login's head with `Expect: 100-continue` and waits for `100 Continue`, which
/// hyper sends when the handler starts reading the body: from then on the request is in
/// flight inside the server.
fn login_in_flight(addr: &str) -> (std::net::TcpStream, &'static [u8]) {
    use std::io::Write;
    let body: &'static [u8] =
        br#"{"customer_code":"ACME","username":"demo","password":"demo-password"}"#;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "POST /api/auth/login HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    )
    .expect("head");
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).expect("100 Continue");
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&interim)
    );
    (stream, body)
}

/// A connection on which one `GET /api/health` was answered in full, now idle.
fn served_once(addr: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(stream, "GET /api/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    let complete = |received: &[u8]| {
        let text = String::from_utf8_lossy(received);
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            return false;
        };
        let length = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse::<usize>().ok())?
            })
            .expect("content-length");
        body.len() >= length
    };
    while !complete(&received) {
        let read = stream.read(&mut buffer).expect("answer");
        assert!(read > 0, "answered before closing");
        received.extend_from_slice(&buffer[..read]);
    }
    stream
}

#[test]
fn sigterm_answers_requests_in_flight_refuses_new_connections_and_exits_within_the_grace() {
    use std::io::Write;
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), |command| {
        with_demo_user(command);
        command.env("PAINLESS_SERVER__SHUTDOWN_GRACE_SECS", "3");
    });
    let addr = server.base.trim_start_matches("http://").to_owned();
    let in_flight: Vec<_> = (0..3).map(|_| login_in_flight(&addr)).collect();
    // A client that never sends its body: shutdown must not wait for it beyond the grace.
    let (_stuck, _) = login_in_flight(&addr);
    // A keep-alive connection that has been served once, so the server has surely accepted
    // it (connections still in the kernel's accept queue are reset when the listener closes).
    let idle_keep_alive = served_once(&addr);

    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections should be refused"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut closed = idle_keep_alive;
    let mut nothing = [0u8; 1];
    closed
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert_eq!(
        closed.read(&mut nothing).expect("closed"),
        0,
        "idle connections are closed"
    );

    for (mut stream, body) in in_flight {
        stream.write_all(body).expect("rest of the body");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains("\"errcode\":0"),
            "answered in full: {answer}"
        );
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{answer}"
        );
    }
    let mut server = server;
    let exit = loop {
        if let Some(status) = server.child.try_wait().expect("status") {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(8),
            "the process should exit within the 3 s grace"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
    assert!(
        signalled.elapsed() >= Duration::from_millis(2900),
        "the stuck client had the grace period"
    );
}
