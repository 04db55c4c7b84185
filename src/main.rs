//! The painless server: loads settings, starts logging, serves until SIGINT or SIGTERM.

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use painless::server::{telemetry, Application, Settings};
    use std::process::ExitCode;

    telemetry::init();
    let config_path = match config_flag(std::env::args().skip(1)) {
        Ok(path) => path,
        Err(message) => {
            eprintln!("painless: {message}\nusage: painless [--config <Leptos.toml>]");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load(config_path.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("painless: {error}");
            return ExitCode::from(78); // EX_CONFIG
        }
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("painless: {error}");
            return ExitCode::FAILURE;
        }
    };
    tracing::info!("listening on http://{}", app.local_addr());
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "server failed");
            ExitCode::FAILURE
        }
    }
}

/// `--config <path>` or `--config=<path>`; nothing else is accepted.
#[cfg(feature = "ssr")]
fn config_flag(
    mut args: impl Iterator<Item = String>,
) -> Result<Option<std::path::PathBuf>, String> {
    let mut path = None;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--config=") {
            path = Some(value.into());
        } else if arg == "--config" {
            path = Some(args.next().ok_or("--config needs a path")?.into());
        } else {
            return Err(format!("unexpected argument {arg:?}"));
        }
    }
    Ok(path)
}

/// Resolves on Ctrl-C or SIGTERM.
#[cfg(feature = "ssr")]
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser build starts from `painless::hydrate` in lib.rs.
}
