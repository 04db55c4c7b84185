//! The test server and client shared by the HTTP test suites: the real app on a random
//! loopback port with a temporary database. The backend is SQLite, or PostgreSQL when
//! `TEST_BACKEND=postgres` (then `TEST_POSTGRES` names the server, as
//! `scripts/with-postgres.sh` sets it): a new database per test.
#![allow(dead_code)] // each suite uses a different part

#[path = "../common/postgres.rs"]
mod postgres;

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use painless::api::{ErrCode, REFRESH_COOKIE};
use painless::server::config::{DemoUser, Secret};
use painless::server::{Application, Settings};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// The signing key of test servers, as configured (hex) and as bytes.
pub const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub fn secret_key() -> Vec<u8> {
    (0u8..32).collect()
}

pub struct TestApp {
    pub base: String,
    /// What the server was started with: restart with these to keep its database.
    pub settings: Settings,
    /// Where its metrics are served, if `server.metrics_addr` asked for them.
    pub metrics: Option<std::net::SocketAddr>,
    pub http: reqwest::Client,
    pub data_dir: tempfile::TempDir,
    pub stop: Option<oneshot::Sender<()>>,
    pub server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// One HTTP answer, with the parts the tests look at.
pub struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<String>,
    pub content_type: String,
    pub body: Value,
    /// The refresh cookie set by this answer: `Some("")` when it was cleared.
    pub refresh_cookie: Option<String>,
    pub set_cookie: Vec<String>,
    /// Where a redirect points (empty when it is none).
    pub location: String,
    /// The `WWW-Authenticate` challenge, if any.
    pub www_authenticate: Option<String>,
}

impl Answer {
    pub fn errcode(&self) -> i64 {
        self.body["errcode"].as_i64().expect("errcode is a number")
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    pub fn assert_envelope(&self) {
        assert!(
            self.content_type.starts_with("application/json"),
            "JSON, got {}",
            self.content_type
        );
        assert!(self.body["errmsg"].is_string(), "errmsg in {}", self.body);
        if self.errcode() != 0 {
            assert!(self.data().is_null(), "no data on errors: {}", self.body);
        }
    }

    pub fn assert_error(&self, code: ErrCode) {
        self.assert_envelope();
        assert_eq!(self.errcode(), i64::from(code.code()), "{}", self.body);
    }

    pub fn access_token(&self) -> String {
        self.data()["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }
}

/// Whether this run's HTTP tests use PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_BACKEND").is_ok_and(|backend| backend == "postgres")
}

/// The PostgreSQL server of this run: `postgres://user@host:port`.
pub fn postgres_server() -> String {
    postgres::server().expect("TEST_POSTGRES names a PostgreSQL server (scripts/with-postgres.sh)")
}

/// The URL of a new, empty database on the run's PostgreSQL server.
pub async fn new_postgres_database() -> String {
    postgres::create_database("http").await
}

/// Settings of a test server with a store of its own (a SQLite file in `data_dir`, or a
/// new PostgreSQL database).
pub async fn test_settings(data_dir: &std::path::Path) -> Settings {
    let mut settings = Settings::default();
    if on_postgres() {
        settings.server.database = Secret::new(new_postgres_database().await);
    }
    settings.server.site_addr = "127.0.0.1:0".parse().expect("addr");
    settings.server.data_dir = data_dir.to_path_buf();
    settings.tokens.jwt_secret = Secret::new(SECRET);
    settings.tokens.reuse_grace = Duration::from_secs(30);
    settings.login.max_failures = 3;
    settings.demo.enabled = true;
    settings.demo.users = vec![
        DemoUser {
            customer_code: "ACME".into(),
            username: "demo".into(),
            password: Secret::new("demo-password"),
            display_name: "Dana Demo".into(),
        },
        DemoUser {
            customer_code: "GLOBEX".into(),
            username: "hank".into(),
            password: Secret::new("hank-password"),
            display_name: "Hank".into(),
        },
    ];
    settings
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(data_dir.path()).await;
    tweak(&mut settings);
    start(settings, data_dir).await
}

pub async fn start(settings: Settings, data_dir: tempfile::TempDir) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("app builds");
    let base = format!("http://{}", app.local_addr());
    let metrics = app.metrics_addr();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        settings,
        metrics,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        data_dir,
        stop: Some(stop),
        server: Some(server),
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        bearer: Option<&str>,
        refresh: Option<&str>,
    ) -> Answer {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(token) = refresh {
            request = request.header(header::COOKIE, format!("{REFRESH_COOKIE}={token}"));
        }
        self.send(request).await
    }

    /// A page (or any non-`/api` path) as the raw response: headers and HTML.
    pub async fn page(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("page")
    }

