//! Login, refresh and logout: the handlers that issue, rotate and end sessions, shared by
//! the JSON API and the no-JavaScript forms (`forms.rs`).

use axum_extra::extract::CookieJar;

use crate::api::{paths, AccessGrant, LoginRequest};
use crate::server::auth::extract::{access_lifetime, RefreshCookie};
use crate::server::auth::passwords::Busy;
use crate::server::auth::throttle::Refusal;
use crate::server::http::error::{ApiError, ApiJson, Data};
use crate::server::http::requester::Requester;
use crate::server::ops::metrics;
use crate::server::ops::openapi::{answers, tag, RefusalBody, OK_OR_REFUSED};
use crate::server::ops::state::AppState;
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::records::{RefreshError, SessionWithUser};
use crate::server::store::users::Identity;
use crate::server::store::{counter, DbError};

/// The rules the document states for [`LoginRequest`] (lengths in characters, as JSON
/// Schema counts them): generous for people, small for attackers.
fn check_login_input(request: &LoginRequest) -> Result<(), ApiError> {
    for (name, value, max) in [
        (
            "customer_code",
            &request.customer_code,
            LoginRequest::MAX_IDENTITY_CHARS,
        ),
        (
            "username",
            &request.username,
            LoginRequest::MAX_IDENTITY_CHARS,
        ),
        (
            "password",
            &request.password,
            LoginRequest::MAX_PASSWORD_CHARS,
        ),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::InvalidInput(format!("{name} must not be empty")));
        }
        if value.chars().count() > max {
            return Err(ApiError::InvalidInput(format!(
                "{name} must be at most {max} characters"
            )));
        }
    }
    // Identities are text for people; control characters (NUL among them, which
    // PostgreSQL text cannot even hold) are a mistake or an attack, never a name.
    for (name, value) in [
        ("customer_code", &request.customer_code),
        ("username", &request.username),
    ] {
        if value.chars().any(char::is_control) {
            return Err(ApiError::InvalidInput(format!(
                "{name} must not contain control characters"
            )));
        }
    }
    Ok(())
}

/// Mints an access token for the session and shapes the login/refresh answer; the token
/// expires with the session, or at `not_after` if that is sooner.
fn grant(
    state: &AppState,
    found: &SessionWithUser,
    now: Timestamp,
    not_after: Option<Timestamp>,
) -> AccessGrant {
    let lifetime = access_lifetime(state, &found.session);
    // JWT times are whole seconds; an end that must not come early rounds up.
    let now_s = now.unix_secs();
    let expires_at = (now + lifetime)
        .min(found.session.expires_at)
        .unix_secs()
        .min(not_after.map_or(i64::MAX, Timestamp::unix_secs_ceil));
    let access_token = state.tokens.mint(
        found.user.id,
        &found.session.id,
        found.session.access_version,
        now_s,
        expires_at,
    );
    AccessGrant {
        access_token,
        expires_at,
        expires_in: (expires_at - now_s).max(0),
        user: found.user.to_api(),
    }
}

/// The refresh cookie lives as long as its token can be used: until the idle timeout
/// (renewed with every rotation) or the session's end, whichever is sooner. An idle
/// browser drops it by itself.
fn cookie_max_age(state: &AppState, found: &SessionWithUser, now: Timestamp) -> i64 {
    let left = found.session.expires_at.since(now);
    i64::try_from(left.min(state.settings.tokens.idle_ttl).as_secs()).unwrap_or(i64::MAX)
}

/// Logs in: an access token in `data`, the refresh token in an HttpOnly cookie.
#[utoipa::path(post, path = paths::LOGIN, tag = tag::AUTH, request_body = LoginRequest,
    responses(
        (status = 200, description = OK_OR_REFUSED, body = answers::GrantAnswer,
            headers(("Set-Cookie" = String, description = "The refresh cookie, on success"))),
        (status = 429,
            description = "45009: too many failed logins for this account or from this address",
            body = RefusalBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ))]
