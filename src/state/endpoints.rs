//! The typed API calls pages make. Each goes through the coordinator, the only path to
//! the network, which keeps the spinner, the refresh and the replay in one place.

use std::time::Duration;

use painless_refresh::Clock;

use crate::api::{
    paths, AccessGrant, ActiveSession, CountersReport, EndedSessions, ErrCode, Lifetime,
    LifetimeRequest, LoginRequest, OrdersPage, OrdersQuery, Profile, Stats,
};
use crate::refresh::{post_json, ClientError, Request};

use super::{Calls, PlatformClock};

/// How long a login answered "busy" waits before its one retry (the server's
/// `Retry-After`).
const BUSY_RETRY_AFTER: Duration = Duration::from_secs(1);

impl Calls {
    /// Logs in and hands the token to the coordinator (and the other tabs); never
    /// triggers or waits for a refresh. A "busy" answer (50300: nothing was checked) is
    /// tried again once, a moment later, as its `Retry-After` asks.
    pub(super) async fn login(&self, request: LoginRequest) -> Result<AccessGrant, ClientError> {
        let send =
            || self.call::<AccessGrant>(post_json(paths::LOGIN, &request).bypassing_refresh());
        let grant = match send().await {
            Err(ClientError::Refused { code, .. }) if code == ErrCode::Overloaded.code() => {
                PlatformClock.sleep(BUSY_RETRY_AFTER).await;
                send().await?
            }
            answer => answer?,
        };
        let coordinator = self.coordinator().await;
        coordinator.install_login(grant.to_grant(), grant.user.clone());
        Ok(grant)
    }

    /// Ends the session on the server and forgets the token here and in the other tabs,
    /// whatever the server says.
    pub(super) async fn logout(&self) -> Result<(), ClientError> {
        let result = self
            .call(Request::post_empty(paths::LOGOUT).bypassing_refresh())
            .await;
        self.coordinator().await.sign_out();
        result
    }

    pub(crate) async fn me(&self) -> Result<Profile, ClientError> {
        self.call(Request::get(paths::ME)).await
    }

    pub(crate) async fn orders(&self, query: OrdersQuery) -> Result<OrdersPage, ClientError> {
        let path = format!(
            "{}?page={}&page_size={}",
            paths::ORDERS,
            query.page,
            query.page_size
        );
        self.call(Request::get(path)).await
    }

    pub(crate) async fn stats(&self) -> Result<Stats, ClientError> {
        self.call(Request::get(paths::STATS)).await
    }

    /// The user's live sessions.
    pub(crate) async fn sessions(&self) -> Result<Vec<ActiveSession>, ClientError> {
        self.call(Request::get(paths::SESSIONS)).await
    }

    /// Ends every other session of the user ("sign out everywhere else").
    pub(crate) async fn end_other_sessions(&self) -> Result<EndedSessions, ClientError> {
        self.call(Request::post_empty(paths::SESSIONS_END_OTHERS))
            .await
    }

    /// Makes every access token of this session unusable now (they answer 30001).
    pub(crate) async fn demo_expire(&self) -> Result<(), ClientError> {
        self.call(Request::post_empty(paths::DEMO_EXPIRE).bypassing_refresh())
            .await
    }

    /// Revokes the session on the server, so the next refresh fails.
    pub(crate) async fn demo_revoke(&self) -> Result<(), ClientError> {
        self.call(Request::post_empty(paths::DEMO_REVOKE).bypassing_refresh())
            .await
    }

    pub(crate) async fn demo_lifetime(&self, seconds: u32) -> Result<Lifetime, ClientError> {
        self.call(post_json(paths::DEMO_LIFETIME, &LifetimeRequest { seconds }).bypassing_refresh())
            .await
    }

    pub(crate) async fn demo_counters(&self) -> Result<CountersReport, ClientError> {
        self.call(Request::get(paths::DEMO_COUNTERS).bypassing_refresh())
            .await
    }
}
