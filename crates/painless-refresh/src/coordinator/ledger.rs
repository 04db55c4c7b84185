//! The coordinator's ledger (what its one mutex holds: the token, the parked requests,
//! the phase), and the views of it that callers get.

use std::time::Duration;

use futures::channel::oneshot;

use crate::{Error, RequestId};

/// Where the refresh machinery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No refresh running; requests go straight out.
    Idle,
    /// One refresh is running; requests that need a token wait for it.
    Refreshing,
    /// The last refresh was refused: the session is over until the next login.
    Failed,
    /// The user logged out: requests that would need a refresh fail without one.
    SignedOut,
}

/// A consistent view of the coordinator's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Where the refresh machinery stands.
    pub phase: Phase,
    /// The access token held, if any.
    pub token: Option<HeldToken>,
    /// How many times this tab's token was replaced or dropped: a request sent with one
    /// version and refused is replayed at once if a newer version exists.
    pub token_version: u64,
    /// The newest browser-wide generation this tab has seen (see [`TabLink`](crate::TabLink)).
    pub generation_seen: u64,
    /// Logical requests in flight (each counted once, however often it is sent).
    pub in_flight: usize,
    /// Requests parked until the running refresh ends.
    pub queued: usize,
    /// Refresh rounds begun; a round may end without a call when another tab delivers.
    pub rounds: u64,
    /// Refresh calls this tab sent, tries again after a network error included.
    pub refresh_calls: u64,
    /// Sends repeated after a try that got no answer or a `503`, or after waiting for
    /// the network: requests and refresh calls.
    pub retries: u64,
    /// Requests and refresh calls waiting for the network or the server right now.
    pub waiting_for_network: usize,
}

/// An access token in memory, its lifetime measured on this tab's own clock. Its `Debug`
/// output hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct HeldToken {
    /// The token.
    pub value: String,
    /// This tab's clock (Unix milliseconds) when the token arrived.
    pub received_at_ms: i64,
    /// How long it was good for when it arrived.
    pub lifetime: Duration,
}

impl std::fmt::Debug for HeldToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeldToken")
            .field("value", &crate::Redacted)
            .field("received_at_ms", &self.received_at_ms)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl HeldToken {
    /// When the token expires, on this tab's clock (Unix milliseconds).
    pub fn valid_until_ms(&self) -> i64 {
        self.received_at_ms.saturating_add(millis(self.lifetime))
    }
}

/// A duration in whole milliseconds, saturating (a token good for longer than
/// `i64::MAX` ms is good forever).
pub(super) fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// What a parked request learns when the refresh it waits for ends.
pub(super) type RefreshOutcome = Result<(), Error>;

/// A parked request: woken with the outcome of the round it waits for.
pub(super) type Waiter = (RequestId, oneshot::Sender<RefreshOutcome>);

/// Everything the coordinator changes, behind its one mutex.
pub(super) struct Ledger<I> {
    pub(super) token: Option<HeldToken>,
    /// Whose session the token belongs to, when this tab knows: from a login here or in
    /// another tab, or [`Coordinator::identify`](super::Coordinator::identify).
    pub(super) identity: Option<I>,
    pub(super) token_version: u64,
    pub(super) generation_seen: u64,
    pub(super) phase: Phase,
    pub(super) waiters: Vec<Waiter>,
    /// Wakes a refresh task waiting for another tab's message when the round ends.
    pub(super) round_watch: Option<oneshot::Sender<()>>,
    pub(super) next_request: RequestId,
    pub(super) in_flight: usize,
    pub(super) rounds: u64,
    pub(super) refresh_calls: u64,
    pub(super) retries: u64,
    pub(super) network_waits: usize,
}

impl<I> Ledger<I> {
    pub(super) fn new(generation_seen: u64) -> Self {
        Self {
            token: None,
            identity: None,
            token_version: 0,
            generation_seen,
            phase: Phase::Idle,
            waiters: Vec::new(),
            round_watch: None,
            next_request: 1,
            in_flight: 0,
            rounds: 0,
            refresh_calls: 0,
            retries: 0,
            network_waits: 0,
        }
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot {
            phase: self.phase,
            token: self.token.clone(),
            token_version: self.token_version,
            generation_seen: self.generation_seen,
            in_flight: self.in_flight,
            queued: self.waiters.len(),
            rounds: self.rounds,
            refresh_calls: self.refresh_calls,
            retries: self.retries,
            waiting_for_network: self.network_waits,
        }
    }

    /// Whether refresh round `round` is still the one running.
    pub(super) fn in_round(&self, round: u64) -> bool {
        self.phase == Phase::Refreshing && self.rounds == round
    }

    /// Ends the running round (if any): the waiters to settle, and a waiting refresh task
    /// woken so that it sees the round is over.
    pub(super) fn end_round(&mut self) -> Vec<Waiter> {
        if let Some(watch) = self.round_watch.take() {
            // The task may be gone already; then nobody needs waking.
            let _ = watch.send(());
        }
        std::mem::take(&mut self.waiters)
    }

    /// The access token to send now, if any.
    pub(super) fn token_value(&self) -> Option<String> {
        self.token.as_ref().map(|token| token.value.clone())
    }
}
