//! A database outage on PostgreSQL (the run's server behind a proxy that is cut): `/api`
//! answers 503 with errcode 50301 and changes nothing, readiness says 503 so that a load
//! balancer drains the instance, pages still render, and everything recovers without a
//! restart. Runs on PostgreSQL runs only (SQLite is a file: it has no outage to survive).

use std::time::Duration;

use painless::api::ErrCode;
use painless::server::config::Secret;
use reqwest::StatusCode;

use crate::common::*;

#[tokio::test]
async fn with_the_database_gone_the_api_answers_50301_and_recovers_without_a_restart() {
    if !on_postgres() {
        eprintln!("a PostgreSQL run (TEST_BACKEND=postgres) tests outages");
        return;
    }
    let proxy = CuttableProxy::start().await;
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(data_dir.path()).await;
    settings.server.database = Secret::new(proxy.url_of(settings.server.database.expose()));
    settings.server.database_connect_timeout = Duration::from_secs(1);
    let app = start(settings, data_dir).await;
    let (access, cookie) = app.login_demo().await;
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    app.get("/api/ready", None).await.assert_error(ErrCode::Ok);

    proxy.set_up(false);
    let ready = app.get("/api/ready", None).await;
    ready.assert_error(ErrCode::Unavailable);
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    app.get("/api/health", None).await.assert_error(ErrCode::Ok); // liveness: do not restart the process for this
                                                                  // The access check no longer trusts its cache once the change channel is gone.
    assert!(
        within(Duration::from_secs(2), || async {
            app.get("/api/me", Some(&access)).await.errcode()
                == i64::from(ErrCode::Unavailable.code())
        })
        .await,
        "/api/me answers 50301"
    );
    // A refresh during the outage is not the end of the session: 503, cookie kept.
    let refresh = app.refresh(Some(&cookie)).await;
    refresh.assert_error(ErrCode::Unavailable);
    assert_eq!(refresh.refresh_cookie, None, "the cookie is not cleared");
    let login = app.login("ACME", "demo", "demo-password").await;
    login.assert_error(ErrCode::Unavailable);
    let page = app.page("/login").await;
    assert_eq!(page.status(), StatusCode::OK, "pages still render");

    proxy.set_up(true);
    assert!(
        within(Duration::from_secs(5), || async {
            app.get("/api/ready", None).await.errcode() == 0
        })
        .await,
        "ready again without a restart"
    );
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok);
    app.stop().await;
}