pub(crate) async fn login(
    state: axum::extract::State<AppState>,
    requester: Requester,
    cookie: RefreshCookie,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Data<AccessGrant>), ApiError> {
    let signed_in = sign_in(&state, &requester, request).await?;
    let jar = signed_in.cookie(&state, cookie).await;
    Ok((
        jar,
        Data(grant(&state, &signed_in.found, signed_in.now, None)),
    ))
}

/// A new session, from [`sign_in`].
pub(crate) struct SignedIn {
    found: SessionWithUser,
    refresh_token: String,
    now: Timestamp,
}

impl SignedIn {
    /// The refresh cookie that carries the new session, in place of the request's. A
    /// session that cookie still held is ended: the browser can no longer use it, and a
    /// copy of its token elsewhere should not outlive it.
    pub(crate) async fn cookie(&self, state: &AppState, cookie: RefreshCookie) -> CookieJar {
        if let Some(older) = cookie.token() {
            if let Err(error) = self.end_older_session(state, older).await {
                tracing::warn!(%error, "the session this login replaces could not be ended");
            }
        }
        let max_age = cookie_max_age(state, &self.found, self.now);
        cookie.with_token(self.refresh_token.clone(), max_age)
    }

    async fn end_older_session(&self, state: &AppState, older: String) -> Result<(), DbError> {
        let Some(found) = state.store.live_session_of(older, self.now).await? else {
            return Ok(());
        };
        if found.session.id != self.found.session.id {
            state
                .store
                .revoke(&found.session.id, self.now, "replaced by a new login")
                .await?;
            tracing::info!(session = %found.session.id, replaced_by = %self.found.session.id, "older session of this browser ended");
        }
        Ok(())
    }
}

/// Checks a login and starts a session: the JSON API and the login form both come here,
/// so both are throttled, bounded, logged and counted alike.
pub(crate) async fn sign_in(
    state: &AppState,
    requester: &Requester,
    request: LoginRequest,
) -> Result<SignedIn, ApiError> {
    let signed_in = check_and_sign_in(state, requester, request).await;
    metrics::login(match &signed_in {
        Ok(_) => "ok",
        Err(ApiError::BadLogin) => "bad_login",
        Err(ApiError::RateLimited) => "throttled",
        Err(ApiError::Overloaded) => "overloaded",
        Err(ApiError::InvalidInput(_)) => "invalid_input",
        Err(ApiError::Unavailable) => "unavailable",
        Err(_) => "error",
    });
    signed_in
}

async fn check_and_sign_in(
    state: &AppState,
    requester: &Requester,
    request: LoginRequest,
) -> Result<SignedIn, ApiError> {
    check_login_input(&request)?;
    let identity = Identity::new(&request.customer_code, &request.username);
    // Counted as a failure from here on, unless it succeeds or is never tried.
    let attempt = match state
        .throttle
        .begin(&identity.throttle_key(), requester.address)
        .await?
    {
        Ok(attempt) => attempt,
        Err(refusal) => {
            metrics::throttle_refusal(refusal.label());
            tracing::warn!(customer = %identity.customer_code, user = %identity.username, peer = %requester.address, ?refusal, "login throttled");
            // Attempts still being checked have not failed: a burst of correct logins
            // gets "busy, try again in a moment", not "too many failures".
            return Err(match refusal {
                Refusal::InFlight => ApiError::Overloaded,
                Refusal::Account | Refusal::Address => ApiError::RateLimited,
            });
        }
    };
    let found = state.store.find_user(&identity).await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.dummy_password_hash.to_string()),
    };
    let verified = match state.passwords.verify(stored_hash, request.password).await {
        Ok(verified) => verified,
        Err(Busy) => {
            if let Err(error) = attempt.not_tried().await {
                tracing::warn!(%error, "a login refused as busy stays counted as a failure");
            }
            return Err(ApiError::Overloaded);
        }
    };
    // A demo user while demo mode is off fails exactly like a wrong password.
    let user = match user {
        Some(user) if verified && !state.demo_locked(&user) => user,
        _ => {
            attempt.failed().await?;
            tracing::info!(customer = %identity.customer_code, user = %identity.username, peer = %requester.address, "failed login");
            state.store.count(counter::FAILED_LOGINS);
            return Err(ApiError::BadLogin);
        }
    };
    attempt.succeeded().await?;
    let now = Timestamp::now();
    let (found, refresh_token) = state
        .store
        .start_session(user.id, now, state.session_lifetime())
        .await?;
    tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %requester.address, "login");
    Ok(SignedIn {
        found,
        refresh_token,
        now,
    })
}

