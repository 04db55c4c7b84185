//! The errcode table. Numbers follow the original backend where it had them.

use serde::{Deserialize, Serialize};

/// Declares [`ErrCode`] from one table, so that [`ErrCode::ALL`] and [`ErrCode::code`]
/// cannot fall out of step with the variants: adding an errcode is one line here.
macro_rules! errcodes {
    ($($(#[$doc:meta])* $name:ident = $code:literal,)*) => {
        /// Every errcode the API answers. The numbers are part of the contract: never
        /// renumber.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(into = "i32", try_from = "i32")]
        pub enum ErrCode {
            $($(#[$doc])* $name,)*
        }

        impl ErrCode {
            /// All codes, in table order (used by the check of `docs/api.md`'s table and
            /// the counters).
            pub const ALL: [ErrCode; [$($code),*].len()] = [$(ErrCode::$name),*];

            /// The number on the wire.
            pub const fn code(self) -> i32 {
                match self {
                    $(ErrCode::$name => $code,)*
                }
            }
        }
    };
}

errcodes! {
    /// Success.
    Ok = 0,
    /// The access token predates a forced expiry or its session ended: refresh.
    SessionSuperseded = 30001,
    /// No access token was presented: refresh (the original's "invalid credential").
    InvalidCredential = 40001,
    /// The access token is malformed, tampered with or not ours: refresh.
    InvalidAccessToken = 40014,
    /// The access token has expired: refresh.
    AccessTokenExpired = 42001,
    /// The refresh token is missing, spent, revoked or past its lifetime: log in again.
    /// Clients must never try to refresh on this code.
    SessionOver = 42002,
    /// Customer code, username or password is wrong (deliberately not saying which).
    BadLogin = 40101,
    /// The request is malformed: bad JSON, wrong types, missing or out-of-range fields.
    InvalidInput = 40002,
    /// The request body is larger than the server accepts.
    PayloadTooLarge = 41300,
    /// No such `/api` endpoint.
    NotFound = 40400,
    /// The endpoint exists but not for this HTTP method.
    MethodNotAllowed = 40500,
    /// The demo controls are switched off in this deployment.
    DemoDisabled = 40300,
    /// Too many failed logins for this account or from this address; wait and try again.
    RateLimited = 45009,
    /// A state-changing request from another site (by `Sec-Fetch-Site` or `Origin`).
    CrossOrigin = 40301,
    /// The request (its body included) was not complete within the server's time limit.
    RequestTimeout = 40800,
    /// Something failed on the server; the cause is in the server log, not here.
    Internal = 50000,
    /// The server is too busy for this request right now (password hashing is bounded);
    /// try again in a moment.
    Overloaded = 50300,
    /// The database cannot be reached; the request changed nothing. Try again shortly.
    Unavailable = 50301,
}

impl ErrCode {
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

    /// The errcode with this number, if there is one.
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
    fn the_api_document_lists_every_errcode() {
        let document = include_str!("../../docs/api.md");
        for code in ErrCode::ALL {
            let row = format!("| {} | {code:?} |", code.code());
            assert!(
                document.contains(&row),
                "the errcode table of docs/api.md lacks `{row}`"
            );
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
