//! Browser-only glue (feature `hydrate`): the page's language. The coordinator's
//! browser plug-ins are painless-refresh's `browser` feature.

mod language;

pub(crate) use language::{page_locale, remember_locale};
