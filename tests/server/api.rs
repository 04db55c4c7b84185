//! The server through its HTTP API: the real app on a random loopback port with a
//! temporary database, one `spawn_app()` per test.

use std::collections::HashMap;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use painless::api::{ErrCode, REFRESH_COOKIE};
use painless::server::config::Secret;
use painless::server::Application;
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use super::common::*;

// Login

#[tokio::test]
async fn login_returns_a_token_its_expiry_the_user_and_a_strict_httponly_cookie() {
    let app = spawn_app().await;
    let answer = app.login("acme", "Demo", "demo-password").await;
    answer.assert_error(ErrCode::Ok);
    assert_eq!(answer.status, StatusCode::OK);
    let data = answer.data();
    assert_eq!(
        data["user"],
        json!({"username": "demo", "display_name": "Dana Demo", "customer_code": "ACME"})
    );
    let expires_at = data["expires_at"].as_i64().expect("expires_at");
    assert!(
        (expires_at - now_s() - 30).abs() <= 2,
        "default lifetime 30 s"
    );
    assert_eq!(
        data["expires_in"], 30,
        "the lifetime, for clients whose clock disagrees with the server's"
    );
    let cookie = answer
        .set_cookie
        .iter()
        .find(|c| c.starts_with(REFRESH_COOKIE))
        .expect("cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain http: not Secure");
    let refresh = answer.refresh_cookie.expect("token");
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&refresh).map(|b| b.len()).ok(),
        Some(32),
        "256 random bits"
    );
}

#[tokio::test]
async fn api_answers_are_never_cached_and_pages_carry_safety_headers() {
    let app = spawn_app().await;
    let (access, _) = app.login_demo().await;
    for path in ["/api/me", "/api/nope"] {
        let response = app
            .http
            .get(format!("{}{path}", app.base))
            .bearer_auth(&access)
            .send()
            .await
            .expect("answer");
        let cache = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok());
        assert_eq!(cache, Some("no-store"), "{path}");
    }
    let page = app.page("/login").await;
    for (name, value) in [
        ("cache-control", "private, no-cache"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "same-origin"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        assert_eq!(
            page.headers().get(name).and_then(|v| v.to_str().ok()),
            Some(value),
            "{name}"
        );
    }
}

#[tokio::test]
async fn the_cookie_is_secure_behind_a_trusted_https_proxy_only() {
    async fn login_via_https_proxy(app: &TestApp) -> Answer {
        app.login_demo_with(&[("x-forwarded-proto", "https")]).await
    }
    let untrusted = spawn_app().await;
    let answer = login_via_https_proxy(&untrusted).await;
    answer.assert_error(ErrCode::Ok);
    assert!(
        !answer.set_cookie.iter().any(|c| c.contains("Secure")),
        "anyone can send X-Forwarded-Proto: believed only from trusted proxies"
    );
    let behind_proxy = spawn_app_with(|settings| {
        settings.server.trusted_proxies = vec!["127.0.0.0/8".parse().expect("net")];
    })
    .await;
    let answer = login_via_https_proxy(&behind_proxy).await;
    answer.assert_error(ErrCode::Ok);
    assert!(answer.set_cookie.iter().any(|c| c.contains("Secure")));
}

#[tokio::test]
async fn bad_logins_all_look_the_same() {
    let app = spawn_app().await;
    let wrong_password = app.login("ACME", "demo", "wrong-password").await;
    let unknown_user = app.login("ACME", "nobody", "demo-password").await;
    let unknown_customer = app.login("NOPE", "demo", "demo-password").await;
    for answer in [&wrong_password, &unknown_user, &unknown_customer] {
        answer.assert_error(ErrCode::BadLogin);
        assert_eq!(answer.status, StatusCode::OK, "a business error");
        assert_eq!(answer.refresh_cookie, None);
    }
    assert_eq!(wrong_password.body, unknown_user.body);
    assert_eq!(wrong_password.body, unknown_customer.body);
}

#[tokio::test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.login("ACME", "demo", "wrong-password")
            .await
            .assert_error(ErrCode::BadLogin);
    }
    let locked = app.login("ACME", "demo", "demo-password").await;
    locked.assert_error(ErrCode::RateLimited);
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    app.login("GLOBEX", "hank", "hank-password")
        .await
        .assert_error(ErrCode::Ok);
}

// Protected endpoints

