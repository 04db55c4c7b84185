//! `/`: the dashboard. Its three panels load in parallel, as a real one would, so an
//! expired token makes three requests fail at once and share one refresh.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::api::{OrdersQuery, Profile, Stats};
use crate::components::panels::{OrdersTable, Panel, PanelError};
use crate::format::{date, money};
use crate::state::use_api;

#[component]
pub(crate) fn DashboardPage() -> impl IntoView {
    let api = use_api();
    let profile = LocalResource::new(move || async move { api.reported(api.me().await) });
    let stats = LocalResource::new(move || async move { api.reported(api.stats().await) });
    let recent = LocalResource::new(move || async move {
        api.reported(
            api.orders(OrdersQuery {
                page: 1,
                page_size: 5,
            })
            .await,
        )
    });

    view! {
        <Title text="Dashboard"/>
        <div class="page-head">
            <h1>"Dashboard"</h1>
            <p class="muted">"Three panels, three parallel requests, one silent refresh when the token runs out."</p>
        </div>
        <div class="panels">
            <Panel title="Profile" name="profile">
                <Suspense fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        match profile.await {
                            Ok(profile) => view! { <ProfileCard profile/> }.into_any(),
                            Err(error) => view! { <PanelError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Panel>
            <Panel title="Last 12 months" name="stats">
                <Suspense fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        match stats.await {
                            Ok(stats) => view! { <StatsCard stats/> }.into_any(),
                            Err(error) => view! { <PanelError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Panel>
            <Panel title="Recent orders" name="orders" wide=true>
                <Suspense fallback=|| view! { <div class="skeleton tall"></div> }>
                    {move || Suspend::new(async move {
                        match recent.await {
                            Ok(page) => view! {
                                <OrdersTable orders=page.items/>
                                <A href="/orders" attr:class="more">"All orders →"</A>
                            }.into_any(),
                            Err(error) => view! { <PanelError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Panel>
        </div>
    }
}

#[component]
fn ProfileCard(profile: Profile) -> impl IntoView {
    view! {
        <dl class="facts" data-loaded="true">
            <dt>"Name"</dt>
            <dd class="profile-name">{profile.user.display_name}</dd>
            <dt>"Username"</dt>
            <dd>{profile.user.username}</dd>
            <dt>"Customer"</dt>
            <dd>{profile.user.customer_code}</dd>
            <dt>"Signed in"</dt>
            <dd>{date(profile.session_started_at)}</dd>
            <dt>"Session ends"</dt>
            <dd>{date(profile.session_expires_at)}</dd>
        </dl>
        <A href="/sessions" attr:class="more">"Your sessions →"</A>
    }
}

#[component]
fn StatsCard(stats: Stats) -> impl IntoView {
    view! {
        <div class="stats" data-loaded="true">
            <div class="stat">
                <span class="stat-value">{money(stats.revenue_cents, &stats.currency)}</span>
                <span class="stat-label">"Revenue"</span>
            </div>
            <div class="stat">
                <span class="stat-value">{stats.orders_total}</span>
                <span class="stat-label">"Orders"</span>
            </div>
            <div class="stat">
                <span class="stat-value">{stats.open_orders}</span>
                <span class="stat-label">"Open"</span>
            </div>
            <div class="stat">
                <span class="stat-value">{money(stats.average_order_cents, &stats.currency)}</span>
                <span class="stat-label">"Average order"</span>
            </div>
        </div>
    }
}
