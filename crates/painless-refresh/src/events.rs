//! What the coordinator reports as it works: a timeline can be drawn from these, and a
//! user interface's state (a spinner, a logged-out screen) follows them.

use std::time::Duration;

use crate::{Error, HeldToken, Phase};

/// Numbers each logical request; its replay keeps its number.
pub type RequestId = u64;

/// One thing that happened, with when.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<I> {
    /// Milliseconds since the Unix epoch, from the coordinator's clock.
    pub at_ms: i64,
    /// What happened.
    pub kind: EventKind<I>,
}

/// Why a request waits for a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueReason {
    /// No access token yet (for example right after a page load).
    NoToken,
    /// The token expires within the safety margin: refreshed before sending.
    ExpiresSoon,
    /// A refresh is already running; the request waits for it instead of sending a
    /// token that is about to be replaced.
    RefreshRunning,
    /// The server refused the request's token.
    TokenRefused,
}

/// Why a request, or the refresh, waits before it is sent (again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// The platform reports no network ([`Transport::is_online`](crate::Transport::is_online)):
    /// nothing is sent until it is back.
    Offline,
    /// The last try got no answer at all (a network error).
    NoAnswer,
    /// The server answered that it cannot serve now ([`Verdict::Unavailable`](crate::Verdict::Unavailable)).
    Unavailable,
}

/// What happened. `I` is the identity a login announces.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind<I> {
    /// First transmission of a request.
    Sent {
        /// The request.
        request: RequestId,
        /// Its method and URL.
        label: String,
        /// The [`Snapshot::token_version`](crate::Snapshot::token_version) it was sent with.
        token_version: u64,
    },
    /// The server refused the request's access token.
    TokenRefused {
        /// The request.
        request: RequestId,
        /// How the policy read the refusal.
        error: Error,
    },
    /// The request waits for the refresh.
    Queued {
        /// The request.
        request: RequestId,
        /// Why.
        reason: QueueReason,
    },
    /// This tab holds the browser-wide refresh lock for round `refresh`.
    RefreshLocked {
        /// The round.
        refresh: u64,
        /// False when it goes on without the lock (none to take, or a timeout).
        exclusive: bool,
    },
    /// Another tab announced something newer while this one waited for the lock: it
    /// waits for that tab's message instead of refreshing.
    AwaitingOtherTab {
        /// The round.
        refresh: u64,
    },
    /// The refresh call of this round went out: once, or again after a try that got no
    /// answer or a `503`.
    RefreshStarted {
        /// The round.
        refresh: u64,
        /// 1 for the first try of the round, 2 for the second…
        attempt: u32,
    },
    /// The refresh brought a new access token.
    RefreshSucceeded {
        /// The round.
        refresh: u64,
        /// The new token's lifetime.
        lifetime: Duration,
    },
    /// The refresh failed.
    RefreshFailed {
        /// The round.
        refresh: u64,
        /// True when the refresh credential was refused; false for a failure that does
        /// not end the session (network, server error).
        session_over: bool,
        /// Why, for logs.
        reason: String,
    },
    /// Second (and last) transmission of a request, with a newer token.
    Replayed {
        /// The request.
        request: RequestId,
        /// The [`Snapshot::token_version`](crate::Snapshot::token_version) it was sent with.
        token_version: u64,
    },
    /// A request waits for the network or the server before it is sent (again).
    Held {
        /// The request.
        request: RequestId,
        /// Why.
        reason: HoldReason,
    },
    /// The refresh call of round `refresh` waits for the network or the server before it
    /// is sent (again).
    RefreshHeld {
        /// The round.
        refresh: u64,
        /// Why.
        reason: HoldReason,
    },
    /// A request sent again after a try that got no answer or a `503`, or after waiting
    /// for the network: the same request, not a replay after a refused token.
    Retried {
        /// The request.
        request: RequestId,
        /// The [`Snapshot::token_version`](crate::Snapshot::token_version) it was sent with.
        token_version: u64,
    },
    /// Something began waiting for the network while nothing was (`true`), or the last
    /// wait ended (`false`): a user interface shows one "offline" notice in between.
    NetworkWait(bool),
    /// The caller got its result.
    Delivered {
        /// The request.
        request: RequestId,
        /// `Ok(())` for a successful answer, the error otherwise.
        result: Result<(), Error>,
    },
    /// The caller dropped the request before it completed.
    Cancelled {
        /// The request.
        request: RequestId,
    },
    /// The refresh was refused, here (`from_tab: None`) or in another tab. Emitted once,
    /// however many requests were waiting: a user interface shows one notice.
    SessionOver {
        /// The tab that found out, if not this one.
        from_tab: Option<String>,
    },
    /// Another tab handed over a new access token.
    TokenReceived {
        /// The tab.
        from: String,
        /// The token's browser-wide generation.
        generation: u64,
        /// Who logged in, when the token is a login's.
        login: Option<I>,
    },
    /// The user logged out in another tab.
    SignedOutElsewhere {
        /// The tab.
        from: String,
    },
    /// The number of logical requests in flight changed (a global spinner's input).
    InFlight(usize),
    /// The refresh phase changed.
    PhaseChanged(Phase),
    /// A new access token was installed, or the token was dropped (`None`).
    TokenChanged(Option<HeldToken>),
}

impl<I> EventKind<I> {
    /// The request an event belongs to, for grouping a timeline.
    pub fn request(&self) -> Option<RequestId> {
        match self {
            EventKind::Sent { request, .. }
            | EventKind::TokenRefused { request, .. }
            | EventKind::Queued { request, .. }
            | EventKind::Replayed { request, .. }
            | EventKind::Retried { request, .. }
            | EventKind::Held { request, .. }
            | EventKind::Delivered { request, .. }
            | EventKind::Cancelled { request } => Some(*request),
            _ => None,
        }
    }

    /// Whether the event is a step of a request, a refresh or the session, rather than a
    /// change of state ([`InFlight`](EventKind::InFlight), [`PhaseChanged`](EventKind::PhaseChanged),
    /// [`TokenChanged`](EventKind::TokenChanged), [`NetworkWait`](EventKind::NetworkWait)).
    pub fn is_timeline(&self) -> bool {
        !matches!(
            self,
            EventKind::InFlight(_)
                | EventKind::PhaseChanged(_)
                | EventKind::TokenChanged(_)
                | EventKind::NetworkWait(_)
        )
    }
}