#[tokio::test]
async fn protected_endpoints_answer_with_a_valid_bearer_token() {
    let app = spawn_app().await;
    let (access, _) = app.login_demo().await;
    let me = app.get("/api/me", Some(&access)).await;
    me.assert_error(ErrCode::Ok);
    assert_eq!(me.data()["user"]["customer_code"], "ACME");

    let orders = app
        .get("/api/orders?page=2&page_size=7", Some(&access))
        .await;
    orders.assert_error(ErrCode::Ok);
    assert_eq!(orders.data()["items"].as_array().map(Vec::len), Some(7));
    assert_eq!(orders.data()["page"], 2);
    assert!(orders.data()["total"].as_u64().unwrap_or_default() >= 40);

    let stats = app.get("/api/stats", Some(&access)).await;
    stats.assert_error(ErrCode::Ok);
    assert!(stats.data()["revenue_cents"].as_i64().unwrap_or_default() > 0);
}

#[tokio::test]
async fn the_original_appkey_and_token_query_parameters_work_when_switched_on() {
    let app = spawn_app_with(|settings| settings.server.query_tokens = true).await;
    let (access, _) = app.login_demo().await;
    let ok = app
        .get(&format!("/api/me?appkey=ACME&token={access}"), None)
        .await;
    ok.assert_error(ErrCode::Ok);
    let wrong_appkey = app
        .get(&format!("/api/me?appkey=GLOBEX&token={access}"), None)
        .await;
    wrong_appkey.assert_error(ErrCode::InvalidAccessToken);
    let paged = app
        .get(
            &format!("/api/orders?page=1&page_size=3&appkey=ACME&token={access}"),
            None,
        )
        .await;
    assert_eq!(paged.data()["items"].as_array().map(Vec::len), Some(3));

    let default = spawn_app().await;
    let (access, _) = default.login_demo().await;
    default
        .get(&format!("/api/me?appkey=ACME&token={access}"), None)
        .await
        .assert_error(ErrCode::InvalidCredential);
}

