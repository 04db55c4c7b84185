//! What server rendering needs from the server: who the visitor is (from the refresh
//! cookie, without spending it), the settings the browser's coordinator gets, and how a
//! rendered page is sent.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::nonce::use_nonce;
use leptos::prelude::*;
use leptos_meta::Link;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::api::{BootInfo, DemoHint};
use crate::i18n::Locale;
use crate::render::{provide_render_host, RenderHost};
use crate::server::auth::extract::RefreshCookie;
use crate::server::http::language;
use crate::server::ops::state::AppState;
use crate::server::ops::timestamp::Timestamp;

/// The server's side of every page render (see [`crate::render`]).
struct PageHost {
    state: AppState,
}

impl RenderHost for PageHost {
    fn boot_info(&self) -> Pin<Box<dyn Future<Output = BootInfo> + Send>> {
        Box::pin(boot_info(self.state.clone()))
    }

    fn head_assets(&self) -> AnyView {
        app_assets(&self.state).into_any()
    }

    fn preload_chunks(&self, split_fn: &str) {
        preload_chunks(&self.state, split_fn);
    }

    fn locale(&self) -> Locale {
        use_context::<Parts>()
            .map(|parts| language::of(&parts.headers))
            .unwrap_or_default()
    }
}

/// What a page's head loads the app with, in place of leptos' `HydrationScripts`: the
/// stylesheet, preloads of the JS module, the WASM and the WASM-split loader, and a module
/// script that *imports* the JS statically and hydrates. leptos' script imports the JS
/// dynamically, only once it runs (after the page is parsed and styled), and the browser
/// ignored its preload (the nonce sits in `crossorigin`); a static import lets the module
/// graph load while the page is parsed. With the versioned URLs of `BundleUrls` (cached
/// for a year) the median time to hydrated `/login` in headless Chromium fell from
/// 151–166 to 143–145 ms (old and new servers alternated, 25 loads each). Every script
/// carries the page's CSP nonce; the URLs are our own ASCII paths, so Rust's quoting is
/// JavaScript's.
fn app_assets(state: &AppState) -> impl IntoView {
    let bundle = &state.bundle;
    let nonce = use_nonce();
    let start = format!(
        "import init, {{ hydrate }} from {js:?}; init({{ module_or_path: {wasm:?} }}).then(() => hydrate());",
        js = bundle.js,
        wasm = bundle.wasm,
    );
    let split_loader = bundle
        .split_loader
        .clone()
        .map(|href| view! { <link rel="modulepreload" href=href nonce=nonce.clone()/> });
    view! {
        <link rel="modulepreload" href=bundle.js.clone() nonce=nonce.clone()/>
        <link rel="preload" href=bundle.wasm.clone() r#as="fetch" r#type="application/wasm" crossorigin="anonymous"/>
        {split_loader}
        <script type="module" nonce=nonce>{start}</script>
        <link id="leptos" rel="stylesheet" href=bundle.css.clone()/>
    }
}

/// Asks the browser to fetch the WASM chunks of a body the page defers
/// (`components::deferred`) while it loads the page: preloads in the head, so the chunks
/// are in by the time the body is mounted, instead of being fetched only then. `split_fn`
/// is the split function's name; one the split manifest does not have adds nothing.
/// (leptos does the same for a `#[lazy]` function called while rendering, but ours are
/// only called in the browser, and through its `HydrationScripts`, which this app
/// replaces.)
fn preload_chunks(state: &AppState, split_fn: &str) {
    for href in state.bundle.chunks_of(split_fn) {
        // Rendering a `Link` registers it with the head; nothing goes where it is called.
        _ = view! {
            <Link rel="preload" href=href.clone() as_="fetch" type_="application/wasm" crossorigin="anonymous"/>
        }
        .to_html();
    }
}

/// What every page render is given besides leptos' own context: the app's state, the
/// render's host, and the CSP header with the render's nonce.
pub(crate) fn provide_page_context(state: AppState) {
    provide_render_host(Arc::new(PageHost {
        state: state.clone(),
    }));
    provide_context(state);
    crate::server::http::security_headers::set_page_policy();
}

/// Pages leave the renderer as a stream of chunks, and sent as they come each chunk is a
/// write of its own and, with `TCP_NODELAY`, a packet of its own: three per page, each
/// waking the client. Nothing is gained by streaming ours (the boot resource blocks until
/// the first chunk, and page data is fetched by the browser), so a page is collected and
/// sent in one write with a `Content-Length`: 3 writes per page became 1, and pages per
/// second at 64 connections rose by 15 %.
pub(crate) async fn send_pages_whole(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if !is_page(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    match whole_page(body).await {
        Ok(page) => Response::from_parts(parts, Body::from(page)),
        Err(failed) => failed,
    }
}

/// Whether a response is an HTML page.
pub(crate) fn is_page(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"text/html"))
}

/// A page's body, collected; a render that failed midway is logged and answered with 500.
pub(crate) async fn whole_page(body: Body) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|error| {
            tracing::error!(%error, "rendering a page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })
}

/// The boot information for the page being rendered. The request and the response
/// options are taken from the render's context before the first await.
fn boot_info(state: AppState) -> impl Future<Output = BootInfo> + Send {
    let token = use_context::<Parts>()
        .map(|parts| RefreshCookie::of(&parts, &state))
        .and_then(|cookie| cookie.token());
    let response = use_context::<leptos_axum::ResponseOptions>();
    async move { boot_info_for(&state, token, response).await }
}

async fn boot_info_for(
    state: &AppState,
    token: Option<String>,
    response: Option<leptos_axum::ResponseOptions>,
) -> BootInfo {
    let settings = &state.settings;
    let demo_hint = settings
        .demo
        .enabled
        .then(|| settings.demo.users.first())
        .flatten()
        .map(|u| DemoHint {
            customer_code: u.customer_code.clone(),
            username: u.username.clone(),
            password: u.password.expose().to_owned(),
        });
    let mut boot = BootInfo {
        user: None,
        refresh_errcodes: settings.client.refresh_errcodes.clone(),
        refresh_margin_secs: settings.client.refresh_margin.as_secs(),
        demo_enabled: settings.demo.enabled,
        demo_hint,
    };
    if let Some(token) = token {
        match state
            .store
            .peek(token, Timestamp::now(), state.refresh_policy())
            .await
        {
            Ok(found) => boot.user = found.map(|f| f.user.to_api()),
            // An outage is logged once by the store; the page renders as signed out.
            Err(error) if error.is_unavailable() => {}
            Err(error) => tracing::error!(%error, "session lookup during rendering failed"),
        }
    }
    if boot.user.is_some() {
        // A page rendered for a signed-in user must not be written to any cache, the
        // browser's disk included (`private, no-cache` still allows that).
        if let Some(response) = response {
            response.insert_header(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
    }
    boot
}
