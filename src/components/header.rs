//! The page header: brand, navigation, who is logged in, and Logout.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::state::use_auth;

#[component]
pub(crate) fn Header() -> impl IntoView {
    let auth = use_auth();
    let logout = move |_| spawn_local(async move { auth.logout().await });
    view! {
        <header class="topbar">
            <A href="/" attr:class="brand">
                <span class="brand-mark" aria-hidden="true">"◐"</span>
                " painless"
            </A>
            <Transition fallback=|| ()>
                {move || {
                    auth
                        .user()
                        .map(|user| {
                            view! {
                                <nav class="nav" aria-label="Main">
                                    <A href="/" exact=true>"Dashboard"</A>
                                    <A href="/orders">"Orders"</A>
                                    <Show when=move || auth.demo_enabled()>
                                        <A href="/lab">"Refresh lab"</A>
                                    </Show>
                                    <A href="/sessions">"Sessions"</A>
                                </nav>
                                <div class="who">
                                    <span class="who-name">{user.display_name}</span>
                                    <span class="who-code" title="Customer code">{user.customer_code}</span>
                                    <button class="button ghost" on:click=logout>"Log out"</button>
                                </div>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}
