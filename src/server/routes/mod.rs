//! The `/api` router and its handlers. Every answer is the envelope.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::routing::{any, get};
use axum::Router;
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::{Authenticated, RefreshCookie};
use super::client::ClientInfo;
use super::config::Settings;
use super::demo_data;
use super::error::{ApiError, ApiJson, ApiQuery, ApiResult, Data};
use super::metrics;
use super::openapi::{self, answers, tag, RefusalBody, OK_OR_REFUSED};
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

/// Every `/api` route with its description: utoipa-axum registers a handler's route and its
/// `#[utoipa::path]` together, so the served document cannot leave a route out. The demo
/// endpoints answer 40300 while demo mode is off, and are described only while it is on.
pub(crate) fn router(settings: &Settings) -> Router<AppState> {
    let described = OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(orders))
        .routes(routes!(stats))
        .routes(routes!(list_sessions))
        .routes(routes!(end_other_sessions));
    let demo = OpenApiRouter::new()
        .routes(routes!(demo_expire))
        .routes(routes!(demo_revoke))
        .routes(routes!(demo_lifetime))
        .routes(routes!(demo_counters));
    let (router, doc) = if settings.demo.enabled {
        described.merge(demo).split_for_parts()
    } else {
        let (demo_routes, _) = demo.split_for_parts();
        let (router, doc) = described.split_for_parts();
        (router.merge(demo_routes), doc)
    };
    let document = Bytes::from(
        openapi::complete(doc, settings)
            .to_json()
            .expect("an OpenAPI document always serialises"),
    );
    let not_found = || async { ApiError::NotFound };
    router
        // The one `/api` answer that is not the envelope: tools read the document as it is.
        .route(
            paths::OPENAPI,
            get(move || {
                let document = document.clone();
                async move { ([(CONTENT_TYPE, "application/json")], document) }
            }),
        )
        // Whatever else starts with /api is an unknown endpoint, answered as the envelope.
        .route("/api", any(not_found))
        .route("/api/", any(not_found))
        .route("/api/{*rest}", any(not_found))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
}

/// Liveness: the process answers (a load balancer must not restart it for a database
/// outage, hence no database in here).
#[utoipa::path(get, path = paths::HEALTH, tag = tag::OPERATIONS,
    responses((status = 200, description = "`data`: \"ok\"", body = answers::TextAnswer)))]
async fn health() -> ApiResult<&'static str> {
    Ok(Data("ok"))
}

/// Readiness: the database answers now, so this instance can serve; 503 (50301) while it
/// does not, so that a load balancer drains the instance.
#[utoipa::path(get, path = paths::READY, tag = tag::OPERATIONS,
    responses((status = 200, description = "`data`: \"ready\"", body = answers::TextAnswer)))]
async fn ready(state: axum::extract::State<AppState>) -> ApiResult<&'static str> {
    state.store.ping().await?;
    Ok(Data("ready"))
}

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

/// Logs in: an access token in `data`, the refresh token in an HttpOnly cookie.
#[utoipa::path(post, path = paths::LOGIN, tag = tag::AUTH, request_body = LoginRequest,
    responses(
        (status = 200, description = OK_OR_REFUSED, body = answers::GrantAnswer,
            headers(("Set-Cookie" = String, description = "The refresh cookie, on success"))),
        (status = 429,
            description = "45009: too many failed logins for this account or from this address",
            body = RefusalBody, headers(("Retry-After" = u32, description = "Seconds to wait"))),
    ))]
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

/// A new access token for the refresh cookie, which is rotated (single use; a spent
/// token presented again ends the session).
#[utoipa::path(post, path = paths::REFRESH, tag = tag::AUTH,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::GrantAnswer,
        headers(("Set-Cookie" = String,
            description = "The rotated refresh cookie, or its removal")))))]
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
                    tracing::warn!(%error, peer = %client.address, "refresh refused: token reuse")
                }
                _ => tracing::info!(%error, peer = %client.address, "refresh refused"),
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

/// The signed-in user and the times of this session.
#[utoipa::path(get, path = paths::ME, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::ProfileAnswer)))]
async fn me(auth: Authenticated) -> ApiResult<Profile> {
    Ok(Data(Profile {
        user: auth.found.user.to_api(),
        session_started_at: auth.found.session.created_at.unix_secs(),
        session_expires_at: auth.found.session.expires_at.unix_secs(),
        access_expires_at: auth.claims.exp,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PageParams {
    /// Which page, from 1 to 1,000,000 (`OrdersQuery::MAX_PAGE`); past the last page,
    /// `items` is empty.
    #[param(minimum = 1, maximum = 1000000)]
    page: Option<u32>,
    /// Orders per page, 1 to 50 (`OrdersQuery::MAX_PAGE_SIZE`); 10 when absent.
    #[param(minimum = 1, maximum = 50)]
    page_size: Option<u32>,
}

/// One page of the user's orders, newest first.
#[utoipa::path(get, path = paths::ORDERS, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])), params(PageParams),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::OrdersAnswer)))]
async fn orders(Paging(query): Paging, auth: Authenticated) -> ApiResult<OrdersPage> {
    Ok(Data(demo_data::orders_page(
        &auth.found.user.customer_code,
        query,
    )))
}

/// The checked `?page=&page_size=` of `GET /api/orders`. An extractor, so that it runs
/// before the access token's: a malformed request answers 40002 whatever its token (found
/// by schemathesis), and a client never refreshes only to replay a request that cannot work.
struct Paging(OrdersQuery);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ApiQuery(params) = ApiQuery::<PageParams>::from_request_parts(parts, state).await?;
        let query = OrdersQuery {
            page: params.page.unwrap_or(1),
            page_size: params.page_size.unwrap_or(OrdersQuery::DEFAULT_PAGE_SIZE),
        };
        if !(1..=OrdersQuery::MAX_PAGE).contains(&query.page) {
            return Err(ApiError::InvalidInput(format!(
                "page must be between 1 and {}",
                OrdersQuery::MAX_PAGE
            )));
        }
        if !(1..=OrdersQuery::MAX_PAGE_SIZE).contains(&query.page_size) {
            return Err(ApiError::InvalidInput(format!(
                "page_size must be between 1 and {}",
                OrdersQuery::MAX_PAGE_SIZE
            )));
        }
        Ok(Paging(query))
    }
}

/// The user's live sessions, newest first.
#[utoipa::path(get, path = paths::SESSIONS, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::SessionsAnswer)))]
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
#[utoipa::path(post, path = paths::SESSIONS_END_OTHERS, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EndedAnswer)))]
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

/// Totals over the user's orders.
#[utoipa::path(get, path = paths::STATS, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::StatsAnswer)))]
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

/// Refresh lab: the session's current access tokens answer 30001 from now on.
#[utoipa::path(post, path = paths::DEMO_EXPIRE, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EmptyAnswer)))]
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

/// Refresh lab: ends the session; its next refresh fails with 42002.
#[utoipa::path(post, path = paths::DEMO_REVOKE, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::EmptyAnswer)))]
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

/// Refresh lab: the lifetime of this session's access tokens, from its next refresh.
#[utoipa::path(post, path = paths::DEMO_LIFETIME, tag = tag::DEMO,
    security((), ("refresh_cookie" = [])),
    request_body = LifetimeRequest,
    responses((status = 200, description = OK_OR_REFUSED, body = answers::LifetimeAnswer)))]
async fn demo_lifetime(
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
