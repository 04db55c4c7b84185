//! The page's language in the browser: read from `<html lang>`, which the server rendered
//! (so hydration starts in the language the HTML is in), and remembered in a cookie when
//! the visitor switches.

use wasm_bindgen::JsCast;

use crate::i18n::{Locale, LOCALE_COOKIE};

/// The language the server rendered this page in.
pub(crate) fn page_locale() -> Locale {
    html_element()
        .and_then(|html| html.get_attribute("lang"))
        .and_then(|tag| Locale::from_tag(&tag))
        .unwrap_or_default()
}

/// Remembers the visitor's choice for later pages and for `errmsg` (a year, this site
/// only), and marks the page's language for assistive technology and the next render.
pub(crate) fn remember_locale(locale: Locale) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("lang", locale.tag());
    }
    if let Ok(document) = document.dyn_into::<web_sys::HtmlDocument>() {
        let cookie = format!(
            "{LOCALE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
            locale.tag()
        );
        let _ = document.set_cookie(&cookie);
    }
}

fn html_element() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}
