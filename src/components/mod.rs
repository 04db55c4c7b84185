//! Reusable parts of the UI: the global loading bar, toasts, and the page header.

pub mod header;
pub mod loading;
pub mod panels;
pub mod toasts;
