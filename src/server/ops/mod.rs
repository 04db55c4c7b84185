//! Running the server: settings, the application that wires every layer to axum and
//! Leptos, the state handlers share, background maintenance, metrics, the OpenAPI
//! document, logging, the allocator and the one time type. `application.rs` sits on top
//! of everything; the rest sits below the other layers.

pub mod allocator; // mimalloc, and the allocation figures the benchmark reads
pub(crate) mod application; // settings → store, secret, router, listener; run and stop
pub mod config; // typed settings: defaults, `Leptos.toml`, the environment (values.rs: their kinds)
pub(crate) mod maintenance; // counter flushes and pruning beside the requests
pub(crate) mod metrics; // Prometheus text format
pub(crate) mod openapi; // the OpenAPI 3.1 document of `/api`
pub(crate) mod secrets; // random tokens, refresh token hashes, private files
pub(crate) mod state; // what every handler shares
pub mod telemetry; // tracing to stderr
pub(crate) mod timestamp; // the server's one time type
