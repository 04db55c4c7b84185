//! Reusable parts of the UI: the global loading bar, toasts, the header, a page's head, and
//! the wrapper that loads a page's body from a WASM chunk of its own.

pub(crate) mod deferred;
pub(crate) mod header;
pub(crate) mod loading;
pub(crate) mod page_head;
pub(crate) mod panels;
pub(crate) mod toasts;
