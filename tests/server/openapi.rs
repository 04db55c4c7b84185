//! `GET /api/openapi.json`: what it describes, that it follows the settings, and that the
//! server keeps the rules it states. The findings of schemathesis (scripts/fuzz-api.sh)
//! each have a regression test here.

use painless::api::{paths, ErrCode, LoginRequest, OrdersQuery};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;

async fn document(app: &TestApp) -> Value {
    let response = app
        .http
        .get(format!("{}{}", app.base, paths::OPENAPI))
        .send()
        .await
        .expect("server answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "served as JSON"
    );
    response.json().await.expect("the document is JSON")
}

/// Every path the document describes, with its methods.
fn described(doc: &Value) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            found.push((method.to_uppercase(), path.clone()));
        }
    }
    found.sort();
    found
}

const EVERY_ENDPOINT: [(&str, &str); 14] = [
    ("GET", paths::HEALTH),
    ("GET", paths::READY),
    ("POST", paths::LOGIN),
    ("POST", paths::REFRESH),
    ("POST", paths::LOGOUT),
    ("GET", paths::ME),
    ("GET", paths::ORDERS),
    ("GET", paths::STATS),
    ("GET", paths::SESSIONS),
    ("POST", paths::SESSIONS_END_OTHERS),
    ("POST", paths::DEMO_EXPIRE),
    ("POST", paths::DEMO_REVOKE),
    ("POST", paths::DEMO_LIFETIME),
    ("GET", paths::DEMO_COUNTERS),
];

#[tokio::test]
async fn the_document_describes_every_endpoint_and_nothing_else() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut expected: Vec<(String, String)> = EVERY_ENDPOINT
        .iter()
        .map(|(method, path)| (method.to_string(), path.to_string()))
        .collect();
    expected.sort();
    assert_eq!(described(&doc), expected);

    // And each of them is routed: none answers 40400.
    for (method, path) in EVERY_ENDPOINT {
        let method = Method::from_bytes(method.as_bytes()).expect("method");
        let answer = app.request(method, path, None, None, None).await;
        answer.assert_envelope();
        assert_ne!(
            answer.errcode(),
            i64::from(ErrCode::NotFound.code()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn demo_endpoints_and_query_tokens_are_described_only_when_switched_on() {
    let app = spawn_app_with(|settings| {
        settings.demo.enabled = false;
        settings.server.query_tokens = false;
    })
    .await;
    let doc = document(&app).await;
    let paths: Vec<String> = described(&doc).into_iter().map(|(_, path)| path).collect();
    assert_eq!(paths.len(), 10, "{paths:?}");
    assert!(paths.iter().all(|path| !path.starts_with("/api/demo/")));
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    let mut names: Vec<&str> = schemes.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["bearer", "refresh_cookie"]);
    let me = &doc["paths"][paths::ME]["get"]["security"];
    assert_eq!(
        me,
        &json!([{ "bearer": [] }]),
        "only the bearer alternative"
    );
    // Still routed, and still refused as before.
    let answer = app
        .request(Method::POST, paths::DEMO_EXPIRE, None, None, None)
        .await;
    answer.assert_error(ErrCode::DemoDisabled);

    let app = spawn_app_with(|settings| settings.server.query_tokens = true).await;
    let doc = document(&app).await;
    let me = &doc["paths"][paths::ME]["get"]["security"];
    assert_eq!(
        me,
        &json!([{ "bearer": [] }, { "appkey": [], "token": [] }])
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["in"], "query",
        "{doc}"
    );
}

#[tokio::test]
async fn every_security_requirement_names_a_described_scheme() {
    let app = spawn_app_with(|settings| settings.server.query_tokens = true).await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for requirement in operation["security"].as_array().into_iter().flatten() {
                for name in requirement.as_object().expect("requirement").keys() {
                    assert!(schemes.contains_key(name), "{method} {path}: {name}");
                }
            }
        }
    }
    let cookie = &schemes["refresh_cookie"];
    assert_eq!(cookie["in"], "cookie");
    assert_eq!(cookie["name"], painless::api::REFRESH_COOKIE);
}

