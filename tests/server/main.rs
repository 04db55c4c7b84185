//! The server through HTTP, in one test binary (one link instead of four): the real app on
//! a random loopback port with a temporary database, one `spawn_app()` per test.

mod common;

mod api;
mod auth_errors;
mod hardening;
mod hygiene;
mod language;
mod metrics;
mod openapi;
mod outage;
mod parsers;
mod rendering;
