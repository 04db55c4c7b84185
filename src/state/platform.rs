//! The coordinator's transport, clock, spawner and tab link for the build at hand:
//! painless-refresh's `browser` plug-ins in the browser; inert stand-ins during server
//! rendering, where no request is ever made. Also the page's language and the head's
//! text, which follow the visitor in the browser and are fixed for a server render.

use leptos::text_prop::TextProp;

use crate::refresh::TabMessage;

#[cfg(not(feature = "hydrate"))]
pub(crate) use crate::refresh::SingleTab as PlatformTabs;
#[cfg(feature = "hydrate")]
pub(crate) use painless_refresh::browser::{
    BrowserClock as PlatformClock, BrowserSpawner as PlatformSpawner, BrowserTabs as PlatformTabs,
    FetchTransport as PlatformTransport,
};
#[cfg(not(feature = "hydrate"))]
pub(crate) use server_side::{
    NoSpawner as PlatformSpawner, OfflineTransport as PlatformTransport,
    SystemClock as PlatformClock,
};

/// The language the page is rendered in: in the browser, what the server's `<html lang>`
/// says; on the server, what the request asks for.
#[cfg(feature = "hydrate")]
pub(crate) use crate::client::{page_locale, remember_locale};

#[cfg(not(feature = "hydrate"))]
pub(crate) fn page_locale() -> crate::i18n::Locale {
    crate::render::render_host()
        .map(|host| host.locale())
        .unwrap_or_default()
}

/// Only a browser can switch languages.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn remember_locale(_: crate::i18n::Locale) {}

/// Text for the document's head, such as a page's `<title>`: in the browser it follows
/// `text`'s signals.
#[cfg(feature = "hydrate")]
pub(crate) fn head_text(text: impl Fn() -> &'static str + Send + Sync + 'static) -> TextProp {
    text.into()
}

/// On the server, `text` as it is now. leptos_meta reads the title only once the page is
/// rendered, outside the render's reactive arena (leptos_integration_utils 0.8.9), where a
/// signal finds another request's arena or none and panics: about 2 % of the pages
/// rendered side by side were answered 500. A server render has one language anyway.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn head_text(text: impl Fn() -> &'static str + Send + Sync + 'static) -> TextProp {
    text().into()
}

/// The link to the other tabs; `on_message` gets what they announce. One name for the
/// lock and the channel, `painless-refresh`, and `painless.*` storage keys.
#[cfg(feature = "hydrate")]
pub(crate) fn tab_link(on_message: impl Fn(TabMessage) + 'static) -> PlatformTabs {
    PlatformTabs::open(
        &painless_refresh::browser::TabNames::prefixed("painless"),
        on_message,
    )
}

/// Calls `on_wake` when the page may have slept or been hidden (see
/// painless-refresh's `browser::on_wake`); `true` for a page restored from the
/// back/forward cache.
#[cfg(feature = "hydrate")]
pub(crate) use painless_refresh::browser::on_wake;

/// A page rendered on the server never sleeps.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn on_wake(_: impl Fn(bool) + 'static) {}

/// How long a request waits for the network: the library's default in the browser; no
/// time at all on the server, whose stand-in transport never answers and whose clock
/// does not sleep.
pub(crate) fn network_wait() -> std::time::Duration {
    match cfg!(feature = "hydrate") {
        true => crate::refresh::Tuning::default().offline_wait,
        false => std::time::Duration::ZERO,
    }
}

/// Loads the page again from the server.
#[cfg(feature = "hydrate")]
pub(crate) fn reload_page() {
    let _ = leptos::prelude::window().location().reload();
}

#[cfg(not(feature = "hydrate"))]
pub(crate) fn reload_page() {}

/// A page rendered on the server has no other tabs.
#[cfg(not(feature = "hydrate"))]
pub(crate) fn tab_link(_: impl Fn(TabMessage) + 'static) -> PlatformTabs {
    PlatformTabs
}

#[cfg(not(feature = "hydrate"))]
mod server_side {
    use std::future::Future;

    use futures::future::LocalBoxFuture;

    use crate::refresh::{Clock, Request, Response, Spawn, Transport, TransportError};

    /// Pages fetch their data in the browser only; on the server a call fails at once.
    pub struct OfflineTransport;

    impl Transport for OfflineTransport {
        fn send(
            &self,
            _: &Request,
            _: Option<&str>,
        ) -> impl Future<Output = Result<Response, TransportError>> {
            std::future::ready(Err(TransportError {
                status: 0,
                message: "API calls are made from the browser".into(),
            }))
        }
    }

    pub struct SystemClock;

    impl Clock for SystemClock {
        fn now_ms(&self) -> i64 {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or_default()
        }

        /// Never awaited: no refresh runs during server rendering.
        fn sleep(&self, _: std::time::Duration) -> impl Future<Output = ()> + 'static {
            std::future::ready(())
        }
    }

    pub struct NoSpawner;

    impl Spawn for NoSpawner {
        fn spawn(&self, _: LocalBoxFuture<'static, ()>) {}
    }
}
