//! Who is signed in: the server's boot information, then whatever login, logout, a
//! refused refresh or another tab changed. Only this module writes it.

use leptos::prelude::*;

use super::{BootResource, Calls, Language, Toasts};
use crate::api::{AccessGrant, BootInfo, LoginRequest, User};
use crate::i18n::Key;
use crate::refresh::{ClientError, Event};
use painless_refresh::leptos::SessionChange;

/// Provided once by `provide_state`; `Copy`, every field is an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Auth {
    /// Rendered by the server from the refresh cookie; read inside `Suspense`.
    boot: BootResource,
    /// Set by login, logout, a failed refresh and other tabs; `None`: as the server said.
    user_override: RwSignal<Option<Option<User>>>,
    /// The customer code of the last user, for the `code=` of the login redirect.
    last_customer_code: RwSignal<Option<String>>,
    calls: Calls,
    toasts: Toasts,
    language: Language,
}

impl Auth {
    pub(super) fn new(
        boot: BootResource,
        calls: Calls,
        toasts: Toasts,
        language: Language,
    ) -> Self {
        let auth = Self {
            boot,
            user_override: RwSignal::new(None),
            last_customer_code: RwSignal::new(None),
            calls,
            toasts,
            language,
        };
        calls.subscribe(move |event| auth.observe(event));
        // Remembers the customer code of whoever was signed in last, for the `code=` of the
        // login redirect once nobody is (in the browser: effects do not run on the server).
        Effect::new(move |_| {
            if let Some(user) = auth.user() {
                auth.last_customer_code.set(Some(user.customer_code));
            }
        });
        auth
    }

    /// The boot information, once the server's answer is there (reactive).
    pub(crate) fn boot(&self) -> Option<BootInfo> {
        self.boot.get()
    }

    /// Whether demo mode is on, which shows the refresh lab (reactive; off until known).
    pub(crate) fn demo_enabled(&self) -> bool {
        self.boot.get().is_some_and(|boot| boot.demo_enabled)
    }

    /// Who is logged in (reactive). `None` also while the boot information loads.
    pub(crate) fn user(&self) -> Option<User> {
        match self.user_override.get() {
            Some(user) => user,
            None => self.boot.get().and_then(|boot| boot.user),
        }
    }

    /// `Some(true)` when logged in, `None` while unknown: the condition of protected routes.
    pub(crate) fn logged_in(&self) -> Option<bool> {
        match self.user_override.get() {
            Some(user) => Some(user.is_some()),
            None => self.boot.get().map(|boot| boot.user.is_some()),
        }
    }

    /// The customer code to put in `code=` when sending the user to the login page.
    pub(crate) fn customer_code(&self) -> Option<String> {
        self.user()
            .map(|u| u.customer_code)
            .or_else(|| self.last_customer_code.get_untracked())
    }

    /// Logs in; the other tabs of this browser follow.
    pub(crate) async fn login(&self, request: LoginRequest) -> Result<AccessGrant, ClientError> {
        let grant = self.calls.login(request).await?;
        self.set_user(Some(grant.user.clone()));
        Ok(grant)
    }

    /// Logs out here and in the other tabs, whatever the server says.
    pub(crate) async fn logout(&self) {
        let result = self.calls.logout().await;
        self.set_user(None);
        if let Err(error) = result {
            self.calls.report(&error);
        }
    }

    /// A refused refresh (here or in another tab) becomes one toast and a logged-out
    /// state, a logout in another tab a neutral notice, a login in another tab this tab's
    /// user. Protected routes follow the user: without one they redirect to the login
    /// page, which goes on to its `redirect` once a user is there.
    fn observe(&self, event: &Event) {
        match SessionChange::of(event) {
            Some(SessionChange::Over(_)) => {
                self.toasts
                    .error(self.language.describe(&ClientError::SessionOver));
                self.set_user(None);
            }
            Some(SessionChange::SignedOutElsewhere(_)) => {
                self.toasts
                    .info(self.language.untracked(Key::SignedOutElsewhere));
                self.set_user(None);
            }
            Some(SessionChange::LoggedInElsewhere(user)) => self.set_user(Some(user)),
            None => {}
        }
    }

    fn set_user(&self, user: Option<User>) {
        self.user_override.set(Some(user));
    }
}
