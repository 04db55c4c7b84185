//! The global loading indicator: visible while any request is in flight, driven only by
//! the coordinator's in-flight count (a guard per request, so it cannot get stuck); and
//! the one "offline" notice while requests wait for the network.

use leptos::prelude::*;

use crate::i18n::Key;
use crate::state::{use_activity, use_language};

#[component]
pub(crate) fn LoadingBar() -> impl IntoView {
    let activity = use_activity();
    let lang = use_language();
    let busy = move || activity.in_flight.get() > 0;
    view! {
        <div
            class="loading-bar"
            class:active=busy
            role="progressbar"
            aria-label=lang.tr(Key::AppLoading)
            aria-hidden=move || (!busy()).to_string()
            data-in-flight=move || activity.in_flight.get()
        >
            <div class="loading-bar-fill"></div>
        </div>
        <div class="loading-spinner" class:active=busy aria-hidden="true"></div>
    }
}

/// Shown while a request or the refresh waits for the network or the server: one notice
/// for a whole burst, gone when the wait ends.
#[component]
pub(crate) fn OfflineNotice() -> impl IntoView {
    let activity = use_activity();
    let lang = use_language();
    view! {
        <div
            id="offline-notice"
            class="offline-notice"
            role="status"
            hidden=move || !activity.waiting_for_network.get()
        >
            {lang.tr(Key::OfflineWaiting)}
        </div>
    }
}
