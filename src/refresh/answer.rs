//! An answer as the coordinator reads it: the envelope's `errcode` and `errmsg` first, and
//! the body kept, so that `data` is decoded once, straight into the caller's type (no
//! generic JSON value in between, which the WASM bundle would pay for twice).

use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::ClientError;
use crate::api::{json, ErrCode};

/// What a transport hands back: the HTTP status and the body, not decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

/// A response that is an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub errcode: i32,
    pub errmsg: String,
    body: String,
}

/// The envelope without its `data`, which is skipped.
#[derive(Deserialize)]
struct Head {
    errcode: i32,
    errmsg: String,
}

#[derive(Deserialize)]
struct DataOf<T> {
    data: T,
}

impl Answer {
    /// Reads the envelope's head; anything else is a transport error with the status.
    pub fn read(response: Response) -> Result<Self, ClientError> {
        match json::from_str::<Head>(&response.body) {
            Ok(head) => Ok(Self {
                errcode: head.errcode,
                errmsg: head.errmsg,
                body: response.body,
            }),
            Err(_) => Err(ClientError::Transport {
                status: response.status,
                message: format!("HTTP {}: not an API response", response.status),
            }),
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errcode == ErrCode::Ok.code()
    }

    /// The answer itself for errcode 0, the typed error for any other.
    pub fn success(self) -> Result<Self, ClientError> {
        match self.is_ok() {
            true => Ok(self),
            false => Err(ClientError::Api {
                errcode: self.errcode,
                errmsg: self.errmsg,
            }),
        }
    }

    /// Decodes `data` as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        json::from_str::<DataOf<T>>(&self.body)
            .map(|envelope| envelope.data)
            .map_err(ClientError::Decode)
    }
}
