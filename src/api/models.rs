//! Request and response bodies of `/api`. Field names are part of the contract.

use serde::{Deserialize, Serialize};

/// `POST /api/auth/login`. Its `Debug` output hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    #[cfg_attr(feature = "ssr", schema(schema_with = identity_field))]
    pub customer_code: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = identity_field))]
    pub username: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = password_field))]
    pub password: String,
}

/// A customer code or username as the server checks it (`server/auth/handlers.rs`): 1 to
/// 64 characters, at least one of them not white space, none of them a control character.
#[cfg(feature = "ssr")]
fn identity_field() -> utoipa::openapi::Schema {
    const NOT_CONTROL: &str = r"[^\u0000-\u001f\u007f-\u009f]";
    const VISIBLE: &str = r"[^\s\u0000-\u001f\u007f-\u009f]";
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .min_length(Some(1))
        .max_length(Some(LoginRequest::MAX_IDENTITY_CHARS))
        .pattern(Some(format!("^{NOT_CONTROL}*{VISIBLE}{NOT_CONTROL}*$")))
        .into()
}

/// A password as the server checks it: 1 to 256 characters, not all white space.
#[cfg(feature = "ssr")]
fn password_field() -> utoipa::openapi::Schema {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .min_length(Some(1))
        .max_length(Some(LoginRequest::MAX_PASSWORD_CHARS))
        .pattern(Some(r"\S"))
        .into()
}

/// Stands for a secret in `Debug` output, which ends up in logs and panic messages.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("customer_code", &self.customer_code)
            .field("username", &self.username)
            .field("password", &Redacted)
            .finish()
    }
}

impl LoginRequest {
    /// Longest customer code and username, in characters.
    pub const MAX_IDENTITY_CHARS: usize = 64;
    /// Longest password, in characters.
    pub const MAX_PASSWORD_CHARS: usize = 256;
}

/// The person behind a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub customer_code: String,
}

/// `data` of a successful login or refresh. Its `Debug` output hides the token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccessGrant {
    pub access_token: String,
    /// Unix seconds on the server's clock.
    pub expires_at: i64,
    /// Seconds the token is good for from now: clients time it on their own clock, which
    /// may disagree with the server's by minutes.
    pub expires_in: i64,
    pub user: User,
}

impl std::fmt::Debug for AccessGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessGrant")
            .field("access_token", &Redacted)
            .field("expires_at", &self.expires_at)
            .field("expires_in", &self.expires_in)
            .field("user", &self.user)
            .finish()
    }
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Profile {
    pub user: User,
    /// Unix seconds: when this login happened.
    pub session_started_at: i64,
    /// Unix seconds: when the session ends however often it is refreshed.
    pub session_expires_at: i64,
    /// Unix seconds: when the access token used for this call expires.
    pub access_expires_at: i64,
}

/// One of the signed-in user's live sessions, for `GET /api/sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActiveSession {
    /// Unix seconds: when this login happened.
    pub started_at: i64,
    /// Unix seconds: the last login or refresh.
    pub last_active_at: i64,
    /// Unix seconds: when it ends however often it is refreshed.
    pub expires_at: i64,
    /// Whether this is the session of the request's access token.
    pub current: bool,
}

/// `POST /api/sessions/end-others`: how many other sessions were ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EndedSessions {
    pub ended: u32,
}

/// `GET /api/orders?page=&page_size=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrdersQuery {
    pub page: u32,
    pub page_size: u32,
}

impl OrdersQuery {
    pub const MAX_PAGE_SIZE: u32 = 50;
    /// Far past any real history; bounds the documented range (the OpenAPI document says
    /// it) rather than the work, which does not grow with it.
    pub const MAX_PAGE: u32 = 1_000_000;
    pub const DEFAULT_PAGE_SIZE: u32 = 10;
}

impl Default for OrdersQuery {
    fn default() -> Self {
        Self {
            page: 1,
            page_size: Self::DEFAULT_PAGE_SIZE,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: u32,
    pub number: String,
    /// Unix seconds.
    pub placed_at: i64,
    pub item: String,
    pub quantity: u32,
    pub total_cents: i64,
    pub currency: String,
    pub status: OrderStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum OrderStatus {
    Open,
    Shipped,
    Delivered,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OrdersPage {
    pub items: Vec<Order>,
    pub page: u32,
    pub page_size: u32,
    pub total: u32,
}

impl OrdersPage {
    pub fn page_count(&self) -> u32 {
        self.total.div_ceil(self.page_size.max(1)).max(1)
    }
}

/// `GET /api/stats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Stats {
    pub orders_total: u32,
    pub open_orders: u32,
    pub revenue_cents: i64,
    pub average_order_cents: i64,
    pub currency: String,
}

/// `POST /api/demo/lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LifetimeRequest {
    #[cfg_attr(feature = "ssr", schema(minimum = 2, maximum = 3600))]
    #[serde(deserialize_with = "whole_number")]
    pub seconds: u32,
}

impl LifetimeRequest {
    pub const MIN_SECONDS: u32 = 2;
    pub const MAX_SECONDS: u32 = 3600;
}

/// `data` of `POST /api/demo/lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Lifetime {
    pub seconds: u32,
}

/// What the server counted; `GET /api/demo/counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Counters {
    pub logins: u64,
    pub failed_logins: u64,
    /// Refresh calls answered with a new access token (rotations and grace answers).
    pub refreshes: u64,
    /// Refresh tokens spent and replaced by a new one.
    pub rotations: u64,
    /// Refreshes with the previous token inside the grace window (no rotation, no revocation).
    pub grace_refreshes: u64,
    /// Spent refresh tokens presented again, each revoking its whole family.
    pub reuse_detections: u64,
    /// Refresh calls refused because the session was over.
    pub failed_refreshes: u64,
    /// Requests refused, by errcode (as a string key, because JSON keys are strings).
    pub rejected: std::collections::BTreeMap<String, u64>,
}

