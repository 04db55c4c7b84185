//! The lab's view-model: what its components show, computed from coordinator events
//! without any view code, so that it is tested natively.

use std::collections::BTreeMap;

use crate::api::paths;
use crate::i18n::{Key, Locale};
use crate::refresh::{errcode_of, Event, EventKind, HoldReason, Phase, QueueReason};

pub(super) const BURST_SIZES: [usize; 6] = [1, 5, 10, 20, 30, 50];

/// The outcome of the last burst of parallel requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct BurstResult {
    pub(super) size: usize,
    pub(super) ok: usize,
    pub(super) failed: usize,
}

impl BurstResult {
    pub(super) fn of<T, E>(results: &[Result<T, E>]) -> Self {
        let ok = results.iter().filter(|r| r.is_ok()).count();
        Self {
            size: results.len(),
            ok,
            failed: results.len() - ok,
        }
    }
}

/// The badge of the coordinator's phase: CSS modifier and text. Waiting for the network
/// shows as its own phase, whatever the refresh machinery's.
pub(super) fn phase_badge(
    locale: Locale,
    phase: Phase,
    waiting_for_network: bool,
) -> (&'static str, &'static str) {
    let (class, key) = match phase {
        Phase::Idle | Phase::Refreshing if waiting_for_network => ("offline", Key::PhaseOffline),
        Phase::Idle => ("idle", Key::PhaseIdle),
        Phase::Refreshing => ("refreshing", Key::PhaseRefreshing),
        Phase::Failed => ("failed", Key::PhaseFailed),
        Phase::SignedOut => ("failed", Key::PhaseSignedOut),
    };
    (class, locale.text(key))
}

/// A countdown as the token card shows it.
pub(super) fn remaining_text(locale: Locale, remaining_ms: Option<i64>) -> String {
    match remaining_ms {
        Some(ms) if ms > 0 => locale.format(
            Key::LabSecondsLeft,
            &[("seconds", &format!("{:.1}", ms as f64 / 1000.0))],
        ),
        Some(_) => locale.text(Key::LabTokenExpired).to_owned(),
        None => locale.text(Key::LabNoToken).to_owned(),
    }
}

/// Sends repeated after no answer, a `503` or a wait for the network: requests and
/// refresh calls.
pub(super) fn is_retry(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Retried { .. })
        || matches!(kind, EventKind::RefreshStarted { attempt, .. } if *attempt > 1)
}

/// How many events of a kind the timeline holds.
pub(super) fn count(events: &[Event], pick: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| pick(&e.kind)).count()
}

/// One line of the timeline: a request with its steps, or a refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Row {
    pub(super) key: String,
    pub(super) title: String,
    pub(super) is_refresh: bool,
    pub(super) steps: Vec<Step>,
}

/// One chip of a row: its text, its CSS class and its offset from the first event (ms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Step {
    pub(super) label: String,
    pub(super) class: &'static str,
    pub(super) offset_ms: i64,
}

/// Groups events into rows: one per request (in order of first appearance), one per
/// refresh round, one per token received from another tab, one for the session's end.
pub(super) fn rows(locale: Locale, events: &[Event]) -> Vec<Row> {
    let numbered =
        |key: Key, n: &dyn std::fmt::Display| locale.format(key, &[("n", &n.to_string())]);
    let origin = events.first().map(|e| e.at_ms).unwrap_or_default();
    let mut rows: BTreeMap<(i64, String), Row> = BTreeMap::new();
    let mut keys: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for event in events {
        let (key, title, is_refresh) = match &event.kind {
            EventKind::RefreshStarted { refresh, .. }
            | EventKind::RefreshHeld { refresh, .. }
            | EventKind::RefreshSucceeded { refresh, .. }
            | EventKind::RefreshFailed { refresh, .. } => (
                format!("r{refresh}"),
                numbered(Key::RowRefresh, refresh),
                true,
            ),
            EventKind::RefreshLocked { refresh, .. } | EventKind::AwaitingOtherTab { refresh } => (
                format!("r{refresh}"),
                numbered(Key::RowRefresh, refresh),
                true,
            ),
            EventKind::SessionOver { .. } | EventKind::SignedOutElsewhere { .. } => (
                "session".to_owned(),
                locale.text(Key::RowSession).to_owned(),
                true,
            ),
            EventKind::TokenReceived { generation, .. } => (
                format!("g{generation}"),
                numbered(Key::RowToken, generation),
                true,
            ),
            kind => match kind.request() {
                Some(id) => (format!("q{id}"), format!("#{id}"), false),
                None => continue,
            },
        };
        let (label, class) = step(locale, &event.kind);
        let slot = keys
            .entry(key.clone())
            .or_insert_with(|| (event.at_ms, key.clone()))
            .clone();
        let row = rows.entry(slot).or_insert_with(|| Row {
            key,
            title,
            is_refresh,
            steps: Vec::new(),
        });
        if let EventKind::Sent { label, .. } = &event.kind {
            row.title = format!("{} {label}", row.title);
        }
        row.steps.push(Step {
            label,
            class,
            offset_ms: event.at_ms - origin,
        });
    }
    rows.into_values().collect()
}

