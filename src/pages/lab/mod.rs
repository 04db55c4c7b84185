//! `/lab`: the refresh lab. Fire N parallel requests, expire or revoke the session, change
//! the token lifetime, and watch the coordinator's timeline: N requests fail, one refresh
//! runs (one per browser, whatever the number of tabs), N replays deliver.
//!
//! Small components over a view-model (`view_model.rs`, tested natively) and a feed of
//! coordinator events that lives while the page is mounted (`feed.rs`).

mod controls;
mod counters;
mod feed;
mod timeline;
mod token_card;
mod view_model;

use leptos::prelude::*;
use leptos_meta::Title;

use crate::state::use_api;
use controls::Controls;
use counters::{BrowserCounters, ServerCounters, TabCounters};
use feed::LabFeed;
use timeline::Timeline;
use token_card::TokenCard;

#[component]
pub(crate) fn LabPage() -> impl IntoView {
    let api = use_api();
    let feed = LabFeed::mount(api);
    let counters_version = RwSignal::new(0u32);
    let counters = LocalResource::new(move || {
        counters_version.track();
        async move { api.demo_counters().await }
    });

    view! {
        <Title text="Refresh lab"/>
        <div class="page-head">
            <h1>"Refresh lab"</h1>
            <p class="muted">
                "Expire the token, then fire a burst: every request fails with an expired-token errcode, "
                "exactly one refresh runs, and every request is replayed and delivered to its own caller."
            </p>
        </div>
        <div class="lab-grid">
            <TokenCard feed/>
            <Controls feed counters_version/>
            <section class="card" id="lab-counters" aria-label="Counters">
                <h2>"Counters"</h2>
                <TabCounters feed/>
                <BrowserCounters/>
                <Transition fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        counters.await.ok().map(|report| view! {
                            <ServerCounters title="This session (server)" counters=report.session.unwrap_or_default()/>
                            <ServerCounters title="Whole server" counters=report.server/>
                        })
                    })}
                </Transition>
            </section>
        </div>
        <Timeline feed/>
    }
}
