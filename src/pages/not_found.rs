//! The 404 page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub(crate) fn NotFoundPage() -> impl IntoView {
    view! {
        <Title text="Not found"/>
        <section class="card narrow center">
            <h1>"Page not found"</h1>
            <p class="muted">"There is nothing at this address."</p>
            <A href="/" attr:class="button">"Go to the dashboard"</A>
        </section>
    }
}
