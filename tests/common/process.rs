//! The server binary as a child process, for the tests that run it as deployed
//! (`tests/binary.rs`, `tests/instances.rs`): a command in a temporary working
//! directory, a server started on a free port and stopped with SIGTERM or SIGKILL, and on
//! PostgreSQL runs a new database for it.
#![allow(dead_code)] // each test binary uses a different part

#[path = "postgres.rs"]
pub mod postgres;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_painless");

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

pub fn command(dir: &Path) -> Command {
    let mut command = Command::new(BINARY);
    command
        .current_dir(dir)
        .env_remove("LEPTOS_SITE_ADDR")
        .env_remove("LEPTOS_WATCH")
        .env_remove("LEPTOS_ENV")
        .env_remove("PAINLESS_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("PAINLESS_SERVER__DATABASE")
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

pub fn on_postgres() -> bool {
    std::env::var("TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// On a PostgreSQL run (`TEST_BACKEND=postgres`, as `scripts/test.sh` makes
/// one), the URL of a new database on the run's server (`TEST_POSTGRES`).
pub fn new_postgres_database() -> Option<String> {
    on_postgres().then(create_postgres_database)
}

/// A new database on the run's PostgreSQL server (`TEST_POSTGRES`): its URL.
pub fn create_postgres_database() -> String {
    // Its own thread: callers may be inside a runtime, which cannot be blocked on.
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(postgres::create_database("process"))
            })
            .join()
            .expect("created")
    })
}

pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(dir: &Path, configure: impl FnOnce(&mut Command)) -> Self {
        let port = free_port();
        let mut command = command(dir);
        command.env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"));
        if let Some(url) = new_postgres_database() {
            command.env("PAINLESS_SERVER__DATABASE", url);
        }
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
    pub fn stop(mut self) -> (Option<i32>, String) {
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

    /// SIGKILL: no clean shutdown, nothing flushed, as when the machine dies.
    pub fn kill(mut self) {
        self.child.kill().expect("killed");
        self.child.wait().expect("reaped");
    }
}

/// A test that fails (or forgets) does not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The demo user, for tests that log in against the binary.
pub fn with_demo_user(command: &mut Command) {
    command.env("PAINLESS_DEMO__ENABLED", "true").env(
        "PAINLESS_DEMO__USERS",
        r#"[{customer_code="ACME", username="demo", password="demo-password", display_name="Dana Demo"}]"#,
    );
}

/// `name=value` of the cookie an answer sets.
pub fn refresh_cookie_of(answer: &reqwest::Response) -> Option<String> {
    answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().map(str::to_owned))
}
