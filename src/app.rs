//! The HTML shell and the root component with its routes.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{FlatRoutes, ProtectedRoute, Route, Router};
use leptos_router::hooks::use_location;
use leptos_router::{path, SsrMode};

use crate::api::{BootInfo, RedirectPath};
use crate::components::deferred::{deferred_body, Deferred};
use crate::components::header::Header;
use crate::components::loading::{LoadingBar, OfflineNotice};
use crate::components::toasts::Toaster;
use crate::pages::{DashboardPage, LabPage, LoginPage, NotFoundPage, OrdersPage, SessionsPage};
use crate::render::render_host;
use crate::state::{provide_state, use_auth, BootResource};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        // The language this request asked for; the browser's hydration starts from it.
        <html lang=crate::state::page_locale().tag()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                {app_assets()}
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// Who is logged in and how the client is configured, decided by the server from the
/// refresh cookie. Blocking, so a protected page redirects before any HTML is sent. In
/// the browser the value comes with the page and this never runs.
async fn load_boot() -> BootInfo {
    match render_host() {
        Some(host) => host.boot_info().await,
        None => BootInfo::default(),
    }
}

/// The stylesheet and the scripts that start the app (the shell is rendered on the
/// server only).
fn app_assets() -> impl IntoView {
    render_host().map(|host| host.head_assets())
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let boot = BootResource::new_with_options(|| (), |_| load_boot(), true);
    provide_state(boot);
    // The end-to-end tests wait for this instead of retrying clicks.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Title formatter=|title: String| {
            if title.is_empty() { "painless".to_owned() } else { format!("{title} · painless") }
        }/>
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
                <LoadingBar/>
                <OfflineNotice/>
                <Header/>
                <main class="content">
                    <AppRoutes/>
                </main>
                <Toaster/>
            </div>
        </Router>
    }
}

/// The routes; protected ones send visitors without a session to the login page, on the
/// server (a 302 before any HTML) as well as in the browser. Every page is rendered whole
/// once the boot resource is in (`SsrMode::Async`): pages are sent in one write anyway
/// (`server::http::ssr`), and streamed out of order the login page's two `Transition`s arrived
/// as templates moved into place by scripts that walk the document, a third of its bytes.
/// No route nests, so `FlatRoutes`, which matches one level: 12 KB gzip less WASM than
/// `Routes`, whose nested matching and outlets nothing here uses.
#[component]
fn AppRoutes() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    let logged_in = move || auth.logged_in();
    // With demo mode off the lab is a 404 for everyone: nobody is sent to log in for it.
    let lab_condition = move || match auth.demo_enabled() {
        false => Some(true),
        true => auth.logged_in(),
    };
    let to_login = move || {
        let search = location.search.get_untracked();
        let here = match search.as_str() {
            "" => location.pathname.get_untracked(),
            s if s.starts_with('?') => format!("{}{s}", location.pathname.get_untracked()),
            s => format!("{}?{s}", location.pathname.get_untracked()),
        };
        RedirectPath::parse_or_home(Some(&here)).login_url(auth.customer_code().as_deref())
    };
    view! {
        <FlatRoutes fallback=|| view! { <NotFoundPage/> }>
            <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
            <ProtectedRoute path=path!("/") view=DashboardPage condition=logged_in redirect_path=to_login ssr=SsrMode::Async/>
            <ProtectedRoute path=path!("/orders") view=OrdersPage condition=logged_in redirect_path=to_login ssr=SsrMode::Async/>
            <ProtectedRoute path=path!("/lab") view=LabGate condition=lab_condition redirect_path=to_login ssr=SsrMode::Async/>
            <ProtectedRoute path=path!("/sessions") view=SessionsPage condition=logged_in redirect_path=to_login ssr=SsrMode::Async/>
        </FlatRoutes>
    }
}

/// The refresh lab while demo mode is on; otherwise the 404 page (the server answers
/// `/lab` with status 404 then, see `server::ops::application`). The lab is the largest page, a
/// WASM chunk of its own like the other signed-in pages' bodies (`Deferred`).
#[component]
fn LabGate() -> impl IntoView {
    let auth = use_auth();
    move || match auth.demo_enabled() {
        false => Either::Left(view! { <NotFoundPage/> }),
        true => Either::Right(view! {
            <Deferred load=lab_view placeholder=|| view! { <div class="skeleton tall" id="lab-loading"></div> }/>
        }),
    }
}

deferred_body!(lab_view => LabPage);