/// The chip of one event: its text and its CSS class.
fn step(locale: Locale, kind: &EventKind) -> (String, &'static str) {
    let text = |key: Key| locale.text(key).to_owned();
    let with = |key: Key, name: &str, value: &dyn std::fmt::Display| {
        locale.format(key, &[(name, &value.to_string())])
    };
    match kind {
        EventKind::Sent { .. } => (text(Key::StepSent), "sent"),
        EventKind::TokenRefused { error, .. } => (errcode_of(error).to_string(), "errcode"),
        EventKind::Queued { reason, .. } => (
            text(match reason {
                QueueReason::NoToken => Key::StepQueuedNoToken,
                QueueReason::ExpiresSoon => Key::StepQueuedExpiresSoon,
                QueueReason::RefreshRunning => Key::StepQueuedRefreshRunning,
                QueueReason::TokenRefused => Key::StepQueued,
            }),
            "queued",
        ),
        EventKind::RefreshLocked {
            exclusive: true, ..
        } => (text(Key::StepLockTaken), "queued"),
        EventKind::RefreshLocked { .. } => (text(Key::StepNoLock), "queued"),
        EventKind::AwaitingOtherTab { .. } => (text(Key::StepOtherTabAhead), "queued"),
        EventKind::RefreshStarted { attempt: 1, .. } => {
            (format!("POST {}", paths::REFRESH), "refresh")
        }
        EventKind::RefreshStarted { attempt, .. } => {
            (format!("POST {} ({attempt})", paths::REFRESH), "refresh")
        }
        EventKind::Held { reason, .. } | EventKind::RefreshHeld { reason, .. } => (
            text(match reason {
                HoldReason::Offline | HoldReason::NoAnswer => Key::StepWaitingForNetwork,
                HoldReason::Unavailable => Key::StepWaitingForServer,
            }),
            "offline",
        ),
        EventKind::Retried { .. } => (text(Key::StepSentAgain), "replayed"),
        EventKind::TokenReceived { from, .. } => (with(Key::StepFromTab, "tab", from), "ok"),
        EventKind::SignedOutElsewhere { from } => {
            (with(Key::StepLogoutInTab, "tab", from), "failed")
        }
        EventKind::RefreshSucceeded { .. } => (text(Key::StepNewToken), "ok"),
        EventKind::RefreshFailed {
            session_over: true, ..
        } => (text(Key::StepRefused), "failed"),
        EventKind::RefreshFailed { .. } => (text(Key::StepFailedWillRetry), "failed"),
        EventKind::Replayed { .. } => (text(Key::StepReplayed), "replayed"),
        EventKind::Delivered { result: Ok(()), .. } => (text(Key::StepDelivered), "ok"),
        EventKind::Delivered {
            result: Err(error), ..
        } => (with(Key::StepError, "code", &errcode_of(error)), "failed"),
        EventKind::Cancelled { .. } => (text(Key::StepCancelled), "failed"),
        EventKind::SessionOver { from_tab: None } => (text(Key::StepSessionOver), "failed"),
        EventKind::SessionOver {
            from_tab: Some(from),
        } => (with(Key::StepSessionOverTab, "tab", from), "failed"),
        EventKind::InFlight(_)
        | EventKind::PhaseChanged(_)
        | EventKind::TokenChanged(_)
        | EventKind::NetworkWait(_) => (String::new(), ""),
    }
}

#[cfg(test)]
mod tests;
