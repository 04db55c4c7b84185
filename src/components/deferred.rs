//! A part of a page whose code is a WASM chunk of its own (`wasm_split`, built with
//! `cargo leptos build --split`), so that the first load of the other pages does not carry
//! it: the login page, where every first visit lands, loads none of the signed-in pages.
//!
//! A deferred body is declared with `wasm_split`'s `fallible` option rather than leptos'
//! `#[lazy]` (the same macro underneath): under `#[lazy]` a chunk that fails to load — a
//! dropped connection, or a tab opened before a deploy asking for its old chunks — panics,
//! and a panic aborts the whole WASM instance, refresh coordinator included. Fallible, the
//! page says what happened and offers a reload, and the rest of the app keeps working.
//!
//! ```ignore
//! #[wasm_split(order_list, wasm_split_path = ::leptos::wasm_split, fallible)]
//! fn order_list() -> Result<AnyView, SplitLoaderError> {
//!     Ok(view! { <OrderList/> }.into_any())
//! }
//! ```

use std::future::Future;

use leptos::either::Either;
use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

use crate::i18n::Key;
use crate::render::render_host;
use crate::state::{reload_page, use_language};

/// Declares `$load`, the split function that brings the component `$body` from a WASM
/// chunk of its own, for `<Deferred load=$load/>`. Its name is the chunk's name in the
/// split manifest, by which the server preloads it: `deferred_body!(order_list =>
/// OrderList);` at the top level of a page's module, then `<Deferred load=order_list/>` in
/// its view.
macro_rules! deferred_body {
    ($load:ident => $body:ident) => {
        #[::leptos::wasm_split::wasm_split($load, wasm_split_path = ::leptos::wasm_split, fallible)]
        fn $load() -> Result<::leptos::prelude::AnyView, ::leptos::wasm_split::SplitLoaderError> {
            Ok(::leptos::prelude::IntoAny::into_any(
                ::leptos::prelude::view! { <$body/> },
            ))
        }
    };
}
pub(crate) use deferred_body;

/// Shows `placeholder` (by default a tall skeleton) until the page has hydrated, then the
/// view `load` brings from its chunk (fetched once; later visits find it loaded), or, if
/// the chunk cannot be loaded, an alert with a reload. The server renders the placeholder:
/// hydrating a lazily loaded view in place is something leptos 0.8 cannot do yet (it
/// panics in tachys' hydration), and what is deferred here needs WASM anyway (its data is
/// fetched by the browser, its controls are WASM's).
#[component]
pub(crate) fn Deferred<L, F>(
    load: L,
    #[prop(optional, into)] placeholder: Option<ViewFn>,
) -> impl IntoView
where
    L: Fn() -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Result<AnyView, SplitLoaderError>> + Send + 'static,
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
            // The browser has logged the failed fetch already.
            let body = async move {
                load()
                    .await
                    .unwrap_or_else(|_| view! { <Unavailable/> }.into_any())
            };
            Either::Right(view! {
                <Suspense fallback=move || placeholder.run()>{Suspend::new(body)}</Suspense>
            })
        }
    }
}

/// What stands in for a body whose chunk did not load. Reloading the page is the one
/// remedy for both causes: a lost connection is retried, and after a deploy the page comes
/// back with the new build, whose chunks exist (the server refuses another build's chunks,
/// see `server::http::assets`).
#[component]
fn Unavailable() -> impl IntoView {
    let lang = use_language();
    let reload = |_| reload_page();
    view! {
        <div class="card" role="alert" id="body-unavailable">
            <p class="panel-error">{lang.tr(Key::BodyUnavailable)}</p>
            <button type="button" class="button" on:click=reload>{lang.tr(Key::ReloadPage)}</button>
        </div>
    }
}

/// Has the server's page preload the chunks of `L`, the split function, named by its type:
/// a function item's type name is its path (`painless::pages::dashboard::order_list`), and
/// its name is the chunk's module name in the split manifest. A closure has no such name,
/// and its chunks are fetched when the body is mounted.
fn preload_chunks<L>() {
    if let Some(host) = render_host() {
        let path = std::any::type_name::<L>();
        host.preload_chunks(path.rsplit("::").next().unwrap_or(path));
    }
}
