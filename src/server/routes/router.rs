//! The `/api` router: every route with its OpenAPI description, the document itself,
//! liveness and readiness, and the envelope for everything unknown.

use axum::body::Bytes;
use axum::http::header::CONTENT_TYPE;
use axum::routing::{any, get};
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{account, demo};
use crate::api::paths;
use crate::server::auth::handlers;
use crate::server::http::error::{ApiError, ApiResult, Data};
use crate::server::ops::config::Settings;
use crate::server::ops::openapi::{self, answers, tag};
use crate::server::ops::state::AppState;

/// Every `/api` route with its description: utoipa-axum registers a handler's route and its
/// `#[utoipa::path]` together, so the served document cannot leave a route out. The demo
/// endpoints answer 40300 while demo mode is off, and are described only while it is on.
pub(crate) fn router(settings: &Settings) -> Router<AppState> {
    let described = OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(handlers::login))
        .routes(routes!(handlers::refresh))
        .routes(routes!(handlers::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::orders))
        .routes(routes!(account::stats))
        .routes(routes!(account::list_sessions))
        .routes(routes!(account::end_other_sessions));
    let demo = OpenApiRouter::new()
        .routes(routes!(demo::demo_expire))
        .routes(routes!(demo::demo_revoke))
        .routes(routes!(demo::demo_lifetime))
        .routes(routes!(demo::demo_counters));
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
