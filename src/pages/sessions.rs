//! `/sessions`: the signed-in user's live sessions, and "sign out everywhere else".

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::ActiveSession;
use crate::components::panels::PanelError;
use crate::format::date_time;
use crate::state::use_api;

#[component]
pub(crate) fn SessionsPage() -> impl IntoView {
    let api = use_api();
    let sessions = LocalResource::new(move || async move { api.reported(api.sessions().await) });
    // How many were ended by the last click, for the summary line.
    let ended = RwSignal::new(None::<u32>);
    let end_others = move |_| {
        spawn_local(async move {
            if let Ok(result) = api.reported(api.end_other_sessions().await) {
                ended.set(Some(result.ended));
                sessions.refetch();
            }
        })
    };

    view! {
        <Title text="Sessions"/>
        <div class="page-head">
            <h1>"Sessions"</h1>
            <p class="muted">"Every browser signed in as you. Ending the others makes their next refresh fail."</p>
        </div>
        <section class="card panel wide" id="sessions" aria-label="Active sessions">
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
                    "Sign out everywhere else"
                </button>
                {move || {
                    ended
                        .get()
                        .map(|count| {
                            view! {
                                <span id="ended-summary" class="muted" data-ended=count>
                                    {format!(" Ended {count} other session(s).")}
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
    view! {
        <table class="orders" data-loaded="true">
            <thead>
                <tr>
                    <th>"Signed in"</th>
                    <th>"Last active"</th>
                    <th>"Ends"</th>
                    <th></th>
                </tr>
            </thead>
            <tbody>
                {sessions
                    .into_iter()
                    .map(|active| {
                        view! {
                            <tr class:current=active.current>
                                <td>{date_time(active.started_at)}</td>
                                <td>{date_time(active.last_active_at)}</td>
                                <td>{date_time(active.expires_at)}</td>
                                <td>{active.current.then_some("this browser")}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
