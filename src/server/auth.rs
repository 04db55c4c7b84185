//! Extractors that make a handler's signature say what it needs: a verified access token
//! ([`Authenticated`]), or the refresh cookie and how to set it ([`RefreshCookie`]).

use axum::extract::{FromRequestParts, Query};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;

use super::config::SecureCookies;
use super::error::ApiError;
use super::sessions::{self, SessionWithUser};
use super::state::AppState;
use super::tokens::{AccessClaims, TokenError};
use super::unix_now_ms;
use crate::api::REFRESH_COOKIE;

/// A request with a valid access token of a live session.
pub struct Authenticated {
    pub found: SessionWithUser,
    pub claims: AccessClaims,
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
        let (token, appkey) = credentials(parts)?;
        let claims = state.tokens.verify(&token).map_err(|e| match e {
            TokenError::Expired => ApiError::TokenExpired,
            TokenError::Invalid => ApiError::InvalidToken,
        })?;
        let session_id = claims.sid.clone();
        let found = state
            .db
            .call(move |connection| sessions::load(connection, &session_id))
            .await?
            .ok_or(ApiError::SessionSuperseded)?;
        let now_s = unix_now_ms() / 1000;
        if !found.session.is_live(now_s)
            || claims.ver < found.session.access_version
            || claims.sub != found.user.id.to_string()
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

/// The bearer token, or the query's token with its appkey.
fn credentials(parts: &Parts) -> Result<(String, Option<String>), ApiError> {
    if let Some(header) = parts.headers.get(AUTHORIZATION) {
        let value = header.to_str().map_err(|_| ApiError::InvalidToken)?;
        let (scheme, token) = value.split_once(' ').ok_or(ApiError::InvalidToken)?;
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(ApiError::InvalidToken);
        }
        return Ok((token.trim().to_owned(), None));
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
pub struct RefreshCookie {
    pub jar: CookieJar,
    pub secure: bool,
}

impl FromRequestParts<AppState> for RefreshCookie {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jar = CookieJar::from_headers(&parts.headers);
        let secure = match state.settings.server.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => is_https(parts),
        };
        Ok(Self { jar, secure })
    }
}

fn is_https(parts: &Parts) -> bool {
    parts.uri.scheme_str() == Some("https")
        || parts
            .headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',')
                    .next()
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
            })
}

impl RefreshCookie {
    pub fn token(&self) -> Option<String> {
        self.jar
            .get(REFRESH_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// The jar with the new refresh token: HttpOnly, SameSite=Strict, for the rest of the
    /// session's lifetime.
    pub fn with_token(self, token: String, max_age_secs: i64) -> CookieJar {
        let cookie = Cookie::build((REFRESH_COOKIE, token))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(self.secure)
            .max_age(time::Duration::seconds(max_age_secs.max(0)))
            .build();
        self.jar.add(cookie)
    }

    /// The jar with the cookie removed: the same cookie, empty and expired at once.
    pub fn cleared(self) -> CookieJar {
        self.with_token(String::new(), 0)
    }
}
