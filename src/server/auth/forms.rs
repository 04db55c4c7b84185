//! Login and logout as plain HTML forms, for browsers that have not run the WASM yet (or
//! never will). With WASM the pages intercept the submit and go through the coordinator;
//! without it the form posts here, form-encoded, to the page's own path (not under `/api`,
//! whose JSON envelope contract stays as it is). Same checks as the API (throttle, bounded
//! hashing, cross-site refusal); the answer is a redirect either way (post/redirect/get).

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Form, Query, State};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

use crate::api::{pages, ErrCode, LoginRequest, RedirectPath};
use crate::server::auth::extract::RefreshCookie;
use crate::server::auth::handlers::{sign_in, sign_out};
use crate::server::http::cross_origin::refuse_cross_origin;
use crate::server::http::requester::Requester;
use crate::server::ops::state::AppState;

/// The form routes, refused like `/api` when they come from another site.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let limit = state.settings.server.max_body_bytes;
    Router::new()
        .route(pages::LOGIN, post(login))
        .route(pages::LOGOUT, post(logout))
        .layer(middleware::from_fn_with_state(state, refuse_cross_origin))
        .layer(DefaultBodyLimit::max(limit))
}

/// The login page's query: where to go afterwards, and the customer code to prefill.
#[derive(Deserialize, Default)]
pub(super) struct LoginQuery {
    redirect: Option<String>,
    code: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    customer_code: String,
    username: String,
    password: String,
}

/// `POST /login`: on success the refresh cookie and a redirect to the safe `redirect`
/// target; otherwise back to the login page, the errcode in `error=` for it to explain.
async fn login(
    State(state): State<AppState>,
    requester: Requester,
    cookie: RefreshCookie,
    query: Result<Query<LoginQuery>, QueryRejection>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let target = RedirectPath::parse_or_home(query.redirect.as_deref());
    let Ok(Form(form)) = form else {
        return back_to_login(&target, query.code.as_deref(), ErrCode::InvalidInput);
    };
    let customer_code = form.customer_code.clone();
    let request = LoginRequest {
        customer_code: form.customer_code,
        username: form.username,
        password: form.password,
    };
    match sign_in(&state, &requester, request).await {
        Ok(signed_in) => (
            signed_in.cookie(&state, cookie).await,
            Redirect::to(target.as_str()),
        )
            .into_response(),
        Err(error) => back_to_login(&target, Some(&customer_code), error.code()),
    }
}

fn back_to_login(target: &RedirectPath, customer_code: Option<&str>, error: ErrCode) -> Response {
    let url = format!("{}&error={}", target.login_url(customer_code), error.code());
    Redirect::to(&url).into_response()
}

/// `POST /logout`: ends the session, clears the cookie, and goes to the login page.
async fn logout(
    State(state): State<AppState>,
    requester: Requester,
    cookie: RefreshCookie,
) -> Response {
    match sign_out(&state, &requester, cookie.token()).await {
        Ok(()) => (cookie.cleared(), Redirect::to(pages::LOGIN)).into_response(),
        // The session stays: say so rather than pretend.
        Err(error) => error.into_response(),
    }
}
