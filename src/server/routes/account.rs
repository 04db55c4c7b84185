//! The signed-in user's endpoints: profile, orders, totals and sessions.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Deserialize;
use utoipa::IntoParams;

use super::demo_data;
use crate::api::{paths, ActiveSession, EndedSessions, OrdersPage, OrdersQuery, Profile, Stats};
use crate::server::auth::extract::Authenticated;
use crate::server::http::error::{ApiError, ApiQuery, ApiResult, Data};
use crate::server::http::requester::Requester;
use crate::server::ops::openapi::{answers, tag, OK_OR_REFUSED};
use crate::server::ops::state::AppState;
use crate::server::ops::timestamp::Timestamp;

/// The signed-in user and the times of this session.
#[utoipa::path(get, path = paths::ME, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::ProfileAnswer)))]
pub(super) async fn me(auth: Authenticated) -> ApiResult<Profile> {
    Ok(Data(Profile {
        user: auth.found.user.to_api(),
        session_started_at: auth.found.session.created_at.unix_secs(),
        session_expires_at: auth.found.session.expires_at.unix_secs(),
        access_expires_at: auth.claims.exp,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageParams {
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
pub(super) async fn orders(Paging(query): Paging, auth: Authenticated) -> ApiResult<OrdersPage> {
    Ok(Data(demo_data::orders_page(
        &auth.found.user.customer_code,
        query,
    )))
}

/// The checked `?page=&page_size=` of `GET /api/orders`. An extractor, so that it runs
/// before the access token's: a malformed request answers 40002 whatever its token (found
/// by schemathesis), and a client never refreshes only to replay a request that cannot work.
pub(super) struct Paging(OrdersQuery);

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
pub(super) async fn list_sessions(
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
pub(super) async fn end_other_sessions(
    state: axum::extract::State<AppState>,
    requester: Requester,
    auth: Authenticated,
) -> ApiResult<EndedSessions> {
    let user = auth.found.user;
    let keep = auth.found.session.id;
    let ended = state
        .store
        .revoke_others(user.id, &keep, Timestamp::now())
        .await?;
    tracing::info!(user = %user.username, customer = %user.customer_code, session = %keep, peer = %requester.address, ended, "ended the other sessions");
    Ok(Data(EndedSessions {
        ended: u32::try_from(ended).unwrap_or(u32::MAX),
    }))
}

/// Totals over the user's orders.
#[utoipa::path(get, path = paths::STATS, tag = tag::ACCOUNT,
    security(("bearer" = []), ("appkey" = [], "token" = [])),
    responses((status = 200, description = OK_OR_REFUSED, body = answers::StatsAnswer)))]
pub(super) async fn stats(auth: Authenticated) -> ApiResult<Stats> {
    Ok(Data(demo_data::stats(&auth.found.user.customer_code)))
}
