//! The errcode table. Numbers follow the original backend where it had them.

use serde::{Deserialize, Serialize};

/// Every errcode the API answers. The numbers are part of the contract: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum ErrCode {
    /// Success.
    Ok,
    /// The access token predates a forced expiry or its session ended: refresh.
    SessionSuperseded,
    /// No access token was presented: refresh (the original's "invalid credential").
    InvalidCredential,
    /// The access token is malformed, tampered with or not ours: refresh.
    InvalidAccessToken,
    /// The access token has expired: refresh.
    AccessTokenExpired,
    /// The refresh token is missing, spent, revoked or past its lifetime: log in again.
    /// Clients must never try to refresh on this code.
    SessionOver,
    /// Customer code, username or password is wrong (deliberately not saying which).
    BadLogin,
    /// The request is malformed: bad JSON, wrong types, missing or out-of-range fields.
    InvalidInput,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// No such `/api` endpoint.
    NotFound,
    /// The endpoint exists but not for this HTTP method.
    MethodNotAllowed,
    /// The demo controls are switched off in this deployment.
    DemoDisabled,
    /// Too many failed logins for this account or from this address; wait and try again.
    RateLimited,
    /// A state-changing request from another site (by `Sec-Fetch-Site` or `Origin`).
    CrossOrigin,
    /// The request (its body included) was not complete within the server's time limit.
    RequestTimeout,
    /// Something failed on the server; the cause is in the server log, not here.
    Internal,
    /// The server is too busy for this request right now (password hashing is bounded);
    /// try again in a moment.
    Overloaded,
    /// The database cannot be reached; the request changed nothing. Try again shortly.
    Unavailable,
}

impl ErrCode {
    /// All codes, in table order (used by the README check and the counters).
    pub const ALL: [ErrCode; 18] = [
        ErrCode::Ok,
        ErrCode::SessionSuperseded,
        ErrCode::InvalidCredential,
        ErrCode::InvalidAccessToken,
        ErrCode::AccessTokenExpired,
        ErrCode::SessionOver,
        ErrCode::BadLogin,
        ErrCode::InvalidInput,
        ErrCode::PayloadTooLarge,
        ErrCode::NotFound,
        ErrCode::MethodNotAllowed,
        ErrCode::DemoDisabled,
        ErrCode::RateLimited,
        ErrCode::CrossOrigin,
        ErrCode::RequestTimeout,
        ErrCode::Internal,
        ErrCode::Overloaded,
        ErrCode::Unavailable,
    ];

    /// The codes that make a client refresh its access token and replay the request,
    /// as in the original interceptor.
    pub const DEFAULT_REFRESH_SET: [ErrCode; 4] = [
        ErrCode::SessionSuperseded,
        ErrCode::InvalidCredential,
        ErrCode::InvalidAccessToken,
        ErrCode::AccessTokenExpired,
    ];

    /// [`ErrCode::DEFAULT_REFRESH_SET`] as numbers, for settings and the wire.
    pub fn default_refresh_codes() -> Vec<i32> {
        Self::DEFAULT_REFRESH_SET.map(ErrCode::code).to_vec()
    }

    pub const fn code(self) -> i32 {
        match self {
            ErrCode::Ok => 0,
            ErrCode::SessionSuperseded => 30001,
            ErrCode::InvalidCredential => 40001,
            ErrCode::InvalidAccessToken => 40014,
            ErrCode::AccessTokenExpired => 42001,
            ErrCode::SessionOver => 42002,
            ErrCode::BadLogin => 40101,
            ErrCode::InvalidInput => 40002,
            ErrCode::PayloadTooLarge => 41300,
            ErrCode::NotFound => 40400,
            ErrCode::MethodNotAllowed => 40500,
            ErrCode::DemoDisabled => 40300,
            ErrCode::RateLimited => 45009,
            ErrCode::CrossOrigin => 40301,
            ErrCode::RequestTimeout => 40800,
            ErrCode::Internal => 50000,
            ErrCode::Overloaded => 50300,
            ErrCode::Unavailable => 50301,
        }
    }

    pub fn from_code(code: i32) -> Option<ErrCode> {
        ErrCode::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The English message, used when there is nothing more specific to say (the texts
    /// of every language are in `locales/`; see [`crate::i18n::Locale::errmsg`]).
    pub fn default_message(self) -> &'static str {
        crate::i18n::Locale::En.errmsg(self)
    }
}

impl From<ErrCode> for i32 {
    fn from(code: ErrCode) -> i32 {
        code.code()
    }
}

impl TryFrom<i32> for ErrCode {
    type Error = String;
    fn try_from(code: i32) -> Result<Self, Self::Error> {
        ErrCode::from_code(code).ok_or_else(|| format!("unknown errcode {code}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_distinct_and_round_trips() {
        let numbers: HashSet<i32> = ErrCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(numbers.len(), ErrCode::ALL.len());
        for code in ErrCode::ALL {
            assert_eq!(ErrCode::from_code(code.code()), Some(code));
        }
    }

    #[test]
    fn the_readme_lists_every_errcode() {
        let readme = include_str!("../../README.md");
        for code in ErrCode::ALL {
            let row = format!("| {} | {code:?} |", code.code());
            assert!(readme.contains(&row), "README errcode table lacks `{row}`");
        }
    }

    #[test]
    fn the_default_refresh_set_is_the_original_four_and_excludes_session_over() {
        // The numbers of the seed's interceptor.
        assert_eq!(
            ErrCode::default_refresh_codes(),
            [30001, 40001, 40014, 42001]
        );
        assert!(!ErrCode::DEFAULT_REFRESH_SET.contains(&ErrCode::SessionOver));
    }
}
