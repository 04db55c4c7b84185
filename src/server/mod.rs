//! Server-only code (feature `ssr`): settings, the store (SQLite or PostgreSQL), tokens and sessions, the
//! `/api` handlers, static assets, and the application that ties them to axum and Leptos.

pub mod allocator;
pub(crate) mod api;
pub(crate) mod application;
pub(crate) mod assets;
pub(crate) mod auth;
pub(crate) mod client;
pub mod config;
pub(crate) mod cross_origin;
pub(crate) mod demo_data;
pub(crate) mod error;
mod forms;
pub(crate) mod language;
pub(crate) mod maintenance;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod page_cache;
pub(crate) mod passwords;
pub(crate) mod security_headers;
pub(crate) mod serve;
pub(crate) mod ssr;
pub(crate) mod state;
pub(crate) mod store;
pub mod telemetry;
pub(crate) mod throttle;
pub(crate) mod timestamp;
pub(crate) mod tokens;
pub(crate) mod users;

pub use application::{Application, StartupError};
pub use config::Settings;

// For the HTTP and property tests (tests/server/), which exercise these directly.
pub use client::ClientInfo;
pub use cross_origin::parse_origin;
pub use maintenance::FLUSH_EVERY;
pub use store::migrate::{move_to_postgres, Moved};
pub use store::DbError;
pub use users::hash_password;
