use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, COOKIE};
use axum::middleware;
use axum::routing::get;
use axum::Router;
use tower::ServiceExt as _;

use super::*;

/// A stand-in for the app's pages that counts its renders. Each render has a nonce of its
/// own, in the CSP header and twice in the body, and says which language it was for.
fn pages(renders: Arc<AtomicUsize>) -> Router {
    let render = move |extra: Option<(HeaderName, &'static str)>, status: StatusCode| {
        let renders = renders.clone();
        move || async move {
            renders.fetch_add(1, Ordering::SeqCst);
            let nonce = leptos::nonce::Nonce::new();
            let locale = language::current().tag();
            let mut response = Response::new(Body::from(format!(
                "<html lang=\"{locale}\"><script nonce=\"{nonce}\"></script><script nonce=\"{nonce}\"></script></html>"
            )));
            *response.status_mut() = status;
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            let policy = format!("script-src 'nonce-{nonce}' 'strict-dynamic'; object-src 'none'");
            headers.insert(
                CONTENT_SECURITY_POLICY,
                HeaderValue::from_str(&policy).unwrap(),
            );
            if let Some((name, value)) = extra {
                headers.insert(name, HeaderValue::from_static(value));
            }
            response
        }
    };
    Router::new()
        .route("/login", get(render(None, StatusCode::OK)))
        .route(
            "/signed-in",
            get(render(Some((CACHE_CONTROL, "no-store")), StatusCode::OK)),
        )
        .route(
            "/cookie",
            get(render(Some((SET_COOKIE, "a=b")), StatusCode::OK)),
        )
        .route("/gone", get(render(None, StatusCode::NOT_FOUND)))
        .layer(middleware::from_fn_with_state(
            Arc::new(PageCache::default()),
            serve_from_cache,
        ))
        .layer(middleware::from_fn(language::speak_the_request_language))
}

struct Page {
    status: StatusCode,
    policy: String,
    body: String,
}

impl Page {
    fn nonce(&self) -> &str {
        nonce_in_policy(&self.policy).expect("a nonce in the policy")
    }

    /// The body with its nonce blanked out.
    fn without_nonce(&self) -> String {
        self.body.replace(self.nonce(), "")
    }
}

async fn get_page(app: &Router, uri: &str, headers: &[(HeaderName, &str)]) -> Page {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let policy = response.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    Page {
        status,
        policy,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

#[tokio::test]
async fn an_anonymous_page_is_rendered_once_and_served_with_a_new_nonce_each_time() {
    let renders = Arc::new(AtomicUsize::new(0));
    let app = pages(renders.clone());
    let first = get_page(&app, "/login", &[]).await;
    let second = get_page(&app, "/login", &[]).await;
    let third = get_page(&app, "/login", &[]).await;
    assert_eq!(renders.load(Ordering::SeqCst), 1, "rendered once");
    assert_eq!(second.status, StatusCode::OK);
    let nonces = [first.nonce(), second.nonce(), third.nonce()];
    assert!(
        nonces[0] != nonces[1] && nonces[1] != nonces[2] && nonces[0] != nonces[2],
        "{nonces:?}"
    );
    for page in [&second, &third] {
        assert_eq!(
            page.body.matches(page.nonce()).count(),
            2,
            "both scripts carry it"
        );
        assert_eq!(page.without_nonce(), first.without_nonce());
        assert_eq!(
            page.policy.replace(page.nonce(), ""),
            first.policy.replace(first.nonce(), "")
        );
    }
}

#[tokio::test]
async fn each_language_has_its_own_page() {
    let renders = Arc::new(AtomicUsize::new(0));
    let app = pages(renders.clone());
    let chinese_cookie = format!("{LOCALE_COOKIE}=zh-CN");
    for _ in 0..2 {
        let english = get_page(&app, "/login", &[]).await;
        let chinese = get_page(&app, "/login", &[(ACCEPT_LANGUAGE, "zh-CN")]).await;
        let chosen = get_page(&app, "/login", &[(COOKIE, &chinese_cookie)]).await;
        assert!(english.body.starts_with("<html lang=\"en\">"));
        assert!(chinese.body.starts_with("<html lang=\"zh-CN\">"));
        assert!(chosen.body.starts_with("<html lang=\"zh-CN\">"));
    }
    assert_eq!(renders.load(Ordering::SeqCst), 2, "one render per language");
}

#[tokio::test]
async fn requests_with_a_query_or_a_session_cookie_are_rendered_every_time() {
    let renders = Arc::new(AtomicUsize::new(0));
    let app = pages(renders.clone());
    for request in 1..=2 {
        get_page(&app, "/login?redirect=%2Forders&code=ACME", &[]).await;
        get_page(&app, "/login", &[(COOKIE, "painless_refresh=abc")]).await;
        let two = format!("{LOCALE_COOKIE}=en; painless_refresh=abc");
        get_page(&app, "/login", &[(COOKIE, &two)]).await;
        assert_eq!(renders.load(Ordering::SeqCst), 3 * request);
    }
}

#[tokio::test]
async fn only_plain_pages_are_kept() {
    let renders = Arc::new(AtomicUsize::new(0));
    let app = pages(renders.clone());
    for request in 1..=2 {
        for path in ["/signed-in", "/cookie", "/gone"] {
            get_page(&app, path, &[]).await;
        }
        assert_eq!(renders.load(Ordering::SeqCst), 3 * request);
    }
    let gone = get_page(&app, "/gone", &[]).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[test]
fn the_nonce_is_cut_wherever_it_occurs() {
    let text = Bytes::from_static(b"N<a nonce=\"N\">NN</a>N");
    let cut = WithNonce::cut(&text, b"N");
    assert_eq!(cut.0.len(), 6);
    assert_eq!(cut.fill("N"), text);
    assert_eq!(&cut.fill("xyz")[..], b"xyz<a nonce=\"xyz\">xyzxyz</a>xyz");
    let none = WithNonce::cut(&text, b"absent");
    assert_eq!(none.fill("x"), text);
    assert_eq!(WithNonce::cut(&text, b"").fill("x"), text);
}

#[test]
fn the_nonce_is_read_from_the_policy() {
    assert_eq!(
        nonce_in_policy("default-src 'self'; script-src 'nonce-abc_-1' 'strict-dynamic'"),
        Some("abc_-1")
    );
    assert_eq!(nonce_in_policy("script-src 'self'"), None);
    assert_eq!(nonce_in_policy("script-src 'nonce-'"), None);
    assert_eq!(nonce_in_policy("script-src 'nonce-abc"), None);
}
