//! Two server processes on one PostgreSQL database, requests alternating between them as
//! a round-robin load balancer without sticky sessions would send them. Needs the run's
//! PostgreSQL server (`TEST_POSTGRES`, set by `scripts/with-postgres.sh`).

#[path = "common/process.rs"]
mod process;

use std::path::Path;
use std::time::{Duration, Instant};

use painless::api::REFRESH_COOKIE;
use process::*;
use serde_json::{json, Value};

/// An instance: demo mode on, on `database`, with a signing key nobody configured (the
/// first instance generates it into the database, the others read it). Warnings only in
/// its log, which nobody reads until it stops (a full pipe would block it).
async fn instance(dir: &Path, database: &str) -> Server {
    let (dir, database) = (dir.to_path_buf(), database.to_owned());
    tokio::task::spawn_blocking(move || {
        Server::start(&dir, |command| {
            with_demo_user(command);
            command
                .env("RUST_LOG", "warn")
                .env("PAINLESS_SERVER__DATABASE", database)
                .env("PAINLESS_LOGIN__MAX_FAILURES", "4");
        })
    })
    .await
    .expect("started")
}

/// Two instances on one database, each with a data directory of its own (kept as long as
/// the directories are: an instance may be restarted in it).
async fn two_instances(database: &str) -> (Server, Server, tempfile::TempDir, tempfile::TempDir) {
    let (dir_a, dir_b) = (
        tempfile::tempdir().expect("a"),
        tempfile::tempdir().expect("b"),
    );
    let a = instance(dir_a.path(), database).await;
    let b = instance(dir_b.path(), database).await;
    (a, b, dir_a, dir_b)
}

struct Answer {
    body: Value,
    /// The refresh cookie it set, if any.
    cookie: Option<String>,
}

impl Answer {
    fn errcode(&self) -> i64 {
        self.body["errcode"].as_i64().expect("an envelope")
    }

