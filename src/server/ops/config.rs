//! Typed runtime settings: embedded defaults, then `Leptos.toml`, then environment
//! variables (`PAINLESS_<SECTION>__<KEY>`, plus `LEPTOS_SITE_ADDR`), validated once.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::api::ErrCode;

/// Default name of the configuration file, looked up in the working directory.
pub const CONFIG_FILE: &str = "Leptos.toml";
/// Environment variable naming another configuration file.
pub const CONFIG_ENV: &str = "PAINLESS_CONFIG";
/// Prefix of the per-key environment overrides.
pub const ENV_PREFIX: &str = "PAINLESS_";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub tokens: TokenSettings,
    pub login: LoginSettings,
    pub client: ClientSettings,
    pub demo: DemoSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Listen address. `LEPTOS_SITE_ADDR` overrides it, as in every cargo-leptos app.
    pub site_addr: SocketAddr,
    /// Serve static files from this directory; empty serves the copy embedded in the binary.
    pub site_root: String,
    /// Directory for the database and the generated signing secret; created if missing.
    pub data_dir: PathBuf,
    /// A SQLite file, relative to `data_dir` unless absolute (one instance), or a
    /// `postgres://` URL (several instances). `DATABASE_URL` sets it too. Kept out of logs:
    /// a URL may hold a password.
    pub database: Secret,
    /// PostgreSQL connections per instance.
    pub database_pool_size: u32,
    /// How long connecting to PostgreSQL, or waiting for a free pooled connection, may take.
    #[serde(rename = "database_connect_timeout_secs", with = "seconds")]
    pub database_connect_timeout: Duration,
    /// Where to serve Prometheus metrics (`GET /metrics`), apart from the public listener;
    /// empty (`None`): no metrics. A private address, e.g. `127.0.0.1:9464`.
    #[serde(with = "empty_or_address")]
    pub metrics_addr: Option<SocketAddr>,
    /// `auto` marks cookies `Secure` when the request came over HTTPS (directly or as told
    /// by `X-Forwarded-Proto`); `always` and `never` force it.
    pub secure_cookies: SecureCookies,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long shutdown waits for requests in flight.
    #[serde(rename = "shutdown_grace_secs", with = "seconds")]
    pub shutdown_grace: Duration,
    /// A connection must deliver a complete request head within this time of connecting
    /// or of its previous answer, or it is closed (slow clients, slowloris).
    #[serde(rename = "header_read_timeout_secs", with = "seconds")]
    pub header_read_timeout: Duration,
    /// A keep-alive connection that sends nothing, with no request in flight, is closed
    /// after this long. At most `header_read_timeout_secs`, which also bounds idle time.
    #[serde(rename = "idle_timeout_secs", with = "seconds")]
    pub idle_timeout: Duration,
    /// A request (body included) must be answered within this time: 408 otherwise.
    #[serde(rename = "request_timeout_secs", with = "seconds")]
    pub request_timeout: Duration,
    /// Connections served at once; further clients wait in the kernel's accept queue.
    pub max_connections: usize,
    /// Origins besides the server's own from which state-changing requests are accepted,
    /// as `scheme://host[:port]`; parsed once, when the settings are read.
    pub allowed_origins: Vec<Origin>,
    /// Peers (addresses or networks) whose `X-Forwarded-For`/`X-Forwarded-Proto` are
    /// believed. Empty: none, the TCP peer is the client.
    pub trusted_proxies: Vec<IpNet>,
    /// HSTS with `includeSubDomains`: every subdomain is HTTPS-only too. Off by default,
    /// since browsers keep it a year, for hosts this server does not know of.
    pub hsts_include_subdomains: bool,
    /// Also accept the original client's `?appkey=<customer code>&token=<access token>`.
    /// Off by default: URLs end up in proxy and CDN logs, browser history and `Referer`.
    pub query_tokens: bool,
    /// How `/api` tells a client that its credentials did not do: `envelope` (HTTP 200
    /// and the errcode, as the seed's client expects) or `http` (RFC 6750's `401` with
    /// `WWW-Authenticate` besides the same envelope, for standard clients).
    pub auth_errors: AuthErrors,
}

/// See [`LoginSettings::account_lockout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountLockout {
    /// Refused, even with the right password, until its failures leave the window: the
    /// guesses of every address together stop at `max_failures`.
    Refuse,
    /// Checked as usual, so its owner can still log in: guesses are then limited per
    /// address only (`max_failures_per_address`), and by the hashing bound.
    Verify,
}

