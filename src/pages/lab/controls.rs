//! The lab's controls: fire a burst, expire or revoke the session, set the token lifetime.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::feed::LabFeed;
use super::view_model::{BurstResult, BURST_SIZES};
use crate::api::{ErrCode, OrdersQuery};
use crate::refresh::ClientError;
use crate::state::{use_api, use_toasts, Api};

/// `counters_version` is bumped after every action that changes the server's counters.
#[component]
pub(super) fn Controls(feed: LabFeed, counters_version: RwSignal<u32>) -> impl IntoView {
    // The page may be gone when an action ends (a refused refresh redirects to the login
    // page): a disposed signal is then left alone.
    let changed = move || {
        counters_version.try_update(|v| *v += 1);
    };
    let api = use_api();
    let toasts = use_toasts();
    let burst_size = RwSignal::new(10usize);
    let running = RwSignal::new(false);
    let last_burst = RwSignal::new(None::<BurstResult>);
    let refreshes_at_burst = RwSignal::new(0u64);
    let lifetime = RwSignal::new(String::from("20"));

    let fire = move |_| {
        if running.get_untracked() {
            return;
        }
        let size = burst_size.get_untracked();
        feed.timeline.set(Vec::new());
        refreshes_at_burst.set(feed.refresh_calls.get_untracked());
        running.set(true);
        spawn_local(async move {
            let results = futures::future::join_all((0..size).map(|i| burst_call(api, i))).await;
            last_burst.try_set(Some(BurstResult::of(&results)));
            if let Some(error) = results.into_iter().find_map(Result::err) {
                api.report(&error);
            }
            running.try_set(false);
            changed();
        });
    };
    let expire = move |_| {
        spawn_local(async move {
            match api.demo_expire().await {
                Ok(()) => toasts.success(format!(
                    "Access tokens expired on the server: the next request gets {}.",
                    ErrCode::AccessTokenExpired.code()
                )),
                Err(error) => api.report(&error),
            }
            changed();
        })
    };
    let revoke = move |_| {
        spawn_local(async move {
            match api.demo_revoke().await {
                Ok(()) => toasts.success("Session revoked: the next refresh will fail."),
                Err(error) => api.report(&error),
            }
            changed();
        })
    };
    let apply_lifetime = move |_| {
        let Ok(seconds) = lifetime.get_untracked().trim().parse::<u32>() else {
            toasts.error("Lifetime must be a whole number of seconds");
            return;
        };
        spawn_local(async move {
            match api.demo_lifetime(seconds).await {
                Ok(set) => toasts.success(format!(
                    "New access tokens live {} s (from the next refresh).",
                    set.seconds
                )),
                Err(error) => api.report(&error),
            }
        })
    };
    let refreshes = Signal::derive(move || feed.refresh_calls.get() - refreshes_at_burst.get());

    view! {
        <section class="card" id="lab-controls" aria-label="Controls">
            <h2>"Controls"</h2>
            <div class="control-row">
                <label for="burst-size">"Parallel requests"</label>
                <select
                    id="burst-size"
                    name="burst_size"
                    on:change=move |ev| {
                        if let Ok(n) = event_target_value(&ev).parse() {
                            burst_size.set(n);
                        }
                    }
                >
                    {BURST_SIZES
                        .into_iter()
                        .map(|n| view! { <option value=n.to_string() selected=move || burst_size.get() == n>{n}</option> })
                        .collect_view()}
                </select>
                <button id="fire" class="button primary" on:click=fire disabled=move || running.get()>
                    {move || if running.get() { "Running…".to_owned() } else { format!("Fire {} requests", burst_size.get()) }}
                </button>
            </div>
            <div class="control-row">
                <button id="expire" class="button" on:click=expire>"Expire access token now"</button>
                <button id="revoke" class="button danger" on:click=revoke>"Revoke session"</button>
            </div>
            <div class="control-row">
                <label for="lifetime">"Token lifetime (s)"</label>
                <input id="lifetime" name="lifetime" class="narrow-input" inputmode="numeric" bind:value=lifetime/>
                <button id="apply-lifetime" class="button" on:click=apply_lifetime>"Apply"</button>
            </div>
            <BurstSummary last_burst refreshes/>
        </section>
    }
}

/// One request of a burst; they alternate between the three protected endpoints.
async fn burst_call(api: Api, index: usize) -> Result<(), ClientError> {
    match index % 3 {
        0 => api.me().await.map(|_| ()),
        1 => api.stats().await.map(|_| ()),
        _ => api
            .orders(OrdersQuery {
                page: 1 + (index as u32 % 4),
                page_size: 5,
            })
            .await
            .map(|_| ()),
    }
}

#[component]
fn BurstSummary(
    last_burst: RwSignal<Option<BurstResult>>,
    refreshes: Signal<u64>,
) -> impl IntoView {
    view! {
        {move || last_burst.get().map(|burst| view! {
            <p class="burst-summary" id="burst-summary" data-ok=burst.ok data-failed=burst.failed>
                <strong>{format!("{} of {} delivered", burst.ok, burst.size)}</strong>
                {format!(" · {} failed · {} refresh call{}", burst.failed, refreshes.get(), if refreshes.get() == 1 { "" } else { "s" })}
            </p>
        })}
    }
}
