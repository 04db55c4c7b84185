//! The global loading indicator: visible while any request is in flight, driven only by
//! the coordinator's in-flight count (a guard per request, so it cannot get stuck).

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
