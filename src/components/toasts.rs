//! Toasts, the equivalent of Element UI's `Message.error`: one per reported error, gone
//! after a few seconds or on click.

use std::time::Duration;

use leptos::prelude::*;

const SHOW_FOR: Duration = Duration::from_secs(6);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToastKind {
    Error,
    Success,
    /// Neither good nor bad news (a logout in another tab).
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toast {
    id: u64,
    kind: ToastKind,
    message: String,
}

/// The toast list, provided once in `App`.
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next_id: StoredValue<u64>,
    /// Error toasts shown since the page loaded (the end-to-end tests read it).
    errors_shown: RwSignal<u64>,
}

impl Toasts {
    pub fn error(&self, message: impl Into<String>) {
        self.errors_shown.update(|n| *n += 1);
        self.push(ToastKind::Error, message.into());
    }

    pub fn success(&self, message: impl Into<String>) {
        self.push(ToastKind::Success, message.into());
    }

    pub fn info(&self, message: impl Into<String>) {
        self.push(ToastKind::Info, message.into());
    }

    fn push(&self, kind: ToastKind, message: String) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.list
            .update(|list| list.push(Toast { id, kind, message }));
        let toasts = *self;
        set_timeout(move || toasts.dismiss(id), SHOW_FOR);
    }

    pub fn dismiss(&self, id: u64) {
        self.list.update(|list| list.retain(|t| t.id != id));
    }
}

pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        list: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(1),
        errors_shown: RwSignal::new(0),
    };
    provide_context(toasts);
    toasts
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

#[component]
pub fn Toaster() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toaster" role="status" aria-live="polite" data-errors-shown=move || toasts.errors_shown.get()>
            <For each=move || toasts.list.get() key=|toast| toast.id let:toast>
                <div
                    class="toast"
                    class:toast-error=toast.kind == ToastKind::Error
                    class:toast-success=toast.kind == ToastKind::Success
                    class:toast-info=toast.kind == ToastKind::Info
                    role=if toast.kind == ToastKind::Error { "alert" } else { "status" }
                    on:click=move |_| toasts.dismiss(toast.id)
                >
                    <span class="toast-icon" aria-hidden="true">
                        {match toast.kind {
                            ToastKind::Error => "!",
                            ToastKind::Success => "✓",
                            ToastKind::Info => "i",
                        }}
                    </span>
                    <span class="toast-message">{toast.message}</span>
                </div>
            </For>
        </div>
    }
}
