//! The kinds of value settings hold beyond plain numbers and strings: secrets kept out of
//! logs, origins parsed once, an address that may be left empty, lengths of time written
//! as seconds.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A string that never shows up in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes of a key written as hex (even length, hex digits only, checked first) or
    /// base64 (standard or URL-safe, padding optional), if there are at least 32 of them.
    /// A passphrase is refused: its few bits of entropy would make HS256 guessable
    /// (RFC 8725 §3.5).
    pub fn key_bytes(&self) -> Option<Vec<u8>> {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        use base64::Engine;
        let text = self.0.trim();
        let bytes = if text.len().is_multiple_of(2) && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
                .collect::<Option<Vec<u8>>>()?
        } else {
            let unpadded = text.trim_end_matches('=');
            STANDARD_NO_PAD
                .decode(unpadded)
                .or_else(|_| URL_SAFE_NO_PAD.decode(unpadded))
                .ok()?
        };
        (bytes.len() >= 32).then_some(bytes)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(empty)"
        } else {
            "Secret(***)"
        })
    }
}

/// An origin as `server.allowed_origins` holds it: `scheme://host[:port]`, lower case, so
/// that comparing two is comparing their text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Origin(String);

impl Origin {
    /// The origin `text` names, if it is one.
    pub fn parse(text: &str) -> Option<Origin> {
        parse_origin(text).map(Origin)
    }

    /// The normalised text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Origin {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        Origin::parse(&text).ok_or_else(|| {
            format!("{text:?}: entries must look like https://example.com or http://host:8080")
        })
    }
}

impl From<Origin> for String {
    fn from(origin: Origin) -> String {
        origin.0
    }
}

/// `scheme://host[:port]` normalised to lower case, or `None` if it is not an origin.
pub fn parse_origin(origin: &str) -> Option<String> {
    let (scheme, host) = origin.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https") {
        return None;
    }
    if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
        return None;
    }
    host.parse::<axum::http::uri::Authority>().ok()?;
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// An address that may be left empty (`""`: none), as `server.metrics_addr` is written.
pub(super) mod empty_or_address {
    use std::net::SocketAddr;

    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub(in crate::server::ops::config) fn serialize<S: Serializer>(
        address: &Option<SocketAddr>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match address {
            Some(address) => serializer.collect_str(address),
            None => serializer.serialize_str(""),
        }
    }

    pub(in crate::server::ops::config) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.trim() {
            "" => Ok(None),
            address => address
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom("must be empty or an address like 127.0.0.1:9464")),
        }
    }
}

/// Lengths of time are `Duration`s in the program and whole seconds in `Leptos.toml` and
/// the environment (keys ending in `_secs`).
pub(super) mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(in crate::server::ops::config) fn serialize<S: Serializer>(
        length: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(length.as_secs())
    }

    pub(in crate::server::ops::config) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}
