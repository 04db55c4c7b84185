//! Refuses cross-site state-changing requests, a second defence beside the refresh
//! cookie's `SameSite=Strict`. The rule is Go 1.25's `net/http.CrossOriginProtection`:
//! safe methods pass; `Sec-Fetch-Site: same-origin` or `none` passes and any other value
//! is refused; without it, an `Origin` whose host differs from the request's is refused;
//! a request with neither header passes (curl, servers, apps: browsers always send one of
//! them on a cross-site POST). Origins in `server.allowed_origins` pass too.

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::server::http::error::ApiError;
use crate::server::ops::config::{parse_origin, Origin};
use crate::server::ops::state::AppState;

/// Middleware for `/api`: a refused request never reaches a handler, so nothing changes.
pub(crate) async fn refuse_cross_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let allowed = &state.settings.server.allowed_origins;
    if is_cross_origin(request.method(), request.headers(), request.uri(), allowed) {
        tracing::warn!(
            origin = ?request.headers().get(ORIGIN),
            path = %request.uri().path(),
            "cross-origin request refused"
        );
        return ApiError::CrossOrigin.into_response();
    }
    next.run(request).await
}

/// Whether the request must be refused as cross-origin.
pub(crate) fn is_cross_origin(
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
    allowed: &[Origin],
) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let origin = headers.get(ORIGIN).and_then(|v| v.to_str().ok());
    let trusted = || {
        origin
            .and_then(parse_origin)
            .is_some_and(|origin| allowed.iter().any(|a| a.as_str() == origin))
    };
    match headers.get("sec-fetch-site").map(|v| v.as_bytes()) {
        Some(b"same-origin" | b"none") => return false,
        Some(_) => return !trusted(),
        None => {}
    }
    let Some(origin) = origin else {
        return false;
    };
    let request_host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let same_host = match (origin_host(origin), request_host) {
        (Some(origin_host), Some(host)) => origin_host.eq_ignore_ascii_case(host),
        _ => false,
    };
    !same_host && !trusted()
}

/// The `host[:port]` of an `Origin` header value.
fn origin_host(origin: &str) -> Option<&str> {
    let (_, host) = origin.split_once("://")?;
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn check(method: Method, pairs: &[(&'static str, &str)], allowed: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("app.example:3000"));
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).expect("value"));
        }
        let allowed: Vec<Origin> = allowed
            .iter()
            .map(|s| Origin::parse(s).expect("an origin"))
            .collect();
        is_cross_origin(
            &method,
            &headers,
            &Uri::from_static("/api/auth/refresh"),
            &allowed,
        )
    }

    #[test]
    fn the_go_rule_case_by_case() {
        let post = || Method::POST;
        // Safe methods always pass.
        assert!(!check(
            Method::GET,
            &[("sec-fetch-site", "cross-site")],
            &[]
        ));
        // Fetch metadata decides when present.
        assert!(!check(post(), &[("sec-fetch-site", "same-origin")], &[]));
        assert!(!check(post(), &[("sec-fetch-site", "none")], &[]));
        assert!(check(post(), &[("sec-fetch-site", "same-site")], &[]));
        assert!(check(post(), &[("sec-fetch-site", "cross-site")], &[]));
        assert!(
            check(
                post(),
                &[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "http://app.example:3000")
                ],
                &[]
            ),
            "Sec-Fetch-Site wins over a matching Origin"
        );
        // Without it, the Origin's host must be the request's.
        assert!(!check(
            post(),
            &[("origin", "http://app.example:3000")],
            &[]
        ));
        assert!(!check(
            post(),
            &[("origin", "https://APP.example:3000")],
            &[]
        ));
        assert!(check(post(), &[("origin", "https://evil.example")], &[]));
        assert!(
            check(post(), &[("origin", "http://app.example")], &[]),
            "port differs"
        );
        assert!(check(post(), &[("origin", "null")], &[]));
        // Neither header: not a browser.
        assert!(!check(post(), &[], &[]));
        // Allowed origins pass either way.
        for pairs in [
            &[
                ("sec-fetch-site", "cross-site"),
                ("origin", "https://admin.example"),
            ][..],
            &[("origin", "https://admin.example")][..],
        ] {
            assert!(!check(post(), pairs, &["https://Admin.example"]));
            assert!(check(post(), pairs, &["https://other.example"]));
        }
    }

    #[test]
    fn origins_parse_strictly() {
        assert_eq!(
            parse_origin("HTTPS://Example.com:8443").as_deref(),
            Some("https://example.com:8443")
        );
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://",
            "https://a.example/path",
            "https://u@a.example",
            "null",
        ] {
            assert_eq!(parse_origin(bad), None, "{bad}");
        }
    }
}
