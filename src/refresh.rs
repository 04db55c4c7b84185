//! The app's use of [`painless_refresh`], the single-flight refresh library in
//! `crates/painless-refresh`: its types with this app's identity ([`User`]), and the
//! [`EnvelopePolicy`] that reads this API as the seed's interceptor did (HTTP 200, the
//! verdict in `errcode`).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use painless_refresh::*;

use crate::api::{json, AccessGrant, ErrCode, User};

/// The library's error, under the name the app's pages know it by.
pub type ClientError = painless_refresh::Error;
/// A coordinator event; a login names its [`User`].
pub type Event = painless_refresh::Event<User>;
/// What a coordinator event reports.
pub type EventKind = painless_refresh::EventKind<User>;
/// What one tab tells the others.
pub type TabMessage = painless_refresh::TabMessage<User>;

/// A POST with `body` as JSON.
pub fn post_json(url: impl Into<String>, body: &impl Serialize) -> Request {
    // Serialising the app's own plain structs cannot fail.
    Request::post(
        url,
        json::to_string(body).unwrap_or_else(|_| "null".to_owned()),
    )
}

/// The errcode as the seed's interceptor reported it: the API's code, the HTTP status of
/// a failed response, or -1 when the request never got an answer.
pub fn errcode_of(error: &ClientError) -> i32 {
    match error {
        ClientError::Refused { code, .. } => *code,
        ClientError::SessionOver => ErrCode::SessionOver.code(),
        ClientError::Transport { status: 0, .. }
        | ClientError::Decode(_)
        | ClientError::Offline => -1,
        ClientError::Transport { status, .. } => i32::from(*status),
    }
}

impl AccessGrant {
    /// The token and its lifetime, as the coordinator holds them.
    pub fn to_grant(&self) -> Grant {
        let seconds = u64::try_from(self.expires_in).unwrap_or(0);
        Grant::new(&self.access_token, std::time::Duration::from_secs(seconds))
    }
}

/// A successful answer: the envelope's body kept, so that `data` is decoded once,
/// straight into the caller's type (no generic JSON value in between, which the WASM
/// bundle would pay for twice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    body: String,
}

impl Answer {
    /// Decodes `data` as `T`.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ClientError> {
        json::from_str::<DataOf<T>>(&self.body)
            .map(|envelope| envelope.data)
            .map_err(ClientError::Decode)
    }
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

/// Reads `/api` as the seed's client does: errcode 0 is a success, an errcode of the
/// refresh set (from the server's boot information) refreshes and replays, the refused
/// refresh (42002, or a refresh errcode on the refresh call itself) ends the session. A
/// `503` (50300 hashing queue full, 50301 database unreachable, or a proxy's page) is
/// worth another try after `Retry-After`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvelopePolicy {
    /// Which answers mean "refresh and replay".
    pub triggers: Triggers,
}

impl Default for EnvelopePolicy {
    fn default() -> Self {
        Self::with_codes(ErrCode::default_refresh_codes())
    }
}

impl EnvelopePolicy {
    /// Refreshes on these errcodes.
    pub fn with_codes(codes: Vec<i32>) -> Self {
        Self {
            triggers: Triggers {
                codes,
                statuses: Vec::new(),
            },
        }
    }

    /// The envelope's head, or the transport error of a body that is not one.
    fn head(response: &Response) -> Result<Head, ClientError> {
        json::from_str::<Head>(&response.body).map_err(|_| ClientError::Transport {
            status: response.status,
            message: format!("HTTP {}: not an API response", response.status),
        })
    }
}

impl Policy for EnvelopePolicy {
    type Answer = Answer;
    type Identity = User;

    fn read(&self, response: Response) -> Verdict<Answer> {
        let unavailable = response.status == 503;
        let head = match Self::head(&response) {
            Ok(head) => head,
            Err(error) if unavailable => return Verdict::Unavailable(error),
            Err(error) => return Verdict::Failure(error),
        };
        if head.errcode == ErrCode::Ok.code() {
            return Verdict::Success(Answer {
                body: response.body,
            });
        }
        let refused = self.triggers.matches(response.status, Some(head.errcode));
        let error = ClientError::Refused {
            code: head.errcode,
            message: head.errmsg,
        };
        if unavailable {
            return Verdict::Unavailable(error);
        }
        match refused {
            true => Verdict::RefreshAndReplay(error),
            false => Verdict::Failure(error),
        }
    }

    fn refresh_request(&self) -> Request {
        Request::post_empty(crate::api::paths::REFRESH)
    }

    fn read_refresh(&self, response: Response) -> RefreshVerdict {
        match self.read(response) {
            Verdict::Success(answer) => match answer.decode::<AccessGrant>() {
                Ok(grant) => RefreshVerdict::Granted(grant.to_grant()),
                Err(error) => RefreshVerdict::Failed(error),
            },
            // The refresh call presents no access token: a refresh errcode on it means
            // the refresh token itself was not accepted.
            Verdict::RefreshAndReplay(ClientError::Refused { message, .. }) => {
                RefreshVerdict::Refused(message)
            }
            Verdict::Failure(ClientError::Refused { code, message })
                if code == ErrCode::SessionOver.code() =>
            {
                RefreshVerdict::Refused(message)
            }
            Verdict::Unavailable(error) => RefreshVerdict::Unavailable(error),
            Verdict::RefreshAndReplay(error) | Verdict::Failure(error) => {
                RefreshVerdict::Failed(error)
            }
        }
    }
}

#[cfg(test)]
mod tests;
