//! What the coordinator reports as it works: the refresh lab draws its timeline from these,
//! and the UI's signals are updated from them.

use super::{HeldToken, Phase};
use crate::api::User;

/// Numbers each logical request; replays keep their request's id.
pub type RequestId = u64;

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unix milliseconds, from the coordinator's clock.
    pub at_ms: i64,
    pub kind: EventKind,
}

/// Why a request waits for a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueReason {
    /// No access token in memory yet (for example right after a page load).
    NoToken,
    /// The token expires within the safety margin: refreshed before sending.
    ExpiresSoon,
    /// A refresh is already running; the request waits for it instead of sending a
    /// token that is about to be replaced.
    RefreshRunning,
    /// The server answered this errcode.
    Errcode(i32),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// First transmission of a request.
    Sent {
        request: RequestId,
        label: String,
        token_generation: u64,
    },
    /// The request came back with an errcode of the refresh set.
    GotErrcode {
        request: RequestId,
        errcode: i32,
    },
    /// The request waits for the refresh.
    Queued {
        request: RequestId,
        reason: QueueReason,
    },
    /// This tab holds the browser-wide refresh lock for round `refresh`; `exclusive` is
    /// false when it goes on without one (no lock API in this browser, or a timeout).
    RefreshLocked {
        refresh: u64,
        exclusive: bool,
    },
    /// Another tab announced something newer while this one waited for the lock: it waits
    /// for that tab's message instead of refreshing.
    AwaitingOtherTab {
        refresh: u64,
    },
    /// The one refresh call of this round went out.
    RefreshStarted {
        refresh: u64,
    },
    RefreshSucceeded {
        refresh: u64,
        expires_at: i64,
    },
    /// `session_over` is false for a network failure, which does not end the session.
    RefreshFailed {
        refresh: u64,
        session_over: bool,
        reason: String,
    },
    /// Second (and last) transmission of a request, with the new token.
    Replayed {
        request: RequestId,
        token_generation: u64,
    },
    /// The caller got its result: `Ok(())` for data, the errcode otherwise.
    Delivered {
        request: RequestId,
        result: Result<(), i32>,
    },
    /// The caller dropped the request before it completed.
    Cancelled {
        request: RequestId,
    },
    /// The refresh was refused, here or in tab `from_tab`. Emitted once, however many
    /// requests were waiting: the UI shows one toast and redirects once.
    SessionOver {
        from_tab: Option<String>,
    },
    /// Another tab handed over a new access token (`login` names the user of a login).
    TokenReceived {
        from: String,
        generation: u64,
        login: Option<User>,
    },
    /// The user logged out in another tab.
    SignedOutElsewhere {
        from: String,
    },
    /// The number of logical requests in flight changed (drives the global spinner).
    InFlight(usize),
    /// The refresh state changed.
    PhaseChanged(Phase),
    /// A new access token was installed, or the token was dropped (`None`).
    TokenChanged(Option<HeldToken>),
}

impl EventKind {
    /// The request an event belongs to, for grouping a timeline.
    pub fn request(&self) -> Option<RequestId> {
        match self {
            EventKind::Sent { request, .. }
            | EventKind::GotErrcode { request, .. }
            | EventKind::Queued { request, .. }
            | EventKind::Replayed { request, .. }
            | EventKind::Delivered { request, .. }
            | EventKind::Cancelled { request } => Some(*request),
            _ => None,
        }
    }

    /// Whether the event belongs on the refresh lab's timeline (state changes do not).
    pub fn is_timeline(&self) -> bool {
        !matches!(
            self,
            EventKind::InFlight(_) | EventKind::PhaseChanged(_) | EventKind::TokenChanged(_)
        )
    }
}
