//! What the lab shows of the coordinator while it is mounted: the timeline of events, the
//! token in memory and the refresh calls this tab sent. Only the coordinator's events
//! write it (and the lab's Clear button, which empties its own timeline).

use leptos::prelude::*;

use crate::refresh::{Event, EventKind, HeldToken};
use crate::state::Calls;

/// How many coordinator events the lab keeps.
const TIMELINE_LIMIT: usize = 600;

#[derive(Clone, Copy)]
pub(super) struct LabFeed {
    pub(super) timeline: RwSignal<Vec<Event>>,
    pub(super) token: RwSignal<Option<HeldToken>>,
    /// Refresh calls this tab sent since the lab was opened.
    pub(super) refresh_calls: RwSignal<u64>,
}

impl LabFeed {
    /// Starts listening now; stops when the calling component goes away.
    pub(super) fn mount(calls: Calls) -> Self {
        let feed = Self {
            timeline: RwSignal::new(Vec::new()),
            token: RwSignal::new(
                calls
                    .built()
                    .and_then(|coordinator| coordinator.snapshot().token),
            ),
            refresh_calls: RwSignal::new(0),
        };
        calls.subscribe_while_mounted(move |event| feed.observe(event));
        feed
    }

    /// `try_`: one event can end the session and dispose the lab (the route goes away)
    /// while the same event is still being handed to the listeners, this one included.
    fn observe(&self, event: &Event) {
        match &event.kind {
            EventKind::TokenChanged(token) => {
                self.token.try_set(token.clone());
            }
            EventKind::RefreshStarted { .. } => {
                self.refresh_calls.try_update(|n| *n += 1);
            }
            _ => {}
        }
        if event.kind.is_timeline() {
            self.timeline.try_update(|timeline| {
                timeline.push(event.clone());
                if timeline.len() > TIMELINE_LIMIT {
                    let excess = timeline.len() - TIMELINE_LIMIT;
                    timeline.drain(..excess);
                }
            });
        }
    }
}
