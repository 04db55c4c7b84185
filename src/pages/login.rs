//! `/login`: customer code, username, password. Goes back to `?redirect=` (same-origin
//! paths only) after a successful login, here or in another tab; a bad login shows the
//! server's errmsg.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::{AccessGrant, ErrCode, LoginRequest, RedirectPath};
use crate::i18n::Key;
use crate::refresh::{errcode_of, ClientError};
use crate::state::{use_auth, use_language, use_toasts, Auth};

#[component]
pub(crate) fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let toasts = use_toasts();
    let lang = use_language();
    let query = use_query_map();
    let navigate = use_navigate();

    let customer_code = RwSignal::new(query.with_untracked(|q| q.get("code")).unwrap_or_default());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let show_password = RwSignal::new(false);

    let login = Submission::new();
    let go_on = move || {
        let target =
            RedirectPath::parse_or_home(query.with_untracked(|q| q.get("redirect")).as_deref());
        navigate(target.as_str(), NavigateOptions::default());
    };
    let go_on_elsewhere = go_on.clone();
    // Leaves the page only once the login has its outcome: navigating earlier would dispose
    // the page while the login still settles.
    Effect::new(move |_| match login.outcome.get() {
        Some(Ok(_)) => go_on(),
        Some(Err(error)) => toasts.error(lang.describe(&error)),
        None => {}
    });
    // Logged in in another tab of this browser: go on to where the visitor was headed
    // without asking again.
    Effect::new(move |before: Option<Option<bool>>| {
        let now = auth.logged_in();
        let own_login =
            login.pending.get_untracked() || matches!(login.outcome.get_untracked(), Some(Ok(_)));
        let elsewhere = !own_login;
        if elsewhere && now == Some(true) && before.is_some_and(|before| before != Some(true)) {
            go_on_elsewhere();
        }
        now
    });

    // Shown next to the form: this page's last attempt, or the server's verdict on a form
    // posted without JavaScript (`error=<errcode>` after its redirect).
    let inline_error = move || match login.outcome.get() {
        Some(Err(error)) => Some(login_error(errcode_of(&error))),
        Some(Ok(_)) => None,
        None => query
            .with(|q| q.get("error"))
            .and_then(|code| code.parse().ok())
            .map(login_error),
    };

    // With WASM the coordinator logs in; without it the browser posts the form to this
    // page's own URL (`server::auth::forms`).
    let on_submit = move |event: SubmitEvent| {
        event.prevent_default();
        login.submit(
            auth,
            LoginRequest {
                customer_code: customer_code.get_untracked(),
                username: username.get_untracked(),
                password: password.get_untracked(),
            },
        );
    };

    view! {
        <Title text=lang.title(Key::LoginTitle)/>
        <section class="login">
            <form class="card login-card" method="post" on:submit=on_submit>
                <h1>{lang.tr(Key::LoginTitle)}</h1>
                <p class="muted">{lang.tr(Key::LoginTagline)}</p>
                <label for="customer_code">{lang.tr(Key::CustomerCode)}</label>
                <input
                    id="customer_code"
                    name="customer_code"
                    autocomplete="organization"
                    required
                    // The attribute too, so that the page rendered for a browser without
                    // JavaScript shows the code as well.
                    value=customer_code.get_untracked()
                    // Each field is a property plus an input handler: what `bind:value` does,
                    // without the 2.4 KB gzip of WASM that binding's own code costs.
                    prop:value=customer_code
                    on:input=move |ev| customer_code.set(event_target_value(&ev))
                />
                <label for="username">{lang.tr(Key::Username)}</label>
                <input
                    id="username"
                    name="username"
                    autocomplete="username"
                    required
                    prop:value=username
                    on:input=move |ev| username.set(event_target_value(&ev))
                />
                <label for="password">{lang.tr(Key::Password)}</label>
                <div class="password-row">
                    <input
                        id="password"
                        name="password"
                        type=move || if show_password.get() { "text" } else { "password" }
                        autocomplete="current-password"
                        required
                        prop:value=password
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                    <button
                        type="button"
                        class="button ghost small"
                        aria-label=move || lang.text(if show_password.get() { Key::HidePassword } else { Key::ShowPassword })
                        on:click=move |_| show_password.update(|shown| *shown = !*shown)
                    >
                        {move || lang.text(if show_password.get() { Key::Hide } else { Key::Show })}
                    </button>
                </div>
                {move || inline_error().map(|key| view! { <p class="form-error" id="login-error" role="alert">{lang.tr(key)}</p> })}
                <button type="submit" class="button primary wide" disabled=move || login.pending.get()>
                    {move || lang.text(if login.pending.get() { Key::SigningIn } else { Key::SignIn })}
                </button>
                <DemoHint/>
            </form>
        </section>
    }
}

/// The form's login: whether one is under way, and how the last one ended. Two signals and
/// `spawn_local` rather than leptos' `Action`, whose input and version signals this page
/// never reads: 5.0 KB gzip less WASM on every first load.
#[derive(Clone, Copy)]
struct Submission {
    pending: RwSignal<bool>,
    outcome: RwSignal<Option<Result<AccessGrant, ClientError>>>,
}

impl Submission {
    fn new() -> Self {
        Self {
            pending: RwSignal::new(false),
            outcome: RwSignal::new(None),
        }
    }

    /// Logs in, unless a login is under way already (a second click or Enter).
    fn submit(self, auth: Auth, request: LoginRequest) {
        if self.pending.get_untracked() {
            return;
        }
        self.pending.set(true);
        spawn_local(async move {
            let outcome = auth.login(request).await;
            // `try_`: the page may be gone by then (a login in another tab moved on).
            self.outcome.try_set(Some(outcome));
            self.pending.try_set(false);
        });
    }
}

/// The demo credentials, while demo mode is on.
#[component]
fn DemoHint() -> impl IntoView {
    let auth = use_auth();
    let lang = use_language();
    view! {
        <Transition fallback=|| ()>
            {move || {
                auth
                    .boot()
                    .and_then(|boot| boot.demo_hint)
                    .map(|hint| {
                        view! {
                            <p class="demo-hint">
                                {lang.tr(Key::DemoHint)} " " <code>{hint.customer_code}</code> " / " <code>{hint.username}</code>
                                " / " <code>{hint.password}</code>
                            </p>
                        }
                    })
            }}
        </Transition>
    }
}

/// What went wrong with a login, by errcode (never by matching the server's text).
fn login_error(errcode: i32) -> Key {
    match ErrCode::from_code(errcode) {
        Some(ErrCode::BadLogin) => Key::LoginErrorBad,
        Some(ErrCode::RateLimited) => Key::LoginErrorThrottled,
        Some(ErrCode::Overloaded) => Key::LoginErrorBusy,
        Some(ErrCode::InvalidInput) => Key::LoginErrorInput,
        Some(ErrCode::CrossOrigin) => Key::LoginErrorCrossSite,
        _ => Key::LoginErrorOther,
    }
}
