//! Extractors that make a handler's signature say what it needs: a verified access token
//! ([`Authenticated`]), or the refresh cookie and how to set it ([`RefreshCookie`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use crate::api::REFRESH_COOKIE;
use crate::server::auth::tokens::{AccessClaims, TokenError, CLOCK_ALLOWANCE_SECS};
use crate::server::http::error::ApiError;
use crate::server::http::requester::requester_of;
use crate::server::ops::config::SecureCookies;
use crate::server::ops::state::AppState;
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::records::{SessionRecord, SessionWithUser};

/// A request with a valid access token of a live session.
pub(crate) struct Authenticated {
    pub found: SessionWithUser,
    pub claims: Arc<AccessClaims>,
}

/// The original client sent its credentials as `?appkey=…&token=…`.
#[derive(Deserialize)]
struct QueryCredentials {
    appkey: Option<String>,
    token: Option<String>,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (token, appkey) = credentials(parts, state.settings.server.query_tokens)?;
        let claims = state.tokens.verify(&token).map_err(|e| match e {
            TokenError::Expired => ApiError::TokenExpired,
            TokenError::Invalid => ApiError::InvalidToken,
        })?;
        let found = state
            .store
            .load_session(&claims.sid)
            .await?
            .ok_or(ApiError::SessionSuperseded)?;
        // A lifetime longer than any this server grants was chosen by someone holding the
        // key (a copy of the database, say), not by an instance of ours.
        let longest = access_lifetime(state, &found.session)
            .max(state.settings.tokens.access_ttl)
            .as_secs() as i64;
        if claims.exp - claims.iat > longest + CLOCK_ALLOWANCE_SECS {
            return Err(ApiError::InvalidToken);
        }
        if !found.session.is_live(Timestamp::now())
            || state.demo_locked(&found.user)
            || claims.ver < found.session.access_version
            || claims.sub.parse::<i64>().ok() != Some(found.user.id)
        {
            return Err(ApiError::SessionSuperseded);
        }
        if let Some(appkey) = appkey {
            if !appkey.eq_ignore_ascii_case(&found.user.customer_code) {
                return Err(ApiError::InvalidToken);
            }
        }
        Ok(Self { found, claims })
    }
}

/// The lifetime of the session's next access token: the refresh lab's per-session one
/// while demo mode is on, else `tokens.access_ttl_secs`.
pub(crate) fn access_lifetime(state: &AppState, session: &SessionRecord) -> Duration {
    session
        .access_ttl
        .filter(|_| state.settings.demo.enabled)
        .unwrap_or(state.settings.tokens.access_ttl)
}

/// The bearer token, or (when `query_tokens` is on) the query's token with its appkey.
fn credentials(parts: &Parts, query_tokens: bool) -> Result<(String, Option<String>), ApiError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        let value = header.to_str().map_err(|_| ApiError::InvalidToken)?;
        let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::InvalidToken);
        }
        return Ok((token.trim().to_owned(), None));
    }
    if !query_tokens {
        return Err(ApiError::MissingToken);
    }
    let query = Query::<QueryCredentials>::try_from_uri(&parts.uri)
        .map(|Query(q)| q)
        .unwrap_or(QueryCredentials {
            appkey: None,
            token: None,
        });
    match query.token.filter(|t| !t.is_empty()) {
        Some(token) => Ok((token, Some(query.appkey.unwrap_or_default()))),
        None => Err(ApiError::MissingToken),
    }
}

/// The refresh cookie of the request, and whether cookies set now must be `Secure`.
pub(crate) struct RefreshCookie {
    pub jar: CookieJar,
    pub secure: bool,
}

impl FromRequestParts<AppState> for RefreshCookie {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state))
    }
}

/// The refresh cookie's name: with the `__Host-` prefix whenever it is `Secure`, so that
/// browsers accept it only from this exact host over HTTPS, with `Path=/` and no `Domain`
/// (a sibling subdomain or a plain-HTTP man in the middle cannot plant one).
pub(crate) fn refresh_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_REFRESH_COOKIE
    } else {
        REFRESH_COOKIE
    }
}

/// [`REFRESH_COOKIE`] with the `__Host-` prefix.
pub(crate) const SECURE_REFRESH_COOKIE: &str = "__Host-painless_refresh";

