//! `server.auth_errors`: the seed's contract (HTTP 200 and the errcode) by default, RFC
//! 6750's statuses in `"http"` mode — the same envelopes either way.

use painless::api::ErrCode;
use painless::server::config::AuthErrors;
use reqwest::StatusCode;

use super::common::*;

const INVALID_TOKEN: &str = r#"Bearer error="invalid_token""#;

#[tokio::test]
async fn in_http_mode_refused_credentials_answer_the_statuses_standard_clients_key_on() {
    let app = spawn_app_with(|settings| settings.server.auth_errors = AuthErrors::Http).await;
    let (access, refresh) = app.login_demo().await;

    // (what, answer, errcode, status, challenge)
    let no_token = app.get("/api/me", None).await;
    let garbage = app.get("/api/me", Some("not-a-token")).await;
    let superseded = {
        app.demo("expire", &refresh, None)
            .await
            .assert_error(ErrCode::Ok);
        app.get("/api/me", Some(&access)).await
    };
    let bad_login = app.login("ACME", "demo", "wrong-password").await;
    let no_cookie = app.refresh(None).await;
    let unknown = app.get("/api/nothing-here", None).await;
    for (what, answer, code, status, challenge) in [
        (
            "no token",
            &no_token,
            ErrCode::InvalidCredential,
            StatusCode::UNAUTHORIZED,
            Some("Bearer"),
        ),
        (
            "a garbage token",
            &garbage,
            ErrCode::InvalidAccessToken,
            StatusCode::UNAUTHORIZED,
            Some(INVALID_TOKEN),
        ),
        (
            "a superseded token",
            &superseded,
            ErrCode::SessionSuperseded,
            StatusCode::UNAUTHORIZED,
            Some(INVALID_TOKEN),
        ),
        (
            "a wrong password",
            &bad_login,
            ErrCode::BadLogin,
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "a refresh without its cookie",
            &no_cookie,
            ErrCode::SessionOver,
            StatusCode::BAD_REQUEST,
            None,
        ),
        (
            "an unknown endpoint",
            &unknown,
            ErrCode::NotFound,
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        answer.assert_error(code);
        assert_eq!(answer.status, status, "{what}");
        assert_eq!(answer.www_authenticate.as_deref(), challenge, "{what}");
    }

    // The refresh itself works as always, and the new token is good.
    let refreshed = app.refresh(Some(&refresh)).await;
    refreshed.assert_error(ErrCode::Ok);
    assert_eq!(refreshed.status, StatusCode::OK);
    let me = app.get("/api/me", Some(&refreshed.access_token())).await;
    me.assert_error(ErrCode::Ok);
    assert_eq!(me.www_authenticate, None);
}

#[tokio::test]
async fn the_envelope_mode_answers_200_with_the_errcode_as_the_seed_expects() {
    let app = spawn_app().await;
    assert_eq!(
        app.settings.server.auth_errors,
        AuthErrors::Envelope,
        "the default"
    );
    for answer in [
        app.get("/api/me", None).await,
        app.get("/api/me", Some("not-a-token")).await,
        app.refresh(None).await,
    ] {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.www_authenticate, None);
        assert_ne!(answer.errcode(), 0);
    }
}
