//! `/lab`: the refresh lab. Fire N parallel requests, expire or revoke the session, change
//! the token lifetime, and watch the coordinator's timeline: N requests fail, one refresh
//! runs, N replays deliver.

use std::collections::BTreeMap;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;

use crate::api::{Counters, OrdersQuery};
use crate::components::toasts::use_toasts;
use crate::refresh::{ClientError, Event, EventKind, Phase, QueueReason};
use crate::session::{use_session, Session};

const BURST_SIZES: [usize; 6] = [1, 5, 10, 20, 30, 50];

/// The outcome of the last burst of parallel requests.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct BurstResult {
    size: usize,
    ok: usize,
    failed: usize,
}

#[component]
pub fn LabPage() -> impl IntoView {
    let session = use_session();
    let toasts = use_toasts();
    let burst_size = RwSignal::new(10usize);
    let running = RwSignal::new(false);
    let last_burst = RwSignal::new(None::<BurstResult>);
    let refreshes_at_burst = RwSignal::new(0u64);
    let lifetime = RwSignal::new(String::from("20"));
    let counters_version = RwSignal::new(0u32);
    let counters = LocalResource::new(move || {
        counters_version.track();
        async move { session.demo_counters().await }
    });
    let refetch_counters = move || counters_version.update(|v| *v += 1);

    let fire = move |_| {
        if running.get_untracked() {
            return;
        }
        let size = burst_size.get_untracked();
        session.timeline.set(Vec::new());
        refreshes_at_burst.set(session.refreshes_started.get_untracked());
        running.set(true);
        spawn_local(async move {
            let calls = (0..size).map(|i| burst_call(session, i));
            let results = futures::future::join_all(calls).await;
            let ok = results.iter().filter(|r| r.is_ok()).count();
            last_burst.set(Some(BurstResult {
                size,
                ok,
                failed: size - ok,
            }));
            if let Some(error) = results.into_iter().find_map(Result::err) {
                session.report(&error);
            }
            running.set(false);
            refetch_counters();
        });
    };

    let expire = move |_| {
        spawn_local(async move {
            match session.demo_expire().await {
                Ok(()) => toasts
                    .success("Access tokens expired on the server: the next request gets 30001."),
                Err(error) => session.report(&error),
            }
            refetch_counters();
        })
    };
    let revoke = move |_| {
        spawn_local(async move {
            match session.demo_revoke().await {
                Ok(()) => toasts.success("Session revoked: the next refresh will fail."),
                Err(error) => session.report(&error),
            }
            refetch_counters();
        })
    };
    let apply_lifetime = move |_| {
        let Ok(seconds) = lifetime.get_untracked().trim().parse::<u32>() else {
            toasts.error("Lifetime must be a whole number of seconds");
            return;
        };
        spawn_local(async move {
            match session.demo_lifetime(seconds).await {
                Ok(set) => toasts.success(format!(
                    "New access tokens live {} s (from the next refresh).",
                    set.seconds
                )),
                Err(error) => session.report(&error),
            }
        })
    };

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
            <TokenCard session/>
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
                <BurstSummary last_burst refreshes=Signal::derive(move || session.refreshes_started.get() - refreshes_at_burst.get())/>
            </section>
            <section class="card" id="lab-counters" aria-label="Counters">
                <h2>"Counters"</h2>
                <TabCounters session/>
                <BrowserCounters session/>
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
        <Timeline session/>
    }
}

/// One request of a burst; they alternate between the three protected endpoints.
async fn burst_call(session: Session, index: usize) -> Result<(), ClientError> {
    match index % 3 {
        0 => session.me().await.map(|_| ()),
        1 => session.stats().await.map(|_| ()),
        _ => session
            .orders(OrdersQuery {
                page: 1 + (index as u32 % 4),
                page_size: 5,
            })
            .await
            .map(|_| ()),
    }
}

