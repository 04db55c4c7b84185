//! The defences of the server's outer layer through HTTP: cross-site requests, slow and
//! idle clients, the connection bound, the login throttles and the hashing bound,
//! trusted proxies and the security headers of pages.

use std::time::{Duration, Instant};

use painless::api::{ErrCode, REFRESH_COOKIE};
use reqwest::{header, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::common::*;

fn loopback_is_a_proxy(settings: &mut painless::server::Settings) {
    settings.server.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
}

impl TestApp {
    fn addr(&self) -> String {
        self.base.trim_start_matches("http://").to_owned()
    }

    /// A POST carrying the refresh cookie and the given extra headers.
    async fn post_with(&self, path: &str, refresh: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .request(Method::POST, format!("{}{path}", self.base))
            .header(header::COOKIE, format!("{REFRESH_COOKIE}={refresh}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }

    /// A login for `username` that a trusted proxy says came from `address`.
    async fn login_from(&self, address: &str, username: &str, password: &str) -> Answer {
        self.login_with(&[("x-forwarded-for", address)], "ACME", username, password)
            .await
    }
}

// Cross-site requests

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let (access, refresh) = app.login_demo().await;
    let cross_site: [&[(&str, &str)]; 3] = [
        &[("origin", "https://evil.example")],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        &[("sec-fetch-site", "same-site")],
    ];
    for headers in cross_site {
        for path in [
            "/api/auth/refresh",
            "/api/auth/logout",
            "/api/demo/revoke",
            "/api/demo/expire",
        ] {
            let answer = app.post_with(path, &refresh, headers).await;
            answer.assert_error(ErrCode::CrossOrigin);
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {headers:?}");
            assert_eq!(
                answer.refresh_cookie, None,
                "{path}: no cookie set or cleared"
            );
        }
    }
    app.login_demo_with(&[("origin", "https://evil.example")])
        .await
        .assert_error(ErrCode::CrossOrigin);

    // Nothing was revoked, expired or rotated: the access token still works and the
    // refresh token was never spent, so this refresh rotates it (a spent one would get a
    // grace answer without a new cookie).
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    let same_origin = format!("http://{}", app.addr());
    let answer = app
        .post_with(
            "/api/auth/refresh",
            &refresh,
            &[("origin", &same_origin), ("sec-fetch-site", "same-origin")],
        )
        .await;
    answer.assert_error(ErrCode::Ok);
    assert!(answer
        .refresh_cookie
        .is_some_and(|c| !c.is_empty() && c != refresh));
}

#[tokio::test]
async fn same_origin_tools_and_allowed_origins_pass() {
    let app = spawn_app_with(|settings| {
        settings.server.allowed_origins =
            vec![painless::server::config::Origin::parse("https://admin.example").expect("origin")];
    })
    .await;
    let same_origin = format!("http://{}", app.addr());
    for headers in [
        &[("origin", same_origin.as_str())][..],
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", same_origin.as_str()),
        ][..],
        &[("sec-fetch-site", "none")][..],
        &[][..], // curl, servers, apps
        &[("origin", "https://admin.example")][..],
        &[
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://admin.example"),
        ][..],
    ] {
        let (_, refresh) = app.login_demo().await;
        let answer = app.post_with("/api/auth/refresh", &refresh, headers).await;
        answer.assert_error(ErrCode::Ok);
    }
    // Reading is not state-changing: a cross-site GET is answered as usual.
    let answer = app
        .send(
            app.http
                .get(format!("{}/api/health", app.base))
                .header("sec-fetch-site", "cross-site"),
        )
        .await;
    answer.assert_error(ErrCode::Ok);
}

// Slow, idle and too many clients

/// Reads until the server closes the connection; how long that took from `since`.
async fn closed_after(mut stream: TcpStream, since: Instant, limit: Duration) -> Duration {
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server should have closed the connection within {limit:?}"
    );
    since.elapsed()
}

#[tokio::test]
async fn half_sent_requests_are_closed_after_the_timeout_and_others_are_served_meanwhile() {
    let app = spawn_app_with(|settings| {
        settings.server.header_read_timeout = Duration::from_secs(2);
        settings.server.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let opened = Instant::now();
    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
        stream
            .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .expect("half a header");
        slow.push(stream);
    }
    app.get("/api/health", None).await.assert_error(ErrCode::Ok);
    let waits: Vec<_> = slow
        .into_iter()
        .map(|stream| tokio::spawn(closed_after(stream, opened, Duration::from_secs(10))))
        .collect();
    for wait in waits {
        let after = wait.await.expect("task");
        assert!(
            after >= Duration::from_millis(900),
            "not before the timeout: {after:?}"
        );
    }
    app.get("/api/health", None).await.assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn a_client_trickling_its_header_is_cut_off_by_the_header_timeout() {
    let app = spawn_app_with(|settings| {
        settings.server.header_read_timeout = Duration::from_secs(3);
        settings.server.idle_timeout = Duration::from_secs(2);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
    let started = Instant::now();
    // A byte every 300 ms is never idle for two seconds, yet the head never completes.
    let trickle = async {
        for byte in b"GET /api/health HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter()
        {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        started.elapsed()
    };
    let stopped_writing_after = tokio::time::timeout(Duration::from_secs(10), trickle)
        .await
        .expect("the server should cut the trickle off");
    assert!(
        stopped_writing_after >= Duration::from_millis(2900),
        "not idle, so only the 3 s header timeout applies: {stopped_writing_after:?}"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_and_a_busy_one_is_not() {
    let app = spawn_app_with(|settings| {
        settings.server.header_read_timeout = Duration::from_secs(3);
        settings.server.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let mut stream = TcpStream::connect(app.addr()).await.expect("connect");
    let request = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut buffer = vec![0u8; 4096];
    // Requests 400 ms apart keep it open past the idle timeout.
    for _ in 0..5 {
        stream.write_all(request).await.expect("request");
        let read = stream.read(&mut buffer).await.expect("answer");
        assert!(String::from_utf8_lossy(&buffer[..read]).starts_with("HTTP/1.1 200"));
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    let after = closed_after(stream, Instant::now(), Duration::from_secs(5)).await;
    assert!(
        after < Duration::from_millis(2500),
        "closed by the idle timeout: {after:?}"
    );
}

#[tokio::test]
async fn beyond_max_connections_clients_wait_until_a_slot_frees() {
    let app = spawn_app_with(|settings| {
        settings.server.max_connections = 3;
        settings.server.header_read_timeout = Duration::from_secs(1);
        settings.server.idle_timeout = Duration::from_secs(1);
    })
    .await;
    let idle: Vec<TcpStream> =
        futures::future::join_all((0..3).map(|_| TcpStream::connect(app.addr())))
            .await
            .into_iter()
            .map(|stream| stream.expect("connect"))
            .collect();
    let started = Instant::now();
    app.get("/api/health", None).await.assert_error(ErrCode::Ok);
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "answered only once an idle connection was closed: {:?}",
        started.elapsed()
    );
    drop(idle);
}

// Login throttles and the hashing bound

#[tokio::test]
async fn parallel_guesses_for_one_account_reach_the_hash_at_most_max_failures_times() {
    let app = spawn_app().await; // login.max_failures = 3
    let guesses =
        futures::future::join_all((0..100).map(|_| app.login("ACME", "demo", "wrong-password")))
            .await;
    let count = |code: ErrCode| {
        guesses
            .iter()
            .filter(|answer| answer.errcode() == i64::from(code.code()))
            .count()
    };
    assert_eq!(
        count(ErrCode::BadLogin),
        3,
        "only max_failures were checked"
    );
    // Refused while the first three were checked (busy), or after they failed.
    assert_eq!(count(ErrCode::RateLimited) + count(ErrCode::Overloaded), 97);
    app.login("ACME", "demo", "demo-password")
        .await
        .assert_error(ErrCode::RateLimited);
}

#[tokio::test]
async fn a_burst_of_correct_logins_is_never_told_it_failed_and_gets_through_on_a_retry() {
    let app = spawn_app().await; // login.max_failures = 3
    let burst = futures::future::join_all((0..8).map(|_| app.login_demo_with(&[]))).await;
    let mut busy = 0;
    for answer in &burst {
        match answer.errcode() {
            0 => {}
            code if code == i64::from(ErrCode::Overloaded.code()) => {
                busy += 1;
                assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
                assert!(answer.retry_after.is_some(), "says when to try again");
            }
            code => panic!("a correct login answered {code}: {:?}", answer.body),
        }
    }
    // What a client does with 50300: tries again once, a moment later.
    for _ in 0..busy {
        app.login_demo_with(&[]).await.assert_error(ErrCode::Ok);
    }
}

#[tokio::test]
async fn failed_logins_are_limited_per_address_and_other_addresses_are_unaffected() {
    let app = spawn_app_with(|settings| {
        loopback_is_a_proxy(settings);
        settings.login.max_failures_per_address = 5;
    })
    .await;
    let (_, refresh) = app.login_demo().await;
    for i in 0..5 {
        app.login_from("198.51.100.7", &format!("user{i}"), "wrong-password")
            .await
            .assert_error(ErrCode::BadLogin);
    }
    let refused = app
        .login_from("198.51.100.7", "someone-else", "whatever-pw")
        .await;
    refused.assert_error(ErrCode::RateLimited);
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        app.login_from("198.51.100.7", "demo", "demo-password")
            .await
            .errcode()
            == i64::from(ErrCode::RateLimited.code()),
        "even the right password: the address is throttled"
    );
    app.login_from("203.0.113.1", "demo", "demo-password")
        .await
        .assert_error(ErrCode::Ok);
    // Refreshes are never throttled by address.
    let refreshed = app
        .send(
            app.http
                .post(format!("{}/api/auth/refresh", app.base))
                .header("x-forwarded-for", "198.51.100.7")
                .header(header::COOKIE, format!("{REFRESH_COOKIE}={refresh}")),
        )
        .await;
    refreshed.assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn a_login_flood_is_refused_beyond_the_hashing_queue_and_refreshes_keep_working() {
    let app = spawn_app_with(|settings| {
        loopback_is_a_proxy(settings);
        settings.login.hash_workers = 1;
        settings.login.hash_queue = 2;
    })
    .await;
    let (_, mut refresh) = app.login_demo().await;
    let flood = futures::future::join_all((0..200u32).map(|i| {
        let app = &app;
        async move {
            let address = format!("10.0.{}.1", i);
            app.login_from(&address, &format!("random-{i}"), "wrong-password")
                .await
        }
    }));
    let refreshes = async {
        let mut answered = 0;
        for _ in 0..20 {
            let answer = app.refresh(Some(&refresh)).await;
            answer.assert_error(ErrCode::Ok);
            refresh = answer.refresh_cookie.expect("rotated");
            answered += 1;
        }
        answered
    };
    let (flood, refreshed) = tokio::join!(flood, refreshes);
    assert_eq!(refreshed, 20);
    let overloaded: Vec<_> = flood
        .iter()
        .filter(|a| a.errcode() == i64::from(ErrCode::Overloaded.code()))
        .collect();
    let checked = flood
        .iter()
        .filter(|a| a.errcode() == i64::from(ErrCode::BadLogin.code()))
        .count();
    assert_eq!(
        overloaded.len() + checked,
        200,
        "every login is answered one way or the other"
    );
    assert!(
        !overloaded.is_empty(),
        "one worker and a queue of two cannot take 200 at once"
    );
    for answer in overloaded {
        answer.assert_error(ErrCode::Overloaded);
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    }
    // Refused logins were not counted as failures: the demo user logs in at once.
    app.login("ACME", "demo", "demo-password")
        .await
        .assert_error(ErrCode::Ok);
}

// Security headers

#[tokio::test]
async fn pages_carry_a_csp_whose_nonce_is_fresh_and_matches_the_inline_scripts() {
    let app = spawn_app().await;
    let mut nonces = Vec::new();
    for path in ["/login", "/login", "/no-such-page", "/no-such-page"] {
        let response = app.page(path).await;
        let headers = response.headers().clone();
        let policy = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path}: a CSP header"))
            .to_owned();
        assert!(!policy.contains("unsafe-inline"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("'wasm-unsafe-eval'"), "{policy}");
        let nonce = nonce_of(&policy);
        let html = response.text().await.expect("html");
        let scripts: Vec<&str> = html
            .split("<script")
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or_default())
            .collect();
        assert!(!scripts.is_empty());
        for script in scripts {
            assert!(
                script.contains(&format!("nonce=\"{nonce}\"")),
                "every inline script carries the header's nonce: <script{script}>"
            );
        }
        assert_eq!(
            html.matches(&format!("nonce=\"{nonce}\"")).count(),
            html.matches("nonce=\"").count(),
            "no other nonce"
        );
        assert!(!html.contains(" style=\""), "no inline styles either");
        assert!(headers.get("permissions-policy").is_some());
        assert!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
            "no HSTS over plain HTTP"
        );
        nonces.push(nonce);
    }
    nonces.sort();
    nonces.dedup();
    assert_eq!(nonces.len(), 4, "a fresh nonce per page");
}

#[tokio::test]
async fn the_split_loader_is_preloaded_with_the_pages_nonce_when_the_site_has_one() {
    const LOADER: &str = "/pkg/__wasm_split.______________________.js";
    let site = tempfile::tempdir().expect("site dir");
    let root = site.path().to_str().expect("utf-8 path").to_owned();
    let without = spawn_app_with(|s| s.server.site_root = root.clone()).await;
    let (html, _, status) = login_page_and_loader(&without, LOADER).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        !html.contains(LOADER),
        "no preload of a file the site lacks"
    );

    std::fs::create_dir_all(site.path().join("pkg")).expect("pkg dir");
    std::fs::write(site.path().join(&LOADER[1..]), "export {};").expect("loader file");
    let with = spawn_app_with(|s| s.server.site_root = root.clone()).await;
    let (html, nonce, status) = login_page_and_loader(&with, LOADER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(&format!(
            "<link rel=\"modulepreload\" href=\"{LOADER}\" nonce=\"{nonce}\">"
        )),
        "the loader is preloaded in the head with the CSP's nonce: {html}"
    );
    assert!(html.find(LOADER) < html.find("</head>"));
}

#[tokio::test]
async fn the_head_imports_the_app_statically_with_the_pages_nonce() {
    let site = tempfile::tempdir().expect("site dir");
    let root = site.path().to_str().expect("utf-8 path").to_owned();
    let app = spawn_app_with(|s| s.server.site_root = root.clone()).await;
    let (html, nonce, _) = login_page_and_loader(&app, "/pkg/painless.js").await;
    let head = &html[..html.find("</head>").expect("a head")];
    for element in [
        format!("<link rel=\"modulepreload\" href=\"/pkg/painless.js\" nonce=\"{nonce}\">"),
        "<link rel=\"preload\" href=\"/pkg/painless.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\">".to_owned(),
        format!(
            "<script type=\"module\" nonce=\"{nonce}\">import init, {{ hydrate }} from \"/pkg/painless.js\"; \
             init({{ module_or_path: \"/pkg/painless.wasm\" }}).then(() => hydrate());</script>"
        ),
        "<link id=\"leptos\" rel=\"stylesheet\" href=\"/pkg/painless.css\">".to_owned(),
    ] {
        assert!(head.contains(&element), "{element} in the head: {head}");
    }
    assert!(
        !head.contains("import("),
        "no dynamic import waiting for the script to run"
    );
}

/// The nonce a Content-Security-Policy allows scripts by.
/// The login page, the nonce of its CSP, and the status of a request for `loader`.
async fn login_page_and_loader(app: &TestApp, loader: &str) -> (String, String, StatusCode) {
    let response = app.page("/login").await;
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    let nonce = nonce_of(&policy);
    let html = response.text().await.expect("html");
    let loader = app
        .http
        .get(format!("{}{loader}", app.base))
        .send()
        .await
        .expect("loader");
    (html, nonce, loader.status())
}

#[tokio::test]
async fn hsts_is_sent_over_https_as_told_by_a_trusted_proxy_only() {
    let hsts = |app: &TestApp| {
        let request = app
            .http
            .get(format!("{}/login", app.base))
            .header("x-forwarded-proto", "https");
        async move {
            request
                .send()
                .await
                .expect("page")
                .headers()
                .get(header::STRICT_TRANSPORT_SECURITY)
                .map(|v| v.to_str().unwrap_or_default().to_owned())
        }
    };
    let direct = spawn_app().await;
    assert_eq!(hsts(&direct).await, None);
    let proxied = spawn_app_with(loopback_is_a_proxy).await;
    assert_eq!(hsts(&proxied).await.as_deref(), Some("max-age=31536000"));
    let subdomains = spawn_app_with(|settings| {
        loopback_is_a_proxy(settings);
        settings.server.hsts_include_subdomains = true;
    })
    .await;
    assert_eq!(
        hsts(&subdomains).await.as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn a_dual_stack_listener_trusts_an_ipv4_proxy_and_tells_its_clients_apart() {
    let mut app = spawn_app_with(|settings| {
        settings.server.site_addr = "[::]:0".parse().expect("addr");
        settings.demo.allow_public = true;
        settings.server.trusted_proxies = vec!["127.0.0.1/32".parse().expect("net")];
        settings.login.max_failures_per_address = 5;
    })
    .await;
    // Over IPv4 to the IPv6 wildcard: the server sees the peer as ::ffff:127.0.0.1.
    let port = app.base.rsplit(':').next().expect("port").to_owned();
    app.base = format!("http://127.0.0.1:{port}");
    let https = [
        ("x-forwarded-proto", "https"),
        ("x-forwarded-for", "203.0.113.1"),
    ];
    let login = app
        .login_with(&https, "ACME", "demo", "demo-password")
        .await;
    login.assert_error(ErrCode::Ok);
    assert!(
        login
            .set_cookie
            .iter()
            .any(|cookie| cookie.starts_with("__Host-") && cookie.contains("Secure")),
        "the proxy said https: {:?}",
        login.set_cookie
    );
    let page = app
        .http
        .get(format!("{}/login", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("page");
    assert!(page
        .headers()
        .contains_key(header::STRICT_TRANSPORT_SECURITY));
    for i in 0..5 {
        app.login_from("198.51.100.7", &format!("user{i}"), "wrong-password")
            .await
            .assert_error(ErrCode::BadLogin);
    }
    app.login_from("198.51.100.7", "demo", "demo-password")
        .await
        .assert_error(ErrCode::RateLimited);
    app.login_from("203.0.113.1", "demo", "demo-password")
        .await
        .assert_error(ErrCode::Ok);
}
