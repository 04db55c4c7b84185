//! A part of a page whose code is a WASM chunk of its own (`#[lazy]`, built with
//! `cargo leptos build --split`), so that the first load of the other pages does not carry
//! it: the login page, where every first visit lands, loads none of the signed-in pages.

use std::future::Future;

use leptos::either::Either;
use leptos::prelude::*;

/// Shows `placeholder` (by default a tall skeleton) until the page has hydrated, then the
/// view `load` brings from its chunk (fetched once; later visits find it loaded). The
/// server renders the placeholder: hydrating a lazily loaded view in place is something
/// leptos 0.8 cannot do yet (it panics in tachys' hydration), and what is deferred here
/// needs WASM anyway (its data is fetched by the browser, its controls are WASM's).
#[component]
pub(crate) fn Deferred<L, F>(
    load: L,
    #[prop(optional, into)] placeholder: Option<ViewFn>,
) -> impl IntoView
where
    L: Fn() -> F + Copy + Send + Sync + 'static,
    F: Future<Output = AnyView> + Send + 'static,
{
    let placeholder =
        placeholder.unwrap_or_else(|| ViewFn::from(|| view! { <div class="skeleton tall"></div> }));
    preload_chunks::<L>();
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    move || match mounted.get() {
        false => Either::Left(placeholder.run()),
        true => {
            let placeholder = placeholder.clone();
            Either::Right(view! {
                <Suspense fallback=move || placeholder.run()>{Suspend::new(load())}</Suspense>
            })
        }
    }
}

/// Has the server's page preload the chunks of `L`, the `#[lazy]` function, named by its
/// type: a function item's type name is its path (`painless::pages::dashboard::panels`).
/// A closure has no such name, and its chunks are fetched when the body is mounted.
#[cfg(feature = "ssr")]
fn preload_chunks<L>() {
    let path = std::any::type_name::<L>();
    crate::server::ssr::preload_chunks(path.rsplit("::").next().unwrap_or(path));
}

/// In the browser the page has been rendered already.
#[cfg(not(feature = "ssr"))]
fn preload_chunks<L>() {}
