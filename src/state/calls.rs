//! [`Calls`], the way pages reach the server: the refresh coordinator, built once from the
//! server's boot information, its listeners (which exist before it), and the typed calls
//! (`endpoints.rs`). Every request goes through here.

use std::time::Duration;

use leptos::prelude::*;

use super::platform::{
    network_wait, on_wake, reload_page, tab_link, PlatformClock, PlatformSpawner, PlatformTabs,
    PlatformTransport,
};
use super::{BootResource, Language, Toasts};
use crate::api::{BootInfo, User};
use crate::refresh::{
    ClientError, Coordinator, EnvelopePolicy, Event, Listeners, Plugins, Request, Tuning,
};

type Platform = Plugins<PlatformTransport, PlatformClock, PlatformSpawner, PlatformTabs>;

pub(crate) type AppCoordinator = Coordinator<Platform, EnvelopePolicy>;

/// Provided once by `provide_state`; `Copy`, every field is an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Calls {
    boot: BootResource,
    coordinator: StoredValue<Option<AppCoordinator>>,
    /// The coordinator's listeners: there from the start, so that subscribing never
    /// waits for the coordinator.
    listeners: StoredValue<Listeners<User>>,
    toasts: Toasts,
    language: Language,
}

impl Calls {
    pub(super) fn new(boot: BootResource, toasts: Toasts, language: Language) -> Self {
        Self {
            boot,
            coordinator: StoredValue::new(None),
            listeners: StoredValue::new(Listeners::new()),
            toasts,
            language,
        }
    }

    /// The coordinator. The first call waits for the boot information and builds it with
    /// the server's settings: never with defaults.
    pub(crate) async fn coordinator(&self) -> AppCoordinator {
        if let Some(coordinator) = self.built() {
            return coordinator;
        }
        let boot = self.boot.await;
        // Another call may have built it while this one waited.
        if let Some(coordinator) = self.built() {
            return coordinator;
        }
        let coordinator = self.build(boot);
        self.coordinator.set_value(Some(coordinator.clone()));
        coordinator
    }

    /// The coordinator, if a call built it already (for views that read it synchronously).
    pub(crate) fn built(&self) -> Option<AppCoordinator> {
        self.coordinator.get_value()
    }

    fn build(&self, boot: BootInfo) -> AppCoordinator {
        let tuning = Tuning {
            margin: Duration::from_secs(boot.refresh_margin_secs),
            offline_wait: network_wait(),
            ..Tuning::default()
        };
        let calls = *self;
        // A laptop that slept or a tab that was hidden refreshes as soon as it is back, so
        // that the next click does not wait; a page restored from the back/forward cache
        // heard nothing from the other tabs meanwhile (a logout, say) and is loaded again.
        on_wake(move |restored| {
            let Some(coordinator) = calls.built() else {
                return;
            };
            if restored && coordinator.missed_messages() {
                reload_page();
            } else {
                coordinator.wake();
            }
        });
        let tabs = tab_link(move |message| {
            if let Some(coordinator) = calls.built() {
                coordinator.receive(message);
            }
        });
        let platform = Plugins {
            transport: PlatformTransport,
            clock: PlatformClock,
            spawner: PlatformSpawner,
            tabs,
        };
        let policy = EnvelopePolicy::with_codes(boot.refresh_errcodes);
        let coordinator = Coordinator::with_listeners(platform, policy, tuning, self.listeners());
        // The page was rendered for this user: tokens other tabs refresh for someone else
        // (a login there that this tab missed) are not taken.
        if let Some(user) = boot.user {
            coordinator.identify(user);
        }
        coordinator
    }

    /// The coordinator's listeners.
    pub(crate) fn listeners(&self) -> Listeners<User> {
        self.listeners.get_value()
    }

    /// Calls `listener` with every coordinator event, for the life of the page.
    pub(crate) fn subscribe(&self, listener: impl Fn(&Event) + Send + Sync + 'static) {
        self.listeners().subscribe(listener);
    }

    /// Subscribes `listener` for as long as the calling component lives.
    pub(crate) fn subscribe_while_mounted(
        &self,
        listener: impl Fn(&Event) + Send + Sync + 'static,
    ) {
        painless_refresh::leptos::subscribe_while_mounted(&self.listeners(), listener);
    }

    /// Sends `request` through the coordinator and decodes its data as `R`.
    pub(crate) async fn call<R: serde::de::DeserializeOwned>(
        &self,
        request: Request,
    ) -> Result<R, ClientError> {
        self.coordinator().await.send(request).await?.decode()
    }

    /// Reports a failed call (see [`Calls::report`]) and passes the result on.
    pub(crate) fn reported<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if let Err(error) = &result {
            self.report(error);
        }
        result
    }

    /// Shows a failed call to the user. A finished session was announced once already;
    /// a burst that ran out of network is told once, not once per request.
    pub(crate) fn report(&self, error: &ClientError) {
        match error {
            ClientError::SessionOver => {}
            ClientError::Offline => self.toasts.error_once(self.language.describe(error)),
            _ => self.toasts.error(self.language.describe(error)),
        }
    }
}
