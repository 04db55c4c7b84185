//! What the coordinator needs to share one refresh among the tabs of a browser, and the
//! messages the tabs exchange.
//!
//! The protocol, in short: a tab refreshes only while holding the browser-wide lock. Every
//! new token, logout and refused refresh takes the next number of a browser-wide
//! *generation* counter (shared storage, written under the lock) and is announced to the
//! other tabs with that number. A tab that gets the lock first compares the counter with
//! the newest generation it has seen: if another tab got ahead meanwhile, its token is on
//! the way and this tab waits for the message instead of refreshing a second time.

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::api::User;

/// One tab's window onto the others of the same browser (same origin).
pub trait TabLink {
    /// Held while refreshing; dropping it releases the lock.
    type Guard: 'static;

    /// This tab's short name, carried by its messages and shown in the refresh lab.
    fn tab_id(&self) -> &str;

    /// Takes the browser-wide refresh lock. `None` when the browser has no lock API or the
    /// lock was not granted within the implementation's timeout: the caller goes on
    /// without it, and the server's grace window covers the race.
    fn lock(&self) -> impl Future<Output = Option<Self::Guard>> + 'static;

    /// The browser-wide generation: the number of the newest token, logout or refused
    /// refresh any tab of this browser announced (0 when none or no shared storage).
    fn generation(&self) -> u64;

    /// Records a new browser-wide generation (written before the lock is released).
    fn set_generation(&self, generation: u64);

    /// Counts one refresh call sent by this tab in the browser-wide tally (for the lab).
    fn count_refresh_call(&self);

    /// Refresh calls sent by every tab of this browser, as far as shared storage knows.
    fn refresh_calls(&self) -> u64;

    /// Announces `message` to every other tab; never to this one.
    fn post(&self, message: &TabMessage);
}

/// What one tab tells the others. The refresh token is never in here: it stays in the
/// HttpOnly cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (the default): an internally tagged enum costs the WASM bundle a
// buffering deserializer.
#[serde(rename_all = "snake_case")]
pub enum TabMessage {
    /// A new access token, from a login (`login` names its user) or a refresh.
    Token {
        from: String,
        generation: u64,
        access_token: String,
        /// Unix seconds on the server's clock, for display.
        expires_at: i64,
        /// What is left of its lifetime when sent: each tab counts down on its own clock.
        expires_in_ms: i64,
        login: Option<User>,
    },
    /// The user logged out in tab `from`.
    SignedOut { from: String, generation: u64 },
    /// The server refused the refresh token: the session is over in every tab.
    SessionOver { from: String, generation: u64 },
}

impl TabMessage {
    pub fn generation(&self) -> u64 {
        match self {
            TabMessage::Token { generation, .. }
            | TabMessage::SignedOut { generation, .. }
            | TabMessage::SessionOver { generation, .. } => *generation,
        }
    }

    pub fn from(&self) -> &str {
        match self {
            TabMessage::Token { from, .. }
            | TabMessage::SignedOut { from, .. }
            | TabMessage::SessionOver { from, .. } => from,
        }
    }
}

/// A browser with one tab, or none at all (server rendering, benchmarks): nobody to share
/// with, so no lock and nothing to announce.
pub struct SingleTab;

impl TabLink for SingleTab {
    type Guard = ();

    fn tab_id(&self) -> &str {
        "this tab"
    }

    fn lock(&self) -> impl Future<Output = Option<()>> + 'static {
        std::future::ready(Some(()))
    }

    fn generation(&self) -> u64 {
        0
    }

    fn set_generation(&self, _: u64) {}

    fn count_refresh_call(&self) {}

    fn refresh_calls(&self) -> u64 {
        0
    }

    fn post(&self, _: &TabMessage) {}
}
