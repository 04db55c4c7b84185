//! Connecting to PostgreSQL: one connection first, so that a wrong URL stops the start-up
//! with a message that names the server and the cause (never the password), then the
//! pool and the migrations.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection};

use super::PgStore;
use crate::server::store::DbError;

impl PgStore {
    /// Connects (one connection at once, so that a wrong URL stops the start-up) and
    /// migrates. Errors name the server and the cause, never the password.
    pub(in crate::server::store) async fn connect(
        url: &str,
        pool_size: u32,
        connect_timeout: Duration,
    ) -> Result<Self, DbError> {
        let options = PgConnectOptions::from_str(url).map_err(|error| DbError::Connect {
            target: "the configured URL".into(),
            cause: describe_url_error(&error),
        })?;
        let target = describe(&options);
        // One connection first, for its error: a pool only says that it timed out.
        let cause = match tokio::time::timeout(connect_timeout, options.connect()).await {
            Ok(Ok(probe)) => {
                let _ = probe.close().await;
                None
            }
            Ok(Err(error)) => Some(error.to_string()),
            Err(_) => Some(format!(
                "no answer within {} s (server.database_connect_timeout_secs)",
                connect_timeout.as_secs()
            )),
        };
        if let Some(cause) = cause {
            return Err(DbError::Connect { target, cause });
        }
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .acquire_timeout(connect_timeout)
            .connect_lazy_with(options);
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self { pool })
    }

    pub(in crate::server::store) fn pool(&self) -> PgPool {
        self.pool.clone()
    }
}

/// Where a URL points, for messages: never with its password.
fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or(options.get_username()),
    )
}

/// What is wrong with the URL, without repeating it (it may hold a password).
fn describe_url_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(cause) => format!("not a valid PostgreSQL URL ({cause})"),
        _ => "not a valid PostgreSQL URL".into(),
    }
}
