//! What the coordinator needs from its surroundings.

use std::future::Future;
use std::time::Duration;

use futures::future::LocalBoxFuture;

use super::{ApiRequest, Response};

/// No response at all: the network failed, or the request could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    pub status: u16,
    pub message: String,
}

/// Sends one request and hands back the status and body, whatever the HTTP status.
pub trait Transport {
    fn send(
        &self,
        request: &ApiRequest,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>>;
}

/// This tab's clock. Its time may disagree with the server's by minutes: the coordinator
/// only compares it with itself (when a token arrived, how long it has been held).
pub trait Clock {
    /// Unix milliseconds.
    fn now_ms(&self) -> i64;

    /// Resolves after `duration`; bounds the wait for another tab's message.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static;
}

/// Runs the refresh to completion on the caller's single-threaded executor, even if the
/// request that started it is dropped: a refresh cut off halfway could leave the browser
/// holding a refresh token that the server already rotated.
pub trait Spawn {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
}
