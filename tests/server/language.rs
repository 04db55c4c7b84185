//! `errmsg` speaks the request's language (the `painless_lang` cookie, else
//! `Accept-Language`); the errcode never changes with it, and answers say that they vary.

use painless::api::{paths, ErrCode};
use painless::i18n::{Locale, LOCALE_COOKIE};
use serde_json::json;

use crate::common::*;

/// `GET /api/me` without a token, with these request headers.
async fn missing_token(app: &TestApp, headers: &[(&str, &str)]) -> (Answer, String) {
    let mut request = app.http.get(format!("{}{}", app.base, paths::ME));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("server answers");
    let status = response.status();
    let vary = response
        .headers()
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    let body: serde_json::Value = response.json().await.expect("JSON");
    let answer = Answer {
        status,
        retry_after: None,
        content_type: "application/json".into(),
        body,
        refresh_cookie: None,
        set_cookie: Vec::new(),
        location: String::new(),
        www_authenticate: None,
    };
    (answer, vary)
}

#[tokio::test]
async fn errmsg_follows_accept_language_and_the_errcode_does_not() {
    let app = spawn_app().await;
    let (chinese, vary) = missing_token(&app, &[("accept-language", "zh-CN,zh;q=0.9")]).await;
    chinese.assert_error(ErrCode::InvalidCredential);
    assert_eq!(chinese.body["errmsg"], "缺少访问令牌");
    assert!(
        vary.contains("Accept-Language") && vary.contains("Cookie"),
        "{vary}"
    );

    for headers in [
        &[("accept-language", "en-US,en;q=0.9")][..],
        &[("accept-language", "zh-TW")][..],
        &[][..],
    ] {
        let (english, _) = missing_token(&app, headers).await;
        english.assert_error(ErrCode::InvalidCredential);
        assert_eq!(
            english.body["errmsg"], "missing access token",
            "{headers:?}"
        );
    }
}

#[tokio::test]
async fn the_language_cookie_wins_over_accept_language() {
    let app = spawn_app().await;
    let cookie = format!("{LOCALE_COOKIE}=en");
    let (answer, _) = missing_token(
        &app,
        &[("accept-language", "zh-CN"), ("cookie", cookie.as_str())],
    )
    .await;
    assert_eq!(answer.body["errmsg"], "missing access token");
    let cookie = format!("{LOCALE_COOKIE}=zh-CN");
    let (answer, _) = missing_token(&app, &[("cookie", cookie.as_str())]).await;
    assert_eq!(answer.body["errmsg"], "缺少访问令牌");
}

#[tokio::test]
async fn every_kind_of_refusal_and_success_speaks_chinese_when_asked() {
    let app = spawn_app().await;
    let chinese = |request: reqwest::RequestBuilder| request.header("accept-language", "zh-CN");

    let bad_login = app
        .send(
            chinese(app.http.post(format!("{}{}", app.base, paths::LOGIN)))
                .json(&json!({"customer_code": "ACME", "username": "demo", "password": "wrong"})),
        )
        .await;
    bad_login.assert_error(ErrCode::BadLogin);
    assert_eq!(
        bad_login.body["errmsg"],
        Locale::ZhCn.errmsg(ErrCode::BadLogin)
    );

    let malformed = app
        .send(chinese(app.http.post(format!("{}{}", app.base, paths::LOGIN))).json(&json!({})))
        .await;
    malformed.assert_error(ErrCode::InvalidInput);
    let errmsg = malformed.body["errmsg"].as_str().expect("errmsg");
    assert!(errmsg.starts_with("输入无效："), "{errmsg}");

    let unknown = app
        .send(chinese(app.http.get(format!("{}/api/nope", app.base))))
        .await;
    unknown.assert_error(ErrCode::NotFound);
    assert_eq!(unknown.body["errmsg"], "没有这个 API 接口");

    let health = app
        .send(chinese(app.http.get(format!(
            "{}{}",
            app.base,
            paths::HEALTH
        ))))
        .await;
    health.assert_error(ErrCode::Ok);
    assert_eq!(health.body["errmsg"], "成功");
}
