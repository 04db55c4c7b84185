//! Prometheus metrics: off by default, and when on, served apart from the public
//! listener with refreshes and logins by outcome, throttle refusals, the page cache and
//! latency by route.
//! The recorder is process-wide, shared by every test server of this binary, so counts
//! are checked as lower bounds.

use painless::api::ErrCode;
use reqwest::StatusCode;

use crate::common::*;

/// What the metrics listener at `metrics` serves.
async fn metrics_text(metrics: std::net::SocketAddr) -> String {
    reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("text")
}

/// The sum of a series' samples whose labels include `labels`.
fn sample(text: &str, name: &str, labels: &str) -> f64 {
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")) && line.contains(labels))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_count_logins_refreshes_and_throttling_on_their_own_address() {
    let quiet = spawn_app().await;
    assert_eq!(quiet.metrics, None, "off unless asked for");
    let page = quiet.get("/metrics", None).await;
    assert_eq!(
        page.status,
        StatusCode::NOT_FOUND,
        "never on the public listener"
    );

    let app =
        spawn_app_with(|settings| settings.server.metrics_addr = Some(([127, 0, 0, 1], 0).into()))
            .await;
    let metrics = app.metrics.expect("a metrics address");
    let (_, cookie) = app.login_demo().await;
    let rotated = app.refresh(Some(&cookie)).await;
    rotated.assert_error(ErrCode::Ok);
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok); // grace
    for _ in 0..3 {
        app.login("GLOBEX", "hank", "wrong-password")
            .await
            .assert_error(ErrCode::BadLogin);
    }
    app.login("GLOBEX", "hank", "hank-password")
        .await
        .assert_error(ErrCode::RateLimited);

    for _ in 0..2 {
        assert_eq!(app.page("/login").await.status(), StatusCode::OK);
    }

    let text = metrics_text(metrics).await;
    for (name, labels, at_least) in [
        ("painless_logins_total", r#"outcome="ok""#, 1.0),
        ("painless_logins_total", r#"outcome="bad_login""#, 3.0),
        ("painless_logins_total", r#"outcome="throttled""#, 1.0),
        (
            "painless_login_throttle_refusals_total",
            r#"limit="account""#,
            1.0,
        ),
        ("painless_refreshes_total", r#"outcome="rotated""#, 1.0),
        ("painless_refreshes_total", r#"outcome="grace""#, 1.0),
        ("painless_page_cache_total", r#"outcome="stored""#, 1.0),
        ("painless_page_cache_total", r#"outcome="hit""#, 1.0),
        (
            "painless_http_request_duration_seconds_count",
            r#"route="/api/auth/refresh""#,
            2.0,
        ),
    ] {
        let value = sample(&text, name, labels);
        assert!(value >= at_least, "{name}{{{labels}}} = {value}\n{text}");
    }
    assert!(
        text.contains(r#"painless_http_request_duration_seconds_bucket{"#)
            && text.contains(r#"le="0.005""#),
        "latency as a histogram with buckets"
    );
}

/// The labels of `name`'s samples under `label`, distinct.
fn label_values(text: &str, name: &str, label: &str) -> std::collections::BTreeSet<String> {
    let key = format!("{label}=\"");
    text.lines()
        .filter(|line| line.starts_with(&format!("{name}{{")))
        .filter_map(|line| {
            let rest = &line[line.find(&key)? + key.len()..];
            Some(rest[..rest.find('"')?].to_owned())
        })
        .collect()
}

#[tokio::test]
async fn invented_methods_and_paths_share_one_series_each() {
    let app =
        spawn_app_with(|settings| settings.server.metrics_addr = Some(([127, 0, 0, 1], 0).into()))
            .await;
    let metrics = app.metrics.expect("a metrics address");
    let invented = 300;
    for n in 0..invented {
        let method = reqwest::Method::from_bytes(format!("X{n}").as_bytes()).expect("a token");
        app.request(method, &format!("/nowhere/{n}"), None, None, None)
            .await;
    }
    let text = metrics_text(metrics).await;
    let count = "painless_http_request_duration_seconds_count";
    let methods = label_values(&text, count, "method");
    let known = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    assert!(
        methods
            .iter()
            .all(|method| method == "other" || known.contains(&method.as_str())),
        "methods from a closed set: {methods:?}"
    );
    assert!(
        sample(&text, count, r#"method="other""#) >= f64::from(invented),
        "every invented method counted as other\n{text}"
    );
    let routes = label_values(&text, count, "route");
    assert!(
        routes.iter().all(|route| !route.starts_with("/nowhere")),
        "no concrete path as a route: {routes:?}"
    );
}

#[tokio::test]
async fn answers_are_counted_by_errcode_whatever_their_status() {
    use painless::server::config::AuthErrors;
    // Many requests per mode, so that what other tests of this binary add meanwhile
    // cannot make up for a mode that is not counted.
    let requests = 50;
    for mode in [AuthErrors::Envelope, AuthErrors::Http] {
        let app = spawn_app_with(|settings| {
            settings.server.metrics_addr = Some(([127, 0, 0, 1], 0).into());
            settings.server.auth_errors = mode;
        })
        .await;
        let metrics = app.metrics.expect("a metrics address");
        let read = || async {
            let text = metrics_text(metrics).await;
            sample(&text, "painless_api_answers_total", r#"errcode="40001""#)
        };
        let before = read().await;
        for _ in 0..requests {
            let answer = app.get("/api/me", None).await;
            answer.assert_error(ErrCode::InvalidCredential);
            let expected = match mode {
                AuthErrors::Envelope => StatusCode::OK,
                AuthErrors::Http => StatusCode::UNAUTHORIZED,
            };
            assert_eq!(answer.status, expected);
        }
        let counted = read().await - before;
        assert!(
            counted >= f64::from(requests),
            "{mode:?}: {counted} of {requests} answers counted"
        );
    }
}
