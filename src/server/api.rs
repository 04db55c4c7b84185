//! The `/api` router and its handlers. Every answer is the envelope.

use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::auth::{Authenticated, RefreshCookie};
use super::client::ClientInfo;
use super::demo_data;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult, Data};
use super::metrics;
use super::passwords::Busy;
use super::state::AppState;
use super::store::counter;
use super::store::records::{RefreshError, SessionWithUser};
use super::throttle::Refusal;
use super::timestamp::Timestamp;
use super::users::Identity;
use crate::api::{
    paths, AccessGrant, ActiveSession, CountersReport, EndedSessions, Lifetime, LifetimeRequest,
    LoginRequest, OrdersPage, OrdersQuery, Profile, Stats,
};

/// Mounted under `/api`; the paths are the shared constants without that prefix.
pub(crate) fn router() -> Router<AppState> {
    let at = |path: &'static str| path.strip_prefix("/api").unwrap_or(path);
    Router::new()
        .route(at(paths::HEALTH), get(health))
        .route(at(paths::READY), get(ready))
        .route(at(paths::LOGIN), post(login))
        .route(at(paths::REFRESH), post(refresh))
        .route(at(paths::LOGOUT), post(logout))
        .route(at(paths::ME), get(me))
        .route(at(paths::ORDERS), get(orders))
        .route(at(paths::STATS), get(stats))
        .route(at(paths::SESSIONS), get(list_sessions))
        .route(at(paths::SESSIONS_END_OTHERS), post(end_other_sessions))
        .route(at(paths::DEMO_EXPIRE), post(demo_expire))
        .route(at(paths::DEMO_REVOKE), post(demo_revoke))
        .route(at(paths::DEMO_LIFETIME), post(demo_lifetime))
        .route(at(paths::DEMO_COUNTERS), get(demo_counters))
        .fallback(|| async { ApiError::NotFound })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// Liveness: the process answers (a load balancer must not restart it for a database
/// outage, hence no database in here).
async fn health() -> ApiResult<&'static str> {
    Ok(Data("ok"))
}

/// Readiness: the database answers now, so this instance can serve; 503 (50301) while it
/// does not, so that a load balancer drains the instance.
async fn ready(state: axum::extract::State<AppState>) -> ApiResult<&'static str> {
    state.store.ping().await?;
    Ok(Data("ready"))
}

/// Upper bounds on login fields: generous for people, small for attackers.
const MAX_FIELD: usize = 64;
const MAX_PASSWORD: usize = 256;

