//! Session and credential hygiene through HTTP: what an auth reviewer checks after the
//! load tests (issue 9). Each test fails on the code before its fix.

use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use painless::api::{ErrCode, REFRESH_COOKIE};
use painless::server::{Application, Settings};
use reqwest::{header, StatusCode};
use serde_json::json;

use super::common::*;

#[tokio::test]
async fn every_refresh_refusal_reads_the_same_so_a_thief_learns_nothing() {
    let app = spawn_app_with(|settings| settings.tokens.reuse_grace = Duration::from_secs(0)).await;
    let missing = app.refresh(None).await;
    let unknown = app.refresh(Some("bm90LWEtdG9rZW4")).await;
    let (_, spent) = app.login_demo().await;
    app.refresh(Some(&spent)).await.assert_error(ErrCode::Ok);
    let reused = app.refresh(Some(&spent)).await;
    let (_, logged_out) = app.login_demo().await;
    app.request(
        reqwest::Method::POST,
        "/api/auth/logout",
        None,
        None,
        Some(&logged_out),
    )
    .await
    .assert_error(ErrCode::Ok);
    let revoked = app.refresh(Some(&logged_out)).await;
    for answer in [&missing, &unknown, &reused, &revoked] {
        answer.assert_error(ErrCode::SessionOver);
    }
    for answer in [&unknown, &reused, &revoked] {
        assert_eq!(answer.body, missing.body, "one message for every refusal");
    }
}

#[tokio::test]
async fn a_grace_answer_expires_with_the_grace_window() {
    let app = spawn_app_with(|settings| {
        settings.tokens.reuse_grace = Duration::from_secs(5);
        settings.tokens.access_ttl = Duration::from_secs(600);
        settings.tokens.idle_ttl = Duration::from_secs(3600);
    })
    .await;
    let (_, first) = app.login_demo().await;
    let rotated = app.refresh(Some(&first)).await;
    rotated.assert_error(ErrCode::Ok);
    let full = rotated.data()["expires_at"].as_i64().expect("expiry") - now_s();
    assert!(full > 590, "a rotation gets the full lifetime: {full}");
    let grace = app.refresh(Some(&first)).await;
    grace.assert_error(ErrCode::Ok);
    assert!(
        grace.refresh_cookie.as_ref().is_some_and(|c| !c.is_empty()),
        "a grace answer carries a sibling cookie"
    );
    let left = grace.data()["expires_at"].as_i64().expect("expiry") - now_s();
    assert!(
        left <= 6,
        "capped at the end of the 5 s window, not 600 s: {left}"
    );
    let expires_in = grace.data()["expires_in"].as_i64().expect("lifetime");
    assert!(
        (0..=6).contains(&expires_in) && expires_in >= left,
        "expires_in follows the cap (rounded up to the second): {expires_in}"
    );
    assert!(
        Settings::from_toml("[tokens]\nreuse_grace_secs = 31")
            .unwrap_err()
            .to_string()
            .contains("tokens.reuse_grace_secs"),
        "the grace window is capped at 30 s"
    );
}

#[tokio::test]
async fn access_tokens_carry_and_need_the_at_jwt_type() {
    let app = spawn_app().await;
    let (access, _) = app.login_demo().await;
    let header = access.split('.').next().expect("header");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
            .expect("base64"),
    )
    .expect("json");
    assert_eq!(header["typ"], "at+jwt");
    // The same claims and key, typed as a plain JWT: not an access token.
    let plain = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims_of(&access),
        &EncodingKey::from_secret(&secret_key()),
    )
    .expect("encode");
    app.get("/api/me", Some(&plain))
        .await
        .assert_error(ErrCode::InvalidAccessToken);
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn pages_for_a_signed_in_user_are_never_stored() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    let cache_control = |response: &reqwest::Response| {
        response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let signed_in = app.page_signed_in("/orders", &cookie).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    assert_eq!(cache_control(&signed_in).as_deref(), Some("no-store"));
    let anonymous = app.page("/login").await;
    assert_eq!(
        cache_control(&anonymous).as_deref(),
        Some("private, no-cache")
    );
}

