//! The `/api` endpoints that are not about signing in (those are `auth/handlers.rs`).
//!
//! - `router.rs`: the router, with each route's OpenAPI description; health and readiness;
//! - `account.rs`: the signed-in user's profile, orders, totals and sessions;
//! - `demo.rs`: the refresh lab's controls; `demo_data.rs`: the business data it serves.

mod account;
mod demo;
mod demo_data;
mod router;

pub(crate) use router::router;
