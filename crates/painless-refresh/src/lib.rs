#![doc = include_str!("../README.md")]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

mod coordinator;
mod error;
mod events;
mod listeners;
mod platform;
mod policy;
mod request;
mod tabs;

/// Stands for a token in `Debug` output, which ends up in logs and panic messages.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "leptos")]
pub mod leptos;

pub use coordinator::{Coordinator, HeldToken, Phase, Snapshot, Tuning, MAX_GENERATION};
pub use error::Error;
pub use events::{Event, EventKind, HoldReason, QueueReason, RequestId};
pub use listeners::{ListenerId, Listeners};
pub use platform::{Clock, Platform, Plugins, Response, Spawn, Transport, TransportError};
pub use policy::{Grant, Policy, RefreshVerdict, Triggers, Verdict};
pub use request::{Method, Request};
pub use tabs::{SingleTab, TabLink, TabMessage};

#[cfg(test)]
mod tests;