#[tokio::test]
async fn over_https_the_cookie_is_host_prefixed_and_only_that_one_is_read() {
    let app = spawn_app_with(|settings| {
        settings.server.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    })
    .await;
    let answer = app.login_demo_with(&[("x-forwarded-proto", "https")]).await;
    answer.assert_error(ErrCode::Ok);
    let set = answer
        .set_cookie
        .iter()
        .find(|c| c.starts_with("__Host-painless_refresh="))
        .expect("a __Host- cookie");
    for attribute in ["Secure", "Path=/", "HttpOnly"] {
        assert!(set.contains(attribute), "{attribute} in {set}");
    }
    assert!(!set.contains("Domain"), "{set}");
    let token = set
        .trim_start_matches("__Host-painless_refresh=")
        .split(';')
        .next()
        .expect("value")
        .to_owned();
    let refresh_with = |name: &str| {
        app.http
            .post(format!("{}/api/auth/refresh", app.base))
            .header("x-forwarded-proto", "https")
            .header(header::COOKIE, format!("{name}={token}"))
    };
    // A cookie planted without the prefix (by a sibling subdomain, say) is not read.
    app.send(refresh_with(REFRESH_COOKIE))
        .await
        .assert_error(ErrCode::SessionOver);
    app.send(refresh_with("__Host-painless_refresh"))
        .await
        .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn an_idle_session_cannot_refresh_and_the_cookie_lives_only_that_long() {
    let app = spawn_app_with(|settings| {
        settings.tokens.access_ttl = Duration::from_secs(1);
        settings.tokens.idle_ttl = Duration::from_secs(1);
        settings.tokens.reuse_grace = Duration::from_secs(0);
    })
    .await;
    let answer = app.login("ACME", "demo", "demo-password").await;
    answer.assert_error(ErrCode::Ok);
    let set = answer
        .set_cookie
        .iter()
        .find(|c| c.starts_with(REFRESH_COOKIE))
        .expect("cookie");
    assert!(
        set.contains("Max-Age=1"),
        "the cookie follows the idle timeout: {set}"
    );
    let token = answer.refresh_cookie.expect("token");
    // Past the idle timeout (a threshold on the server's clock, not a race).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.refresh(Some(&token))
        .await
        .assert_error(ErrCode::SessionOver);
}

#[tokio::test]
async fn the_data_directory_and_database_are_private_and_a_readable_secret_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");
    let mut settings = test_settings(&data_dir).await;
    // The SQLite file and the generated key file, whichever backend the run tests.
    settings.server.database = painless::server::config::Secret::new("painless.db");
    settings.tokens.jwt_secret = painless::server::config::Secret::default();
    let app = Application::build(settings.clone()).await.expect("starts");
    drop(app);
    let mode = |path: &std::path::Path| {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&data_dir.join("painless.db")), 0o600);
    assert_eq!(mode(&data_dir.join("jwt-secret")), 0o600);

    std::fs::set_permissions(
        data_dir.join("jwt-secret"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let error = Application::build(settings)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("jwt-secret"), "{error}");
    assert!(error.contains("chmod 600"), "says how to fix it: {error}");
}

#[tokio::test]
async fn switching_demo_mode_off_locks_demo_users_and_their_sessions_out() {
    let app = spawn_app().await;
    let (access, refresh) = app.login_demo().await;
    let (_, lab_refresh) = app.login_demo().await;
    app.demo("lifetime", &lab_refresh, Some(json!({"seconds": 5})))
        .await
        .assert_error(ErrCode::Ok);
    let mut settings = app.settings.clone();
    let data_dir = app.stop().await;

    settings.demo.enabled = false;
    let app = start(settings.clone(), data_dir).await;
    app.login("ACME", "demo", "demo-password")
        .await
        .assert_error(ErrCode::BadLogin);
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    app.refresh(Some(&refresh))
        .await
        .assert_error(ErrCode::SessionOver);
    app.refresh(Some(&lab_refresh))
        .await
        .assert_error(ErrCode::SessionOver);
    let data_dir = app.stop().await;

    // Back on, the users log in again, with the normal access lifetime.
    settings.demo.enabled = true;
    let app = start(settings, data_dir).await;
    let answer = app.login("ACME", "demo", "demo-password").await;
    answer.assert_error(ErrCode::Ok);
    let lifetime = answer.data()["expires_at"].as_i64().expect("expiry") - now_s();
    assert!(lifetime > 20, "{lifetime}");
}

