//! The page header: brand, navigation, who is logged in, and Logout.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::pages;
use crate::state::use_auth;

#[component]
pub(crate) fn Header() -> impl IntoView {
    let auth = use_auth();
    // With WASM the coordinator logs out (and tells the other tabs); without it the form
    // posts to the server, which ends the session and redirects to the login page.
    let logout = move |event: SubmitEvent| {
        event.prevent_default();
        spawn_local(async move { auth.logout().await });
    };
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
                                    <form class="logout" method="post" action=pages::LOGOUT on:submit=logout>
                                        <button type="submit" class="button ghost">"Log out"</button>
                                    </form>
                                </div>
                            }
                        })
                }}
            </Transition>
        </header>
    }
}