#[tokio::test]
async fn every_kind_of_bad_access_token_gets_its_errcode() {
    let app = spawn_app().await;
    let (access, _) = app.login_demo().await;
    let secret = &secret_key();

    let expired = forge(&access, Algorithm::HS256, secret, |c| {
        c["iat"] = json!(now_s() - 120);
        c["exp"] = json!(now_s() - 60);
    });
    let mut tampered = access.clone();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let forged_claims = {
        let mut parts: Vec<String> = access.split('.').map(str::to_owned).collect();
        let mut claims = claims_of(&access);
        claims["sub"] = json!("999");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    };
    let alg_none = {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = access.split('.').nth(1).expect("payload");
        format!("{header}.{payload}.")
    };
    // HS512 with our secret, and "RS256" in the header over an HMAC signature: only HS256 passes.
    let other_algorithm = forge(&access, Algorithm::HS512, secret, |_| {});
    let rs_confusion = {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
        let payload = access.split('.').nth(1).expect("payload");
        let good_signature = access.split('.').nth(2).expect("signature");
        format!("{header}.{payload}.{good_signature}")
    };
    let wrong_secret = forge(
        &access,
        Algorithm::HS256,
        b"another-secret-another-secret-another",
        |_| {},
    );
    let wrong_audience = forge(&access, Algorithm::HS256, secret, |c| {
        c["aud"] = json!("someone-else")
    });
    let wrong_issuer = forge(&access, Algorithm::HS256, secret, |c| {
        c["iss"] = json!("someone-else")
    });
    let expired_and_tampered = format!("{}x", expired);

    let cases = [
        (
            "expired",
            Some(expired.as_str()),
            ErrCode::AccessTokenExpired,
        ),
        (
            "tampered signature",
            Some(tampered.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "changed claims",
            Some(forged_claims.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "alg none",
            Some(alg_none.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "HS512",
            Some(other_algorithm.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "RS256 header",
            Some(rs_confusion.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "wrong secret",
            Some(wrong_secret.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "wrong audience",
            Some(wrong_audience.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "wrong issuer",
            Some(wrong_issuer.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        (
            "expired and tampered",
            Some(expired_and_tampered.as_str()),
            ErrCode::InvalidAccessToken,
        ),
        ("garbage", Some("garbage"), ErrCode::InvalidAccessToken),
        ("missing", None, ErrCode::InvalidCredential),
    ];
    for (name, token, code) in cases {
        let answer = app.get("/api/me", token).await;
        assert_eq!(
            answer.errcode(),
            i64::from(code.code()),
            "{name}: {}",
            answer.body
        );
        answer.assert_envelope();
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{name}: business errors answer 200"
        );
    }
    let basic = app
        .send(
            app.http
                .get(format!("{}/api/me", app.base))
                .header(header::AUTHORIZATION, "Basic ZGVtbzpkZW1v"),
        )
        .await;
    basic.assert_error(ErrCode::InvalidAccessToken);
}

/// What whoever holds the signing key (a copy of the database, say) can mint: a token of
/// exactly our shape, with the times they choose.
fn mint_with_the_key(like: &str, iat: i64, exp: i64) -> String {
    let mut claims = claims_of(like);
    claims["iat"] = json!(iat);
    claims["exp"] = json!(exp);
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret_key()))
        .expect("encode")
}

#[tokio::test]
async fn a_token_with_a_lifetime_or_issue_time_no_instance_grants_is_refused() {
    let app = spawn_app().await;
    let (access, cookie) = app.login_demo().await;
    let now = now_s();
    let ttl = app.settings.tokens.access_ttl.as_secs() as i64;
    let me = |token: String| {
        let app = &app;
        async move { app.get("/api/me", Some(&token)).await.errcode() }
    };
    let ok = i64::from(ErrCode::Ok.code());
    let invalid = i64::from(ErrCode::InvalidAccessToken.code());
    assert_eq!(
        me(mint_with_the_key(&access, now, now + ttl)).await,
        ok,
        "our own shape"
    );
    for (name, iat, exp) in [
        ("until 2100", now, 4_102_444_800),
        ("an hour", now, now + 3_600),
        ("issued a day ahead", now + 86_400, now + 86_400 + ttl),
        ("issued a minute ahead", now + 60, now + 60 + ttl),
    ] {
        assert_eq!(
            me(mint_with_the_key(&access, iat, exp)).await,
            invalid,
            "{name}"
        );
    }
    // The lab's per-session lifetime is one this server grants.
    app.demo("lifetime", &cookie, Some(json!({"seconds": 600})))
        .await
        .assert_error(ErrCode::Ok);
    assert_eq!(
        me(mint_with_the_key(&access, now, now + 600)).await,
        ok,
        "the lab's 600 s"
    );
    assert_eq!(
        me(mint_with_the_key(&access, now, now + 3_600)).await,
        invalid,
        "beyond it"
    );
}

// Refresh

#[tokio::test]
async fn refresh_rotates_the_cookie_and_the_new_token_works() {
    let app = spawn_app().await;
    let (_, first) = app.login_demo().await;
    let answer = app.refresh(Some(&first)).await;
    answer.assert_error(ErrCode::Ok);
    let second = answer.refresh_cookie.clone().expect("rotated cookie");
    assert_ne!(first, second);
    assert_eq!(answer.data()["user"]["username"], "demo");
    app.get("/api/me", Some(&answer.access_token()))
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&second)).await.assert_error(ErrCode::Ok);
    let counters = app.counters(Some(&second)).await;
    assert_eq!(counters["session"]["rotations"], 2);
}

/// The rotation's answer is lost on the way (the cookie never reached the browser): the
/// repeat with the spent cookie, inside the window, gets a working cookie of its own, and
/// the session carries on past the window.
#[tokio::test]
async fn a_lost_rotation_answer_is_repeated_inside_the_window_and_the_session_carries_on() {
    let grace = Duration::from_secs(20);
    let app = spawn_app_with(|s| {
        s.tokens.reuse_grace = grace;
        s.tokens.access_ttl = Duration::from_secs(600);
    })
    .await;
    let (_, first) = app.login_demo().await;
    let lost = app.refresh(Some(&first)).await;
    lost.assert_error(ErrCode::Ok);
    let repeat = app.refresh(Some(&first)).await;
    repeat.assert_error(ErrCode::Ok);
    let sibling = repeat
        .refresh_cookie
        .clone()
        .expect("a cookie for the repeat");
    assert!(!sibling.is_empty() && Some(&sibling) != lost.refresh_cookie.as_ref());
    let expires_in = repeat.data()["expires_in"].as_i64().expect("expires_in");
    assert!(
        expires_in <= grace.as_secs() as i64 + 1,
        "the grace answer's access token ends with the window, not in 600 s: {expires_in} s"
    );
    app.get("/api/me", Some(&repeat.access_token()))
        .await
        .assert_error(ErrCode::Ok);
    // The sibling rotates like any current token, and so does its successor.
    let next = app.refresh(Some(&sibling)).await;
    next.assert_error(ErrCode::Ok);
    let last = app.refresh(next.refresh_cookie.as_deref()).await;
    last.assert_error(ErrCode::Ok);
    let counters = app.counters(last.refresh_cookie.as_deref()).await;
    assert_eq!(
        (
            counters["session"]["rotations"].as_u64(),
            counters["session"]["grace_refreshes"].as_u64(),
            counters["session"]["reuse_detections"].as_u64()
        ),
        (Some(3), Some(1), Some(0))
    );
}

#[tokio::test]
async fn a_spent_token_outside_the_grace_window_revokes_the_whole_family() {
    let app = spawn_app_with(|s| s.tokens.reuse_grace = Duration::from_secs(0)).await;
    let (access, first) = app.login_demo().await;
    let second = app
        .refresh(Some(&first))
        .await
        .refresh_cookie
        .expect("rotated");
    let reuse = app.refresh(Some(&first)).await;
    reuse.assert_error(ErrCode::SessionOver);
    assert_eq!(reuse.refresh_cookie.as_deref(), Some(""), "cookie cleared");
    app.refresh(Some(&second))
        .await
        .assert_error(ErrCode::SessionOver);
    // Access tokens of the revoked family stop working at once.
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    assert_eq!(app.counters(None).await["server"]["reuse_detections"], 1);
}

#[tokio::test]
async fn fifty_concurrent_refreshes_with_one_cookie_rotate_once_and_all_succeed() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    let answers = futures::future::join_all((0..50).map(|_| app.refresh(Some(&cookie)))).await;
    for answer in &answers {
        assert!(!answer.status.is_server_error(), "{}", answer.body);
        answer.assert_error(ErrCode::Ok);
    }
    let mut new_cookies: Vec<_> = answers
        .iter()
        .map(|a| {
            a.refresh_cookie
                .clone()
                .expect("every answer sets a cookie")
        })
        .collect();
    let counters = app.counters(None).await["server"].clone();
    assert_eq!(
        (
            counters["rotations"].as_u64(),
            counters["grace_refreshes"].as_u64(),
            counters["reuse_detections"].as_u64()
        ),
        (Some(1), Some(49), Some(0)),
        "one rotation; the others are grace answers"
    );
    // Whichever Set-Cookie the browser applies last, the cookie it keeps works.
    let kept = new_cookies.swap_remove(29);
    new_cookies.sort();
    new_cookies.dedup();
    assert_eq!(new_cookies.len(), 49, "a token of its own for each answer");
    app.refresh(Some(&kept)).await.assert_error(ErrCode::Ok);
    assert_eq!(app.counters(None).await["server"]["rotations"], 2);
}

#[tokio::test]
async fn fifty_concurrent_refreshes_without_a_grace_window_end_the_session_consistently() {
    let app = spawn_app_with(|s| s.tokens.reuse_grace = Duration::from_secs(0)).await;
    let (_, cookie) = app.login_demo().await;
    let answers = futures::future::join_all((0..50).map(|_| app.refresh(Some(&cookie)))).await;
    assert!(answers.iter().all(|a| !a.status.is_server_error()));
    let succeeded = answers.iter().filter(|a| a.errcode() == 0).count();
    let over = answers
        .iter()
        .filter(|a| a.errcode() == i64::from(ErrCode::SessionOver.code()))
        .count();
    assert_eq!(
        (succeeded, over),
        (1, 49),
        "one rotation, then reuse detected"
    );
    let rotated = answers
        .iter()
        .find_map(|a| a.refresh_cookie.clone().filter(|c| !c.is_empty()))
        .expect("one new cookie");
    app.refresh(Some(&rotated))
        .await
        .assert_error(ErrCode::SessionOver);
}

#[tokio::test]
async fn refresh_without_or_with_a_bad_cookie_ends_the_session() {
    let app = spawn_app().await;
    for cookie in [
        None,
        Some("garbage"),
        Some("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let answer = app.refresh(cookie).await;
        answer.assert_error(ErrCode::SessionOver);
        assert_eq!(
            answer.refresh_cookie.as_deref(),
            Some(""),
            "{cookie:?}: cookie cleared"
        );
    }
}

#[tokio::test]
async fn a_refreshed_token_lives_as_long_as_the_session_lifetime_says() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    app.demo("lifetime", &cookie, Some(json!({"seconds": 7})))
        .await
        .assert_error(ErrCode::Ok);
    let answer = app.refresh(Some(&cookie)).await;
    let expires_at = answer.data()["expires_at"].as_i64().expect("expiry");
    assert!((expires_at - now_s() - 7).abs() <= 1, "7 s token");
}

// Logout and demo controls

#[tokio::test]
async fn logout_revokes_the_session_and_clears_the_cookie() {
    let app = spawn_app().await;
    let (access, cookie) = app.login_demo().await;
    let answer = app
        .request(Method::POST, "/api/auth/logout", None, None, Some(&cookie))
        .await;
    answer.assert_error(ErrCode::Ok);
    assert_eq!(answer.refresh_cookie.as_deref(), Some(""));
    app.refresh(Some(&cookie))
        .await
        .assert_error(ErrCode::SessionOver);
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    // Logging out twice, or without a session, is fine.
    app.request(Method::POST, "/api/auth/logout", None, None, None)
        .await
        .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn a_login_over_a_live_session_ends_that_session() {
    let app = spawn_app().await;
    let (old_access, old_cookie) = app.login_demo().await;
    let (_, elsewhere) = app.login_demo().await; // another browser: untouched
    let again = app
        .login_with(
            &[("cookie", &format!("{REFRESH_COOKIE}={old_cookie}"))],
            "GLOBEX",
            "hank",
            "hank-password",
        )
        .await;
    again.assert_error(ErrCode::Ok);
    let new_cookie = again.refresh_cookie.clone().expect("a new cookie");
    assert_ne!(new_cookie, old_cookie);
    app.refresh(Some(&old_cookie))
        .await
        .assert_error(ErrCode::SessionOver);
    app.get("/api/me", Some(&old_access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    app.refresh(Some(&new_cookie))
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&elsewhere))
        .await
        .assert_error(ErrCode::Ok);
    // A cookie of no live session is just replaced.
    app.login_with(
        &[("cookie", &format!("{REFRESH_COOKIE}=nonsense"))],
        "ACME",
        "demo",
        "demo-password",
    )
    .await
    .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn demo_expire_supersedes_current_tokens_and_a_refresh_brings_a_working_one() {
    let app = spawn_app().await;
    let (access, cookie) = app.login_demo().await;
    app.demo("expire", &cookie, None)
        .await
        .assert_error(ErrCode::Ok);
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::SessionSuperseded);
    let refreshed = app.refresh(Some(&cookie)).await;
    app.get("/api/me", Some(&refreshed.access_token()))
        .await
        .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn demo_revoke_makes_the_next_refresh_fail() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    app.demo("revoke", &cookie, None)
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&cookie))
        .await
        .assert_error(ErrCode::SessionOver);
    app.demo("expire", &cookie, None)
        .await
        .assert_error(ErrCode::SessionOver);
}

#[tokio::test]
async fn counters_count_logins_refreshes_and_rejections_per_errcode() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    app.refresh(Some(&cookie)).await;
    app.get("/api/me", None).await;
    app.get("/api/me", Some("garbage")).await;
    app.get("/api/me", Some("garbage")).await;
    let counters = app.counters(None).await;
    let server = &counters["server"];
    assert_eq!(server["logins"], 1);
    assert_eq!(server["refreshes"], 1);
    assert_eq!(server["rejected"]["40001"], 1);
    assert_eq!(server["rejected"]["40014"], 2);
    assert!(
        counters["session"].is_null(),
        "no cookie, no session counters"
    );
}

/// Adds ACME's `rita` (password `regular-password`), a user who is not a demo user.
async fn add_regular_user(settings: &painless::server::Settings) {
    let hash = painless::server::hash_password("regular-password").expect("hash");
    execute_sql(
        settings,
        "INSERT INTO users (customer_code, username, display_name, password_hash)
         VALUES ('ACME', 'rita', 'Rita Regular', $1)",
        &[&hash],
    )
    .await;
}

#[tokio::test]
async fn the_labs_lifetime_control_is_for_demo_users_only() {
    let app = spawn_app().await;
    add_regular_user(&app.settings).await;
    let login = app.login("ACME", "rita", "regular-password").await;
    login.assert_error(ErrCode::Ok);
    let regular = login.refresh_cookie.clone().expect("cookie");
    let (_, demo) = app.login_demo().await;
    let hour = Some(json!({"seconds": 3600}));
    app.demo("lifetime", &regular, hour.clone())
        .await
        .assert_error(ErrCode::DemoDisabled);
    let refreshed = app.refresh(Some(&regular)).await;
    let lifetime = refreshed.data()["expires_in"].as_i64().expect("expires_in");
    assert_eq!(
        lifetime,
        app.settings.tokens.access_ttl.as_secs() as i64,
        "unchanged"
    );
    app.demo("lifetime", &demo, hour)
        .await
        .assert_error(ErrCode::Ok);
}

#[tokio::test]
async fn demo_controls_are_off_when_demo_mode_is() {
    let app = spawn_app_with(|s| s.demo.enabled = false).await;
    // Demo users are not created either.
    app.login("ACME", "demo", "demo-password")
        .await
        .assert_error(ErrCode::BadLogin);
    for path in ["/api/demo/expire", "/api/demo/revoke"] {
        app.request(Method::POST, path, None, None, Some("x"))
            .await
            .assert_error(ErrCode::DemoDisabled);
    }
    app.get("/api/demo/counters", None)
        .await
        .assert_error(ErrCode::DemoDisabled);
}

// Malformed input

#[tokio::test]
async fn malformed_requests_are_answered_with_the_envelope() {
    let app = spawn_app().await;
    let (access, cookie) = app.login_demo().await;
    let login = format!("{}/api/auth/login", app.base);
    let json_post = |body: String| {
        app.http
            .post(&login)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
    };
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, ErrCode)> = vec![
        (
            "bad JSON",
            json_post("{not json".into()),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "wrong types",
            json_post(r#"{"customer_code": 1, "username": "demo", "password": "x"}"#.into()),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "missing field",
            json_post(r#"{"customer_code": "ACME", "username": "demo"}"#.into()),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "empty field",
            json_post(r#"{"customer_code": "ACME", "username": " ", "password": "x"}"#.into()),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            // PostgreSQL text cannot hold NUL: refused before it reaches any store.
            "a control character in the username",
            json_post(
                r#"{"customer_code": "ACME", "username": "de\u0000mo", "password": "x"}"#.into(),
            ),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "no content type",
            app.http.post(&login).body("{}"),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "huge body",
            json_post(format!(r#"{{"customer_code": "{}"}}"#, "A".repeat(200_000))),
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrCode::PayloadTooLarge,
        ),
        (
            "unknown route",
            app.http.get(format!("{}/api/nope", app.base)),
            StatusCode::NOT_FOUND,
            ErrCode::NotFound,
        ),
        (
            "bare /api",
            app.http.get(format!("{}/api", app.base)),
            StatusCode::NOT_FOUND,
            ErrCode::NotFound,
        ),
        (
            "wrong method",
            app.http.get(&login),
            StatusCode::METHOD_NOT_ALLOWED,
            ErrCode::MethodNotAllowed,
        ),
        (
            "wrong method on a protected route",
            app.http.delete(format!("{}/api/me", app.base)),
            StatusCode::METHOD_NOT_ALLOWED,
            ErrCode::MethodNotAllowed,
        ),
        (
            "page not a number",
            app.http
                .get(format!("{}/api/orders?page=abc", app.base))
                .bearer_auth(&access),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "page zero",
            app.http
                .get(format!("{}/api/orders?page=0", app.base))
                .bearer_auth(&access),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "page size too big",
            app.http
                .get(format!("{}/api/orders?page_size=500", app.base))
                .bearer_auth(&access),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "lifetime out of range",
            app.http
                .post(format!("{}/api/demo/lifetime", app.base))
                .header(header::COOKIE, format!("{REFRESH_COOKIE}={cookie}"))
                .json(&json!({"seconds": 0})),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "lifetime of the wrong type",
            app.http
                .post(format!("{}/api/demo/lifetime", app.base))
                .header(header::COOKIE, format!("{REFRESH_COOKIE}={cookie}"))
                .json(&json!({"seconds": "soon"})),
            StatusCode::BAD_REQUEST,
            ErrCode::InvalidInput,
        ),
        (
            "refresh without cookie",
            app.http.post(format!("{}/api/auth/refresh", app.base)),
            StatusCode::OK,
            ErrCode::SessionOver,
        ),
    ];
    for (name, request, status, code) in cases {
        let answer = app.send(request).await;
        assert_eq!(answer.status, status, "{name}: {}", answer.body);
        assert_eq!(
            answer.errcode(),
            i64::from(code.code()),
            "{name}: {}",
            answer.body
        );
        answer.assert_envelope();
    }
}

#[tokio::test]
async fn pages_outside_api_stay_html_and_unknown_pages_are_404() {
    let app = spawn_app().await;
    let login = app
        .http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .expect("login page");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(login
        .text()
        .await
        .expect("html")
        .contains("name=\"customer_code\""));
    let missing = app
        .http
        .get(format!("{}/no/such/page", app.base))
        .send()
        .await
        .expect("404 page");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing
        .text()
        .await
        .expect("html")
        .contains("Page not found"));
}

#[tokio::test]
async fn a_protected_page_redirects_on_the_server_without_a_session_and_renders_with_one() {
    let app = spawn_app().await;
    // A browser navigation (Accept: text/html) gets a real 302.
    let anonymous = app
        .http
        .get(format!("{}/orders?page=2", app.base))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status(), StatusCode::FOUND);
    assert_eq!(
        anonymous
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/login?redirect=%2Forders%3Fpage%3D2")
    );
    let (_, cookie) = app.login_demo().await;
    let signed_in = app.page_signed_in("/orders", &cookie).await;
    assert_eq!(signed_in.status(), StatusCode::OK);
    let html = signed_in.text().await.expect("html");
    assert!(
        html.contains("Dana Demo"),
        "the header is rendered for the user"
    );
    // Rendering only looked at the cookie: it is still the current one.
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok);
}

// Restarts

/// A server with a generated signing key (kept in the data directory on SQLite, in the
/// database on PostgreSQL), stopped after a login: its settings, data directory, and the
/// login's access token and refresh cookie.
async fn signed_in_before_a_restart() -> (
    painless::server::Settings,
    tempfile::TempDir,
    String,
    String,
) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(data_dir.path()).await;
    settings.tokens.jwt_secret = Secret::default();
    let app = start(settings.clone(), data_dir).await;
    let (access, cookie) = app.login_demo().await;
    (settings, app.stop().await, access, cookie)
}

#[tokio::test]
async fn a_restart_keeps_every_session_refreshable_and_access_tokens_valid() {
    let (settings, data_dir, access, cookie) = signed_in_before_a_restart().await;

    let app = start(settings, data_dir).await;
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    let refreshed = app.refresh(Some(&cookie)).await;
    refreshed.assert_error(ErrCode::Ok);
    assert_eq!(
        app.counters(None).await["server"]["logins"],
        1,
        "counters survive too"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_generated_key_in_postgres_is_wrapped_under_a_key_encryption_key() {
    if !on_postgres() {
        return; // SQLite keeps its generated key in data_dir, never in the database
    }
    let (settings, data_dir, access, cookie) = signed_in_before_a_restart().await;
    let plain = stored_signing_key(&settings).await.expect("a stored key");
    assert!(
        !plain.starts_with("wrapped:"),
        "no key-encryption key: plain"
    );

    // The next start with a key-encryption key wraps it; the sessions and tokens go on.
    let kek = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let mut wrapping = settings.clone();
    wrapping.tokens.key_encryption_key = Secret::new(kek);
    let app = start(wrapping.clone(), data_dir).await;
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok);
    let data_dir = app.stop().await;
    let wrapped = stored_signing_key(&settings).await.expect("a stored key");
    assert!(wrapped.starts_with("wrapped:v1:"), "{wrapped}");
    assert!(!wrapped.contains(&plain));

    // Without it, or with another, the wrapped key does not open: start-up says which key.
    let mut other = settings.clone();
    other.tokens.key_encryption_key = Secret::new("00".repeat(32));
    for (attempt, named) in [
        (settings.clone(), "tokens.key_encryption_key"),
        (other, "does not open"),
    ] {
        let error = Application::build(attempt)
            .await
            .err()
            .expect("refused")
            .to_string();
        assert!(error.contains(named), "{error}");
        assert!(!error.contains(&plain), "never the key: {error}");
    }
    let app = start(wrapping, data_dir).await;
    app.get("/api/me", Some(&access))
        .await
        .assert_error(ErrCode::Ok);
    app.stop().await;
}

// Helpers of the tests themselves

#[test]
fn forged_tokens_really_differ_from_the_original() {
    let claims: HashMap<&str, Value> = HashMap::from([("sub", json!("1")), ("exp", json!(1))]);
    let token = jsonwebtoken::encode(&Header::default(), &claims, &EncodingKey::from_secret(b"k"))
        .expect("encode");
    let forged = forge(&token, Algorithm::HS256, b"k", |c| c["exp"] = json!(2));
    assert_ne!(token, forged);
    assert_eq!(claims_of(&forged)["exp"], 2);
}

/// A page as a browser navigation gets it, with the refresh cookie if there is one.
async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (StatusCode, String) {
    let mut request = app
        .http
        .get(format!("{}{path}", app.base))
        .header(header::ACCEPT, "text/html");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, format!("{REFRESH_COOKIE}={cookie}"));
    }
    let response = request.send().await.expect("answer");
    let status = response.status();
    (status, response.text().await.expect("html"))
}

