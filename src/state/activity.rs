//! What the whole app shows of the coordinator: its phase and how many requests are in
//! flight (the global spinner). Read-only outside this module.

use leptos::prelude::*;

use super::Api;
use crate::refresh::{EventKind, Phase};

/// Provided once by `provide_state`; `Copy`, every field is an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Activity {
    pub(crate) phase: ReadSignal<Phase>,
    pub(crate) in_flight: ReadSignal<usize>,
}

impl Activity {
    pub(super) fn new(api: Api) -> Self {
        let (phase, set_phase) = signal(Phase::Idle);
        let (in_flight, set_in_flight) = signal(0usize);
        api.subscribe(move |event| match event.kind {
            EventKind::PhaseChanged(now) => set_phase.set(now),
            EventKind::InFlight(count) => set_in_flight.set(count),
            _ => {}
        });
        Self { phase, in_flight }
    }
}
