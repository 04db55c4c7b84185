//! Server-only code (feature `ssr`), by concern:
//!
//! - `http/`: the accept loop, the requester's address, cross-site check, security headers,
//!   language, assets, the page cache, server rendering (the [`RenderHost`](crate::render::RenderHost)
//!   the shared code asks for) and the error envelope;
//! - `auth/`: tokens, passwords, the throttle, the credential extractors, and the login,
//!   refresh and logout handlers (a refresh token is rotated in `auth/handlers.rs` by the
//!   rules of `store/records.rs`);
//! - `routes/`: the `/api` router and the endpoints that are not about signing in;
//! - `store/`: sessions, refresh tokens and users on SQLite or PostgreSQL;
//! - `ops/`: settings, the application's wiring, the handlers' shared state, maintenance,
//!   metrics, OpenAPI, logging, the allocator and the one time type.
//!
//! Nothing outside `server/` names it. Inside, imports go one way, in four levels:
//!
//! 1. the handlers: `routes/`, `auth/handlers.rs`, `auth/forms.rs`, `auth/extract.rs`,
//!    `http/` (which maps every error to the envelope) — and `ops/application.rs`, the
//!    wiring, which names every layer;
//! 2. the shared state (`ops/state.rs`) and background work (`ops/maintenance.rs`);
//! 3. the services: `store/`, `auth/tokens.rs`, `auth/throttle.rs`, `auth/passwords.rs`,
//!    `http/bundle.rs` (the site's files and URLs);
//! 4. the helpers: `ops/config.rs`, `ops/timestamp.rs`, `ops/secrets.rs`, `ops/metrics.rs`.
//!
//! The store names nothing above it: it sees the rest of the server only through the
//! helpers (its tests use the throttle's shared half, `auth/throttle.rs`, which keeps its
//! counts in the store's PostgreSQL database).

pub(crate) mod auth;
pub(crate) mod http;
pub mod ops;
pub(crate) mod routes;
pub(crate) mod store;

pub use ops::application::{Application, StartupError};
pub use ops::config::Settings;
pub use ops::{allocator, config, telemetry};

// For the HTTP and property tests (tests/server/), which exercise these directly.
pub use http::requester::Requester;
pub use ops::config::parse_origin;
pub use ops::maintenance::FLUSH_EVERY;
pub use store::migrate::{move_to_postgres, Moved};
pub use store::users::hash_password;
pub use store::DbError;
