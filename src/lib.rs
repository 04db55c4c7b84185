//! **painless** — silent access-token refresh done right, as a Leptos SSR app.
//!
//! # Layout
//! - [`api`]: the wire contract shared by server and browser (envelope, errcodes, bodies).
//! - [`refresh`]: the app's use of [`painless_refresh`] (`crates/painless-refresh`), the
//!   single-flight refresh library: its types with this app's user, and the policy that
//!   reads this API's envelope.
//! - `state`: the client's state layer — the coordinator and typed API calls, who is signed
//!   in, the coordinator's activity, toasts — provided once and read by the UI.
//! - `client` (feature `hydrate`): browser-only glue — the page's language (the
//!   coordinator's browser plug-ins are the library's `browser` feature).
//! - [`app`], `pages`, `components`, `format`: the UI, rendered on the server and hydrated;
//!   [`render`]: what a server render gets from the server, which provides it.
//! - [`server`] (feature `ssr`): in layers — `http`, `auth`, `routes`, `store`, `ops`.

pub mod api;
pub mod app;
mod components;
mod format;
pub mod i18n;
mod pages;
pub mod refresh;
pub mod render;
mod state;

#[cfg(feature = "hydrate")]
mod client;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