    /// A page requested with a session's refresh cookie, as the raw response.
    pub async fn page_signed_in(&self, path: &str, refresh_token: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, format!("{REFRESH_COOKIE}={refresh_token}"))
            .send()
            .await
            .expect("page")
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("server answers");
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let set_cookie: Vec<String> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let www_authenticate = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let refresh_cookie = set_cookie.iter().find_map(|c| {
            c.strip_prefix(&format!("{REFRESH_COOKIE}="))
                .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
        });
        let text = response.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({ "not_json": text }));
        Answer {
            status,
            retry_after,
            content_type,
            body,
            refresh_cookie,
            set_cookie,
            location,
            www_authenticate,
        }
    }

    pub async fn login(&self, code: &str, username: &str, password: &str) -> Answer {
        self.login_with(&[], code, username, password).await
    }

    /// A login carrying extra request headers (forwarded-for, origin, ...).
    pub async fn login_with(
        &self,
        headers: &[(&str, &str)],
        code: &str,
        username: &str,
        password: &str,
    ) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/auth/login", self.base))
            .json(&json!({ "customer_code": code, "username": username, "password": password }));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// The demo user's login carrying extra request headers.
    pub async fn login_demo_with(&self, headers: &[(&str, &str)]) -> Answer {
        self.login_with(headers, "ACME", "demo", "demo-password")
            .await
    }

    /// Logs the demo user in: (access token, refresh token).
    pub async fn login_demo(&self) -> (String, String) {
        let answer = self.login("ACME", "demo", "demo-password").await;
        answer.assert_error(ErrCode::Ok);
        (
            answer.access_token(),
            answer.refresh_cookie.expect("refresh cookie"),
        )
    }

    pub async fn refresh(&self, refresh_token: Option<&str>) -> Answer {
        self.request(Method::POST, "/api/auth/refresh", None, None, refresh_token)
            .await
    }

    pub async fn get(&self, path: &str, bearer: Option<&str>) -> Answer {
        self.request(Method::GET, path, None, bearer, None).await
    }

    pub async fn demo(&self, action: &str, refresh_token: &str, body: Option<Value>) -> Answer {
        self.request(
            Method::POST,
            &format!("/api/demo/{action}"),
            body,
            None,
            Some(refresh_token),
        )
        .await
    }

    pub async fn counters(&self, refresh_token: Option<&str>) -> Value {
        let answer = self
            .request(Method::GET, "/api/demo/counters", None, None, refresh_token)
            .await;
        answer.assert_error(ErrCode::Ok);
        answer.data().clone()
    }

    /// Stops the server (letting requests finish) and hands back its data directory.
    pub async fn stop(mut self) -> tempfile::TempDir {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean shutdown");
        }
        self.data_dir
    }
}

/// The nonce of a Content-Security-Policy.
pub fn nonce_of(policy: &str) -> String {
    policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce")
        .to_owned()
}

pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json claims")
}

pub fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A token signed with our secret from the claims of `like`, changed by `edit`.
pub fn forge(
    like: &str,
    algorithm: Algorithm,
    secret: &[u8],
    edit: impl FnOnce(&mut Value),
) -> String {
    let mut claims = claims_of(like);
    edit(&mut claims);
    jsonwebtoken::encode(
        &Header::new(algorithm),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .expect("encode")
}

/// Runs one statement on the test server's database, whichever backend it is, with
/// `$1`-style parameters (SQLite reads them as numbered parameters too).
pub async fn execute_sql(settings: &Settings, sql: &str, params: &[&str]) {
    match postgres_url(settings) {
        Some(url) => {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
            for param in params {
                query = query.bind(*param);
            }
            query.execute(&mut connection).await.expect("statement");
        }
        None => {
            let connection = rusqlite::Connection::open(sqlite_path(settings)).expect("open");
            connection
                .execute(sql, rusqlite::params_from_iter(params))
                .expect("statement");
        }
    }
}

/// A server-wide counter as stored (not as reported), if it was ever written.
pub async fn stored_counter(settings: &Settings, name: &str) -> Option<i64> {
    let sql = "SELECT value FROM counters WHERE name = $1";
    match postgres_url(settings) {
        Some(url) => {
            use sqlx::Connection;
            let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query_scalar(sql)
                .bind(name)
                .fetch_optional(&mut connection)
                .await
                .expect("query")
        }
        None => rusqlite::Connection::open(sqlite_path(settings))
            .expect("open")
            .query_row(sql, [name], |row| row.get(0))
            .ok(),
    }
}

/// The signing key's value as the shared database stores it (PostgreSQL only).
pub async fn stored_signing_key(settings: &Settings) -> Option<String> {
    use sqlx::Connection;
    let url = postgres_url(settings)?;
    let mut connection = sqlx::PgConnection::connect(&url).await.expect("connect");
    sqlx::query_scalar("SELECT value FROM shared_secrets WHERE name = 'jwt_secret'")
        .fetch_optional(&mut connection)
        .await
        .expect("query")
}

fn postgres_url(settings: &Settings) -> Option<String> {
    let database = settings.server.database.expose();
    database
        .starts_with("postgres")
        .then(|| database.to_owned())
}

fn sqlite_path(settings: &Settings) -> std::path::PathBuf {
    settings
        .server
        .data_dir
        .join(settings.server.database.expose())
}

/// A TCP proxy in front of the run's PostgreSQL server that can be cut: while it is down,
/// open connections are closed and new ones are closed at once, as when the database
/// server stops or the network goes, without disturbing the other tests' databases.
pub struct CuttableProxy {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl CuttableProxy {
    pub async fn start() -> Self {
        let server = postgres_server();
        let target = server.rsplit('@').next().expect("host:port").to_owned();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (up, watch) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                if !*watch.borrow() {
                    continue; // dropped: closed at once
                }
                let target = target.clone();
                let mut cut = watch.clone();
                tokio::spawn(async move {
                    let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
                        _ = cut.wait_for(|up| !*up) => {}
                    }
                });
            }
        });
        Self { port, up }
    }

    /// The URL of `database` (a URL on the run's server) through this proxy.
    pub fn url_of(&self, database: &str) -> String {
        let name = database.rsplit('/').next().expect("database name");
        let user = postgres_server()
            .trim_start_matches("postgres://")
            .split('@')
            .next()
            .expect("user")
            .to_owned();
        format!("postgres://{user}@127.0.0.1:{}/{name}", self.port)
    }

    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
    }
}

/// Asks again every 20 ms until `done` holds, for at most `limit`; whether it did.
pub async fn within<F, Fut>(limit: std::time::Duration, mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if done().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
