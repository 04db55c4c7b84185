//! The toast list, the equivalent of Element UI's `Message`: one toast per reported error
//! or notice, gone after a few seconds or when dismissed. Drawn by
//! `components::toasts::Toaster`.

use std::time::Duration;

use leptos::prelude::*;

const SHOW_FOR: Duration = Duration::from_secs(6);
/// How often a paused toast looks again whether it may go.
const RECHECK_PAUSED: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ToastKind {
    Error,
    Success,
    /// Neither good nor bad news (a logout in another tab).
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Toast {
    pub(crate) id: u64,
    pub(crate) kind: ToastKind,
    pub(crate) message: String,
}

/// Provided once by `provide_state`; `Copy`, every field is an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
    /// Error toasts shown since the page loaded (the end-to-end tests read it).
    errors_shown: RwSignal<u64>,
    /// While the pointer or the keyboard focus is on the toasts, none goes away.
    paused: StoredValue<bool>,
}

impl Toasts {
    pub(crate) fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            next_id: StoredValue::new(1),
            errors_shown: RwSignal::new(0),
            paused: StoredValue::new(false),
        }
    }

    pub(crate) fn error(&self, message: impl Into<String>) {
        self.errors_shown.update(|n| *n += 1);
        self.push(ToastKind::Error, message.into());
    }

    /// An error toast, unless the same text is on screen already.
    pub(crate) fn error_once(&self, message: impl Into<String>) {
        let message = message.into();
        let shown = self
            .list
            .with_untracked(|list| list.iter().any(|toast| toast.message == message));
        if !shown {
            self.error(message);
        }
    }

    pub(crate) fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    pub(crate) fn info(&self, message: impl Into<String>) {
        self.push(ToastKind::Info, message.into());
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.list
            .update(|list| list.push(Toast { id, kind, message }));
        self.expire_later(id, SHOW_FOR);
    }

    /// Dismisses toast `id` after `delay`, or later while the toasts are paused.
    fn expire_later(&self, id: u64, delay: Duration) {
        let toasts = *self;
        set_timeout(
            move || match toasts.paused.try_get_value() {
                Some(true) => toasts.expire_later(id, RECHECK_PAUSED),
                Some(false) => toasts.dismiss(id),
                None => {}
            },
            delay,
        );
    }

    /// Keeps every toast on screen (pointer over them, or keyboard focus in them).
    pub(crate) fn pause(&self) {
        self.paused.set_value(true);
    }

    pub(crate) fn resume(&self) {
        self.paused.set_value(false);
    }

    pub(crate) fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|t| t.id != id));
    }

    /// The toasts on screen (reactive).
    pub(crate) fn list(&self) -> Vec<Toast> {
        self.list.get()
    }

    /// Error toasts shown since the page loaded (reactive).
    pub(crate) fn errors_shown(&self) -> u64 {
        self.errors_shown.get()
    }
}

pub(crate) fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}
