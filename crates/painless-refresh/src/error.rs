//! What a caller can get instead of its answer.

/// Why a request did not deliver a successful answer.
///
/// Messages are for logs: the words a user reads belong to the application, which
/// matches on the variant (the crate has no texts of its own to show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The API refused the request with a code of its own (the body's error code, or the
    /// HTTP status for an API that has none) and its message. A refused access token
    /// that is still refused after the one replay ends up here too.
    Refused {
        /// The API's code for the error.
        code: i32,
        /// The API's message.
        message: String,
    },
    /// The refresh credential was refused: nothing works until the user logs in again.
    SessionOver,
    /// No usable answer: `status` is the HTTP status, or 0 when nothing came back (the
    /// network failed, or the request could not be built).
    Transport {
        /// The HTTP status, or 0 without a response.
        status: u16,
        /// What went wrong, for logs.
        message: String,
    },
    /// An answer arrived but its content did not have the expected shape.
    Decode(String),
    /// No network for as long as the coordinator waits for it
    /// ([`Tuning::offline_wait`](crate::Tuning::offline_wait)), or no answer after
    /// every try: nothing proves the session over, and the next request tries again.
    Offline,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Refused { code, message } => write!(f, "{message} ({code})"),
            Error::SessionOver => f.write_str("the refresh was refused: the session is over"),
            Error::Transport { status: 0, message } => write!(f, "no answer: {message}"),
            Error::Transport { status, message } => write!(f, "HTTP {status}: {message}"),
            Error::Decode(message) => write!(f, "unexpected answer: {message}"),
            Error::Offline => f.write_str("no network"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::TransportError> for Error {
    fn from(error: crate::TransportError) -> Self {
        Error::Transport {
            status: error.status,
            message: error.message,
        }
    }
}
