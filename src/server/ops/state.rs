//! What every handler shares: settings, the store, the token signer, the login throttle.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::server::auth::passwords::PasswordGate;
use crate::server::auth::throttle::LoginThrottle;
use crate::server::auth::tokens::AccessTokens;
use crate::server::http::bundle::BundleUrls;
use crate::server::ops::config::Settings;
use crate::server::store::records::{RefreshPolicy, UserRecord};
use crate::server::store::Store;

/// Cloned into every middleware and extractor of every request, so it is one `Arc`: a
/// struct of a dozen `Arc`s (`LeptosOptions` alone has several) cost a third of the CPU
/// of a trivial request in reference-count traffic between cores.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Shared>);

impl AppState {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub(crate) struct Shared {
    pub settings: Arc<Settings>,
    pub store: Store,
    pub tokens: Arc<AccessTokens>,
    pub throttle: LoginThrottle,
    /// Bounds how many password hashes run and wait at once.
    pub passwords: Arc<PasswordGate>,
    pub leptos_options: LeptosOptions,
    /// The URLs pages load the app's JS, WASM and CSS by.
    pub bundle: BundleUrls,
    /// Verified against when the user does not exist, so both failures take as long.
    pub dummy_password_hash: Arc<str>,
}

impl Shared {
    pub(crate) fn refresh_policy(&self) -> RefreshPolicy {
        let tokens = &self.settings.tokens;
        RefreshPolicy {
            grace: tokens.reuse_grace,
            idle: tokens.idle_ttl,
            demo_users: self.settings.demo.enabled,
        }
    }

    /// A demo user while demo mode is off: refused at login, on every call and refresh.
    pub(crate) fn demo_locked(&self, user: &UserRecord) -> bool {
        user.is_demo && !self.settings.demo.enabled
    }

    /// How long a login lasts, however often it is refreshed.
    pub(crate) fn session_lifetime(&self) -> Duration {
        self.settings.tokens.session_ttl
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
