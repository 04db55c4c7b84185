//! What a server render needs from the server that runs it, defined on this side so that
//! code compiled for both targets never names the server: the server provides a
//! [`RenderHost`] as a context for every page it renders (`server::http::ssr`). In the
//! browser there is none: the page hydrates from what the server sent.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use leptos::prelude::*;

use crate::api::BootInfo;
use crate::i18n::Locale;

/// The server's side of a page render.
pub trait RenderHost: Send + Sync {
    /// Who is signed in (from the request's refresh cookie, without spending it) and how
    /// the browser's coordinator is configured.
    fn boot_info(&self) -> Pin<Box<dyn Future<Output = BootInfo> + Send>>;
    /// The head's stylesheet and the scripts that start the app.
    fn head_assets(&self) -> AnyView;
    /// Has the page's head preload the WASM chunks of the split function `split_fn`.
    fn preload_chunks(&self, split_fn: &str);
    /// The language the request asks for.
    fn locale(&self) -> Locale;
}

/// The context that carries the host of a render.
#[cfg(feature = "ssr")]
#[derive(Clone)]
struct Host(Arc<dyn RenderHost>);

/// Makes `host` the host of the render under way (the server calls it for every page).
#[cfg(feature = "ssr")]
pub fn provide_render_host(host: Arc<dyn RenderHost>) {
    provide_context(Host(host));
}

/// The host of the render under way.
#[cfg(feature = "ssr")]
pub fn render_host() -> Option<Arc<dyn RenderHost>> {
    use_context::<Host>().map(|Host(host)| host)
}

/// In the browser there is none, and everything that would ask it compiles away: the
/// WASM bundle carries no code for a server render.
#[cfg(not(feature = "ssr"))]
pub fn render_host() -> Option<Arc<dyn RenderHost>> {
    None
}
