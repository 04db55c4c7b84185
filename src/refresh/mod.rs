//! The single-flight refresh coordinator: the Rust answer to the original interceptor's
//! `isRefreshing` flag and `retryRequests` array.
//!
//! It is target-independent on purpose (no `web_sys`, no `gloo`): the browser plugs in a
//! gloo-net [`Transport`], a [`Clock`] and a [`Spawn`]er, and the native tests plug in a
//! scripted fake transport, a hand-driven clock and a single-threaded executor, which lets
//! them force every interleaving.

mod coordinator;
mod error;
mod events;
mod request;
mod traits;

pub use coordinator::{Coordinator, Phase, Settings, Snapshot};
pub use error::ClientError;
pub use events::{Event, EventKind, QueueReason, RequestId};
pub use request::{ApiRequest, Method};
pub use traits::{Clock, Spawn, Transport, TransportError};

#[cfg(test)]
mod tests;