/// See [`ServerSettings::auth_errors`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthErrors {
    Envelope,
    Http,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecureCookies {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    /// Lifetime of an access token.
    #[serde(rename = "access_ttl_secs", with = "seconds")]
    pub access_ttl: Duration,
    /// Absolute lifetime of a login (a refresh-token family), however often it is refreshed.
    #[serde(rename = "session_ttl_secs", with = "seconds")]
    pub session_ttl: Duration,
    /// A refresh token unused this long is refused (the session went idle); every refresh
    /// issues a new one, so active sessions last up to `session_ttl_secs`.
    #[serde(rename = "idle_ttl_secs", with = "seconds")]
    pub idle_ttl: Duration,
    /// How long the refresh token just spent may still be presented (by a second tab that
    /// raced the first) without counting as reuse.
    #[serde(rename = "reuse_grace_secs", with = "seconds")]
    pub reuse_grace: Duration,
    /// HS256 signing key: at least 32 random bytes as base64 (standard or URL-safe,
    /// padding optional) or hex. Empty: generated once and kept in `data_dir`.
    pub jwt_secret: Secret,
    /// The key before the last rotation: still verifies, never signs. Empty: none.
    pub jwt_previous_secret: Secret,
    /// Wraps the signing key that instances generate and share through PostgreSQL (when
    /// `jwt_secret` is empty), so that a copy of the database does not hold it in plain
    /// text; a key stored plain is wrapped at the next start. 32+ random bytes as base64
    /// or hex. Empty: the key is stored plain, with a warning at start-up.
    pub key_encryption_key: Secret,
    /// A file holding `key_encryption_key` (a systemd credential, a mounted secret).
    /// Empty: none.
    pub key_encryption_key_file: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginSettings {
    /// Failed logins per account allowed within `failure_window_secs`.
    pub max_failures: u32,
    /// Failed logins per requester address within the same window; while an address is at
    /// its limit even the right password is refused (checking it would tell a guesser when
    /// a guess was right).
    pub max_failures_per_address: u32,
    /// What an account at `max_failures` does with a login (ASVS 2.2.1 allows either).
    pub account_lockout: AccountLockout,
    /// IPv6 clients are counted per network of this prefix length (one subscriber usually
    /// holds a whole /64, and can change addresses within it at will); 128: per address.
    pub ipv6_prefix_len: u8,
    #[serde(rename = "failure_window_secs", with = "seconds")]
    pub failure_window: Duration,
    /// Password hashes computed at once (each holds 19 MiB); 0: one per CPU core.
    pub hash_workers: usize,
    /// Logins that may wait for a hashing worker; more are refused at once (50300).
    pub hash_queue: usize,
}

/// Settings the browser's refresh coordinator gets with the first page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Errcodes that make the client refresh and replay.
    pub refresh_errcodes: Vec<i32>,
    /// Refresh before sending when the token expires within this margin.
    #[serde(rename = "refresh_margin_secs", with = "seconds")]
    pub refresh_margin: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoSettings {
    /// Demo users and the `/api/demo/*` controls. Switch off in any real deployment.
    pub enabled: bool,
    pub users: Vec<DemoUser>,
    /// Demo mode and `server.query_tokens` start only on a loopback `site_addr`, so that
    /// the shipped demo configuration cannot go public by accident; this says it may.
    pub allow_public: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemoUser {
    pub customer_code: String,
    pub username: String,
    pub password: Secret,
    pub display_name: String,
}

/// The store a deployment uses, from `server.database`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database<'a> {
    Sqlite(PathBuf),
    Postgres(&'a str),
}

fn is_postgres_url(value: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        value
            .get(..scheme.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme))
    })
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings {
                site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
                site_root: String::new(),
                data_dir: PathBuf::from("data"),
                database: Secret::new("painless.db"),
                database_pool_size: 10,
                database_connect_timeout: Duration::from_secs(5),
                metrics_addr: None,
                secure_cookies: SecureCookies::Auto,
                max_body_bytes: 16 * 1024,
                shutdown_grace: Duration::from_secs(10),
                header_read_timeout: Duration::from_secs(15),
                idle_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(30),
                max_connections: 768,
                allowed_origins: Vec::new(),
                trusted_proxies: Vec::new(),
                hsts_include_subdomains: false,
                query_tokens: false,
                auth_errors: AuthErrors::Envelope,
            },
            tokens: TokenSettings {
                issuer: "painless".into(),
                audience: "painless-web".into(),
                access_ttl: Duration::from_secs(30),
                session_ttl: Duration::from_secs(7 * 24 * 3600),
                idle_ttl: Duration::from_secs(30 * 60),
                reuse_grace: Duration::from_secs(10),
                jwt_secret: Secret::default(),
                jwt_previous_secret: Secret::default(),
                key_encryption_key: Secret::default(),
                key_encryption_key_file: PathBuf::new(),
            },
            login: LoginSettings {
                max_failures: 5,
                max_failures_per_address: 30,
                account_lockout: AccountLockout::Refuse,
                ipv6_prefix_len: 64,
                failure_window: Duration::from_secs(300),
                hash_workers: 0,
                hash_queue: 8,
            },
            client: ClientSettings {
                refresh_errcodes: ErrCode::default_refresh_codes(),
                refresh_margin: crate::api::DEFAULT_REFRESH_MARGIN,
            },
            demo: DemoSettings {
                enabled: false,
                users: Vec::new(),
                allow_public: false,
            },
        }
    }
}