#[tokio::test]
async fn refused_requests_are_counted_in_memory_and_stored_on_a_clean_stop() {
    let started = std::time::Instant::now();
    let app = spawn_app().await;
    for _ in 0..5 {
        app.get("/api/me", None)
            .await
            .assert_error(ErrCode::InvalidCredential);
    }
    let reported = app.counters(None).await;
    assert_eq!(reported["server"]["rejected"]["40001"], 5);
    // Not one write per refused request: the database has not seen them yet.
    let settings = app.settings.clone();
    let stored = || stored_counter(&settings, "rejected.40001");
    if started.elapsed() < painless::server::FLUSH_EVERY {
        assert_eq!(stored().await, None, "no flush yet, so no write");
    }
    let _data_dir = app.stop().await; // kept until the SQLite file is read
    assert_eq!(stored().await, Some(5));
}

#[tokio::test]
async fn rotating_the_signing_key_logs_nobody_out() {
    let new_key = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA"; // 32 bytes, base64
    let app = spawn_app().await;
    let (old_access, _) = app.login_demo().await;
    let mut settings = app.settings.clone();
    let data_dir = app.stop().await;

    settings.tokens.jwt_secret = painless::server::config::Secret::new(new_key);
    settings.tokens.jwt_previous_secret = painless::server::config::Secret::new(SECRET);
    let app = start(settings.clone(), data_dir).await;
    app.get("/api/me", Some(&old_access))
        .await
        .assert_error(ErrCode::Ok);
    let (new_access, _) = app.login_demo().await;
    let kid = |token: &str| jsonwebtoken::decode_header(token).expect("header").kid;
    assert_ne!(
        kid(&new_access),
        kid(&old_access),
        "signed with the new key"
    );
    let data_dir = app.stop().await;

    settings.tokens.jwt_previous_secret = painless::server::config::Secret::default();
    let app = start(settings, data_dir).await;
    app.get("/api/me", Some(&new_access))
        .await
        .assert_error(ErrCode::Ok);
    app.get("/api/me", Some(&old_access))
        .await
        .assert_error(ErrCode::InvalidAccessToken);
}

#[tokio::test]
async fn a_user_sees_their_sessions_and_can_end_all_the_others() {
    let app = spawn_app().await;
    let (here, _) = app.login_demo().await;
    let (elsewhere_access, elsewhere_refresh) = app.login_demo().await;
    let (_, other_user) = {
        let answer = app.login("GLOBEX", "hank", "hank-password").await;
        answer.assert_error(ErrCode::Ok);
        (
            answer.access_token(),
            answer.refresh_cookie.expect("cookie"),
        )
    };
    let listed = app.get("/api/sessions", Some(&here)).await;
    listed.assert_error(ErrCode::Ok);
    let sessions = listed.data().as_array().expect("a list").clone();
    assert_eq!(sessions.len(), 2, "only this user's: {sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);

    let ended = app
        .request(
            reqwest::Method::POST,
            "/api/sessions/end-others",
            None,
            Some(&here),
            None,
        )
        .await;
    ended.assert_error(ErrCode::Ok);
    assert_eq!(ended.data()["ended"], 1);
    app.get("/api/me", Some(&elsewhere_access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    app.refresh(Some(&elsewhere_refresh))
        .await
        .assert_error(ErrCode::SessionOver);
    app.get("/api/me", Some(&here))
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&other_user))
        .await
        .assert_error(ErrCode::Ok);
    let listed = app.get("/api/sessions", Some(&here)).await;
    assert_eq!(listed.data().as_array().map(Vec::len), Some(1));
    // Without a token: the usual refresh errcode, so the client refreshes first.
    app.request(
        reqwest::Method::POST,
        "/api/sessions/end-others",
        None,
        None,
        None,
    )
    .await
    .assert_error(ErrCode::InvalidCredential);
}
