//! `/sessions`: the signed-in user's live sessions, and "sign out everywhere else"; a WASM
//! chunk of its own (`Deferred`).

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ActiveSession;
use crate::components::deferred::{deferred_body, Deferred};
use crate::components::page_head::PageHead;
use crate::components::panels::PanelError;
use crate::format::date_time;
use crate::i18n::Key;
use crate::state::{use_calls, use_language};

#[component]
pub(crate) fn SessionsPage() -> impl IntoView {
    view! {
        <PageHead title=Key::SessionsTitle tagline=Key::SessionsTagline/>
        <Deferred load=session_list/>
    }
}

deferred_body!(session_list => SessionList);

#[component]
fn SessionList() -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    let sessions =
        LocalResource::new(move || async move { calls.reported(calls.sessions().await) });
    // How many were ended by the last click, for the summary line.
    let ended = RwSignal::new(None::<u32>);
    let end_others = move |_| {
        spawn_local(async move {
            if let Ok(result) = calls.reported(calls.end_other_sessions().await) {
                ended.set(Some(result.ended));
                sessions.refetch();
            }
        })
    };

    view! {
        <section class="card panel wide" id="sessions" aria-label=lang.tr(Key::ActiveSessions)>
            <Suspense fallback=|| view! { <div class="skeleton tall"></div> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! { <SessionsTable sessions=list/> }.into_any(),
                        Err(error) => view! { <PanelError error/> }.into_any(),
                    }
                })}
            </Suspense>
            <p class="actions">
                <button id="end-others" class="button" on:click=end_others>
                    {lang.tr(Key::EndOthers)}
                </button>
                {move || {
                    ended
                        .get()
                        .map(|count| {
                            view! {
                                <span id="ended-summary" class="muted" data-ended=count>
                                    {move || lang.format(Key::EndedOthers, &[("count", &count.to_string())])}
                                </span>
                            }
                        })
                }}
            </p>
        </section>
    }
}

#[component]
fn SessionsTable(sessions: Vec<ActiveSession>) -> impl IntoView {
    let lang = use_language();
    view! {
        <table class="orders" data-loaded="true">
            <thead>
                <tr>
                    <th>{lang.tr(Key::ColSignedIn)}</th>
                    <th>{lang.tr(Key::ColLastActive)}</th>
                    <th>{lang.tr(Key::ColEnds)}</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {sessions
                    .into_iter()
                    .map(|active| {
                        view! {
                            <tr class:current=active.current>
                                <td>{move || date_time(lang.locale(), active.started_at)}</td>
                                <td>{move || date_time(lang.locale(), active.last_active_at)}</td>
                                <td>{move || date_time(lang.locale(), active.expires_at)}</td>
                                <td>{active.current.then_some(lang.tr(Key::ThisBrowser))}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
