//! What the coordinator needs to share one refresh among the tabs of a browser, and the
//! messages the tabs exchange.
//!
//! The protocol, in short: a tab refreshes only while holding the browser-wide lock. Every
//! new token, logout and refused refresh takes the next number of a browser-wide
//! *generation* counter (shared storage, written under the lock) and is announced to the
//! other tabs with that number. A tab that gets the lock compares the counter with the
//! newest generation it has seen: if another tab got ahead meanwhile, its token is on the
//! way, and this tab waits for the message instead of refreshing a second time.

use std::future::Future;

use serde::{Deserialize, Serialize};

/// One tab's window onto the other tabs of the same browser (same origin). `I` is the
/// identity a login announces.
pub trait TabLink<I> {
    /// Held while refreshing; dropping it releases the lock.
    type Guard: 'static;

    /// This tab's short name, carried by its messages.
    fn tab_id(&self) -> &str;

    /// Takes the browser-wide refresh lock. `None` when there is no lock to take or it
    /// was not granted in time: the caller goes on without it (a server that accepts a
    /// just-rotated refresh credential for a few seconds covers that race).
    fn lock(&self) -> impl Future<Output = Option<Self::Guard>> + 'static;

    /// The browser-wide generation: the number of the newest token, logout or refused
    /// refresh any tab announced (0 when none, or without shared storage).
    fn generation(&self) -> u64;

    /// Records a new browser-wide generation (written before the lock is released).
    fn set_generation(&self, generation: u64);

    /// Counts one refresh call sent by this tab in a browser-wide tally.
    fn count_refresh_call(&self);

    /// Refresh calls sent by every tab of this browser, as far as the tally knows.
    fn refresh_calls(&self) -> u64;

    /// Announces `message` to every other tab; never to this one.
    fn post(&self, message: &TabMessage<I>);
}

/// What one tab tells the others. No refresh credential is ever in here: it stays with
/// the transport (an HttpOnly cookie, say). Its `Debug` output hides the access token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
// Externally tagged (serde's default): an internally tagged enum costs a WASM bundle a
// buffering deserializer.
#[serde(rename_all = "snake_case")]
pub enum TabMessage<I> {
    /// A new access token, from a login (`login` says who) or a refresh.
    Token {
        /// The tab that announces it.
        from: String,
        /// Its browser-wide generation.
        generation: u64,
        /// The token.
        access_token: String,
        /// What is left of its lifetime when sent: each tab counts down on its own clock.
        expires_in_ms: i64,
        /// Who logged in, for a login's token.
        login: Option<I>,
        /// Whose session the token belongs to, if the sending tab knows (absent in
        /// messages of older versions).
        #[serde(default = "nobody")]
        user: Option<I>,
    },
    /// The user logged out in tab `from`.
    SignedOut {
        /// The tab that announces it.
        from: String,
        /// Its browser-wide generation.
        generation: u64,
    },
    /// The refresh credential was refused: the session is over in every tab.
    SessionOver {
        /// The tab that announces it.
        from: String,
        /// Its browser-wide generation.
        generation: u64,
    },
}

/// The `user` of a message that has none (serde's plain `default` would ask `I` for a
/// `Default`).
fn nobody<I>() -> Option<I> {
    None
}

impl<I: std::fmt::Debug> std::fmt::Debug for TabMessage<I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TabMessage::Token {
                from,
                generation,
                access_token: _,
                expires_in_ms,
                login,
                user,
            } => f
                .debug_struct("Token")
                .field("from", from)
                .field("generation", generation)
                .field("access_token", &crate::Redacted)
                .field("expires_in_ms", expires_in_ms)
                .field("login", login)
                .field("user", user)
                .finish(),
            TabMessage::SignedOut { from, generation } => f
                .debug_struct("SignedOut")
                .field("from", from)
                .field("generation", generation)
                .finish(),
            TabMessage::SessionOver { from, generation } => f
                .debug_struct("SessionOver")
                .field("from", from)
                .field("generation", generation)
                .finish(),
        }
    }
}

impl<I> TabMessage<I> {
    /// The message's browser-wide generation.
    pub fn generation(&self) -> u64 {
        match self {
            TabMessage::Token { generation, .. }
            | TabMessage::SignedOut { generation, .. }
            | TabMessage::SessionOver { generation, .. } => *generation,
        }
    }

    /// The tab that sent it.
    pub fn from(&self) -> &str {
        match self {
            TabMessage::Token { from, .. }
            | TabMessage::SignedOut { from, .. }
            | TabMessage::SessionOver { from, .. } => from,
        }
    }
}

/// A client with one tab, or none at all (a native program, a server render, a
/// benchmark): nobody to share with, so the lock is always granted and nothing is
/// announced.
#[derive(Debug, Clone, Copy, Default)]
pub struct SingleTab;

impl<I> TabLink<I> for SingleTab {
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

    fn post(&self, _: &TabMessage<I>) {}
}
