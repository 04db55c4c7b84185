//! How the coordinator reads an API: which answers are successes, which mean "refresh and
//! send again", which refresh answers end the session. Yours to write in a few lines, for
//! an API that puts its verdict in the body (HTTP 200 and an error code) as well as for
//! one that answers `401`.

use std::fmt::Debug;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{Error, Request, Response};

/// The API as the coordinator sees it.
///
/// ```
/// use std::time::Duration;
/// use painless_refresh::{Error, Grant, Policy, RefreshVerdict, Request, Response, Triggers, Verdict};
///
/// /// An API that answers 401 for an expired token and 200 with the token as plain text
/// /// for a refresh.
/// struct PlainApi {
///     triggers: Triggers,
/// }
///
/// impl Policy for PlainApi {
///     type Answer = String;
///     type Identity = ();
///
///     fn read(&self, response: Response) -> Verdict<String> {
///         match response.status {
///             200 => Verdict::Success(response.body),
///             status if self.triggers.matches(status, None) => {
///                 Verdict::RefreshAndReplay(Error::Refused { code: status.into(), message: response.body })
///             }
///             503 => Verdict::Unavailable(Error::Transport { status: 503, message: response.body }),
///             status => Verdict::Failure(Error::Refused { code: status.into(), message: response.body }),
///         }
///     }
///
///     fn refresh_request(&self) -> Request {
///         Request::post_empty("/token/refresh")
///     }
///
///     fn read_refresh(&self, response: Response) -> RefreshVerdict {
///         match response.status {
///             200 => RefreshVerdict::Granted(Grant::new(response.body, Duration::from_secs(300))),
///             401 | 403 => RefreshVerdict::Refused(response.body),
///             503 => RefreshVerdict::Unavailable(Error::Transport { status: 503, message: response.body }),
///             status => RefreshVerdict::Failed(Error::Transport { status, message: response.body }),
///         }
///     }
/// }
///
/// let api = PlainApi { triggers: Triggers::rfc6750() };
/// let expired = Response::new(401, "expired");
/// assert!(matches!(api.read(expired), Verdict::RefreshAndReplay(_)));
/// ```
pub trait Policy: 'static {
    /// A successful answer as its caller gets it, typically the body still to decode
    /// into the type the caller wants.
    type Answer;

    /// Who a login signed in, handed to the other tabs with the login's token so that
    /// they can show the same user (`()` when they need not know).
    type Identity: Clone + Debug + PartialEq + Serialize + DeserializeOwned + 'static;

    /// What the answer to an ordinary request means.
    fn read(&self, response: Response) -> Verdict<Self::Answer>;

    /// The refresh call. It is sent without an access token: the refresh credential is
    /// the transport's (an HttpOnly cookie, say).
    fn refresh_request(&self) -> Request;

    /// What the answer to the refresh call means.
    fn read_refresh(&self, response: Response) -> RefreshVerdict;
}

/// What an answer to an ordinary request means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<A> {
    /// Hand it to the caller.
    Success(A),
    /// The access token was refused: refresh (once for everybody) and send the request
    /// again. The error is what the caller gets if the replay is refused as well.
    RefreshAndReplay(Error),
    /// Hand this error to the caller as it is.
    Failure(Error),
    /// The server cannot serve now but may soon (HTTP `503`, with or without
    /// `Retry-After`): a [repeatable](Request::is_repeatable) request is sent again after
    /// the wait, any other caller gets the error at once.
    Unavailable(Error),
}

/// What the answer to the refresh call means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshVerdict {
    /// A new access token: every parked request is sent again with it.
    Granted(Grant),
    /// The refresh credential was refused (spent, revoked, expired): the session is over
    /// in every tab until the next login. The text says why, for logs.
    Refused(String),
    /// The refresh failed for a reason that does not prove the session over (a network
    /// error, a server error): the waiting requests get this error, and the next request
    /// may try again.
    Failed(Error),
    /// The server cannot refresh now but may soon (HTTP `503`): the refresh is tried
    /// again after the server's `Retry-After` (bounded), up to
    /// [`Tuning::refresh_attempts`](crate::Tuning::refresh_attempts) tries, and the
    /// session stays.
    Unavailable(Error),
}

/// A new access token, from a login or a refresh. Its `Debug` output hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token, as the transport will send it.
    pub access_token: String,
    /// How long it is good for from the moment it arrived: timed on this tab's clock,
    /// which may disagree with the server's by minutes.
    pub lifetime: Duration,
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grant")
            .field("access_token", &crate::Redacted)
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl Grant {
    /// A token good for `lifetime` from now.
    pub fn new(access_token: impl Into<String>, lifetime: Duration) -> Self {
        Self {
            access_token: access_token.into(),
            lifetime,
        }
    }
}

/// Which answers mean "the access token was refused": error codes in the body, HTTP
/// statuses, or both. A ready-made piece for a [`Policy::read`].
///
/// ```
/// use painless_refresh::Triggers;
///
/// // An API that says it both ways.
/// let both = Triggers::seed().or(Triggers::rfc6750());
/// assert!(both.matches(200, Some(42001)));
/// assert!(both.matches(401, None));
/// assert!(!both.matches(200, Some(0)));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Triggers {
    /// Error codes in the body.
    pub codes: Vec<i32>,
    /// HTTP statuses.
    pub statuses: Vec<u16>,
}

impl Triggers {
    /// The four codes of the Vue 2 + axios interceptor this crate grew from, where every
    /// answer is HTTP 200 and `errcode` says what happened: 30001, 40001, 40014 and 42001
    /// (superseded, missing, invalid and expired access token).
    pub fn seed() -> Self {
        Self {
            codes: vec![30001, 40001, 40014, 42001],
            statuses: Vec::new(),
        }
    }

    /// `401 Unauthorized`, as RFC 6750 has a resource server answer a missing, expired or
    /// invalid bearer token.
    pub fn rfc6750() -> Self {
        Self {
            codes: Vec::new(),
            statuses: vec![401],
        }
    }

    /// These triggers and `other`'s.
    pub fn or(mut self, other: Triggers) -> Self {
        self.codes.extend(other.codes);
        self.statuses.extend(other.statuses);
        self
    }

    /// Whether an answer with `status` and, if the body has one, error `code` asks for a
    /// refresh.
    pub fn matches(&self, status: u16, code: Option<i32>) -> bool {
        self.statuses.contains(&status) || code.is_some_and(|code| self.codes.contains(&code))
    }
}
