//! Draws the toast list of the state layer (`state::toasts`).

use leptos::prelude::*;

use crate::i18n::Key;
use crate::state::{use_language, use_toasts, ToastKind};

#[component]
pub(crate) fn Toaster() -> impl IntoView {
    let toasts = use_toasts();
    let lang = use_language();
    // One polite live region announces each toast once; the toasts inside carry no role
    // of their own (an `alert` inside it would be announced twice).
    view! {
        <div
            class="toaster"
            role="status"
            aria-live="polite"
            data-errors-shown=move || toasts.errors_shown()
            on:mouseenter=move |_| toasts.pause()
            on:mouseleave=move |_| toasts.resume()
            on:focusin=move |_| toasts.pause()
            on:focusout=move |_| toasts.resume()
        >
            <For each=move || toasts.list() key=|toast| toast.id let:toast>
                <div
                    class="toast"
                    class:toast-error=toast.kind == ToastKind::Error
                    class:toast-success=toast.kind == ToastKind::Success
                    class:toast-info=toast.kind == ToastKind::Info
                >
                    <span class="toast-icon" aria-hidden="true">
                        {match toast.kind {
                            ToastKind::Error => "!",
                            ToastKind::Success => "✓",
                            ToastKind::Info => "i",
                        }}
                    </span>
                    <span class="toast-message">{toast.message}</span>
                    <button
                        type="button"
                        class="toast-close"
                        aria-label=lang.tr(Key::Dismiss)
                        on:click=move |_| toasts.dismiss(toast.id)
                    >
                        "×"
                    </button>
                </div>
            </For>
        </div>
    }
}