/// Why the settings could not be loaded; the message names the key and the reason.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid configuration: `{key}` {reason}")]
    Key { key: &'static str, reason: String },
}

impl Settings {
    /// Loads `path` (or `Leptos.toml`, or `$PAINLESS_CONFIG`) over the defaults, then the
    /// environment. A missing default file is fine; a missing file that was asked for is not.
    pub fn load(explicit_path: Option<&Path>) -> Result<Self, ConfigError> {
        let from_env = std::env::var_os(CONFIG_ENV).map(PathBuf::from);
        let (path, required) = match explicit_path.map(Path::to_path_buf).or(from_env) {
            Some(path) => (path, true),
            None => (PathBuf::from(CONFIG_FILE), false),
        };
        if required && !path.is_file() {
            return Err(ConfigError::File {
                path,
                reason: "not found".into(),
            });
        }
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if path.is_file() {
            figment = figment.merge(Toml::file_exact(&path));
        }
        let figment = figment
            .merge(
                Env::raw()
                    .only(&["LEPTOS_SITE_ADDR"])
                    .map(|_| "server.site_addr".into()),
            )
            // The conventional variable; PAINLESS_SERVER__DATABASE, merged after, wins.
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "server.database".into()),
            )
            .merge(
                Env::prefixed(ENV_PREFIX)
                    .ignore(&["CONFIG", "LOG"])
                    .split("__"),
            );
        Self::from_figment(figment)
    }

    /// Defaults overlaid with a TOML string only (for tests).
    pub fn from_toml(toml: &str) -> Result<Self, ConfigError> {
        Self::from_figment(
            Figment::from(Serialized::defaults(Settings::default())).merge(Toml::string(toml)),
        )
    }

    fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(describe(e)))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Where the store lives.
    pub fn database(&self) -> Database<'_> {
        let value = self.server.database.expose().trim();
        if is_postgres_url(value) {
            Database::Postgres(value)
        } else {
            Database::Sqlite(self.server.data_dir.join(value))
        }
    }

    /// Where metrics are served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.server.metrics_addr
    }

    /// Hashing workers, `login.hash_workers` or one per core.
    pub fn hash_workers(&self) -> usize {
        match self.login.hash_workers {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            workers => workers,
        }
    }
}

/// Figment's error names the key and where the value came from; keep all of it.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| {
            let key = if e.path.is_empty() {
                String::new()
            } else {
                format!("`{}` ", e.path.join("."))
            };
            let source = e
                .metadata
                .as_ref()
                .map(|m| match &m.source {
                    Some(source) => format!(" (from {} {source})", m.name),
                    // Name the exact variable, not just "environment variable(s)".
                    None if m.name.contains(ENV_PREFIX) => {
                        format!(
                            " (from environment variable {ENV_PREFIX}{})",
                            e.path.join("__").to_uppercase()
                        )
                    }
                    None if m.name.contains("environment") => {
                        " (from environment variable LEPTOS_SITE_ADDR)".to_owned()
                    }
                    None => format!(" (from {})", m.name),
                })
                .unwrap_or_default();
            format!("{key}{}{source}", e.kind)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

mod validate;
mod values;

use values::{empty_or_address, seconds};
pub use values::{parse_origin, Origin, Secret};

#[cfg(test)]
mod tests;
