//! Pages for visitors without a session, rendered once per path and language and then
//! served from memory with a fresh CSP nonce each time.
//!
//! What a page shows depends on its path, its query, its language and the refresh cookie
//! (who is logged in); the rest comes from the build and the settings, which do not change
//! while the process runs. So a request without a query and without any cookie but the
//! language choice gets the same page as every other such request but for the nonce,
//! which must be new per response. The login page — what a flood of page requests hits
//! — costs a map look-up and a copy instead of a render.
//!
//! Only a plain render is kept: status 200, HTML, with a nonce in its CSP header, no
//! `Set-Cookie` and no `Cache-Control` of its own (a signed-in page sets `no-store`).
//! Keys are the paths of the app's routes (a path no route has goes to the fallback and
//! never reaches this layer) times the languages: a handful, bounded by `MAX_PAGES` all
//! the same. Each instance keeps its own; a page half rendered when the process dies was
//! never stored. A page that ever puts something of one visitor into its HTML without a
//! session (a CSRF token in a form, say) must answer with `Set-Cookie` or `Cache-Control`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_SECURITY_POLICY, SET_COOKIE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

use crate::i18n::{Locale, LOCALE_COOKIE};
use crate::server::http::language;
use crate::server::http::ssr::{is_page, whole_page};
use crate::server::ops::metrics;

/// More than routes × languages; reached only if routes with parameters are added.
const MAX_PAGES: usize = 64;

/// A rendered page is a few kilobytes; anything far larger is not kept.
const MAX_PAGE_BYTES: usize = 256 * 1024;

/// The rendered anonymous pages of one server.
#[derive(Default)]
pub(crate) struct PageCache {
    pages: RwLock<HashMap<PageKey, Arc<CachedPage>>>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct PageKey {
    path: String,
    locale: Locale,
}

/// A page with its nonce cut out of the body and the headers.
struct CachedPage {
    headers: Vec<(HeaderName, WithNonce)>,
    body: WithNonce,
}

/// Bytes with a hole wherever the render's nonce was.
#[derive(Debug, PartialEq)]
struct WithNonce(Vec<Bytes>);

impl WithNonce {
    fn cut(text: &Bytes, nonce: &[u8]) -> Self {
        if nonce.is_empty() {
            return Self(vec![text.clone()]);
        }
        let mut pieces = Vec::new();
        let mut start = 0;
        let mut at = 0;
        while at + nonce.len() <= text.len() {
            if &text[at..at + nonce.len()] == nonce {
                pieces.push(text.slice(start..at));
                at += nonce.len();
                start = at;
            } else {
                at += 1;
            }
        }
        pieces.push(text.slice(start..));
        Self(pieces)
    }

    fn fill(&self, nonce: &str) -> Bytes {
        let holes = self.0.len() - 1;
        let length = self.0.iter().map(Bytes::len).sum::<usize>() + holes * nonce.len();
        let mut text = Vec::with_capacity(length);
        for (i, piece) in self.0.iter().enumerate() {
            if i > 0 {
                text.extend_from_slice(nonce.as_bytes());
            }
            text.extend_from_slice(piece);
        }
        text.into()
    }
}

/// Serves a page from the cache when the request is one every visitor without a session
/// would make, and keeps the render of such a request when it is a plain page.
pub(crate) async fn serve_from_cache(
    State(cache): State<Arc<PageCache>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = key_of(&request) else {
        return next.run(request).await;
    };
    let cached = cache
        .pages
        .read()
        .ok()
        .and_then(|pages| pages.get(&key).cloned());
    if let Some(page) = cached {
        metrics::page_cache("hit");
        return page.response();
    }
    let response = next.run(request).await;
    let Some(nonce) = storable_nonce(&response) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let body = match whole_page(body).await {
        Ok(body) => body,
        Err(failed) => return failed,
    };
    if body.len() <= MAX_PAGE_BYTES {
        let page = CachedPage::of(&parts.headers, &body, &nonce);
        if let Ok(mut pages) = cache.pages.write() {
            if pages.len() < MAX_PAGES || pages.contains_key(&key) {
                pages.insert(key, Arc::new(page));
                metrics::page_cache("stored");
            }
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// The cache key of a request whose page is the same for every visitor without a
/// session, or `None`.
fn key_of(request: &Request) -> Option<PageKey> {
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    // Any other cookie may be a session (or change the page some other way).
    let only_language = CookieJar::from_headers(request.headers())
        .iter()
        .all(|cookie| cookie.name() == LOCALE_COOKIE);
    only_language.then(|| PageKey {
        path: request.uri().path().to_owned(),
        locale: language::current(),
    })
}

/// The nonce of a response that may be kept: a plain HTML page of status 200.
fn storable_nonce(response: &Response) -> Option<String> {
    let headers = response.headers();
    let plain = response.status() == StatusCode::OK
        && is_page(response)
        && !headers.contains_key(SET_COOKIE)
        && !headers.contains_key(CACHE_CONTROL);
    if !plain {
        return None;
    }
    let policy = headers.get(CONTENT_SECURITY_POLICY)?.to_str().ok()?;
    nonce_in_policy(policy).map(str::to_owned)
}

/// The value of the policy's `'nonce-…'` source.
fn nonce_in_policy(policy: &str) -> Option<&str> {
    let (_, rest) = policy.split_once("'nonce-")?;
    let (nonce, _) = rest.split_once('\'')?;
    (!nonce.is_empty()).then_some(nonce)
}

impl CachedPage {
    fn of(headers: &HeaderMap, body: &Bytes, nonce: &str) -> Self {
        let headers = headers
            .iter()
            .filter(|(name, _)| **name != CONTENT_LENGTH)
            .map(|(name, value)| {
                let value = Bytes::copy_from_slice(value.as_bytes());
                (name.clone(), WithNonce::cut(&value, nonce.as_bytes()))
            })
            .collect();
        Self {
            headers,
            body: WithNonce::cut(body, nonce.as_bytes()),
        }
    }

    /// The page with a nonce of its own.
    fn response(&self) -> Response {
        let nonce = leptos::nonce::Nonce::new();
        let mut response = Response::new(Body::from(self.body.fill(&nonce)));
        let headers = response.headers_mut();
        for (name, value) in &self.headers {
            // Cut from a valid value and filled with base64url: still valid.
            if let Ok(value) = HeaderValue::from_maybe_shared(value.fill(&nonce)) {
                headers.append(name.clone(), value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests;
