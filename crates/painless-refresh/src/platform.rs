//! What the coordinator needs from where it runs: a transport, a clock, a spawner and a
//! link to the other tabs, gathered in one [`Platform`].

use std::future::Future;
use std::time::Duration;

use futures::future::LocalBoxFuture;

use crate::{Request, TabLink};

/// An answer as a transport hands it over: the HTTP status and the body, not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// The body as text.
    pub body: String,
    /// The `Retry-After` header in its seconds form, if the answer had one: how long to
    /// wait before trying again after a `503` (the coordinator bounds it).
    pub retry_after: Option<Duration>,
}

impl Response {
    /// An answer with `status` and `body`, and no `Retry-After`.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            retry_after: None,
        }
    }

    /// The same answer with a `Retry-After` of `wait`.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }
}

/// No answer at all: the network failed, or the request could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// The HTTP status if one arrived (a body that could not be read), otherwise 0.
    pub status: u16,
    /// What went wrong, for logs.
    pub message: String,
}

/// Sends one request and hands back the status and the body, whatever the status.
///
/// The access token, when there is one, goes wherever the API expects it (usually an
/// `Authorization: Bearer` header). The refresh credential is the transport's business
/// too: an HttpOnly cookie the browser sends by itself, or one a native cookie store
/// keeps.
pub trait Transport {
    /// Sends `request` with `access_token`.
    fn send(
        &self,
        request: &Request,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>>;

    /// Whether the network is there as far as the platform can tell (`navigator.onLine`
    /// in a browser). While it is not, nothing is sent: requests and the refresh wait for
    /// it. The default, for platforms that cannot tell, is always online: then only a
    /// failed send shows that the network is gone.
    fn is_online(&self) -> bool {
        true
    }

    /// Resolves when the network may be back (the browser's `online` event). The default
    /// never resolves: the coordinator's own timer tries again.
    fn online(&self) -> impl Future<Output = ()> + 'static {
        futures::future::pending()
    }
}

/// This tab's clock. It may disagree with the server's by minutes: the coordinator only
/// compares it with itself (when a token arrived, how long it has been held).
pub trait Clock {
    /// Milliseconds since the Unix epoch, as this tab sees it.
    fn now_ms(&self) -> i64;

    /// Resolves after `duration`; bounds the wait for another tab's message.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static;
}

/// Runs the refresh to completion on the caller's single-threaded executor, even if the
/// request that started it is dropped: a refresh cut off halfway could leave the client
/// holding a refresh credential that the server already rotated.
pub trait Spawn {
    /// Runs `task` to completion in the background.
    fn spawn(&self, task: LocalBoxFuture<'static, ()>);
}

/// The four plug-ins of a coordinator, as one type parameter. [`Plugins`] is the usual
/// implementation; implement it yourself to name the four types once in your own struct.
///
/// `I` is the identity a login announces to the other tabs (see [`Policy::Identity`](crate::Policy::Identity)).
pub trait Platform<I>: 'static {
    /// Sends requests.
    type Transport: Transport;
    /// Tells the time and sleeps.
    type Clock: Clock;
    /// Runs the refresh in the background.
    type Spawner: Spawn;
    /// The link to the other tabs ([`SingleTab`](crate::SingleTab) when there are none).
    type Tabs: TabLink<I>;

    /// The transport.
    fn transport(&self) -> &Self::Transport;
    /// The clock.
    fn clock(&self) -> &Self::Clock;
    /// The spawner.
    fn spawner(&self) -> &Self::Spawner;
    /// The tab link.
    fn tabs(&self) -> &Self::Tabs;
}

/// Four plug-ins that make a [`Platform`].
#[derive(Debug, Clone)]
pub struct Plugins<T, C, S, L> {
    /// Sends requests.
    pub transport: T,
    /// Tells the time and sleeps.
    pub clock: C,
    /// Runs the refresh in the background.
    pub spawner: S,
    /// The link to the other tabs.
    pub tabs: L,
}

impl<I, T, C, S, L> Platform<I> for Plugins<T, C, S, L>
where
    T: Transport + 'static,
    C: Clock + 'static,
    S: Spawn + 'static,
    L: TabLink<I> + 'static,
{
    type Transport = T;
    type Clock = C;
    type Spawner = S;
    type Tabs = L;

    fn transport(&self) -> &T {
        &self.transport
    }

    fn clock(&self) -> &C {
        &self.clock
    }

    fn spawner(&self) -> &S {
        &self.spawner
    }

    fn tabs(&self) -> &L {
        &self.tabs
    }
}
