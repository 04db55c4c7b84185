//! Security headers for pages: a Content-Security-Policy with a fresh nonce per render,
//! `Strict-Transport-Security` over HTTPS, a `Permissions-Policy` that switches off what
//! the app never uses, and the cross-origin isolation pair (`Cross-Origin-Opener-Policy`,
//! `Cross-Origin-Resource-Policy`: no other site's window keeps a handle on ours, and no
//! other site may embed our answers).

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, STRICT_TRANSPORT_SECURITY};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use leptos::nonce::use_nonce;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::server::http::requester::requester_of;
use crate::server::ops::state::AppState;

/// Browser features the app does not use, switched off for it and anything it embeds.
pub(crate) const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()";

/// `Cross-Origin-Opener-Policy` and `Cross-Origin-Resource-Policy`, on every answer.
pub(crate) const OPENER_POLICY: &str = "same-origin";
pub(crate) const RESOURCE_POLICY: &str = "same-origin";

/// A year, as recommended once HTTPS is known to work; with `includeSubDomains` when
/// `server.hsts_include_subdomains` says every subdomain is HTTPS too.
fn hsts(include_subdomains: bool) -> HeaderValue {
    HeaderValue::from_static(if include_subdomains {
        "max-age=31536000; includeSubDomains"
    } else {
        "max-age=31536000"
    })
}

/// The policy for a page whose inline scripts carry `nonce`. Leptos' hydration script is
/// inline, so scripts are allowed by nonce ('strict-dynamic' lets it import the bundle);
/// `'wasm-unsafe-eval'` lets it compile the WASM module. No `'unsafe-inline'` anywhere.
pub(crate) fn content_security_policy(nonce: &str, dev_reload: Option<u16>) -> String {
    let connect = match dev_reload {
        // `cargo leptos watch` reloads through a websocket on its own port.
        Some(port) => format!("'self' ws://127.0.0.1:{port} ws://localhost:{port}"),
        None => "'self'".to_owned(),
    };
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src {connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Called in the context of every page render: puts the render's nonce into the
/// response's CSP header (a header, not a `<meta>`, so that `frame-ancestors` applies).
pub(crate) fn set_page_policy() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<ResponseOptions>()) else {
        return;
    };
    let dev_reload = use_context::<AppState>().and_then(|state| {
        state
            .leptos_options
            .env
            .eq(&leptos::config::Env::DEV)
            .then_some(state.leptos_options.reload_port as u16)
    });
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(&nonce, dev_reload)) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds HSTS to answers of requests that came over HTTPS (directly or through a trusted
/// proxy); over plain HTTP browsers ignore it, and it would pin a development host.
pub(crate) async fn strict_transport_security(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let https = requester_of(&parts, &state.settings.server.trusted_proxies).https;
    let mut response = next.run(Request::from_parts(parts, body)).await;
    if https {
        response.headers_mut().insert(
            STRICT_TRANSPORT_SECURITY,
            hsts(state.settings.server.hsts_include_subdomains),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_scripts_only_by_nonce() {
        let policy = content_security_policy("abc123", None);
        assert!(policy.contains("script-src 'nonce-abc123' 'strict-dynamic' 'wasm-unsafe-eval'"));
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
        assert!(
            !policy.contains("ws://"),
            "no websocket outside development"
        );
        assert!(content_security_policy("n", Some(3001)).contains("ws://127.0.0.1:3001"));
    }
}
