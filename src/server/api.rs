//! The `/api` router and its handlers. Every answer is the envelope.

use std::time::Instant;

use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::Deserialize;

use super::auth::{Authenticated, RefreshCookie};
use super::client::ClientInfo;
use super::db::{bump, counter, read_counters};
use super::demo_data;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult, Data};
use super::passwords::Busy;
use super::sessions::{self, RefreshError, SessionWithUser};
use super::state::AppState;
use super::unix_now_ms;
use super::users::{self, Identity};
use crate::api::{
    paths, AccessGrant, ActiveSession, CountersReport, EndedSessions, Lifetime, LifetimeRequest,
    LoginRequest, OrdersPage, OrdersQuery, Profile, Stats,
};

/// Mounted under `/api`; the paths are the shared constants without that prefix.
pub(crate) fn router() -> Router<AppState> {
    let at = |path: &'static str| path.strip_prefix("/api").unwrap_or(path);
    Router::new()
        .route(at(paths::HEALTH), get(health))
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

async fn health() -> ApiResult<&'static str> {
    Ok(Data("ok"))
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
    Ok(())
}

/// Mints an access token for the session and shapes the login/refresh answer; the token
/// expires with the session, or at `not_after` (Unix s) if that is sooner.
fn grant(
    state: &AppState,
    found: &SessionWithUser,
    now_ms: i64,
    not_after: Option<i64>,
) -> AccessGrant {
    let now_s = now_ms / 1000;
    // The lab's per-session lifetime applies only while demo mode is on.
    let ttl = found
        .session
        .access_ttl_secs
        .filter(|_| state.settings.demo.enabled)
        .unwrap_or(state.settings.tokens.access_ttl_secs as i64);
    let expires_at = (now_s + ttl)
        .min(found.session.expires_at)
        .min(not_after.unwrap_or(i64::MAX));
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
fn cookie_max_age(state: &AppState, found: &SessionWithUser, now_ms: i64) -> i64 {
    let idle = state.settings.tokens.idle_ttl_secs as i64;
    (found.session.expires_at - now_ms / 1000).min(idle)
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
        Data(grant(&state, &signed_in.found, signed_in.now_ms, None)),
    ))
}

/// A new session, from [`sign_in`].
pub(super) struct SignedIn {
    found: SessionWithUser,
    refresh_token: String,
    now_ms: i64,
}

impl SignedIn {
    /// The refresh cookie that carries the new session.
    pub(super) fn cookie(&self, state: &AppState, cookie: RefreshCookie) -> CookieJar {
        let max_age = cookie_max_age(state, &self.found, self.now_ms);
        cookie.with_token(self.refresh_token.clone(), max_age)
    }
}

/// Checks a login and starts a session: the JSON API and the login form both come here,
/// so both are throttled, bounded and logged alike.
pub(super) async fn sign_in(
    state: &AppState,
    client: &ClientInfo,
    request: LoginRequest,
) -> Result<SignedIn, ApiError> {
    check_login_input(&request)?;
    let identity = Identity::new(&request.customer_code, &request.username);
    // Counted as a failure from here on, unless it succeeds or is never tried.
    let attempt = match state.throttle.begin(
        &identity.throttle_key(),
        client.address,
        Instant::now(),
    ) {
        Ok(attempt) => attempt,
        Err(refusal) => {
            tracing::warn!(customer = %identity.customer_code, user = %identity.username, peer = %client.address, ?refusal, "login throttled");
            return Err(ApiError::RateLimited);
        }
    };
    let lookup = identity.clone();
    let found = state
        .db
        .call(move |connection| users::find_for_login(connection, &lookup))
        .await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, state.dummy_password_hash.to_string()),
    };
    let verified = match state.passwords.verify(stored_hash, request.password).await {
        Ok(verified) => verified,
        Err(Busy) => {
            attempt.not_tried();
            return Err(ApiError::Overloaded);
        }
    };
    // A demo user while demo mode is off fails exactly like a wrong password.
    let user = match user {
        Some(user) if verified && !state.demo_locked(&user) => user,
        _ => {
            drop(attempt);
            tracing::info!(customer = %identity.customer_code, user = %identity.username, peer = %client.address, "failed login");
            state
                .db
                .call(|connection| bump(connection, counter::FAILED_LOGINS, None))
                .await?;
            return Err(ApiError::BadLogin);
        }
    };
    attempt.succeeded();
    let now_ms = unix_now_ms();
    let ttl = state.session_ttl_secs();
    let (found, refresh_token) = state
        .db
        .call(move |connection| sessions::start(connection, user.id, now_ms, ttl))
        .await?;
    tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %client.address, "login");
    Ok(SignedIn {
        found,
        refresh_token,
        now_ms,
    })
}

