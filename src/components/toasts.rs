//! Draws the toast list of the state layer (`state::toasts`).

use leptos::prelude::*;

use crate::state::{use_toasts, ToastKind};

#[component]
pub(crate) fn Toaster() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toaster" role="status" aria-live="polite" data-errors-shown=move || toasts.errors_shown()>
            <For each=move || toasts.list() key=|toast| toast.id let:toast>
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
