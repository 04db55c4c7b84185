//! The access token in memory, its countdown, and the coordinator's phase.

use std::time::Duration;

use leptos::prelude::*;

use super::feed::LabFeed;
use super::view_model::{phase_badge, remaining_text};
use crate::i18n::Key;
use crate::refresh::Clock;
use crate::state::{use_activity, use_language, PlatformClock};

#[component]
pub(super) fn TokenCard(feed: LabFeed) -> impl IntoView {
    let activity = use_activity();
    let lang = use_language();
    let now = RwSignal::new(0i64);
    Effect::new(move |_| {
        now.set(PlatformClock.now_ms());
        if let Ok(handle) = set_interval_with_handle(
            move || now.set(PlatformClock.now_ms()),
            Duration::from_millis(200),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    // On this tab's clock alone, like the coordinator: a clock that disagrees with the
    // server's changes nothing.
    // `try_` wherever the lab's views read its feed: the lab's code is loaded lazily and
    // its signals belong to the loading task's owner, so when an event ends the session
    // (the route goes away), a view's pending update can run after the feed is gone.
    let remaining_ms = move || {
        feed.token
            .try_with(|token| {
                token
                    .as_ref()
                    .map(|t| (t.valid_until_ms() - now.try_get().unwrap_or_default()).max(0))
            })
            .flatten()
    };
    let lifetime_ms = move || {
        feed.token
            .try_with(|token| {
                token
                    .as_ref()
                    .map_or(1, |t| (t.lifetime.as_millis() as i64).max(1))
            })
            .unwrap_or(1)
    };
    let tail = move || {
        feed.token
            .try_with(|token| {
                token
                    .as_ref()
                    .map(|t| format!("…{}", &t.value[t.value.len().saturating_sub(12)..]))
                    .unwrap_or_default()
            })
            .unwrap_or_default()
    };
    let phase = move || {
        phase_badge(
            lang.locale(),
            activity.phase.get(),
            activity.waiting_for_network.get(),
        )
    };
    view! {
        <section class="card token-card" id="lab-token" aria-label=lang.tr(Key::LabAccessToken)>
            <h2>{lang.tr(Key::LabAccessToken)}</h2>
            <div class="countdown" data-remaining-ms=move || remaining_ms().unwrap_or(0)>
                {move || remaining_text(lang.locale(), remaining_ms())}
            </div>
            // A <progress>, not a styled div: the page's CSP allows no inline styles.
            <progress
                class="meter"
                aria-label=lang.tr(Key::LabRemaining)
                max=move || lifetime_ms().to_string()
                value=move || remaining_ms().unwrap_or(0).to_string()
            ></progress>
            <p class="token-tail mono" title=lang.tr(Key::LabTokenTail)>{tail}</p>
            <p class="muted small">
                {lang.tr(Key::LabTokenNote)}
            </p>
            <div class="phase">
                {lang.tr(Key::LabCoordinator)} " "
                <span class=move || format!("badge badge-{}", phase().0) id="phase">{move || phase().1}</span>
                " · " {lang.tr(Key::LabInFlight)} " "
                <strong id="in-flight">{move || activity.in_flight.get()}</strong>
            </div>
        </section>
    }
}