/// `data` of `GET /api/demo/counters`: the whole server's and, when the request carries a
/// refresh cookie, this browser session's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CountersReport {
    pub server: Counters,
    pub session: Option<Counters>,
}

/// What the server tells the page it renders: who is logged in (from the refresh cookie)
/// and how the browser's refresh coordinator is configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootInfo {
    pub user: Option<User>,
    pub refresh_errcodes: Vec<i32>,
    pub refresh_margin_secs: u64,
    pub demo_enabled: bool,
    /// Customer code, username and password of the first demo user, shown on the login
    /// page while demo mode is on.
    pub demo_hint: Option<DemoHint>,
}

/// The demo credentials the login page shows while demo mode is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoHint {
    pub customer_code: String,
    pub username: String,
    pub password: String,
}

impl Default for BootInfo {
    fn default() -> Self {
        Self {
            user: None,
            refresh_errcodes: crate::api::ErrCode::default_refresh_codes(),
            refresh_margin_secs: super::DEFAULT_REFRESH_MARGIN.as_secs(),
            demo_enabled: false,
            demo_hint: None,
        }
    }
}

/// A `u32` from any JSON number without a fraction: JSON Schema (and so the OpenAPI
/// document) calls `62.0` an integer, and some clients' encoders write it so; serde alone
/// refuses it.
fn whole_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};

    struct WholeNumber;

    impl Visitor<'_> for WholeNumber {
        type Value = u32;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(f, "a whole number from 0 to {}", u32::MAX)
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<u32, E> {
            u32::try_from(value).map_err(|_| E::invalid_value(Unexpected::Unsigned(value), &self))
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<u32, E> {
            u32::try_from(value).map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<u32, E> {
            if value.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&value) {
                // Exact: a whole number within u32's range.
                Ok(value as u32)
            } else {
                Err(E::invalid_value(Unexpected::Float(value), &self))
            }
        }
    }

    deserializer.deserialize_any(WholeNumber)
}

#[cfg(test)]
mod tests {
    use super::{AccessGrant, LifetimeRequest, LoginRequest, User};

    #[test]
    fn debug_output_never_shows_a_password_or_a_token() {
        let login = LoginRequest {
            customer_code: "ACME".into(),
            username: "demo".into(),
            password: "pa55-word".into(),
        };
        let grant = AccessGrant {
            access_token: "eyJ.secret.sig".into(),
            expires_at: 1,
            expires_in: 30,
            user: User {
                username: "demo".into(),
                display_name: "Dana".into(),
                customer_code: "ACME".into(),
            },
        };
        let (login, grant) = (format!("{login:?}"), format!("{grant:#?}"));
        assert!(
            !login.contains("pa55-word") && login.contains("demo"),
            "{login}"
        );
        assert!(
            !grant.contains("eyJ.secret.sig") && grant.contains("Dana"),
            "{grant}"
        );
    }

    fn seconds(json: &str) -> Result<u32, String> {
        serde_json::from_str::<LifetimeRequest>(json)
            .map(|request| request.seconds)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn whole_numbers_are_accepted_however_they_are_written() {
        assert_eq!(seconds(r#"{"seconds": 62}"#), Ok(62));
        assert_eq!(seconds(r#"{"seconds": 62.0}"#), Ok(62));
        assert_eq!(seconds(r#"{"seconds": 6.2e1}"#), Ok(62));
        assert_eq!(seconds(r#"{"seconds": 4294967295.0}"#), Ok(u32::MAX));
    }

    #[test]
    fn fractions_negatives_and_out_of_range_numbers_are_refused() {
        for json in [
            r#"{"seconds": 62.5}"#,
            r#"{"seconds": -1}"#,
            r#"{"seconds": -1.0}"#,
            r#"{"seconds": 4294967296}"#,
            r#"{"seconds": 4294967296.0}"#,
            r#"{"seconds": 1e300}"#,
            r#"{"seconds": "62"}"#,
        ] {
            let refused = seconds(json).expect_err(json);
            assert!(
                refused.contains("whole number") || refused.contains("invalid type"),
                "{json}: {refused}"
            );
        }
    }
}