#[tokio::test]
async fn the_errcode_enum_is_the_whole_table_and_refusals_are_described() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let errcode = &doc["components"]["schemas"]["ErrCode"];
    let listed: Vec<i64> = errcode["enum"]
        .as_array()
        .expect("enum")
        .iter()
        .map(|code| code.as_i64().expect("number"))
        .collect();
    let table: Vec<i64> = ErrCode::ALL.iter().map(|c| i64::from(c.code())).collect();
    assert_eq!(listed, table);
    let description = errcode["description"].as_str().expect("description");
    for code in ErrCode::ALL {
        assert!(
            description.contains(&format!("`{}` {code:?}", code.code())),
            "{code:?}"
        );
    }

    let login = &doc["paths"][paths::LOGIN]["post"]["responses"];
    for status in ["200", "400", "403", "408", "413", "429", "500", "503"] {
        assert!(login.get(status).is_some(), "login documents {status}");
    }
    assert!(login["429"]["headers"].get("Retry-After").is_some());
    // Liveness never touches the database, so it cannot be unavailable.
    let health = &doc["paths"][paths::HEALTH]["get"]["responses"];
    assert!(health.get("503").is_none());
    assert!(health.get("400").is_none(), "takes no input");
    let orders = &doc["paths"][paths::ORDERS]["get"]["responses"];
    assert!(orders.get("400").is_some(), "the query can be wrong");
    assert!(
        orders.get("403").is_none(),
        "a GET is never cross-origin refused"
    );

    // A 200 answer's schema allows a business refusal: data null.
    let envelope = &doc["components"]["schemas"]["Envelope_Profile"];
    assert_eq!(envelope["required"], json!(["errcode", "errmsg", "data"]));
    assert_eq!(
        envelope["properties"]["data"]["anyOf"][0],
        json!({ "type": "null" })
    );
}

#[tokio::test]
async fn the_documented_limits_are_the_limits_the_server_applies() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    let login = &doc["components"]["schemas"]["LoginRequest"]["properties"];
    for (field, max) in [
        ("customer_code", LoginRequest::MAX_IDENTITY_CHARS),
        ("username", LoginRequest::MAX_IDENTITY_CHARS),
        ("password", LoginRequest::MAX_PASSWORD_CHARS),
    ] {
        assert_eq!(login[field]["maxLength"], json!(max), "{field}");
        assert_eq!(login[field]["minLength"], json!(1), "{field}");
    }
    let parameters = doc["paths"][paths::ORDERS]["get"]["parameters"]
        .as_array()
        .expect("parameters");
    let page = parameters
        .iter()
        .find(|p| p["name"] == "page")
        .expect("page");
    assert_eq!(page["schema"]["maximum"], json!(OrdersQuery::MAX_PAGE));
    let page_size = parameters
        .iter()
        .find(|p| p["name"] == "page_size")
        .expect("page_size");
    assert_eq!(
        page_size["schema"]["maximum"],
        json!(OrdersQuery::MAX_PAGE_SIZE)
    );
    let lifetime = &doc["components"]["schemas"]["LifetimeRequest"]["properties"]["seconds"];
    assert_eq!(
        lifetime["minimum"],
        json!(painless::api::LifetimeRequest::MIN_SECONDS)
    );
    assert_eq!(
        lifetime["maximum"],
        json!(painless::api::LifetimeRequest::MAX_SECONDS)
    );
}

// Regression tests for what schemathesis found.

/// JSON Schema's `maxLength` counts characters; the server counted bytes, so a 64-character
/// Chinese username (192 bytes) was refused as too long.
#[tokio::test]
async fn login_fields_are_measured_in_characters() {
    let app = spawn_app().await;
    let name = "张".repeat(LoginRequest::MAX_IDENTITY_CHARS);
    let answer = app.login("ACME", &name, "some-password").await;
    answer.assert_error(ErrCode::BadLogin);
    let too_long = "张".repeat(LoginRequest::MAX_IDENTITY_CHARS + 1);
    let answer = app.login("ACME", &too_long, "some-password").await;
    answer.assert_error(ErrCode::InvalidInput);
    assert!(
        answer.body["errmsg"]
            .as_str()
            .is_some_and(|m| m.contains("64 characters")),
        "{}",
        answer.body
    );
}

