//! Logging: `tracing` with an env filter (`RUST_LOG`), compact lines on stderr.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,leptos=warn,leptos_axum=warn"));
    // A second call (tests start several apps) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours for a terminal only: in a file or the journal they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