    fn access_token(&self) -> String {
        self.body["data"]["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}

async fn send(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("answer");
    let cookie = refresh_cookie_of(&response)
        .and_then(|pair| pair.split_once('=').map(|(_, value)| value.to_owned()));
    Answer {
        body: response.json().await.expect("JSON"),
        cookie,
    }
}

async fn login(http: &reqwest::Client, base: &str, password: &str) -> Answer {
    send(
        http.post(format!("{base}/api/auth/login"))
            .json(&json!({"customer_code": "ACME", "username": "demo", "password": password})),
    )
    .await
}

async fn refresh(http: &reqwest::Client, base: &str, cookie: &str) -> Answer {
    send(
        http.post(format!("{base}/api/auth/refresh"))
            .header("cookie", format!("{REFRESH_COOKIE}={cookie}")),
    )
    .await
}

async fn me(http: &reqwest::Client, base: &str, access: &str) -> i64 {
    send(http.get(format!("{base}/api/me")).bearer_auth(access))
        .await
        .errcode()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_on_one_database_behave_as_one_server() {
    let Some(database) = new_postgres_database_always() else {
        eprintln!("TEST_POSTGRES is not set: run through scripts/with-postgres.sh");
        return;
    };
    let (a, b, _dir_a, _dir_b) = two_instances(&database).await;
    let http = reqwest::Client::new();

    // Logged in on A, refreshed on B, the new token used on A: one signing key, one store.
    let signed_in = login(&http, &a.base, "demo-password").await;
    assert_eq!(signed_in.errcode(), 0, "{}", signed_in.body);
    let refreshed = refresh(&http, &b.base, &signed_in.cookie.expect("cookie")).await;
    assert_eq!(refreshed.errcode(), 0, "{}", refreshed.body);
    assert_eq!(me(&http, &a.base, &refreshed.access_token()).await, 0);

    // Fifty refreshes with one cookie at once, alternating: one rotation, all succeed.
    let cookie = refreshed.cookie.expect("rotated cookie");
    let racing = (0..50).map(|i| {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        refresh(&http, base, &cookie)
    });
    let answers = futures::future::join_all(racing).await;
    assert!(
        answers.iter().all(|answer| answer.errcode() == 0),
        "every racer succeeds"
    );
    // Each answer sets a cookie (the rotation's successor or a grace sibling): whichever
    // the browser keeps works.
    let cookies: Vec<&String> = answers.iter().filter_map(|a| a.cookie.as_ref()).collect();
    assert_eq!(cookies.len(), 50, "every answer sets a cookie");
    let current = cookies[37].clone();
    let counters = send(
        http.get(format!("{}/api/demo/counters", b.base))
            .header("cookie", format!("{REFRESH_COOKIE}={current}")),
    )
    .await;
    let session = &counters.body["data"]["session"];
    assert_eq!(
        (
            &session["rotations"],
            &session["grace_refreshes"],
            &session["reuse_detections"]
        ),
        (&json!(2), &json!(49), &json!(0)),
        "{session}: one rotation for the fifty, the rest grace answers"
    );
    let next = refresh(&http, &a.base, &current).await;
    assert_eq!(next.errcode(), 0, "the family was not revoked");

    // Revoked on A: B, which has just served the token, refuses it within a second.
    let access = next.access_token();
    let cookie = next.cookie.expect("rotated");
    assert_eq!(me(&http, &b.base, &access).await, 0);
    let revoked = send(
        http.post(format!("{}/api/demo/revoke", a.base))
            .header("cookie", format!("{REFRESH_COOKIE}={cookie}")),
    )
    .await;
    assert_eq!(revoked.errcode(), 0);
    let deadline = Instant::now() + Duration::from_secs(1);
    while me(&http, &b.base, &access).await != 30001 {
        assert!(Instant::now() < deadline, "B must refuse within 1 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // Failed logins spread over both count as one: the limit is 4 in total.
    for attempt in 0..4 {
        let base = if attempt % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(login(&http, base, "wrong-password").await.errcode(), 40101);
    }
    for base in [&a.base, &b.base] {
        assert_eq!(
            login(&http, base, "demo-password").await.errcode(),
            45009,
            "throttled on every instance"
        );
    }
}

/// One instance dies (SIGKILL) while both are busy: the other keeps answering, and once
/// the dead one is back, every session still refreshes there.
#[tokio::test(flavor = "multi_thread")]
async fn killing_one_instance_under_load_loses_no_session() {
    let Some(database) = new_postgres_database_always() else {
        eprintln!("TEST_POSTGRES is not set: run through scripts/with-postgres.sh");
        return;
    };
    let (a, b, dir_a, _dir_b) = two_instances(&database).await;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let mut sessions = Vec::new();
    for i in 0..10 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        let answer = login(&http, base, "demo-password").await;
        assert_eq!(answer.errcode(), 0, "{}", answer.body);
        sessions.push((answer.access_token(), answer.cookie.expect("cookie")));
    }

    // Load on both: every session's token, over and over, on each instance.
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering::Relaxed};
    use std::sync::Arc;
    let stop = Arc::new(AtomicBool::new(false));
    let load = |base: String| {
        let (http, sessions, stop) = (http.clone(), sessions.clone(), stop.clone());
        let (answered, failed) = (Arc::new(AtomicU32::new(0)), Arc::new(AtomicU32::new(0)));
        let counts = (answered.clone(), failed.clone());
        let task = tokio::spawn(async move {
            while !stop.load(Relaxed) {
                for (access, _) in &sessions {
                    let sent = http
                        .get(format!("{base}/api/me"))
                        .bearer_auth(access)
                        .send()
                        .await;
                    let count = match sent {
                        Ok(response) if response.status().is_success() => &answered,
                        _ => &failed,
                    };
                    count.fetch_add(1, Relaxed);
                }
            }
        });
        (task, counts)
    };
    let (on_a, (answered_a, failed_a)) = load(a.base.clone());
    let (on_b, (answered_b, failed_b)) = load(b.base.clone());
    let reached = |count: &AtomicU32, at_least: u32| count.load(Relaxed) >= at_least;
    while !reached(&answered_a, 50) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::task::spawn_blocking(move || a.kill())
        .await
        .expect("killed");
    // B keeps serving all the while A's clients find their connections refused.
    let answered_before = answered_b.load(Relaxed);
    while !(reached(&failed_a, 50) && reached(&answered_b, answered_before + 50)) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, Relaxed);
    on_a.await.expect("load on A");
    on_b.await.expect("load on B");
    assert_eq!(failed_b.load(Relaxed), 0, "B never failed while A died");

    // A is back: every session, logged in on either instance, refreshes there.
    let a = instance(dir_a.path(), &database).await;
    for (_, cookie) in &sessions {
        let answer = refresh(&http, &a.base, cookie).await;
        assert_eq!(answer.errcode(), 0, "{}", answer.body);
    }
    drop(b);
}

/// A new database on the run's server, on any run that has one.
fn new_postgres_database_always() -> Option<String> {
    postgres::server()?;
    Some(create_postgres_database())
}

/// `painless migrate --to <url>` moves a SQLite deployment to PostgreSQL, and nobody is
/// logged out: refresh cookies and access tokens issued on SQLite work on PostgreSQL.
#[tokio::test(flavor = "multi_thread")]
async fn a_sqlite_deployment_moves_to_postgres_and_nobody_is_logged_out() {
    let Some(database) = new_postgres_database_always() else {
        eprintln!("TEST_POSTGRES is not set: run through scripts/with-postgres.sh");
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let http = reqwest::Client::new();

    // On SQLite: two logins, one of them refreshed (its first token is now spent).
    let sqlite = instance(dir.path(), "painless.db").await;
    let first = login(&http, &sqlite.base, "demo-password").await;
    let second = login(&http, &sqlite.base, "demo-password").await;
    let second = refresh(&http, &sqlite.base, &second.cookie.expect("cookie")).await;
    assert_eq!(second.errcode(), 0);
    tokio::task::spawn_blocking(move || sqlite.stop())
        .await
        .expect("stopped");

    let migrate = |dir: std::path::PathBuf, database: String| {
        tokio::task::spawn_blocking(move || {
            let mut command = command(&dir);
            with_demo_user(&mut command);
            command
                .args(["migrate", "--to", &database])
                .stdout(std::process::Stdio::piped())
                .output()
                .expect("migrate runs")
        })
    };
    let moved = migrate(dir.path().to_path_buf(), database.clone())
        .await
        .expect("migrated");
    let said = String::from_utf8_lossy(&moved.stdout);
    assert!(
        moved.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&moved.stderr)
    );
    assert!(
        said.contains("moved 1 users, 2 sessions, 3 refresh tokens")
            && said.contains("signing key"),
        "{said}"
    );

    // On PostgreSQL, in another directory: the same cookies and tokens work.
    let elsewhere = tempfile::tempdir().expect("dir");
    let postgres = instance(elsewhere.path(), &database).await;
    assert_eq!(me(&http, &postgres.base, &first.access_token()).await, 0);
    assert_eq!(me(&http, &postgres.base, &second.access_token()).await, 0);
    for cookie in [
        first.cookie.expect("cookie"),
        second.cookie.expect("cookie"),
    ] {
        let answer = refresh(&http, &postgres.base, &cookie).await;
        assert_eq!(answer.errcode(), 0, "{}", answer.body);
    }
    let counters = send(http.get(format!("{}/api/demo/counters", postgres.base))).await;
    assert_eq!(
        counters.body["data"]["server"]["logins"], 2,
        "counters moved too"
    );

    // A second move into a database that is no longer empty is refused.
    let again = migrate(dir.path().to_path_buf(), database)
        .await
        .expect("ran");
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds"), "{stderr}");
}
