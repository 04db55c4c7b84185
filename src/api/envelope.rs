//! The envelope every `/api` response is wrapped in.

use serde::{Deserialize, Serialize};

use super::ErrCode;

/// `{"errcode": 0, "errmsg": "ok", "data": …}`; `data` is `null` whenever `errcode != 0`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    pub errcode: i32,
    pub errmsg: String,
    pub data: Option<T>,
}

impl<T> Envelope<T> {
    pub fn ok(data: T) -> Self {
        Self {
            errcode: ErrCode::Ok.code(),
            errmsg: ErrCode::Ok.default_message().to_owned(),
            data: Some(data),
        }
    }

    pub fn error(code: ErrCode, errmsg: impl Into<String>) -> Self {
        Self {
            errcode: code.code(),
            errmsg: errmsg.into(),
            data: None,
        }
    }
}

/// An envelope whose `data` has not been decoded yet: what the client's transport hands
/// to the refresh coordinator, which only looks at `errcode`.
pub type RawEnvelope = Envelope<serde_json::Value>;
