//! The coordinator's timeline: a row per request, refresh round and tab message.

use leptos::prelude::*;

use super::feed::LabFeed;
use super::view_model::rows;
use crate::i18n::Key;
use crate::state::use_language;

#[component]
pub(super) fn Timeline(feed: LabFeed) -> impl IntoView {
    let lang = use_language();
    let grouped = Memo::new(move |_| {
        let locale = lang.locale();
        // `try_`: see `token_card.rs`.
        feed.timeline
            .try_with(|events| rows(locale, events))
            .unwrap_or_default()
    });
    view! {
        <section class="card timeline" id="lab-timeline" aria-label=lang.tr(Key::LabTimeline)>
            <div class="timeline-head">
                <h2>{lang.tr(Key::LabTimeline)}</h2>
                <button class="button ghost small" on:click=move |_| feed.timeline.set(Vec::new())>{lang.tr(Key::LabClear)}</button>
            </div>
            <Show
                when=move || !grouped.with(Vec::is_empty)
                fallback=move || view! { <p class="muted">{lang.tr(Key::LabTimelineEmpty)}</p> }
            >
                <ol class="rows">
                    <For each=move || grouped.get() key=|row| (row.key.clone(), row.steps.len()) let:row>
                        <li class="row" class:refresh-row=row.is_refresh data-row=row.key.clone()>
                            <span class="row-title mono">{row.title.clone()}</span>
                            <span class="steps">
                                {row
                                    .steps
                                    .iter()
                                    .map(|step| view! {
                                        <span class=format!("chip chip-{}", step.class)>
                                            {step.label.clone()}
                                            <small>{format!(" +{} ms", step.offset_ms)}</small>
                                        </span>
                                    })
                                    .collect_view()}
                            </span>
                        </li>
                    </For>
                </ol>
            </Show>
        </section>
    }
}
