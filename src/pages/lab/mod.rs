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

use crate::components::page_head::PageHead;
use crate::i18n::Key;
use crate::state::{use_calls, use_language};
use controls::Controls;
use counters::{BrowserCounters, ServerCounters, TabCounters};
use feed::LabFeed;
use timeline::Timeline;
use token_card::TokenCard;

#[component]
pub(crate) fn LabPage() -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    let feed = LabFeed::mount(calls);
    let counters_version = RwSignal::new(0u32);
    let counters = LocalResource::new(move || {
        counters_version.track();
        async move { calls.demo_counters().await }
    });

    view! {
        <PageHead title=Key::LabTitle tagline=Key::LabIntro/>
        <div class="lab-grid">
            <TokenCard feed/>
            <Controls feed counters_version/>
            <section class="card" id="lab-counters" aria-label=lang.tr(Key::LabCounters)>
                <h2>{lang.tr(Key::LabCounters)}</h2>
                <TabCounters feed/>
                <BrowserCounters/>
                <Transition fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        counters.await.ok().map(|report| view! {
                            <ServerCounters title=Key::LabSessionCounters counters=report.session.unwrap_or_default()/>
                            <ServerCounters title=Key::LabServerCounters counters=report.server/>
                        })
                    })}
                </Transition>
            </section>
        </div>
        <Timeline feed/>
    }
}
