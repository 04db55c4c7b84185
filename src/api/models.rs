//! Request and response bodies of `/api`. Field names are part of the contract.

use serde::{Deserialize, Serialize};

/// `POST /api/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub customer_code: String,
    pub username: String,
    pub password: String,
}

/// The person behind a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub username: String,
    pub display_name: String,
    pub customer_code: String,
}

/// `data` of a successful login or refresh.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessGrant {
    pub access_token: String,
    /// Unix seconds on the server's clock.
    pub expires_at: i64,
    /// Seconds the token is good for from now: clients time it on their own clock, which
    /// may disagree with the server's by minutes.
    pub expires_in: i64,
    pub user: User,
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub enum OrderStatus {
    Open,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub fn label(self) -> &'static str {
        match self {
            OrderStatus::Open => "Open",
            OrderStatus::Shipped => "Shipped",
            OrderStatus::Delivered => "Delivered",
            OrderStatus::Cancelled => "Cancelled",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
pub struct Stats {
    pub orders_total: u32,
    pub open_orders: u32,
    pub revenue_cents: i64,
    pub average_order_cents: i64,
    pub currency: String,
}

/// `POST /api/demo/lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifetimeRequest {
    pub seconds: u32,
}

impl LifetimeRequest {
    pub const MIN_SECONDS: u32 = 2;
    pub const MAX_SECONDS: u32 = 3600;
}

/// `data` of `POST /api/demo/lifetime`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetime {
    pub seconds: u32,
}

/// What the server counted; `GET /api/demo/counters`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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
