//! The lab's counters: this tab's (from its timeline), this browser's (every tab's refresh
//! calls) and the server's (this session and the whole server).

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::feed::LabFeed;
use super::view_model::{count, is_retry};
use crate::api::Counters;
use crate::i18n::Key;
use crate::refresh::EventKind;
use crate::state::{use_calls, use_language};

#[component]
pub(super) fn TabCounters(feed: LabFeed) -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    // `try_`: see `token_card.rs`.
    let count = move |pick: fn(&EventKind) -> bool| {
        feed.timeline
            .try_with(|t| count(t, pick))
            .unwrap_or_default()
    };
    // Named in the browser only: the server renders the page without other tabs.
    let tab = RwSignal::new(String::new());
    Effect::new(move |_| {
        spawn_local(async move { tab.set(calls.coordinator().await.tab_id().to_owned()) })
    });
    view! {
        <h3>{lang.tr(Key::LabThisTab)} " " <span class="mono" id="tab-id">{tab}</span> " " {lang.tr(Key::LabCurrentTimeline)}</h3>
        <dl class="counter-grid" id="tab-counters">
            <dt>{lang.tr(Key::LabSent)}</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Sent { .. }))}</dd>
            <dt>{lang.tr(Key::LabExpiredAnswers)}</dt>
            <dd>{move || count(|k| matches!(k, EventKind::TokenRefused { .. }))}</dd>
            <dt>{lang.tr(Key::LabRefreshCalls)}</dt>
            <dd data-counter="tab-refreshes">{move || count(|k| matches!(k, EventKind::RefreshStarted { .. }))}</dd>
            <dt>{lang.tr(Key::LabTokensFromTabs)}</dt>
            <dd data-counter="tokens-received">{move || count(|k| matches!(k, EventKind::TokenReceived { .. }))}</dd>
            <dt>{lang.tr(Key::LabReplayed)}</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Replayed { .. }))}</dd>
            <dt>{lang.tr(Key::LabRetries)}</dt>
            <dd data-counter="tab-retries">{move || count(is_retry)}</dd>
            <dt>{lang.tr(Key::LabDelivered)}</dt>
            <dd>{move || count(|k| matches!(k, EventKind::Delivered { .. }))}</dd>
        </dl>
    }
}

/// Refresh calls sent by every tab of this browser (a tally the tabs keep in
/// `localStorage`, read twice a second).
#[component]
pub(super) fn BrowserCounters() -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    let refresh_calls = RwSignal::new(0u64);
    Effect::new(move |_| {
        let read = move || {
            if let Some(coordinator) = calls.built() {
                refresh_calls.set(coordinator.browser_refresh_calls());
            }
        };
        read();
        if let Ok(handle) = set_interval_with_handle(read, Duration::from_millis(500)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <h3>{lang.tr(Key::LabThisBrowser)}</h3>
        <dl class="counter-grid" id="browser-counters">
            <dt>{lang.tr(Key::LabRefreshCalls)}</dt>
            <dd data-counter="browser-refreshes">{refresh_calls}</dd>
        </dl>
    }
}

#[component]
pub(super) fn ServerCounters(title: Key, counters: Counters) -> impl IntoView {
    let lang = use_language();
    let rejected = counters
        .rejected
        .iter()
        .map(|(code, n)| format!("{code}×{n}"))
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <h3>{lang.tr(title)}</h3>
        <dl class="counter-grid">
            <dt>{lang.tr(Key::LabRefreshes)}</dt>
            <dd>{counters.refreshes}</dd>
            <dt>{lang.tr(Key::LabRotations)}</dt>
            <dd>{counters.rotations}</dd>
            <dt>{lang.tr(Key::LabGrace)}</dt>
            <dd>{counters.grace_refreshes}</dd>
            <dt>{lang.tr(Key::LabReuse)}</dt>
            <dd>{counters.reuse_detections}</dd>
            <dt>{lang.tr(Key::LabFailedRefreshes)}</dt>
            <dd>{counters.failed_refreshes}</dd>
            {(!rejected.is_empty()).then(|| view! { <dt>{lang.tr(Key::LabRejected)}</dt><dd class="mono">{rejected}</dd> })}
        </dl>
    }
}
