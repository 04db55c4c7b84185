//! The refresh lab's controls (demo mode only): expire, revoke, set the lifetime, read the
//! counters. They act on the refresh cookie's session, even when its access token is long
//! expired.

use std::time::Duration;

use crate::api::{paths, CountersReport, Lifetime, LifetimeRequest};
use crate::server::auth::extract::RefreshCookie;
use crate::server::http::error::{ApiError, ApiJson, ApiResult, Data};
use crate::server::ops::openapi::{answers, tag, OK_OR_REFUSED};
use crate::server::ops::state::AppState;
use crate::server::ops::timestamp::Timestamp;
use crate::server::store::records::SessionWithUser;

/// The live session of the request's refresh cookie, for the demo controls (which act
/// even when the access token is long expired), or why there is none.
async fn demo_session(
    state: &AppState,
    cookie: &RefreshCookie,
) -> Result<SessionWithUser, ApiError> {
    if !state.settings.demo.enabled {
        return Err(ApiError::DemoDisabled);
    }
    let token = cookie.token().ok_or(ApiError::SessionOver)?;
    state
        .store
        .live_session_of(token, Timestamp::now())
        .await?
        .ok_or(ApiError::SessionOver)
}

/// Refresh lab: the session's current access tokens answer 30001 from now on.
#[utoipa::path(post, path = paths::DEMO_EXPIRE, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EmptyAnswer)))]
pub(super) async fn demo_expire(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
) -> ApiResult<()> {
    let found = demo_session(&state, &cookie).await?;
    state
        .store
        .supersede_access_tokens(&found.session.id)
        .await?;
    Ok(Data(()))
}

/// Refresh lab: ends the session; its next refresh fails with 42002.
#[utoipa::path(post, path = paths::DEMO_REVOKE, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EmptyAnswer)))]
pub(super) async fn demo_revoke(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
) -> ApiResult<()> {
    let found = demo_session(&state, &cookie).await?;
    state
        .store
        .revoke(
            &found.session.id,
            Timestamp::now(),
            "revoked in the refresh lab",
        )
        .await?;
    Ok(Data(()))
}

/// Refresh lab: the lifetime of this session's access tokens, from its next refresh.
#[utoipa::path(post, path = paths::DEMO_LIFETIME, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    request_body = LifetimeRequest,
    responses((status = 200, description = OK_OR_REFUSED, body = answers::LifetimeAnswer)))]
pub(super) async fn demo_lifetime(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
    ApiJson(request): ApiJson<LifetimeRequest>,
) -> ApiResult<Lifetime> {
    // Malformed input is refused as such, whoever sends it (found by schemathesis: a bad
    // value with a dead session answered 42002, so a client could not tell it was wrong).
    let seconds = request.seconds;
    if !(LifetimeRequest::MIN_SECONDS..=LifetimeRequest::MAX_SECONDS).contains(&seconds) {
        return Err(ApiError::InvalidInput(format!(
            "seconds must be between {} and {}",
            LifetimeRequest::MIN_SECONDS,
            LifetimeRequest::MAX_SECONDS
        )));
    }
    let found = demo_session(&state, &cookie).await?;
    // Longer-lived tokens for a real account would weaken it: the lab's users only.
    if !found.user.is_demo {
        return Err(ApiError::DemoDisabled);
    }
    state
        .store
        .set_access_ttl(&found.session.id, Duration::from_secs(seconds.into()))
        .await?;
    Ok(Data(Lifetime { seconds }))
}

/// Refresh lab: what the server counted, in all and for this session.
#[utoipa::path(get, path = paths::DEMO_COUNTERS, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::CountersAnswer)))]
pub(super) async fn demo_counters(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
) -> ApiResult<CountersReport> {
    if !state.settings.demo.enabled {
        return Err(ApiError::DemoDisabled);
    }
    let session = match cookie.token() {
        Some(token) => state.store.live_session_of(token, Timestamp::now()).await?,
        None => None,
    };
    // Exact for this instance; other instances' counts arrive with their next flush.
    let server = state.store.read_counters(None).await?;
    let session = match session {
        Some(found) => Some(state.store.read_counters(Some(&found.session.id)).await?),
        None => None,
    };
    Ok(Data(CountersReport { server, session }))
}