impl RefreshCookie {
    /// The request's cookies, and whether cookies set now must be `Secure`.
    pub(crate) fn of(parts: &Parts, state: &AppState) -> Self {
        let jar = CookieJar::from_headers(&parts.headers);
        let secure = match state.settings.server.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            // Only what trusted proxies say counts: anyone can send X-Forwarded-Proto.
            SecureCookies::Auto => {
                requester_of(parts, &state.settings.server.trusted_proxies).https
            }
        };
        Self { jar, secure }
    }

    /// The refresh token; over HTTPS only from the `__Host-` cookie.
    pub(crate) fn token(&self) -> Option<String> {
        self.jar
            .get(refresh_cookie_name(self.secure))
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The jar with the new refresh token: HttpOnly, SameSite=Strict, `__Host-` when
    /// Secure, kept by the browser for `max_age_secs`.
    pub(crate) fn with_token(self, token: String, max_age_secs: i64) -> CookieJar {
        let cookie = Cookie::build((refresh_cookie_name(self.secure), token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_secs.max(0)))
            .build();
        self.jar.add(cookie)
    }

    /// The jar with the cookie removed: the same cookie, empty and expired at once.
    pub(crate) fn cleared(self) -> CookieJar {
        self.with_token(String::new(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderValue, Request};
    use proptest::prelude::*;

    fn parts_with(header: Option<&str>, query: &str) -> Option<Parts> {
        let mut request = Request::builder().uri(format!("/api/me{query}"));
        if let Some(header) = header {
            request = request.header(AUTHORIZATION, HeaderValue::from_str(header).ok()?);
        }
        Some(request.body(()).ok()?.into_parts().0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn a_bearer_header_yields_its_trimmed_token_or_an_invalid_token_error(
            scheme in "(Bearer|bearer|BEARER|Basic|)",
            gap in "[ \t]{0,2}",
            token in "[ -~]{0,40}",
        ) {
            let header = format!("{scheme}{gap}{token}");
            let Some(parts) = parts_with(Some(&header), "") else { return Ok(()) };
            match credentials(&parts, true) {
                Ok((found, appkey)) => {
                    let first_word = header.split_once(' ').map(|(word, _)| word);
                    prop_assert!(first_word.is_some_and(|w| w.eq_ignore_ascii_case("bearer")), "{:?}", header);
                    prop_assert_eq!(appkey, None);
                    prop_assert!(!found.is_empty());
                    prop_assert_eq!(found.trim(), found.as_str());
                    prop_assert!(header.ends_with(found.as_str()) || header.trim_end().ends_with(found.as_str()));
                }
                Err(error) => prop_assert!(matches!(error, ApiError::InvalidToken), "{:?}", error),
            }
        }

        #[test]
        fn a_query_yields_its_token_with_the_appkey_or_missing_token(query in "[?&=a-z0-9%+._-]{0,40}") {
            let Some(parts) = parts_with(None, &format!("?{query}")) else { return Ok(()) };
            match credentials(&parts, true) {
                Ok((token, appkey)) => {
                    prop_assert!(!token.is_empty());
                    prop_assert!(appkey.is_some(), "the appkey is always checked, even when empty");
                }
                Err(error) => prop_assert!(matches!(error, ApiError::MissingToken), "{:?}", error),
            }
        }

        #[test]
        fn the_refresh_cookie_round_trips_and_odd_cookie_headers_do_not_panic(
            token in "[A-Za-z0-9_-]{1,64}",
            noise in "[ -~]{0,60}",
        ) {
            let jar = RefreshCookie { jar: CookieJar::new(), secure: false }
                .with_token(token.clone(), 60);
            let set = jar.get(REFRESH_COOKIE).expect("set").encoded().to_string();
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(
                axum::http::header::COOKIE,
                HeaderValue::from_str(&format!("{noise}; {set}")).expect("header"),
            );
            let read = RefreshCookie { jar: CookieJar::from_headers(&headers), secure: false };
            // Noise may itself contain `painless_refresh=`; the cookie itself must come back
            // whenever the noise does not name it.
            if !noise.contains(REFRESH_COOKIE) {
                prop_assert_eq!(read.token(), Some(token));
            }
            if let Ok(value) = HeaderValue::from_str(&noise) {
                let mut headers = axum::http::HeaderMap::new();
                headers.insert(axum::http::header::COOKIE, value);
                let _ = RefreshCookie { jar: CookieJar::from_headers(&headers), secure: false }.token();
            }
        }
    }
}
