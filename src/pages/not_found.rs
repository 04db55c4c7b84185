//! The 404 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::i18n::Key;
use crate::state::use_language;

#[component]
pub(crate) fn NotFoundPage() -> impl IntoView {
    let lang = use_language();
    view! {
        <Title text=lang.title(Key::NotFoundTitle)/>
        <section class="card narrow center">
            <h1>{lang.tr(Key::NotFoundHeading)}</h1>
            <p class="muted">{lang.tr(Key::NotFoundText)}</p>
            <A href="/" attr:class="button">{lang.tr(Key::GoToDashboard)}</A>
        </section>
    }
}
