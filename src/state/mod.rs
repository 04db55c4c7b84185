//! The client's state layer, provided once in `App` and reached with the `use_*`
//! functions. Each piece has one owner that writes it:
//! - [`Calls`]: the refresh coordinator, built from the server's boot information, and the
//!   typed calls pages make (the only path to the network);
//! - [`Auth`]: who is signed in (boot information, login, logout, other tabs);
//! - [`Activity`]: the coordinator's phase and in-flight count, read-only (painless-refresh's
//!   Leptos bridge);
//! - [`Toasts`]: the notices on screen;
//! - [`Language`]: the language of the interface (the page's, then the visitor's choice).
//!
//! Nothing here imports a UI module.

mod auth;
mod calls;
mod endpoints;
mod language;
mod platform;
mod toasts;

use leptos::prelude::*;

pub(crate) use auth::Auth;
pub(crate) use calls::Calls;
pub(crate) use language::{use_language, Language};
pub(crate) use painless_refresh::leptos::Activity;
pub(crate) use platform::{reload_page, PlatformClock};
pub(crate) use toasts::{use_toasts, ToastKind, Toasts};

use leptos::server::codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::api::{json, BootInfo};

/// Who is signed in and the client's settings, rendered into the page by the server.
pub(crate) type BootResource = Resource<BootInfo, WireJson>;

/// How a resource's value travels in the page: written by the server with serde_json and
/// read by the browser through `JSON.parse` (`api::json`), so that leptos' default codec
/// does not bring serde_json into the WASM bundle for this one value.
pub(crate) struct WireJson;

impl<T: Serialize> Encoder<T> for WireJson {
    type Error = String;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, String> {
        json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for WireJson {
    type Error = String;
    type Encoded = str;

    fn decode(text: &str) -> Result<T, String> {
        json::from_str(text)
    }
}

/// The language the page is rendered in (for `<html lang>`, before the state exists).
pub(crate) fn page_locale() -> crate::i18n::Locale {
    platform::page_locale()
}

/// Creates the state of this page and provides each piece.
pub(crate) fn provide_state(boot: BootResource) {
    let toasts = Toasts::new();
    let language = Language::new();
    let calls = Calls::new(boot, toasts, language);
    provide_context(language);
    provide_context(toasts);
    provide_context(calls);
    provide_context(Auth::new(boot, calls, toasts, language));
    provide_context(Activity::follow(&calls.listeners()));
    // In the browser (effects do not run on the server), the coordinator is built and
    // listens to the other tabs as soon as the page is up, not at its first request.
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            calls.coordinator().await;
        })
    });
}

pub(crate) fn use_calls() -> Calls {
    expect_context::<Calls>()
}

pub(crate) fn use_auth() -> Auth {
    expect_context::<Auth>()
}

pub(crate) fn use_activity() -> Activity {
    expect_context::<Activity>()
}
