//! What server rendering needs from the server: who the visitor is (from the refresh
//! cookie, without spending it) and the settings the browser's coordinator gets.

use axum::http::header::CACHE_CONTROL;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use leptos::nonce::use_nonce;
use leptos::prelude::*;

use super::auth::RefreshCookie;
use super::state::AppState;
use super::timestamp::Timestamp;
use crate::api::{BootInfo, DemoHint};

/// A `modulepreload` of the WASM-split loader, when there is one. The main JS module
/// imports it, so without this the browser asks for it only once that module is in: one
/// more round trip on every page's way to hydration (about 30 ms of the median measured
/// by `scripts/bench.sh`). The nonce lets the page's CSP allow the fetch.
pub(crate) fn split_loader_preload() -> impl IntoView {
    let href = use_context::<AppState>().and_then(|state| state.split_loader.clone());
    href.map(|href| view! { <link rel="modulepreload" href=href nonce=use_nonce()/> })
}

/// The boot information for the page being rendered.
pub(crate) async fn boot_info() -> BootInfo {
    let Some(state) = use_context::<AppState>() else {
        return BootInfo::default();
    };
    let settings = &state.settings;
    let demo_hint = settings
        .demo
        .enabled
        .then(|| settings.demo.users.first())
        .flatten()
        .map(|u| DemoHint {
            customer_code: u.customer_code.clone(),
            username: u.username.clone(),
            password: u.password.expose().to_owned(),
        });
    let mut boot = BootInfo {
        user: None,
        refresh_errcodes: settings.client.refresh_errcodes.clone(),
        refresh_margin_secs: settings.client.refresh_margin.as_secs(),
        demo_enabled: settings.demo.enabled,
        demo_hint,
    };
    let token = use_context::<Parts>()
        .map(|parts| RefreshCookie::of(&parts, &state))
        .and_then(|cookie| cookie.token());
    if let Some(token) = token {
        match state
            .store
            .peek(token, Timestamp::now(), state.refresh_policy())
            .await
        {
            Ok(found) => boot.user = found.map(|f| f.user.to_api()),
            // An outage is logged once by the store; the page renders as signed out.
            Err(error) if error.is_unavailable() => {}
            Err(error) => tracing::error!(%error, "session lookup during rendering failed"),
        }
    }
    if boot.user.is_some() {
        // A page rendered for a signed-in user must not be written to any cache, the
        // browser's disk included (`private, no-cache` still allows that).
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    boot
}
