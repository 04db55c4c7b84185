//! The lab's controls: fire a burst, expire or revoke the session, set the token lifetime.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::feed::LabFeed;
use super::view_model::{BurstResult, BURST_SIZES};
use crate::api::{ErrCode, OrdersQuery};
use crate::i18n::Key;
use crate::refresh::ClientError;
use crate::state::{use_calls, use_language, use_toasts, Calls};

/// `counters_version` is bumped after every action that changes the server's counters.
#[component]
pub(super) fn Controls(feed: LabFeed, counters_version: RwSignal<u32>) -> impl IntoView {
    // The page may be gone when an action ends (a refused refresh redirects to the login
    // page): a disposed signal is then left alone.
    let changed = move || {
        counters_version.try_update(|v| *v += 1);
    };
    let calls = use_calls();
    let toasts = use_toasts();
    let lang = use_language();
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
            let results = futures::future::join_all((0..size).map(|i| burst_call(calls, i))).await;
            last_burst.try_set(Some(BurstResult::of(&results)));
            if let Some(error) = results.into_iter().find_map(Result::err) {
                calls.report(&error);
            }
            running.try_set(false);
            changed();
        });
    };
    let expire = move |_| {
        spawn_local(async move {
            match calls.demo_expire().await {
                Ok(()) => toasts.success(lang.format(
                    Key::LabExpiredToast,
                    &[("errcode", &ErrCode::AccessTokenExpired.code().to_string())],
                )),
                Err(error) => calls.report(&error),
            }
            changed();
        })
    };
    let revoke = move |_| {
        spawn_local(async move {
            match calls.demo_revoke().await {
                Ok(()) => toasts.success(lang.untracked(Key::LabRevokedToast)),
                Err(error) => calls.report(&error),
            }
            changed();
        })
    };
    let apply_lifetime = move |_| {
        let Ok(seconds) = lifetime.get_untracked().trim().parse::<u32>() else {
            toasts.error(lang.untracked(Key::LabLifetimeInvalid));
            return;
        };
        spawn_local(async move {
            match calls.demo_lifetime(seconds).await {
                Ok(set) => toasts.success(lang.format(
                    Key::LabLifetimeToast,
                    &[("seconds", &set.seconds.to_string())],
                )),
                Err(error) => calls.report(&error),
            }
        })
    };
    // `try_`: see `token_card.rs`.
    let refreshes = Signal::derive(move || {
        feed.refresh_calls.try_get().unwrap_or_default()
            - refreshes_at_burst.try_get().unwrap_or_default()
    });

    view! {
        <section class="card" id="lab-controls" aria-label=lang.tr(Key::LabControls)>
            <h2>{lang.tr(Key::LabControls)}</h2>
            <div class="control-row">
                <label for="burst-size">{lang.tr(Key::LabParallel)}</label>
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
                    {move || if running.get() {
                        lang.text(Key::LabRunning).to_owned()
                    } else {
                        lang.format(Key::LabFire, &[("count", &burst_size.get().to_string())])
                    }}
                </button>
            </div>
            <div class="control-row">
                <button id="expire" class="button" on:click=expire>{lang.tr(Key::LabExpire)}</button>
                <button id="revoke" class="button danger" on:click=revoke>{lang.tr(Key::LabRevoke)}</button>
            </div>
            <div class="control-row">
                <label for="lifetime">{lang.tr(Key::LabLifetime)}</label>
                // As on the login page: `bind:value`'s own code is not worth its bytes.
                <input
                    id="lifetime"
                    name="lifetime"
                    class="narrow-input"
                    inputmode="numeric"
                    prop:value=lifetime
                    on:input=move |ev| lifetime.set(event_target_value(&ev))
                />
                <button id="apply-lifetime" class="button" on:click=apply_lifetime>{lang.tr(Key::LabApply)}</button>
            </div>
            <BurstSummary last_burst refreshes/>
        </section>
    }
}

/// One request of a burst; they alternate between the three protected endpoints.
async fn burst_call(calls: Calls, index: usize) -> Result<(), ClientError> {
    match index % 3 {
        0 => calls.me().await.map(|_| ()),
        1 => calls.stats().await.map(|_| ()),
        _ => calls
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
    let lang = use_language();
    view! {
        {move || last_burst.get().map(|burst| view! {
            <p class="burst-summary" id="burst-summary" data-ok=burst.ok data-failed=burst.failed>
                <strong>{lang.format(Key::LabBurstDelivered, &[
                    ("ok", &burst.ok.to_string()),
                    ("size", &burst.size.to_string()),
                ])}</strong>
                {lang.format(
                    if refreshes.get() == 1 { Key::LabBurstRestOne } else { Key::LabBurstRest },
                    &[("failed", &burst.failed.to_string()), ("refreshes", &refreshes.get().to_string())],
                )}
            </p>
        })}
    }
}
