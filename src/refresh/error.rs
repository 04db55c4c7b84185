//! What a caller of the coordinator can get instead of its data.

use crate::api::ErrCode;

/// Why a request did not deliver data. Mirrors the original's rejected `{errcode, errmsg}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The server answered with a non-zero errcode that is not handled by refreshing
    /// (or still was one after the single replay).
    #[error("{errmsg}")]
    Api { errcode: i32, errmsg: String },
    /// The refresh token was refused: the user has to log in again.
    #[error("Automatic login failed, please log in again")]
    SessionOver,
    /// No usable response: `status` is the HTTP status, or 0 when nothing came back.
    #[error("{message}")]
    Transport { status: u16, message: String },
    /// An envelope arrived but its `data` did not have the expected shape.
    #[error("unexpected response: {0}")]
    Decode(String),
}

impl ClientError {
    /// The errcode as the original reported it: the API's code, the HTTP status for a
    /// failed response, or -1 when the request never got an answer.
    pub fn errcode(&self) -> i32 {
        match self {
            ClientError::Api { errcode, .. } => *errcode,
            ClientError::SessionOver => ErrCode::SessionOver.code(),
            ClientError::Transport { status: 0, .. } | ClientError::Decode(_) => -1,
            ClientError::Transport { status, .. } => i32::from(*status),
        }
    }
}
