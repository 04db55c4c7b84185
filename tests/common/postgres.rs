//! The run's PostgreSQL server (`TEST_POSTGRES`, as `scripts/with-postgres.sh` sets it)
//! and new, empty databases on it, for every test binary that needs one.
#![allow(dead_code)] // each test binary uses a different part

use std::sync::atomic::{AtomicU64, Ordering};

/// The server's URL without a database, `postgres://user@host:port`, if the run has one.
pub fn server() -> Option<String> {
    std::env::var("TEST_POSTGRES")
        .ok()
        .filter(|url| !url.is_empty())
}

/// The URL of a new, empty database named after `prefix`, the process, a counter and the
/// time, so that no two tests of a run share one.
pub async fn create_database(prefix: &str) -> String {
    use sqlx::Connection;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server =
        server().expect("TEST_POSTGRES names a PostgreSQL server (scripts/with-postgres.sh)");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    let name = format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create database");
    format!("{server}/{name}")
}
