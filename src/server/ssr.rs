//! What server rendering needs from the server: who the visitor is (from the refresh
//! cookie, without spending it) and the settings the browser's coordinator gets.

use axum_extra::extract::CookieJar;
use leptos::prelude::use_context;

use super::sessions;
use super::state::AppState;
use super::unix_now_ms;
use crate::api::{BootInfo, REFRESH_COOKIE};

/// The boot information for the page being rendered.
pub async fn boot_info() -> BootInfo {
    let Some(state) = use_context::<AppState>() else {
        return BootInfo::default();
    };
    let settings = &state.settings;
    let demo_hint = settings
        .demo
        .enabled
        .then(|| settings.demo.users.first())
        .flatten()
        .map(|u| {
            (
                u.customer_code.clone(),
                u.username.clone(),
                u.password.expose().to_owned(),
            )
        });
    let mut boot = BootInfo {
        user: None,
        refresh_errcodes: settings.client.refresh_errcodes.clone(),
        refresh_margin_secs: settings.client.refresh_margin_secs,
        demo_enabled: settings.demo.enabled,
        demo_hint,
    };
    let token = leptos_axum::extract::<CookieJar>()
        .await
        .ok()
        .and_then(|jar| jar.get(REFRESH_COOKIE).map(|c| c.value().to_owned()));
    if let Some(token) = token {
        let now_ms = unix_now_ms();
        let grace_ms = state.reuse_grace_ms();
        match state
            .db
            .call(move |c| sessions::peek(c, &token, now_ms, grace_ms))
            .await
        {
            Ok(found) => boot.user = found.map(|f| f.user.to_api()),
            Err(error) => tracing::error!(%error, "session lookup during rendering failed"),
        }
    }
    boot
}
