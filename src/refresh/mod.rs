//! The single-flight refresh coordinator: the Rust answer to the original interceptor's
//! `isRefreshing` flag and `retryRequests` array.
//!
//! It is target-independent on purpose (no `web_sys`, no `gloo`): the browser plugs in a
//! `fetch` [`Transport`], a [`Clock`], a [`Spawn`]er and a [`TabLink`] to its other tabs
//! (Web Locks, `BroadcastChannel`, a counter in `localStorage`), and the native tests plug
//! in a scripted fake server, a hand-driven clock, a single-threaded executor and a fake
//! browser of several tabs, which lets them force every interleaving.

mod answer;
mod coordinator;
mod error;
mod events;
mod request;
mod tabs;
mod traits;

pub use answer::{Answer, Response};
pub use coordinator::{Coordinator, HeldToken, ListenerId, Phase, Settings, Snapshot};
pub use error::ClientError;
pub use events::{Event, EventKind, QueueReason, RequestId};
pub use request::{ApiRequest, Method};
pub use tabs::{SingleTab, TabLink, TabMessage};
pub use traits::{Clock, Spawn, Transport, TransportError};

#[cfg(test)]
mod tests;
