//! The wire contract shared by the server and the browser: the `{errcode, errmsg, data}`
//! envelope, the errcode table and every request and response body of `/api`.

mod envelope;
mod errcode;
pub mod json;
mod models;
mod redirect;

pub use envelope::{Envelope, RawEnvelope};
pub use errcode::ErrCode;
#[cfg(feature = "ssr")]
pub(crate) use models::Redacted;
pub use models::*;
pub use redirect::RedirectPath;

/// Paths of the endpoints, named once so the client and the server cannot drift apart.
pub mod paths {
    pub const HEALTH: &str = "/api/health";
    /// Readiness for a load balancer: 503 while the database is unreachable.
    pub const READY: &str = "/api/ready";
    pub const LOGIN: &str = "/api/auth/login";
    pub const REFRESH: &str = "/api/auth/refresh";
    pub const LOGOUT: &str = "/api/auth/logout";
    pub const ME: &str = "/api/me";
    pub const ORDERS: &str = "/api/orders";
    pub const STATS: &str = "/api/stats";
    pub const SESSIONS: &str = "/api/sessions";
    pub const SESSIONS_END_OTHERS: &str = "/api/sessions/end-others";
    pub const DEMO_EXPIRE: &str = "/api/demo/expire";
    pub const DEMO_REVOKE: &str = "/api/demo/revoke";
    pub const DEMO_LIFETIME: &str = "/api/demo/lifetime";
    pub const DEMO_COUNTERS: &str = "/api/demo/counters";
    /// The OpenAPI 3.1 document of all the above (the demo endpoints while demo mode is on).
    pub const OPENAPI: &str = "/api/openapi.json";
}

/// Paths of pages the server treats specially.
pub mod pages {
    /// The login page; the login form posts to it too (without JavaScript).
    pub const LOGIN: &str = "/login";
    /// Where the logout form posts (without JavaScript).
    pub const LOGOUT: &str = "/logout";
    /// The refresh lab: only in demo mode.
    pub const LAB: &str = "/lab";
}

/// Refresh before sending when the token expires within this margin (`client.refresh_margin_secs`).
pub const DEFAULT_REFRESH_MARGIN: std::time::Duration = std::time::Duration::from_secs(5);

/// Name of the HttpOnly cookie that carries the refresh token.
pub const REFRESH_COOKIE: &str = "painless_refresh";
