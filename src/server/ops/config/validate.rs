//! What the types of the settings cannot say: each section checks its own keys, and every
//! refusal names the key and what a valid value looks like. Also what is allowed but
//! probably not meant, for the log at start-up.

use std::time::Duration;

use super::*;

impl Settings {
    /// Checks what types cannot say; each section checks its own keys.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.server.validate()?;
        self.tokens.validate()?;
        self.login.validate()?;
        self.client.validate()?;
        self.demo.validate()?;
        self.refuse_public_demo()
    }

    /// What is allowed but probably not meant, for the log at start-up.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let public = !self.server.site_addr.ip().to_canonical().is_loopback();
        if public
            && self.server.secure_cookies == SecureCookies::Auto
            && self.server.trusted_proxies.is_empty()
        {
            warnings.push(
                "server.secure_cookies is \"auto\" and server.trusted_proxies is empty: this \
                 server speaks plain HTTP, so the refresh cookie is never Secure and HSTS is never \
                 sent; behind a TLS proxy, list it in server.trusted_proxies (or set \
                 server.secure_cookies = \"always\")"
                    .to_owned(),
            );
        }
        if public && self.demo.enabled {
            warnings.push(format!(
                "demo mode is on at {}, which is not a loopback address (demo.allow_public)",
                self.server.site_addr
            ));
        }
        warnings
    }

    /// Demo mode hands out known passwords and lab controls, query tokens put tokens in
    /// URLs: on an address others reach, only when `demo.allow_public` says so.
    fn refuse_public_demo(&self) -> Result<(), ConfigError> {
        let addr = self.server.site_addr;
        let public = !addr.ip().to_canonical().is_loopback();
        let what = match (self.demo.enabled, self.server.query_tokens) {
            _ if !public || self.demo.allow_public => return Ok(()),
            (true, true) => "demo mode (demo.enabled) and query tokens (server.query_tokens)",
            (true, false) => "demo mode (demo.enabled)",
            (false, true) => "query tokens (server.query_tokens)",
            (false, false) => return Ok(()),
        };
        Err(ConfigError::Key {
            key: "demo.allow_public",
            reason: format!(
                "is false, and {what} would be served on {addr}, which is not a loopback \
                 address: switch them off, listen on 127.0.0.1, or set demo.allow_public = true \
                 (PAINLESS_DEMO__ALLOW_PUBLIC=true) to serve them publicly on purpose"
            ),
        })
    }
}

/// The error for `key`: `reason` says what a valid value looks like.
fn key_error(key: &'static str, reason: &str) -> Result<(), ConfigError> {
    Err(ConfigError::Key {
        key,
        reason: reason.to_owned(),
    })
}

impl ServerSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=3600).contains(&self.header_read_timeout.as_secs()) {
            return key_error(
                "server.header_read_timeout_secs",
                "must be between 1 and 3600 seconds",
            );
        }
        if !(Duration::from_secs(1)..=self.header_read_timeout).contains(&self.idle_timeout) {
            return key_error(
                "server.idle_timeout_secs",
                "must be at least 1 and at most server.header_read_timeout_secs",
            );
        }
        if !(1..=3600).contains(&self.request_timeout.as_secs()) {
            return key_error(
                "server.request_timeout_secs",
                "must be between 1 and 3600 seconds",
            );
        }
        if self.database.expose().trim().is_empty() {
            return key_error(
                "server.database",
                "must name a SQLite file or be a postgres:// URL",
            );
        }
        if !(1..=1000).contains(&self.database_pool_size) {
            return key_error("server.database_pool_size", "must be between 1 and 1000");
        }
        if !(1..=300).contains(&self.database_connect_timeout.as_secs()) {
            return key_error(
                "server.database_connect_timeout_secs",
                "must be between 1 and 300 seconds",
            );
        }
        if !(1..=1_000_000).contains(&self.max_connections) {
            return key_error("server.max_connections", "must be between 1 and 1000000");
        }
        if !(256..=10 * 1024 * 1024).contains(&self.max_body_bytes) {
            return key_error("server.max_body_bytes", "must be between 256 and 10485760");
        }
        Ok(())
    }
}

