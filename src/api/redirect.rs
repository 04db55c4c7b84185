//! The `?redirect=` target of the login page, parsed so it can only ever point back into
//! this site (no open redirect).

use std::fmt;

/// A same-origin, absolute path such as `/orders?page=2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectPath(String);

impl RedirectPath {
    /// Accepts only a path on this origin. Rejects absolute URLs (`https://…`),
    /// protocol-relative ones (`//evil.example`), backslash tricks (`/\evil.example`, which
    /// browsers treat as `//`), and anything with control characters or whitespace.
    pub fn parse(raw: &str) -> Option<Self> {
        let rest = raw.strip_prefix('/')?;
        let forbidden = |c: char| c == '\\' || c.is_control() || c.is_whitespace();
        if rest.starts_with('/') || raw.chars().any(forbidden) {
            return None;
        }
        // The path part must not smuggle a scheme or authority through encoding.
        let path = raw.split(['?', '#']).next().unwrap_or_default();
        let lowered = path.to_ascii_lowercase();
        if lowered.contains("%2f%2f") || lowered.starts_with("/%2f") || lowered.contains("%5c") {
            return None;
        }
        Some(Self(raw.to_owned()))
    }

    /// The target, or `/` when the raw value is missing or not a same-origin path.
    pub fn parse_or_home(raw: Option<&str>) -> Self {
        raw.and_then(Self::parse).unwrap_or_else(Self::home)
    }

    pub fn home() -> Self {
        Self("/".to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `/login?redirect=<self>` plus `&code=<customer code>` when one is known.
    pub fn login_url(&self, customer_code: Option<&str>) -> String {
        let mut url = format!("/login?redirect={}", encode_component(&self.0));
        if let Some(code) = customer_code.filter(|c| !c.is_empty()) {
            url.push_str("&code=");
            url.push_str(&encode_component(code));
        }
        url
    }
}

impl fmt::Display for RedirectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_paths_are_accepted_as_they_are() {
        for ok in [
            "/",
            "/orders",
            "/orders?page=2&page_size=10",
            "/lab#timeline",
        ] {
            assert_eq!(RedirectPath::parse(ok).map(|p| p.0), Some(ok.to_owned()));
        }
    }

    #[test]
    fn anything_that_could_leave_the_origin_is_rejected() {
        for bad in [
            "",
            "orders",
            "https://example.com",
            "HTTPS://example.com/",
            "//example.com",
            "///example.com",
            "/\\example.com",
            "\\\\example.com",
            "/%2F%2Fexample.com",
            "/%2fexample.com",
            "/%5cexample.com",
            "javascript:alert(1)",
            "/ok\nLocation: https://example.com",
            "/\t/example.com",
            " /orders",
        ] {
            assert_eq!(RedirectPath::parse(bad), None, "{bad:?} must be rejected");
        }
    }

    #[test]
    fn missing_or_bad_targets_fall_back_to_home() {
        assert_eq!(RedirectPath::parse_or_home(None).as_str(), "/");
        assert_eq!(
            RedirectPath::parse_or_home(Some("https://example.com")).as_str(),
            "/"
        );
        assert_eq!(RedirectPath::parse_or_home(Some("/lab")).as_str(), "/lab");
    }

    #[test]
    fn the_login_url_encodes_the_target_and_the_code() {
        let target = RedirectPath::parse("/orders?page=2&x=a b").unwrap_or_else(RedirectPath::home);
        // The raw value holds a space, so it is rejected and home is used instead.
        assert_eq!(
            target.login_url(Some("ACME")),
            "/login?redirect=%2F&code=ACME"
        );
        let target = RedirectPath::parse("/orders?page=2&x=1").unwrap_or_else(RedirectPath::home);
        assert_eq!(
            target.login_url(Some("A&B")),
            "/login?redirect=%2Forders%3Fpage%3D2%26x%3D1&code=A%26B"
        );
        assert_eq!(
            target.login_url(None),
            "/login?redirect=%2Forders%3Fpage%3D2%26x%3D1"
        );
    }
}
