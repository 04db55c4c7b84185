//! The lab's view-model: what its components show, computed from coordinator events
//! without any view code, so that it is tested natively.

use std::collections::BTreeMap;

use crate::api::paths;
use crate::refresh::{Event, EventKind, Phase, QueueReason};

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

/// The badge of the coordinator's phase: CSS modifier and text.
pub(super) fn phase_badge(phase: Phase) -> (&'static str, &'static str) {
    match phase {
        Phase::Idle => ("idle", "Idle"),
        Phase::Refreshing => ("refreshing", "Refreshing…"),
        Phase::Failed => ("failed", "Refresh failed"),
        Phase::SignedOut => ("failed", "Signed out"),
    }
}

/// A countdown as the token card shows it.
pub(super) fn remaining_text(remaining_ms: Option<i64>) -> String {
    match remaining_ms {
        Some(ms) if ms > 0 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(_) => "expired".to_owned(),
        None => "none in memory".to_owned(),
    }
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
pub(super) fn rows(events: &[Event]) -> Vec<Row> {
    let origin = events.first().map(|e| e.at_ms).unwrap_or_default();
    let mut rows: BTreeMap<(i64, String), Row> = BTreeMap::new();
    let mut keys: BTreeMap<String, (i64, String)> = BTreeMap::new();
    for event in events {
        let (key, title, is_refresh) = match &event.kind {
            EventKind::RefreshStarted { refresh }
            | EventKind::RefreshSucceeded { refresh, .. }
            | EventKind::RefreshFailed { refresh, .. } => {
                (format!("r{refresh}"), format!("refresh #{refresh}"), true)
            }
            EventKind::RefreshLocked { refresh, .. } | EventKind::AwaitingOtherTab { refresh } => {
                (format!("r{refresh}"), format!("refresh #{refresh}"), true)
            }
            EventKind::SessionOver { .. } | EventKind::SignedOutElsewhere { .. } => {
                ("session".to_owned(), "session".to_owned(), true)
            }
            EventKind::TokenReceived { generation, .. } => (
                format!("g{generation}"),
                format!("token #{generation}"),
                true,
            ),
            kind => match kind.request() {
                Some(id) => (format!("q{id}"), format!("#{id}"), false),
                None => continue,
            },
        };
        let (label, class) = step(&event.kind);
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
fn step(kind: &EventKind) -> (String, &'static str) {
    match kind {
        EventKind::Sent { .. } => ("sent".into(), "sent"),
        EventKind::GotErrcode { errcode, .. } => (errcode.to_string(), "errcode"),
        EventKind::Queued { reason, .. } => (
            match reason {
                QueueReason::NoToken => "queued (no token)".into(),
                QueueReason::ExpiresSoon => "queued (expires soon)".into(),
                QueueReason::RefreshRunning => "queued (refresh running)".into(),
                QueueReason::Errcode(_) => "queued".into(),
            },
            "queued",
        ),
        EventKind::RefreshLocked {
            exclusive: true, ..
        } => ("lock taken".into(), "queued"),
        EventKind::RefreshLocked { .. } => ("no lock".into(), "queued"),
        EventKind::AwaitingOtherTab { .. } => ("another tab got ahead".into(), "queued"),
        EventKind::RefreshStarted { .. } => (format!("POST {}", paths::REFRESH), "refresh"),
        EventKind::TokenReceived { from, .. } => (format!("from tab {from}"), "ok"),
        EventKind::SignedOutElsewhere { from } => (format!("logout in tab {from}"), "failed"),
        EventKind::RefreshSucceeded { .. } => ("new token".into(), "ok"),
        EventKind::RefreshFailed {
            session_over: true, ..
        } => ("refused".into(), "failed"),
        EventKind::RefreshFailed { .. } => ("failed, will retry".into(), "failed"),
        EventKind::Replayed { .. } => ("replayed".into(), "replayed"),
        EventKind::Delivered { result: Ok(()), .. } => ("delivered".into(), "ok"),
        EventKind::Delivered {
            result: Err(code), ..
        } => (format!("error {code}"), "failed"),
        EventKind::Cancelled { .. } => ("cancelled".into(), "failed"),
        EventKind::SessionOver { from_tab: None } => ("session over".into(), "failed"),
        EventKind::SessionOver {
            from_tab: Some(from),
        } => (format!("session over (tab {from})"), "failed"),
        EventKind::InFlight(_) | EventKind::PhaseChanged(_) | EventKind::TokenChanged(_) => {
            (String::new(), "")
        }
    }
}

#[cfg(test)]
mod tests;
