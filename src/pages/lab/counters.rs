//! The lab's counters: this tab's (from its timeline), this browser's (every tab's refresh
//! calls) and the server's (this session and the whole server).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::feed::LabFeed;
use super::view_model::count;
use crate::api::Counters;
use crate::refresh::EventKind;
use crate::state::use_api;

#[component]
pub(super) fn TabCounters(feed: LabFeed) -> impl IntoView {
    let api = use_api();
    let count = move |pick: fn(&EventKind) -> bool| feed.timeline.with(|t| count(t, pick));
    // Named in the browser only: the server renders the page without other tabs.
    let tab = RwSignal::new(String::new());
    Effect::new(move |_| {
        spawn_local(async move { tab.set(api.client().await.tab_id().to_owned()) })
    });
    view! {
        <h3>"This tab " <span class="mono" id="tab-id">{tab}</span> " (current timeline)"</h3>
        <dl class="counter-grid" id="tab-counters">
            <dt>"Sent"</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Sent { .. }))}</dd>
            <dt>"Expired-token answers"</dt>
            <dd>{move || count(|k| matches!(k, EventKind::GotErrcode { .. }))}</dd>
            <dt>"Refresh calls"</dt>
            <dd data-counter="tab-refreshes">{move || count(|k| matches!(k, EventKind::RefreshStarted { .. }))}</dd>
            <dt>"Tokens from other tabs"</dt>
            <dd data-counter="tokens-received">{move || count(|k| matches!(k, EventKind::TokenReceived { .. }))}</dd>
            <dt>"Replayed"</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Replayed { .. }))}</dd>
            <dt>"Delivered"</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Delivered { .. }))}</dd>
        </dl>
    }
}

/// Refresh calls sent by every tab of this browser (a tally the tabs keep in
/// `localStorage`, read twice a second).
#[component]
pub(super) fn BrowserCounters() -> impl IntoView {
    let api = use_api();
    let calls = RwSignal::new(0u64);
    Effect::new(move |_| {
        let read = move || {
            if let Some(client) = api.built() {
                calls.set(client.browser_refresh_calls());
            }
        };
        read();
        if let Ok(handle) = set_interval_with_handle(read, Duration::from_millis(500)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <h3>"This browser (all tabs)"</h3>
        <dl class="counter-grid" id="browser-counters">
            <dt>"Refresh calls"</dt>
            <dd data-counter="browser-refreshes">{calls}</dd>
        </dl>
    }
}

#[component]
pub(super) fn ServerCounters(title: &'static str, counters: Counters) -> impl IntoView {
    let rejected = counters
        .rejected
        .iter()
        .map(|(code, n)| format!("{code}×{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <h3>{title}</h3>
        <dl class="counter-grid">
            <dt>"Refreshes"</dt>
            <dd>{counters.refreshes}</dd>
            <dt>"Rotations"</dt>
            <dd>{counters.rotations}</dd>
            <dt>"Grace answers"</dt>
            <dd>{counters.grace_refreshes}</dd>
            <dt>"Reuse detected"</dt>
            <dd>{counters.reuse_detections}</dd>
            <dt>"Failed refreshes"</dt>
            <dd>{counters.failed_refreshes}</dd>
            {(!rejected.is_empty()).then(|| view! { <dt>"Rejected"</dt><dd class="mono">{rejected}</dd> })}
        </dl>
    }
}