async fn refresh(
    state: axum::extract::State<AppState>,
    client: ClientInfo,
    cookie: RefreshCookie,
) -> Result<(CookieJar, Data<AccessGrant>), (CookieJar, ApiError)> {
    let presented = cookie.token();
    let now_ms = unix_now_ms();
    let policy = state.refresh_policy();
    let outcome = state
        .db
        .call(move |connection| {
            Ok(sessions::rotate(
                connection,
                presented.as_deref(),
                now_ms,
                policy,
            ))
        })
        .await
        .map_err(|e| (CookieJar::new(), ApiError::from(e)))?;
    match outcome {
        Ok(refreshed) => {
            let grace_end_s = refreshed.grace_ends_at_ms.map(|ms| (ms + 999) / 1000);
            let answer = Data(grant(&state, &refreshed.found, now_ms, grace_end_s));
            let jar = match refreshed.new_refresh_token {
                Some(token) => {
                    let max_age = cookie_max_age(&state, &refreshed.found, now_ms);
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
    let now_s = unix_now_ms() / 1000;
    let ended = state
        .db
        .call(move |connection| {
            let found = sessions::by_refresh_token(connection, &token, now_s)?;
            if let Some(found) = &found {
                sessions::revoke(connection, &found.session.id, now_s, "logout")?;
            }
            Ok(found)
        })
        .await?;
    if let Some(found) = ended {
        tracing::info!(user = %found.user.username, customer = %found.user.customer_code, session = %found.session.id, peer = %client.address, "logout");
    }
    Ok(())
}

async fn me(auth: Authenticated) -> ApiResult<Profile> {
    Ok(Data(Profile {
        user: auth.found.user.to_api(),
        session_started_at: auth.found.session.created_at,
        session_expires_at: auth.found.session.expires_at,
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
    let (user_id, current) = (auth.found.user.id, auth.found.session.id);
    let now_s = unix_now_ms() / 1000;
    let sessions = state
        .db
        .call(move |connection| sessions::list_live(connection, user_id, &current, now_s))
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
    let (user_id, keep) = (user.id, auth.found.session.id);
    let now_s = unix_now_ms() / 1000;
    let kept = keep.clone();
    let ended = state
        .db
        .call(move |connection| sessions::revoke_others(connection, user_id, &kept, now_s))
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
    let now_s = unix_now_ms() / 1000;
    state
        .db
        .call(move |connection| sessions::by_refresh_token(connection, &token, now_s))
        .await?
        .ok_or(ApiError::SessionOver)
}

async fn demo_expire(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
) -> ApiResult<()> {
    let found = demo_session(&state, &cookie).await?;
    state
        .db
        .call(move |connection| sessions::supersede_access_tokens(connection, &found.session.id))
        .await?;
    Ok(Data(()))
}

async fn demo_revoke(
    state: axum::extract::State<AppState>,
    cookie: RefreshCookie,
) -> ApiResult<()> {
    let found = demo_session(&state, &cookie).await?;
    let now_s = unix_now_ms() / 1000;
    state
        .db
        .call(move |connection| {
            sessions::revoke(
                connection,
                &found.session.id,
                now_s,
                "revoked in the refresh lab",
            )
        })
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
        .db
        .call(move |connection| sessions::set_access_ttl(connection, &found.session.id, seconds))
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
    let token = cookie.token();
    let now_s = unix_now_ms() / 1000;
    let pending = state.rejections.pending();
    let report = state
        .db
        .call(move |connection| {
            let session = match token {
                Some(token) => sessions::by_refresh_token(connection, &token, now_s)?,
                None => None,
            };
            let mut server = read_counters(connection, None)?;
            for (code, count) in pending {
                *server.rejected.entry(code.code().to_string()).or_default() += count;
            }
            Ok(CountersReport {
                server,
                session: session
                    .map(|found| read_counters(connection, Some(&found.session.id)))
                    .transpose()?,
            })
        })
        .await?;
    Ok(Data(report))
}