#[component]
fn TokenCard(session: Session) -> impl IntoView {
    let now = RwSignal::new(0i64);
    Effect::new(move |_| {
        now.set(session.now_ms());
        if let Ok(handle) = set_interval_with_handle(
            move || now.set(session.now_ms()),
            Duration::from_millis(200),
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    // On this tab's clock alone, like the coordinator: a clock that disagrees with the
    // server's changes nothing.
    let remaining_ms = move || {
        session.token.with(|token| {
            token
                .as_ref()
                .map(|t| (t.valid_until_ms() - now.get()).max(0))
        })
    };
    let lifetime_ms = move || {
        session
            .token
            .with(|token| token.as_ref().map_or(1, |t| t.lifetime_ms.max(1)))
    };
    let phase = move || match session.phase.get() {
        Phase::Idle => ("idle", "Idle"),
        Phase::Refreshing => ("refreshing", "Refreshing…"),
        Phase::Failed => ("failed", "Refresh failed"),
        Phase::SignedOut => ("failed", "Signed out"),
    };
    view! {
        <section class="card token-card" id="lab-token" aria-label="Access token">
            <h2>"Access token"</h2>
            <div class="countdown" data-remaining-ms=move || remaining_ms().unwrap_or(0)>
                {move || match remaining_ms() {
                    Some(ms) if ms > 0 => format!("{:.1} s", ms as f64 / 1000.0),
                    Some(_) => "expired".to_owned(),
                    None => "none in memory".to_owned(),
                }}
            </div>
            // A <progress>, not a styled div: the page's CSP allows no inline styles.
            <progress
                class="meter"
                aria-label="Remaining lifetime"
                max=move || lifetime_ms().to_string()
                value=move || remaining_ms().unwrap_or(0).max(0).to_string()
            ></progress>
            <p class="token-tail mono" title="The end of the token (its signature)">
                {move || {
                    session.token.with(|token| {
                        token
                            .as_ref()
                            .map(|t| format!("…{}", &t.value[t.value.len().saturating_sub(12)..]))
                            .unwrap_or_default()
                    })
                }}
            </p>
            <p class="muted small">
                "Held in memory only; the refresh token is an HttpOnly cookie. Refreshed before sending when it has less than the safety margin left."
            </p>
            <div class="phase">
                "Coordinator: "
                <span class=move || format!("badge badge-{}", phase().0) id="phase">{move || phase().1}</span>
                " · in flight: "
                <strong id="in-flight">{move || session.in_flight.get()}</strong>
            </div>
        </section>
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

#[component]
fn TabCounters(session: Session) -> impl IntoView {
    let count = move |pick: fn(&EventKind) -> bool| {
        session
            .timeline
            .with(|t| t.iter().filter(|e| pick(&e.kind)).count())
    };
    // Named in the browser only: the server renders the page without other tabs.
    let tab = RwSignal::new(String::new());
    Effect::new(move |_| tab.set(session.client().tab_id().to_owned()));
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
fn BrowserCounters(session: Session) -> impl IntoView {
    let calls = RwSignal::new(0u64);
    Effect::new(move |_| {
        let read = move || calls.set(session.client().browser_refresh_calls());
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
fn ServerCounters(title: &'static str, counters: Counters) -> impl IntoView {
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

/// One line of the timeline: a request with its steps, or a refresh.
#[derive(Clone, PartialEq)]
struct Row {
    key: String,
    title: String,
    is_refresh: bool,
    steps: Vec<(String, &'static str, i64)>,
}

fn rows(events: &[Event]) -> (Vec<Row>, i64) {
    let origin = events.first().map(|e| e.at_ms).unwrap_or_default();
    let mut rows: BTreeMap<(i64, String), Row> = BTreeMap::new();
    let mut keys: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for event in events {
        let (key, title, is_refresh) = match &event.kind {
            EventKind::RefreshStarted { refresh }
            | EventKind::RefreshSucceeded { refresh, .. }
            | EventKind::RefreshFailed { refresh, .. } => {
                (format!("r{refresh}"), format!("refresh #{refresh}"), true)
            }
            EventKind::RefreshLocked { refresh, .. } | EventKind::AwaitingOtherTab { refresh } => {
                (format!("r{refresh}"), format!("refresh #{refresh}"), true)
            }
            EventKind::SessionOver { .. } | EventKind::SignedOutElsewhere { .. } => {
                ("session".to_owned(), "session".to_owned(), true)
            }
            EventKind::TokenReceived { generation, .. } => (
                format!("g{generation}"),
                format!("token #{generation}"),
                true,
            ),
            kind => match kind.request() {
                Some(id) => (format!("q{id}"), format!("#{id}"), false),
                None => continue,
            },
        };
        let (label, class) = step(&event.kind);
        let slot = keys
            .entry(key.clone())
            .or_insert_with(|| (event.at_ms, key.clone()))
            .clone();
        let row = rows.entry(slot).or_insert_with(|| Row {
            key,
            title,
            is_refresh,
            steps: Vec::new(),
        });
        if let EventKind::Sent { label, .. } = &event.kind {
            row.title = format!("{} {label}", row.title);
        }
        row.steps.push((label, class, event.at_ms - origin));
    }
    (rows.into_values().collect(), origin)
}

fn step(kind: &EventKind) -> (String, &'static str) {
    match kind {
        EventKind::Sent { .. } => ("sent".into(), "sent"),
        EventKind::GotErrcode { errcode, .. } => (errcode.to_string(), "errcode"),
        EventKind::Queued { reason, .. } => (
            match reason {
                QueueReason::NoToken => "queued (no token)".into(),
                QueueReason::ExpiresSoon => "queued (expires soon)".into(),
                QueueReason::RefreshRunning => "queued (refresh running)".into(),
                QueueReason::Errcode(_) => "queued".into(),
            },
            "queued",
        ),
        EventKind::RefreshLocked {
            exclusive: true, ..
        } => ("lock taken".into(), "queued"),
        EventKind::RefreshLocked { .. } => ("no lock".into(), "queued"),
        EventKind::AwaitingOtherTab { .. } => ("another tab got ahead".into(), "queued"),
        EventKind::RefreshStarted { .. } => ("POST /api/auth/refresh".into(), "refresh"),
        EventKind::TokenReceived { from, .. } => (format!("from tab {from}"), "ok"),
        EventKind::SignedOutElsewhere { from } => (format!("logout in tab {from}"), "failed"),
        EventKind::RefreshSucceeded { .. } => ("new token".into(), "ok"),
        EventKind::RefreshFailed {
            session_over: true, ..
        } => ("refused".into(), "failed"),
        EventKind::RefreshFailed { .. } => ("failed, will retry".into(), "failed"),
        EventKind::Replayed { .. } => ("replayed".into(), "replayed"),
        EventKind::Delivered { result: Ok(()), .. } => ("delivered".into(), "ok"),
        EventKind::Delivered {
            result: Err(code), ..
        } => (format!("error {code}"), "failed"),
        EventKind::Cancelled { .. } => ("cancelled".into(), "failed"),
        EventKind::SessionOver { from_tab: None } => ("session over".into(), "failed"),
        EventKind::SessionOver {
            from_tab: Some(from),
        } => (format!("session over (tab {from})"), "failed"),
        EventKind::InFlight(_) | EventKind::PhaseChanged(_) | EventKind::TokenChanged(_) => {
            (String::new(), "")
        }
    }
}

#[component]
fn Timeline(session: Session) -> impl IntoView {
    let grouped = Memo::new(move |_| session.timeline.with(|events| rows(events).0));
    view! {
        <section class="card timeline" id="lab-timeline" aria-label="Timeline">
            <div class="timeline-head">
                <h2>"Timeline"</h2>
                <button class="button ghost small" on:click=move |_| session.timeline.set(Vec::new())>"Clear"</button>
            </div>
            <Show
                when=move || !grouped.with(Vec::is_empty)
                fallback=|| view! { <p class="muted">"Fire a burst to see each request's path through the coordinator."</p> }
            >
                <ol class="rows">
                    <For each=move || grouped.get() key=|row| (row.key.clone(), row.steps.len()) let:row>
                        <li class="row" class:refresh-row=row.is_refresh data-row=row.key.clone()>
                            <span class="row-title mono">{row.title.clone()}</span>
                            <span class="steps">
                                {row
                                    .steps
                                    .iter()
                                    .map(|(label, class, offset)| view! {
                                        <span class=format!("chip chip-{class}")>
                                            {label.clone()}
                                            <small>{format!(" +{offset} ms")}</small>
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
