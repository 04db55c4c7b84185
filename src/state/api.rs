//! The API as pages see it: the refresh coordinator, built once from the server's boot
//! information, and the typed calls (`calls.rs`). Every request goes through here.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use leptos::prelude::*;

use super::platform::{tab_link, PlatformClock, PlatformSpawner, PlatformTabs, PlatformTransport};
use super::{BootResource, Language, Toasts};
use crate::api::BootInfo;
use crate::refresh::{ClientError, Coordinator, Event, ListenerId, Settings};

pub(crate) type ApiClient =
    Coordinator<PlatformTransport, PlatformClock, PlatformSpawner, PlatformTabs>;

type Listener = Arc<dyn Fn(&Event) + Send + Sync>;

/// Provided once by `provide_state`; `Copy`, every field is an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Api {
    boot: BootResource,
    client: StoredValue<Option<ApiClient>>,
    /// Listeners registered before the coordinator was built; subscribed when it is.
    waiting_listeners: StoredValue<Vec<Listener>>,
    toasts: Toasts,
    language: Language,
}

impl Api {
    pub(super) fn new(boot: BootResource, toasts: Toasts, language: Language) -> Self {
        Self {
            boot,
            client: StoredValue::new(None),
            waiting_listeners: StoredValue::new(Vec::new()),
            toasts,
            language,
        }
    }

    /// The coordinator. The first call waits for the boot information and builds it with
    /// the server's settings: never with defaults.
    pub(crate) async fn client(&self) -> ApiClient {
        if let Some(client) = self.built() {
            return client;
        }
        let boot = self.boot.await;
        // Another call may have built it while this one waited.
        if let Some(client) = self.built() {
            return client;
        }
        let client = self.build(boot);
        self.client.set_value(Some(client.clone()));
        client
    }

    /// The coordinator, if a call built it already (for views that read it synchronously).
    pub(crate) fn built(&self) -> Option<ApiClient> {
        self.client.get_value()
    }

    fn build(&self, boot: BootInfo) -> ApiClient {
        let settings = Settings {
            refresh_errcodes: boot.refresh_errcodes,
            margin: Duration::from_secs(boot.refresh_margin_secs),
            ..Settings::default()
        };
        let api = *self;
        let tabs = tab_link(move |message| {
            if let Some(client) = api.built() {
                client.receive(message);
            }
        });
        let client = Coordinator::new(
            PlatformTransport,
            PlatformClock,
            PlatformSpawner,
            tabs,
            settings,
        );
        for listener in self
            .waiting_listeners
            .try_update_value(std::mem::take)
            .unwrap_or_default()
        {
            client.subscribe(move |event| listener(event));
        }
        client
    }

    /// Calls `listener` with every coordinator event, from the moment it is built.
    pub(crate) fn subscribe(&self, listener: impl Fn(&Event) + Send + Sync + 'static) {
        match self.built() {
            Some(client) => {
                client.subscribe(listener);
            }
            None => self
                .waiting_listeners
                .update_value(|waiting| waiting.push(Arc::new(listener))),
        }
    }

    /// Subscribes `listener` for as long as the calling component lives, in the browser
    /// (effects do not run on the server, where there is nothing to listen to).
    pub(crate) fn subscribe_while_mounted(
        &self,
        listener: impl Fn(&Event) + Send + Sync + 'static,
    ) {
        let api = *self;
        let listener: Listener = Arc::new(listener);
        Effect::new(move |_| {
            // `None` once the component is gone; the subscription's id once subscribed.
            let slot = Arc::new(Mutex::new(Some(None::<ListenerId>)));
            let listener = Arc::clone(&listener);
            let task_slot = Arc::clone(&slot);
            leptos::task::spawn_local(async move {
                let client = api.client().await;
                let mut slot = lock(&task_slot);
                if let Some(id) = slot.as_mut() {
                    *id = Some(client.subscribe(move |event| listener(event)));
                }
            });
            on_cleanup(move || {
                if let (Some(Some(id)), Some(client)) = (lock(&slot).take(), api.built()) {
                    client.unsubscribe(id);
                }
            });
        });
    }

    /// Reports a failed call (see [`Api::report`]) and passes the result on.
    pub(crate) fn reported<T>(&self, result: Result<T, ClientError>) -> Result<T, ClientError> {
        if let Err(error) = &result {
            self.report(error);
        }
        result
    }

    /// Shows a failed call to the user. A finished session was announced once already.
    pub(crate) fn report(&self, error: &ClientError) {
        if *error != ClientError::SessionOver {
            self.toasts.error(self.language.describe(error));
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
