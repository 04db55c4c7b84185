//! The app's session state: the refresh coordinator wired to Leptos signals, who is logged
//! in, and the typed API calls pages make. Provided once in `App`, reached with
//! [`use_session`].

mod calls;
mod platform;

use leptos::prelude::*;

use crate::api::{BootInfo, User};
use crate::components::toasts::{use_toasts, Toasts};
use crate::refresh::{
    ClientError, Clock, Coordinator, Event, EventKind, HeldToken, Phase, Settings,
};
use platform::{tab_link, PlatformClock, PlatformSpawner, PlatformTabs, PlatformTransport};

pub type ApiClient = Coordinator<PlatformTransport, PlatformClock, PlatformSpawner, PlatformTabs>;

/// How many coordinator events the refresh lab keeps.
const TIMELINE_LIMIT: usize = 600;

/// Shared client state. `Copy`: every field is an arena handle.
#[derive(Clone, Copy)]
pub struct Session {
    /// Rendered by the server from the refresh cookie; read inside `Suspense`.
    boot: Resource<BootInfo>,
    /// Set by login, logout and a failed refresh; `None` means "as the server said".
    user_override: RwSignal<Option<Option<User>>>,
    /// The customer code of the last user, for the `code=` of the login redirect.
    last_customer_code: RwSignal<Option<String>>,
    pub in_flight: RwSignal<usize>,
    pub phase: RwSignal<Phase>,
    /// The access token in memory (never stored anywhere else in the browser).
    pub token: RwSignal<Option<HeldToken>>,
    pub timeline: RwSignal<Vec<Event>>,
    pub refreshes_started: RwSignal<u64>,
    client: StoredValue<Option<ApiClient>>,
    toasts: Toasts,
}

impl Session {
    fn new(boot: Resource<BootInfo>, toasts: Toasts) -> Self {
        Self {
            boot,
            user_override: RwSignal::new(None),
            last_customer_code: RwSignal::new(None),
            in_flight: RwSignal::new(0),
            phase: RwSignal::new(Phase::Idle),
            token: RwSignal::new(None),
            timeline: RwSignal::new(Vec::new()),
            refreshes_started: RwSignal::new(0),
            client: StoredValue::new(None),
            toasts,
        }
    }

    /// The boot information, once the server's answer is there (reactive).
    pub fn boot(&self) -> Option<BootInfo> {
        self.boot.get()
    }

    /// Who is logged in (reactive). `None` also while the boot information loads.
    pub fn user(&self) -> Option<User> {
        match self.user_override.get() {
            Some(user) => user,
            None => self.boot.get().and_then(|boot| boot.user),
        }
    }

    /// `Some(true)` when logged in, `None` while unknown: the condition of protected routes.
    pub fn logged_in(&self) -> Option<bool> {
        match self.user_override.get() {
            Some(user) => Some(user.is_some()),
            None => self.boot.get().map(|boot| boot.user.is_some()),
        }
    }

    /// The customer code to put in `code=` when sending the user to the login page.
    pub fn customer_code(&self) -> Option<String> {
        self.user()
            .map(|u| u.customer_code)
            .or_else(|| self.last_customer_code.get_untracked())
    }

    fn set_user(&self, user: Option<User>) {
        let current = match self.user_override.get_untracked() {
            Some(user) => user,
            None => self.boot.get_untracked().and_then(|boot| boot.user),
        };
        if let Some(code) = user
            .as_ref()
            .or(current.as_ref())
            .map(|u| u.customer_code.clone())
        {
            self.last_customer_code.set(Some(code));
        }
        self.user_override.set(Some(user));
    }

    /// The platform clock, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        PlatformClock.now_ms()
    }

    /// The coordinator, created on first use with the settings the server sent.
    pub fn client(&self) -> ApiClient {
        if let Some(client) = self.client.get_value() {
            return client;
        }
        let boot = self.boot.get_untracked().unwrap_or_default();
        let settings = Settings {
            refresh_errcodes: boot.refresh_errcodes,
            margin_ms: (boot.refresh_margin_secs as i64) * 1000,
            ..Settings::default()
        };
        let session = *self;
        let tabs = tab_link(move |message| session.client().receive(message));
        let client = Coordinator::new(
            PlatformTransport,
            PlatformClock,
            PlatformSpawner,
            tabs,
            settings,
        );
        client.subscribe(move |event| session.observe(event));
        self.client.set_value(Some(client.clone()));
        client
    }

    /// Mirrors the coordinator's events into signals, and turns a failed refresh (here or
    /// in another tab) into one toast and a logged-out state, a logout in another tab into
    /// a neutral notice, and a login in another tab into this tab's user. Protected routes
    /// follow the user: without one they redirect to the login page, which in turn goes
    /// on to its `redirect` once a user is there.
    fn observe(&self, event: &Event) {
        match &event.kind {
            EventKind::InFlight(count) => self.in_flight.set(*count),
            EventKind::PhaseChanged(phase) => self.phase.set(*phase),
            EventKind::TokenChanged(token) => self.token.set(token.clone()),
            EventKind::RefreshStarted { .. } => self.refreshes_started.update(|n| *n += 1),
            EventKind::SessionOver { .. } => {
                self.toasts.error(ClientError::SessionOver.to_string());
                self.set_user(None);
            }
            EventKind::SignedOutElsewhere { .. } => {
                self.toasts.info("You signed out in another tab");
                self.set_user(None);
            }
            EventKind::TokenReceived {
                login: Some(user), ..
            } => self.set_user(Some(user.clone())),
            _ => {}
        }
        if event.kind.is_timeline() {
            self.timeline.update(|timeline| {
                timeline.push(event.clone());
                if timeline.len() > TIMELINE_LIMIT {
                    let excess = timeline.len() - TIMELINE_LIMIT;
                    timeline.drain(..excess);
                }
            });
        }
    }

    /// Reports a failed call (see [`Session::report`]) and passes the result on.
    pub fn reported<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if let Err(error) = &result {
            self.report(error);
        }
        result
    }

    /// Shows a failed call to the user. A finished session was announced once already.
    pub fn report(&self, error: &ClientError) {
        if *error != ClientError::SessionOver {
            self.toasts.error(error.to_string());
        }
    }
}

/// Creates the session state for this page and provides it.
pub fn provide_session(boot: Resource<BootInfo>) -> Session {
    let session = Session::new(boot, use_toasts());
    provide_context(session);
    // In the browser (effects do not run on the server), the coordinator starts listening
    // to the other tabs as soon as the page is up, not at its first request.
    Effect::new(move |_| {
        if boot.get().is_some() {
            session.client();
        }
    });
    session
}

pub fn use_session() -> Session {
    expect_context::<Session>()
}