#[tokio::test]
async fn the_lab_is_shown_in_demo_mode_and_a_404_for_everyone_without_it() {
    let app = spawn_app().await;
    let (status, _) = page(&app, "/lab", None).await;
    assert_eq!(status, StatusCode::FOUND, "demo mode: log in first");
    let (_, cookie) = app.login_demo().await;
    let (status, html) = page(&app, "/lab", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    // The lab's own code is a chunk the browser loads; the server renders its placeholder.
    assert!(html.contains("id=\"lab-loading\""), "{html}");
    assert!(html.contains("href=\"/lab\""), "linked from the header");
    let mut settings = app.settings.clone();
    let data_dir = app.stop().await;

    // Demo mode off: demo users are locked out, so a regular user is added to the store.
    add_regular_user(&settings).await;
    settings.demo.enabled = false;
    let app = start(settings, data_dir).await;
    let login = app.login("ACME", "rita", "regular-password").await;
    login.assert_error(ErrCode::Ok);
    let cookie = login.refresh_cookie.clone().expect("cookie");
    for cookie in [None, Some(cookie.as_str())] {
        let (status, html) = page(&app, "/lab", cookie).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "signed in: {}",
            cookie.is_some()
        );
        assert!(html.contains("Page not found"));
        assert!(!html.contains("id=\"fire\""));
    }
    let (status, html) = page(&app, "/", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Rita Regular"));
    assert!(!html.contains("href=\"/lab\""), "no link to the lab");
}

/// The login form of a browser without JavaScript: form-encoded, to the page's own path.
async fn post_form(app: &TestApp, path: &str, body: &str, extra: &[(&str, &str)]) -> Answer {
    let mut request = app
        .http
        .post(format!("{}{path}", app.base))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.to_owned());
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    app.send(request).await
}

