//! Reusable parts of the UI: the global loading bar, toasts, and the page header.

pub(crate) mod header;
pub(crate) mod loading;
pub(crate) mod panels;
pub(crate) mod toasts;
