//! A small bridge to Leptos (feature `leptos`): the coordinator's phase and in-flight
//! count, and the session's changes, as signals; and subscriptions that end with the
//! component that made them. It only needs a [`Listeners`] registry, so a view can be
//! wired before the coordinator exists.
//!
//! ```
//! use leptos::prelude::*;
//! use painless_refresh::leptos::{subscribe_while_mounted, Activity};
//! use painless_refresh::{EventKind, Listeners, Phase};
//!
//! /// A spinner while requests are in flight, a note while a refresh runs.
//! #[component]
//! fn Status(listeners: Listeners<()>) -> impl IntoView {
//!     let activity = Activity::follow(&listeners);
//!     let refreshes = RwSignal::new(0);
//!     subscribe_while_mounted(&listeners, move |event| {
//!         if let EventKind::RefreshStarted { .. } = event.kind {
//!             refreshes.try_update(|n| *n += 1);
//!         }
//!     });
//!     view! {
//!         <div class="spinner" hidden=move || activity.in_flight.get() == 0></div>
//!         <p hidden=move || activity.phase.get() != Phase::Refreshing>"Renewing your session…"</p>
//!         <p>{move || refreshes.get()} " refreshes"</p>
//!     }
//! }
//! # fn main() {}
//! ```

use leptos::prelude::*;

use crate::{Event, EventKind, Listeners, Phase};

/// What a whole application shows of the coordinator: its phase, how many requests
/// are in flight (a global spinner) and whether any waits for the network (an "offline"
/// notice). `Copy`; every field is a signal.
#[derive(Debug, Clone, Copy)]
pub struct Activity {
    /// Where the refresh machinery stands.
    pub phase: ReadSignal<Phase>,
    /// Logical requests in flight.
    pub in_flight: ReadSignal<usize>,
    /// Whether a request or the refresh waits for the network or the server.
    pub waiting_for_network: ReadSignal<bool>,
}

impl Activity {
    /// Signals that follow the events of `listeners` from now on, for the life of the
    /// registry (create it once, where the application's state is provided).
    pub fn follow<I: 'static>(listeners: &Listeners<I>) -> Self {
        let (phase, set_phase) = signal(Phase::Idle);
        let (in_flight, set_in_flight) = signal(0usize);
        let (waiting_for_network, set_waiting) = signal(false);
        listeners.subscribe(move |event| match event.kind {
            EventKind::NetworkWait(waiting) => {
                set_waiting.try_set(waiting);
            }
            EventKind::PhaseChanged(now) => {
                set_phase.try_set(now);
            }
            EventKind::InFlight(count) => {
                set_in_flight.try_set(count);
            }
            _ => {}
        });
        Self {
            phase,
            in_flight,
            waiting_for_network,
        }
    }
}

/// A change of the session that the user interface follows.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionChange<I> {
    /// The refresh was refused, here (`None`) or in another tab: log in again.
    Over(Option<String>),
    /// The user logged out in another tab.
    SignedOutElsewhere(String),
    /// Somebody logged in in another tab.
    LoggedInElsewhere(I),
}

impl<I: Clone> SessionChange<I> {
    /// The change an event reports, if it reports one.
    pub fn of(event: &Event<I>) -> Option<Self> {
        match &event.kind {
            EventKind::SessionOver { from_tab } => Some(SessionChange::Over(from_tab.clone())),
            EventKind::SignedOutElsewhere { from } => {
                Some(SessionChange::SignedOutElsewhere(from.clone()))
            }
            EventKind::TokenReceived {
                login: Some(identity),
                ..
            } => Some(SessionChange::LoggedInElsewhere(identity.clone())),
            _ => None,
        }
    }
}

/// The latest [`SessionChange`] as a signal (`None` until the first).
pub fn session_changes<I>(listeners: &Listeners<I>) -> ReadSignal<Option<SessionChange<I>>>
where
    I: Clone + Send + Sync + 'static,
{
    let (latest, set_latest) = signal(None);
    listeners.subscribe(move |event| {
        if let Some(change) = SessionChange::of(event) {
            set_latest.try_set(Some(change));
        }
    });
    latest
}

/// Calls `listener` with every event for as long as the calling component lives.
pub fn subscribe_while_mounted<I: 'static>(
    listeners: &Listeners<I>,
    listener: impl Fn(&Event<I>) + Send + Sync + 'static,
) {
    let id = listeners.subscribe(listener);
    let listeners = listeners.clone();
    on_cleanup(move || listeners.unsubscribe(id));
}