/// A new access token for the refresh cookie, which is rotated (single use; a spent
/// token presented again ends the session).
#[utoipa::path(post, path = paths::REFRESH, tag = tag::AUTH,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::GrantAnswer,
        headers(("Set-Cookie" = String,
            description = "The rotated refresh cookie, or its removal")))))]
pub(crate) async fn refresh(
    state: axum::extract::State<AppState>,
    requester: Requester,
    cookie: RefreshCookie,
) -> Result<(CookieJar, Data<AccessGrant>), (CookieJar, ApiError)> {
    let now = Timestamp::now();
    let outcome = state
        .store
        .rotate(cookie.token(), now, state.refresh_policy())
        .await;
    metrics::refresh(match &outcome {
        Ok(refreshed) if refreshed.grace_ends_at.is_none() => "rotated",
        Ok(_) => "grace",
        Err(RefreshError::Missing) => "missing",
        Err(RefreshError::Unknown) => "unknown",
        Err(RefreshError::Revoked(_)) => "revoked",
        Err(RefreshError::Expired(_)) => "expired",
        Err(RefreshError::Idle(_)) => "idle",
        Err(RefreshError::DemoOff(_)) => "demo_off",
        Err(RefreshError::Reused(_)) => "reuse",
        Err(RefreshError::Db(error)) if error.is_unavailable() => "unavailable",
        Err(RefreshError::Db(_)) => "error",
    });
    match outcome {
        Ok(refreshed) => {
            let answer = Data(grant(
                &state,
                &refreshed.found,
                now,
                refreshed.grace_ends_at,
            ));
            // A grace answer sets a sibling: the rotation's answer may never have arrived.
            let max_age = cookie_max_age(&state, &refreshed.found, now);
            let jar = cookie.with_token(refreshed.new_refresh_token, max_age);
            Ok((jar, answer))
        }
        Err(RefreshError::Db(e)) => Err((CookieJar::new(), ApiError::from(e))),
        Err(error) => {
            match &error {
                RefreshError::Reused(_) => {
                    tracing::warn!(%error, peer = %requester.address, "refresh refused: token reuse")
                }
                _ => tracing::info!(%error, peer = %requester.address, "refresh refused"),
            }
            Err((cookie.cleared(), ApiError::SessionOver))
        }
    }
}

/// Ends the session of the refresh cookie, if any, and clears the cookie.
#[utoipa::path(post, path = paths::LOGOUT, tag = tag::AUTH,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EmptyAnswer,
        headers(("Set-Cookie" = String, description = "The refresh cookie's removal")))))]
pub(crate) async fn logout(
    state: axum::extract::State<AppState>,
    requester: Requester,
    cookie: RefreshCookie,
) -> Result<(CookieJar, Data<()>), ApiError> {
    sign_out(&state, &requester, cookie.token()).await?;
    Ok((cookie.cleared(), Data(())))
}

/// Ends the session of `refresh_token`, if it names one (the JSON API and the logout form).
pub(crate) async fn sign_out(
    state: &AppState,
    requester: &Requester,
    refresh_token: Option<String>,
) -> Result<(), ApiError> {
    let Some(token) = refresh_token else {
        return Ok(());
    };
    let now = Timestamp::now();
    let ended = state.store.live_session_of(token, now).await?;
    if let Some(found) = ended {
        state.store.revoke(&found.session.id, now, "logout").await?;
        tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %requester.address, "logout");
    }
    Ok(())
}
