//! The server binary as deployed: configuration from `Leptos.toml` and the environment,
//! start-up errors, logs without secrets, and a clean stop on SIGTERM.

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_painless");

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn command(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_remove("LEPTOS_SITE_ADDR")
        .env_remove("PAINLESS_CONFIG")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

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

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(dir: &Path, configure: impl FnOnce(&mut Command)) -> Self {
        let port = free_port();
        let mut command = command(dir);
        command.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"));
        configure(&mut command);
        let child = command.spawn().expect("binary starts");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::blocking::get(format!("{base}/api/health")).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server should answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, base }
    }

    /// SIGTERM, then the exit status and everything it logged.
    fn stop(mut self) -> (Option<i32>, String) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("exit status");
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            stderr.read_to_string(&mut log).expect("log");
        }
        (exit.code(), log)
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
            .env("PAINLESS_TOKENS__ACCESS_TTL_SECS", "17");
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

    let (exit, log) = server.stop();
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
    assert!(
        dir.path().join("data/painless.db").is_file(),
        "data under the working directory"
    );
    assert!(
        dir.path().join("data/jwt-secret").is_file(),
        "generated secret kept"
    );
}
