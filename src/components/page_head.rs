//! The head every signed-in page starts with.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::Key;
use crate::state::use_language;

/// The page's title, as the document's and as its heading, and the line under it.
#[component]
pub(crate) fn PageHead(title: Key, #[prop(optional)] tagline: Option<Key>) -> impl IntoView {
    let lang = use_language();
    view! {
        <Title text=lang.title(title)/>
        <div class="page-head">
            <h1>{lang.tr(title)}</h1>
            {tagline.map(|tagline| view! { <p class="muted">{lang.tr(tagline)}</p> })}
        </div>
    }
}
