//! The language of each request — the `painless_lang` cookie, else `Accept-Language` —
//! for `errmsg` and the rendered page. Errcodes never change with it.

use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;

use crate::i18n::{Locale, LOCALE_COOKIE};

tokio::task_local! {
    /// The request's language while its handler runs: `ApiError` and `Data` read it when
    /// they become the envelope, deep below any handler that could pass it along.
    static REQUEST_LOCALE: Locale;
}

/// The language a request asks for.
pub(crate) fn of(headers: &HeaderMap) -> Locale {
    let jar = CookieJar::from_headers(headers);
    let chosen = jar.get(LOCALE_COOKIE).map(|cookie| cookie.value());
    let accepted = headers
        .get(ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok());
    Locale::negotiate(chosen, accepted)
}

/// The language of the request being answered; English outside a request.
pub(crate) fn current() -> Locale {
    REQUEST_LOCALE
        .try_with(|locale| *locale)
        .unwrap_or_default()
}

/// Answers every request in its language, and says so to caches: an answer that depends
/// on the language (an envelope or a page) carries `Vary: Accept-Language, Cookie`.
pub(crate) async fn speak_the_request_language(request: Request, next: Next) -> Response {
    let locale = of(request.headers());
    let mut response = REQUEST_LOCALE.scope(locale, next.run(request)).await;
    let varies = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("application/json") || kind.starts_with("text/html"));
    if varies {
        response
            .headers_mut()
            .append(VARY, HeaderValue::from_static("Accept-Language, Cookie"));
    }
    response
}
