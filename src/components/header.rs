//! The page header: brand, navigation, the language switcher, who is logged in, and
//! Logout.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use crate::api::pages;
use crate::i18n::{Key, Locale};
use crate::state::{use_auth, use_language};

#[component]
pub(crate) fn Header() -> impl IntoView {
    let auth = use_auth();
    let lang = use_language();
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
                                <nav class="nav" aria-label=lang.tr(Key::NavMain)>
                                    <A href="/" exact=true>{lang.tr(Key::NavDashboard)}</A>
                                    <A href="/orders">{lang.tr(Key::NavOrders)}</A>
                                    <Show when=move || auth.demo_enabled()>
                                        <A href="/lab">{lang.tr(Key::NavLab)}</A>
                                    </Show>
                                    <A href="/sessions">{lang.tr(Key::NavSessions)}</A>
                                </nav>
                                <div class="who">
                                    <span class="who-name">{user.display_name}</span>
                                    <span class="who-code" title=lang.tr(Key::CustomerCodeTitle)>{user.customer_code}</span>
                                    <form class="logout" method="post" action=pages::LOGOUT on:submit=logout>
                                        <button type="submit" class="button ghost">{lang.tr(Key::LogOut)}</button>
                                    </form>
                                </div>
                            }
                        })
                }}
            </Transition>
            <LanguageSwitch/>
        </header>
    }
}

/// One button per language, each labelled in its own language; the current one pressed.
/// Switching changes every text at once, without a reload, and is remembered.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let lang = use_language();
    let choice = move |locale: Locale, name: &'static str| {
        view! {
            <button
                type="button"
                class="lang-choice"
                id=format!("lang-{}", locale.tag())
                lang=locale.tag()
                aria-pressed=move || (lang.locale() == locale).to_string()
                on:click=move |_| lang.switch_to(locale)
            >
                {name}
            </button>
        }
    };
    view! {
        <div class="lang-switch" role="group" aria-label=lang.tr(Key::LanguageSwitch)>
            {choice(Locale::ZhCn, "中文")}
            {choice(Locale::En, "English")}
        </div>
    }
}
