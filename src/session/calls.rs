//! The typed API calls pages make. Each goes through the coordinator, the only path to
//! the network, which keeps the spinner, the refresh and the replay in one place.

use crate::api::{
    paths, AccessGrant, ActiveSession, CountersReport, EndedSessions, Lifetime, LifetimeRequest,
    LoginRequest, OrdersPage, OrdersQuery, Profile, Stats,
};
use crate::refresh::{ApiRequest, ClientError};

use super::Session;

impl Session {
    /// Logs in; never triggers or waits for a refresh.
    pub async fn login(&self, request: LoginRequest) -> Result<AccessGrant, ClientError> {
        let client = self.client();
        let grant: AccessGrant = client
            .call(ApiRequest::post(paths::LOGIN, &request).bypassing_refresh())
            .await?;
        client.install_login(&grant);
        self.set_user(Some(grant.user.clone()));
        Ok(grant)
    }

    /// Ends the session on the server and forgets the token here, whatever the server says.
    pub async fn logout(&self) {
        let client = self.client();
        let result: Result<(), ClientError> = client
            .call(ApiRequest::post_empty(paths::LOGOUT).bypassing_refresh())
            .await;
        client.sign_out();
        self.set_user(None);
        if let Err(error) = result {
            self.report(&error);
        }
    }

    pub async fn me(&self) -> Result<Profile, ClientError> {
        self.client().call(ApiRequest::get(paths::ME)).await
    }

    pub async fn orders(&self, query: OrdersQuery) -> Result<OrdersPage, ClientError> {
        let path = format!(
            "{}?page={}&page_size={}",
            paths::ORDERS,
            query.page,
            query.page_size
        );
        self.client().call(ApiRequest::get(path)).await
    }

    pub async fn stats(&self) -> Result<Stats, ClientError> {
        self.client().call(ApiRequest::get(paths::STATS)).await
    }

    /// The user's live sessions.
    pub async fn sessions(&self) -> Result<Vec<ActiveSession>, ClientError> {
        self.client().call(ApiRequest::get(paths::SESSIONS)).await
    }

    /// Ends every other session of the user ("sign out everywhere else").
    pub async fn end_other_sessions(&self) -> Result<EndedSessions, ClientError> {
        self.client()
            .call(ApiRequest::post_empty(paths::SESSIONS_END_OTHERS))
            .await
    }

    /// Makes every access token of this session unusable now (they answer 30001).
    pub async fn demo_expire(&self) -> Result<(), ClientError> {
        self.client()
            .call(ApiRequest::post_empty(paths::DEMO_EXPIRE).bypassing_refresh())
            .await
    }

    /// Revokes the session on the server, so the next refresh fails.
    pub async fn demo_revoke(&self) -> Result<(), ClientError> {
        self.client()
            .call(ApiRequest::post_empty(paths::DEMO_REVOKE).bypassing_refresh())
            .await
    }

    pub async fn demo_lifetime(&self, seconds: u32) -> Result<Lifetime, ClientError> {
        self.client()
            .call(
                ApiRequest::post(paths::DEMO_LIFETIME, &LifetimeRequest { seconds })
                    .bypassing_refresh(),
            )
            .await
    }

    pub async fn demo_counters(&self) -> Result<CountersReport, ClientError> {
        self.client()
            .call(ApiRequest::get(paths::DEMO_COUNTERS).bypassing_refresh())
            .await
    }
}
