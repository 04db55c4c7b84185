//! The language of the interface: what the page was rendered in, then the visitor's
//! choice. Switching re-renders every text at once, without a reload, and is remembered
//! in a cookie for the next page and the server's `errmsg`.

use leptos::prelude::*;

use super::platform::{head_text, page_locale, remember_locale};
use crate::api::ErrCode;
use crate::i18n::{Key, Locale};
use crate::refresh::ClientError;

/// Provided once by `provide_state`; `Copy`, an arena handle.
#[derive(Clone, Copy)]
pub(crate) struct Language {
    locale: RwSignal<Locale>,
}

impl Language {
    pub(super) fn new() -> Self {
        Self {
            locale: RwSignal::new(page_locale()),
        }
    }

    /// The current language (reactive).
    pub(crate) fn locale(&self) -> Locale {
        self.locale.get()
    }

    pub(crate) fn switch_to(&self, locale: Locale) {
        remember_locale(locale);
        self.locale.set(locale);
    }

    /// The text of `key` now (reactive).
    pub(crate) fn text(&self, key: Key) -> &'static str {
        self.locale.get().text(key)
    }

    /// The text of `key`, following the language: for views and attributes. One closure
    /// type for every text of the app, so each adds data, not code, to the WASM.
    pub(crate) fn tr(self, key: Key) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
        move || self.text(key)
    }

    /// The text of `key` for the document's `<title>` (see `platform::head_text`).
    pub(crate) fn title(self, key: Key) -> TextProp {
        head_text(self.tr(key))
    }

    /// The text of `key` with its placeholders filled in (reactive).
    pub(crate) fn format(&self, key: Key, values: &[(&str, &str)]) -> String {
        self.locale.get().format(key, values)
    }

    /// The text of `key` in the current language, not following it: for toasts and other
    /// messages made once.
    pub(crate) fn untracked(&self, key: Key) -> &'static str {
        self.locale.get_untracked().text(key)
    }

    /// What to tell the user about a failed call, by its errcode in the current language
    /// (the server's `errmsg` only for an errcode this client does not know).
    pub(crate) fn describe(&self, error: &ClientError) -> String {
        let locale = self.locale.get_untracked();
        match error {
            ClientError::Refused { code, message } => match ErrCode::from_code(*code) {
                Some(code) => locale.errmsg(code).to_owned(),
                None => message.clone(),
            },
            ClientError::SessionOver => locale.text(Key::AutomaticLoginFailed).to_owned(),
            ClientError::Transport { status: 0, .. } => {
                locale.text(Key::ServerUnreachable).to_owned()
            }
            ClientError::Transport { status, .. } => {
                locale.format(Key::RequestFailedStatus, &[("status", &status.to_string())])
            }
            ClientError::Decode(_) => locale.text(Key::UnexpectedAnswer).to_owned(),
            ClientError::Offline => locale.text(Key::OfflineGaveUp).to_owned(),
        }
    }
}

pub(crate) fn use_language() -> Language {
    expect_context::<Language>()
}
