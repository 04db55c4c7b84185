//! Signing in and staying signed in: access tokens, passwords, identities, the login
//! throttle, the extractors that check a request's credentials, the login, refresh and
//! logout handlers and their no-JavaScript forms. Uses `store` for sessions and refresh
//! tokens (whose rules are `store/records.rs`) and `ops` for settings and state.

pub(crate) mod extract; // `Authenticated` (an access token) and `RefreshCookie`
pub(crate) mod forms; // login and logout as plain HTML forms
pub(crate) mod handlers; // login, refresh (rotation), logout
pub(crate) mod key_wrap; // the signing key wrapped for a shared database
pub(crate) mod passwords; // argon2id with bounded cost and a bounded queue
pub(crate) mod throttle; // failed logins per account and per address
pub(crate) mod tokens; // HS256 access tokens and the signing key
