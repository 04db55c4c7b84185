//! Server-only code (feature `ssr`): settings, the SQLite store, tokens and sessions, the
//! `/api` handlers, static assets, and the application that ties them to axum and Leptos.

pub mod api;
pub mod application;
pub mod assets;
pub mod auth;
pub mod client;
pub mod config;
pub mod cross_origin;
pub mod db;
pub mod demo_data;
pub mod error;
mod forms;
pub mod maintenance;
pub mod passwords;
pub mod security_headers;
pub mod serve;
pub mod sessions;
pub mod ssr;
pub mod state;
pub mod telemetry;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use application::{Application, StartupError};
pub use config::Settings;

/// Wall-clock time in Unix milliseconds.
pub fn unix_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}
