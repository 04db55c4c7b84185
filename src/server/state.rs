//! What every handler shares: settings, the store, the token signer, the login throttle.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Settings;
use super::db::Db;
use super::passwords::PasswordGate;
use super::throttle::LoginThrottle;
use super::tokens::AccessTokens;

#[derive(Clone)]
pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: Db,
    pub tokens: Arc<AccessTokens>,
    pub throttle: Arc<LoginThrottle>,
    /// Bounds how many password hashes run and wait at once.
    pub passwords: Arc<PasswordGate>,
    pub leptos_options: LeptosOptions,
    /// Verified against when the user does not exist, so both failures take as long.
    pub dummy_password_hash: Arc<str>,
}

impl AppState {
    pub fn reuse_grace_ms(&self) -> i64 {
        (self.settings.tokens.reuse_grace_secs * 1000) as i64
    }

    pub fn session_ttl_secs(&self) -> i64 {
        self.settings.tokens.session_ttl_secs as i64
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