fn check_login_input(request: &LoginRequest) -> Result<(), ApiError> {
    for (name, value, max) in [
        ("customer_code", &request.customer_code, MAX_FIELD),
        ("username", &request.username, MAX_FIELD),
        ("password", &request.password, MAX_PASSWORD),
    ] {
        if value.trim().is_empty() {
            return Err(ApiError::InvalidInput(format!("{name} must not be empty")));
        }
        if value.len() > max {
            return Err(ApiError::InvalidInput(format!(
                "{name} must be at most {max} bytes"
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
    // The lab's per-session lifetime applies only while demo mode is on.
    let lifetime = found
        .session
        .access_ttl
        .filter(|_| state.settings.demo.enabled)
        .unwrap_or(state.settings.tokens.access_ttl);
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

async fn login(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    cookie: RefreshCookie,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<(CookieJar, Data<AccessGrant>), ApiError> {
    let signed_in = sign_in(&state, &client, request).await?;
    let jar = signed_in.cookie(&state, cookie);
    Ok((
        jar,
        Data(grant(&state, &signed_in.found, signed_in.now, None)),
    ))
}

/// A new session, from [`sign_in`].
pub(super) struct SignedIn {
    found: SessionWithUser,
    refresh_token: String,
    now: Timestamp,
}

impl SignedIn {
    /// The refresh cookie that carries the new session.
    pub(super) fn cookie(&self, state: &AppState, cookie: RefreshCookie) -> CookieJar {
        let max_age = cookie_max_age(state, &self.found, self.now);
        cookie.with_token(self.refresh_token.clone(), max_age)
    }
}

/// Checks a login and starts a session: the JSON API and the login form both come here,
/// so both are throttled, bounded, logged and counted alike.
pub(super) async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    request: LoginRequest,
) -> Result<SignedIn, ApiError> {
    let signed_in = check_and_sign_in(state, client, request).await;
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
    client: &ClientInfo,
    request: LoginRequest,
) -> Result<SignedIn, ApiError> {
    check_login_input(&request)?;
    let identity = Identity::new(&request.customer_code, &request.username);
    // Counted as a failure from here on, unless it succeeds or is never tried.
    let attempt = match state
        .throttle
        .begin(&identity.throttle_key(), client.address)
        .await?
    {
        Ok(attempt) => attempt,
        Err(refusal) => {
            metrics::throttle_refusal(match refusal {
                Refusal::Account => "account",
                Refusal::Address => "address",
            });
            tracing::warn!(customer = %identity.customer_code, user = %identity.username, peer = %client.address, ?refusal, "login throttled");
            return Err(ApiError::RateLimited);
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
            drop(attempt);
            tracing::info!(customer = %identity.customer_code, user = %identity.username, peer = %client.address, "failed login");
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
    tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %client.address, "login");
    Ok(SignedIn {
        found,
        refresh_token,
        now,
    })
}

async fn refresh(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    cookie: RefreshCookie,
) -> Result<(CookieJar, Data<AccessGrant>), (CookieJar, ApiError)> {
    let now = Timestamp::now();
    let outcome = state
        .store
        .rotate(cookie.token(), now, state.refresh_policy())
        .await;
    metrics::refresh(match &outcome {
        Ok(refreshed) if refreshed.new_refresh_token.is_some() => "rotated",
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
            let jar = match refreshed.new_refresh_token {
                Some(token) => {
                    let max_age = cookie_max_age(&state, &refreshed.found, now);
                    cookie.with_token(token, max_age)
                }
                // A grace answer: the cookie already holds the successor.
                None => cookie.jar,
            };
            Ok((jar, answer))
        }
        Err(RefreshError::Db(e)) => Err((CookieJar::new(), ApiError::from(e))),
        Err(error) => {
            match &error {
                RefreshError::Reused(_) => {
                    tracing::warn!(%error, peer = %client.address, "refresh refused: token reuse")
                }
                _ => tracing::info!(%error, peer = %client.address, "refresh refused"),
            }
            Err((cookie.cleared(), ApiError::SessionOver))
        }
    }
}

async fn logout(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    cookie: RefreshCookie,
) -> Result<(CookieJar, Data<()>), ApiError> {
    sign_out(&state, &client, cookie.token()).await?;
    Ok((cookie.cleared(), Data(())))
}

/// Ends the session of `refresh_token`, if it names one (the JSON API and the logout form).
pub(super) async fn sign_out(
    state: &AppState,
    client: &ClientInfo,
    refresh_token: Option<String>,
) -> Result<(), ApiError> {
    let Some(token) = refresh_token else {
        return Ok(());
    };
    let now = Timestamp::now();
    let ended = state.store.live_session_of(token, now).await?;
    if let Some(found) = ended {
        state.store.revoke(&found.session.id, now, "logout").await?;
        tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %client.address, "logout");
    }
    Ok(())
}

async fn me(auth: Authenticated) -> ApiResult<Profile> {
    Ok(Data(Profile {
        user: auth.found.user.to_api(),
        session_started_at: auth.found.session.created_at.unix_secs(),
        session_expires_at: auth.found.session.expires_at.unix_secs(),
        access_expires_at: auth.claims.exp,
    }))
}

#[derive(Deserialize)]
struct PageParams {
    page: Option<u32>,
    page_size: Option<u32>,
}

async fn orders(
    auth: Authenticated,
    ApiQuery(params): ApiQuery<PageParams>,
) -> ApiResult<OrdersPage> {
    let query = OrdersQuery {
        page: params.page.unwrap_or(1),
        page_size: params.page_size.unwrap_or(OrdersQuery::DEFAULT_PAGE_SIZE),
    };
    if query.page == 0 {
        return Err(ApiError::InvalidInput("page must be at least 1".into()));
    }
    if !(1..=OrdersQuery::MAX_PAGE_SIZE).contains(&query.page_size) {
        return Err(ApiError::InvalidInput(format!(
            "page_size must be between 1 and {}",
            OrdersQuery::MAX_PAGE_SIZE
        )));
    }
    Ok(Data(demo_data::orders_page(
        &auth.found.user.customer_code,
        query,
    )))
}

async fn list_sessions(
    state: axum::extract::State<AppState>,
    auth: Authenticated,
) -> ApiResult<Vec<ActiveSession>> {
    let sessions = state
        .store
        .list_live(auth.found.user.id, &auth.found.session.id, Timestamp::now())
        .await?;
    Ok(Data(sessions))
}

/// "Sign out everywhere else": ends the user's other sessions; their next refresh fails
/// (their access tokens answer 30001 at once, since their sessions are no longer live).
async fn end_other_sessions(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    auth: Authenticated,
) -> ApiResult<EndedSessions> {
    let user = auth.found.user;
    let keep = auth.found.session.id;
    let ended = state
        .store
        .revoke_others(user.id, &keep, Timestamp::now())
        .await?;
    tracing::info!(user = %user.username, customer = %user.customer_code, session = %keep, peer = %client.address, ended, "ended the other sessions");
    Ok(Data(EndedSessions {
        ended: u32::try_from(ended).unwrap_or(u32::MAX),
    }))
}

async fn stats(auth: Authenticated) -> ApiResult<Stats> {
    Ok(Data(demo_data::stats(&auth.found.user.customer_code)))
}

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

async fn demo_expire(
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

async fn demo_revoke(
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

async fn demo_lifetime(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
    ApiJson(request): ApiJson<LifetimeRequest>,
) -> ApiResult<Lifetime> {
    let found = demo_session(&state, &cookie).await?;
    let seconds = request.seconds;
    if !(LifetimeRequest::MIN_SECONDS..=LifetimeRequest::MAX_SECONDS).contains(&seconds) {
        return Err(ApiError::InvalidInput(format!(
            "seconds must be between {} and {}",
            LifetimeRequest::MIN_SECONDS,
            LifetimeRequest::MAX_SECONDS
        )));
    }
    state
        .store
        .set_access_ttl(&found.session.id, Duration::from_secs(seconds.into()))
        .await?;
    Ok(Data(Lifetime { seconds }))
}

async fn demo_counters(
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
