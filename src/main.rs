//! The painless server: loads settings, starts logging, serves until SIGINT or SIGTERM.

/// mimalloc for small blocks, the system allocator for large ones (see the module).
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: painless::server::allocator::ServerAllocator =
    painless::server::allocator::ServerAllocator;

#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    use painless::server::{telemetry, Application, Settings};
    use std::process::ExitCode;

    telemetry::init();
    let arguments = match Arguments::parse(std::env::args().skip(1)) {
        Ok(arguments) => arguments,
        Err(message) => {
            eprintln!("painless: {message}\nusage: {USAGE}");
            return ExitCode::from(2);
        }
    };
    let settings = match Settings::load(arguments.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("painless: {error}");
            return ExitCode::from(78); // EX_CONFIG
        }
    };
    if let Some(url) = arguments.migrate_to {
        return match painless::server::move_to_postgres(&settings, &url).await {
            Ok(moved) => {
                let key = if moved.signing_key {
                    ", and the generated signing key"
                } else {
                    ""
                };
                println!(
                    "moved {} users, {} sessions, {} refresh tokens and {} counters{key}",
                    moved.users, moved.sessions, moved.refresh_tokens, moved.counters
                );
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("painless: migrate: {error}");
                ExitCode::FAILURE
            }
        };
    }
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

#[cfg(feature = "ssr")]
const USAGE: &str = "painless [--config <Leptos.toml>] [migrate --to <postgres://…>]";

/// The command line: `--config <path>` (or `--config=<path>`), and the `migrate --to <url>`
/// subcommand that moves the configured SQLite store into PostgreSQL instead of serving.
#[cfg(feature = "ssr")]
#[derive(Debug, Default, PartialEq)]
struct Arguments {
    config: Option<std::path::PathBuf>,
    migrate_to: Option<String>,
}

#[cfg(feature = "ssr")]
impl Arguments {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut parsed = Self::default();
        let mut migrate = false;
        while let Some(arg) = args.next() {
            if let Some(value) = arg.strip_prefix("--config=") {
                parsed.config = Some(value.into());
            } else if arg == "--config" {
                parsed.config = Some(args.next().ok_or("--config needs a path")?.into());
            } else if arg == "migrate" && !migrate {
                migrate = true;
            } else if migrate && arg == "--to" {
                parsed.migrate_to = Some(args.next().ok_or("--to needs a postgres:// URL")?);
            } else if let Some(value) = arg.strip_prefix("--to=").filter(|_| migrate) {
                parsed.migrate_to = Some(value.to_owned());
            } else {
                return Err(format!("unexpected argument {arg:?}"));
            }
        }
        if migrate && parsed.migrate_to.is_none() {
            return Err("migrate needs --to <postgres://…>".into());
        }
        Ok(parsed)
    }
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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::Arguments;

    fn parse(args: &[&str]) -> Result<Arguments, String> {
        Arguments::parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn the_command_line_takes_a_config_and_the_migrate_subcommand() {
        assert_eq!(parse(&[]), Ok(Arguments::default()));
        let both = parse(&["--config=x.toml", "migrate", "--to", "postgres://h/db"]).expect("ok");
        assert_eq!(both.config.as_deref(), Some(std::path::Path::new("x.toml")));
        assert_eq!(both.migrate_to.as_deref(), Some("postgres://h/db"));
        for wrong in [
            &["migrate"][..],
            &["--to", "postgres://h/db"],
            &["migrate", "--to"],
            &["--config"],
            &["serve"],
        ] {
            assert!(parse(wrong).is_err(), "{wrong:?}");
        }
    }
}