/// A value out of range was answered 42002 when the session was over, so the client could
/// not learn that its request was wrong.
#[tokio::test]
async fn a_malformed_lifetime_is_refused_as_such_without_a_session() {
    let app = spawn_app().await;
    let answer = app
        .demo("lifetime", "no-such-token", Some(json!({"seconds": 1})))
        .await;
    answer.assert_error(ErrCode::InvalidInput);
    assert_eq!(answer.status, 400);
}

/// `62.0` is an integer to JSON Schema; serde refused it.
#[tokio::test]
async fn a_whole_number_written_with_a_fraction_is_a_whole_number() {
    let app = spawn_app().await;
    let (_, cookie) = app.login_demo().await;
    let answer = app
        .demo("lifetime", &cookie, Some(json!({"seconds": 62.0})))
        .await;
    answer.assert_error(ErrCode::Ok);
    assert_eq!(answer.data()["seconds"], 62);
    let answer = app
        .demo("lifetime", &cookie, Some(json!({"seconds": 62.5})))
        .await;
    answer.assert_error(ErrCode::InvalidInput);
}

/// A bad query with a bad token answered 40014, so a client would refresh and replay a
/// request that could never succeed; the query is now checked first.
#[tokio::test]
async fn a_malformed_query_is_refused_before_the_token_is_looked_at() {
    let app = spawn_app().await;
    for query in ["page=0", "page_size=0", "page=1000001", "page=x"] {
        let answer = app
            .get(&format!("{}?{query}", paths::ORDERS), Some("not-a-token"))
            .await;
        answer.assert_error(ErrCode::InvalidInput);
        assert_eq!(answer.status, 400, "{query}");
    }
    let (access, _) = app.login_demo().await;
    let answer = app
        .get(
            &format!("{}?page={}", paths::ORDERS, OrdersQuery::MAX_PAGE),
            Some(&access),
        )
        .await;
    answer.assert_error(ErrCode::Ok);
    assert_eq!(answer.data()["items"], json!([]), "past the last page");
}

/// Unknown `/api` paths, `/api` itself included, still answer the envelope now that the
/// routes are registered at full paths rather than nested.
#[tokio::test]
async fn unknown_api_paths_still_answer_the_envelope() {
    let app = spawn_app().await;
    for path in ["/api", "/api/", "/api/nope", "/api/auth/nope/deeper"] {
        let answer = app.get(path, None).await;
        answer.assert_error(ErrCode::NotFound);
        assert_eq!(answer.status, 404, "{path}");
    }
    let answer = app
        .request(Method::DELETE, paths::ME, None, None, None)
        .await;
    answer.assert_error(ErrCode::MethodNotAllowed);
}

#[tokio::test]
async fn in_the_http_mode_every_refusal_status_is_described_where_it_can_happen() {
    use painless::server::config::AuthErrors;
    let envelope = document(&spawn_app().await).await;
    let http =
        document(&spawn_app_with(|settings| settings.server.auth_errors = AuthErrors::Http).await)
            .await;
    let response = |doc: &Value, path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status].clone()
    };
    for (path, method) in [
        ("/api/me", "get"),
        ("/api/orders", "get"),
        ("/api/sessions", "get"),
    ] {
        assert!(
            response(&envelope, path, method, "401").is_null(),
            "{path}: 200 + errcode"
        );
        let unauthorized = response(&http, path, method, "401");
        assert!(
            unauthorized["headers"]["WWW-Authenticate"].is_object(),
            "{path}: {unauthorized}"
        );
        let ok = response(&http, path, method, "200")["description"].to_string();
        assert!(
            !ok.contains("30001"),
            "a 200 is a success in this mode: {ok}"
        );
    }
    for (path, status, errcode) in [
        ("/api/auth/refresh", "400", "42002"),
        ("/api/auth/login", "400", "40101"),
        ("/api/demo/expire", "403", "40300"),
        ("/api/demo/expire", "400", "42002"),
    ] {
        let described = response(&http, path, "post", status)["description"].to_string();
        assert!(described.contains(errcode), "{path} {status}: {described}");
    }
    assert!(
        response(&http, "/api/health", "get", "401").is_null(),
        "public operations have no 401"
    );
}