impl TokenSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=86_400).contains(&self.access_ttl.as_secs()) {
            return key_error(
                "tokens.access_ttl_secs",
                "must be between 1 and 86400 seconds",
            );
        }
        if self.session_ttl <= self.access_ttl {
            return key_error(
                "tokens.session_ttl_secs",
                "must be longer than tokens.access_ttl_secs",
            );
        }
        if !(self.access_ttl..=self.session_ttl).contains(&self.idle_ttl) {
            return key_error(
                "tokens.idle_ttl_secs",
                "must be at least tokens.access_ttl_secs and at most tokens.session_ttl_secs",
            );
        }
        if self.reuse_grace > Duration::from_secs(30) {
            // Racing tabs need a second or two; a long window only helps a thief.
            return key_error("tokens.reuse_grace_secs", "must be at most 30 seconds");
        }
        for (key, secret) in [
            ("tokens.jwt_secret", &self.jwt_secret),
            ("tokens.jwt_previous_secret", &self.jwt_previous_secret),
        ] {
            if !secret.is_empty() && secret.key_bytes().is_none() {
                return key_error(
                    key,
                    "must be at least 32 random bytes written as base64 or hex, e.g. the output \
                     of `openssl rand -base64 32` (or empty)",
                );
            }
        }
        if self.issuer.is_empty() || self.audience.is_empty() {
            return key_error("tokens.issuer", "issuer and audience must not be empty");
        }
        self.key_encryption_key().map(drop)
    }

    /// The key-encryption key, from the setting or the file it names; `None` if neither
    /// is set.
    pub fn key_encryption_key(&self) -> Result<Option<Secret>, ConfigError> {
        let refused = |key: &'static str, reason: String| Err(ConfigError::Key { key, reason });
        let file = &self.key_encryption_key_file;
        let (key, secret) = match (
            file.as_os_str().is_empty(),
            self.key_encryption_key.is_empty(),
        ) {
            (true, true) => return Ok(None),
            (true, false) => ("tokens.key_encryption_key", self.key_encryption_key.clone()),
            (false, true) => match std::fs::read_to_string(file) {
                Ok(text) => ("tokens.key_encryption_key_file", Secret::new(text.trim())),
                Err(error) => {
                    return refused(
                        "tokens.key_encryption_key_file",
                        format!("cannot be read: {error}"),
                    )
                }
            },
            (false, false) => {
                return refused(
                    "tokens.key_encryption_key_file",
                    "and tokens.key_encryption_key are both set: keep one".into(),
                )
            }
        };
        if secret.key_bytes().is_none() {
            return refused(
                key,
                "must hold at least 32 random bytes written as base64 or hex, e.g. the output \
                 of `openssl rand -base64 32`"
                    .into(),
            );
        }
        Ok(Some(secret))
    }
}

impl LoginSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.max_failures == 0 {
            return key_error("login.max_failures", "must be at least 1");
        }
        if self.max_failures_per_address == 0 {
            return key_error("login.max_failures_per_address", "must be at least 1");
        }
        if !(32..=128).contains(&self.ipv6_prefix_len) {
            return key_error("login.ipv6_prefix_len", "must be between 32 and 128");
        }
        if self.hash_queue > 10_000 {
            return key_error("login.hash_queue", "must be at most 10000");
        }
        if self.hash_workers > 1024 {
            return key_error("login.hash_workers", "must be at most 1024");
        }
        if !(1..=86_400).contains(&self.failure_window.as_secs()) {
            return key_error(
                "login.failure_window_secs",
                "must be between 1 and 86400 seconds",
            );
        }
        Ok(())
    }
}

impl ClientSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.refresh_errcodes.contains(&ErrCode::SessionOver.code()) {
            return key_error(
                "client.refresh_errcodes",
                "must not contain 42002 (session over): refreshing on it would loop",
            );
        }
        if self.refresh_errcodes.contains(&0) {
            return key_error("client.refresh_errcodes", "must not contain 0 (success)");
        }
        Ok(())
    }
}

impl DemoSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        for user in &self.users {
            if user.customer_code.trim().is_empty() || user.username.trim().is_empty() {
                return key_error("demo.users", "customer_code and username must not be empty");
            }
            if user.password.expose().len() < 8 {
                return key_error("demo.users", "passwords must be at least 8 characters");
            }
        }
        Ok(())
    }
}
