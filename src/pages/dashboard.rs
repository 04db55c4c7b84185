//! `/`: the dashboard. Its three panels load in parallel, as a real one would, so an
//! expired token makes three requests fail at once and share one refresh. The panels are a
//! WASM chunk of their own (`Deferred`).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{OrdersQuery, Profile, Stats};
use crate::components::deferred::{deferred_body, Deferred};
use crate::components::page_head::PageHead;
use crate::components::panels::{OrdersTable, Panel, PanelError};
use crate::format::{date, money};
use crate::i18n::Key;
use crate::state::{use_calls, use_language};

#[component]
pub(crate) fn DashboardPage() -> impl IntoView {
    view! {
        <PageHead title=Key::DashboardTitle tagline=Key::DashboardTagline/>
        <Deferred load=panels/>
    }
}

deferred_body!(panels => Panels);

#[component]
fn Panels() -> impl IntoView {
    let calls = use_calls();
    let lang = use_language();
    let profile = LocalResource::new(move || async move { calls.reported(calls.me().await) });
    let stats = LocalResource::new(move || async move { calls.reported(calls.stats().await) });
    let recent = LocalResource::new(move || async move {
        calls.reported(
            calls
                .orders(OrdersQuery {
                    page: 1,
                    page_size: 5,
                })
                .await,
        )
    });

    view! {
        <div class="panels">
            <Panel title=Key::PanelProfile name="profile">
                <Suspense fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        match profile.await {
                            Ok(profile) => view! { <ProfileCard profile/> }.into_any(),
                            Err(error) => view! { <PanelError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Panel>
            <Panel title=Key::PanelStats name="stats">
                <Suspense fallback=|| view! { <div class="skeleton"></div> }>
                    {move || Suspend::new(async move {
                        match stats.await {
                            Ok(stats) => view! { <StatsCard stats/> }.into_any(),
                            Err(error) => view! { <PanelError error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </Panel>
            <Panel title=Key::PanelRecentOrders name="orders" wide=true>
                <Suspense fallback=|| view! { <div class="skeleton tall"></div> }>
                    {move || Suspend::new(async move {
                        match recent.await {
                            Ok(page) => view! {
                                <OrdersTable orders=page.items/>
                                <A href="/orders" attr:class="more">{lang.tr(Key::AllOrders)}</A>
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
    let lang = use_language();
    view! {
        <dl class="facts" data-loaded="true">
            <dt>{lang.tr(Key::FactName)}</dt>
            <dd class="profile-name">{profile.user.display_name}</dd>
            <dt>{lang.tr(Key::FactUsername)}</dt>
            <dd>{profile.user.username}</dd>
            <dt>{lang.tr(Key::FactCustomer)}</dt>
            <dd>{profile.user.customer_code}</dd>
            <dt>{lang.tr(Key::FactSignedIn)}</dt>
            <dd>{move || date(lang.locale(), profile.session_started_at)}</dd>
            <dt>{lang.tr(Key::FactSessionEnds)}</dt>
            <dd>{move || date(lang.locale(), profile.session_expires_at)}</dd>
        </dl>
        <A href="/sessions" attr:class="more">{lang.tr(Key::YourSessions)}</A>
    }
}

#[component]
fn StatsCard(stats: Stats) -> impl IntoView {
    let lang = use_language();
    view! {
        <div class="stats" data-loaded="true">
            <div class="stat">
                <span class="stat-value">{money(stats.revenue_cents, &stats.currency)}</span>
                <span class="stat-label">{lang.tr(Key::StatRevenue)}</span>
            </div>
            <div class="stat">
                <span class="stat-value">{stats.orders_total}</span>
                <span class="stat-label">{lang.tr(Key::StatOrders)}</span>
            </div>
            <div class="stat">
                <span class="stat-value">{stats.open_orders}</span>
                <span class="stat-label">{lang.tr(Key::StatOpen)}</span>
            </div>
            <div class="stat">
                <span class="stat-value">{money(stats.average_order_cents, &stats.currency)}</span>
                <span class="stat-label">{lang.tr(Key::StatAverage)}</span>
            </div>
        </div>
    }
}