#[tokio::test]
async fn the_login_form_without_javascript_signs_in_and_redirects_to_a_safe_target() {
    let app = spawn_app().await;
    let answer = post_form(
        &app,
        "/login?redirect=%2Forders%3Fpage%3D2",
        "customer_code=acme&username=demo&password=demo-password",
        &[],
    )
    .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location, "/orders?page=2");
    let cookie = answer.refresh_cookie.expect("the refresh cookie");
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok);

    // A foreign target is never followed.
    let answer = post_form(
        &app,
        "/login?redirect=https%3A%2F%2Fevil.example%2F",
        "customer_code=ACME&username=demo&password=demo-password",
        &[],
    )
    .await;
    assert_eq!(answer.location, "/");
}

#[tokio::test]
async fn a_failed_or_malformed_login_form_goes_back_to_the_login_page_with_its_errcode() {
    let app = spawn_app().await;
    let wrong = post_form(
        &app,
        "/login?redirect=%2Forders",
        "customer_code=ACME&username=demo&password=nope",
        &[],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::SEE_OTHER);
    assert_eq!(
        wrong.location,
        format!(
            "/login?redirect=%2Forders&code=ACME&error={}",
            ErrCode::BadLogin.code()
        )
    );
    assert!(wrong.set_cookie.is_empty());
    let garbage = post_form(&app, "/login", "customer_code=%ZZ", &[]).await;
    assert_eq!(
        garbage.location,
        format!("/login?redirect=%2F&error={}", ErrCode::InvalidInput.code())
    );
    // It is throttled like the API: the test settings allow three failures per account.
    for _ in 0..3 {
        post_form(
            &app,
            "/login",
            "customer_code=ACME&username=demo&password=nope",
            &[],
        )
        .await;
    }
    let throttled = post_form(
        &app,
        "/login",
        "customer_code=ACME&username=demo&password=demo-password",
        &[],
    )
    .await;
    assert!(throttled
        .location
        .ends_with(&format!("error={}", ErrCode::RateLimited.code())));
}

#[tokio::test]
async fn the_login_and_logout_forms_refuse_other_sites_and_logout_ends_the_session() {
    let app = spawn_app().await;
    let forged = post_form(
        &app,
        "/login",
        "customer_code=ACME&username=demo&password=demo-password",
        &[("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    forged.assert_error(ErrCode::CrossOrigin);
    assert!(forged.set_cookie.is_empty(), "no login CSRF");

    let (_, cookie) = app.login_demo().await;
    let cookie_header = format!("{REFRESH_COOKIE}={cookie}");
    let forged = post_form(
        &app,
        "/logout",
        "",
        &[("sec-fetch-site", "cross-site"), ("cookie", &cookie_header)],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    app.refresh(Some(&cookie)).await.assert_error(ErrCode::Ok);

    let (_, cookie) = app.login_demo().await;
    let cookie_header = format!("{REFRESH_COOKIE}={cookie}");
    let logout = post_form(&app, "/logout", "", &[("cookie", &cookie_header)]).await;
    assert_eq!(logout.status, StatusCode::SEE_OTHER);
    assert_eq!(logout.location, "/login");
    app.refresh(Some(&cookie))
        .await
        .assert_error(ErrCode::SessionOver);
}
