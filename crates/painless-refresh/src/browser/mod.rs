//! The browser's plug-ins (feature `browser`): requests over `fetch`, the page's clock
//! and timers, `spawn_local`, and the link to the other tabs of the same origin (Web
//! Locks, `BroadcastChannel`, a counter in `localStorage`). Each browser API is looked up
//! at run time; a browser without one loses only what it provides.
//!
//! ```no_run
//! use painless_refresh::browser::{BrowserClock, BrowserSpawner, BrowserTabs, FetchTransport, TabNames};
//! use painless_refresh::{Coordinator, Plugins, Tuning, TabMessage};
//! # use painless_refresh::{Policy, RefreshVerdict, Request, Response, Verdict};
//! # struct MyApi;
//! # impl Policy for MyApi {
//! #     type Answer = String;
//! #     type Identity = ();
//! #     fn read(&self, r: Response) -> Verdict<String> { Verdict::Success(r.body) }
//! #     fn refresh_request(&self) -> Request { Request::post_empty("/auth/refresh") }
//! #     fn read_refresh(&self, r: Response) -> RefreshVerdict { RefreshVerdict::Refused(r.body) }
//! # }
//!
//! let tabs = BrowserTabs::open(&TabNames::prefixed("my-app"), |message: TabMessage<()>| {
//!     // Hand it to the coordinator's `receive` (the crate's README shows how).
//! });
//! let platform = Plugins {
//!     transport: FetchTransport,
//!     clock: BrowserClock,
//!     spawner: BrowserSpawner,
//!     tabs,
//! };
//! let coordinator = Coordinator::new(platform, MyApi, Tuning::default());
//! ```

pub mod json;
mod tabs;

use std::future::Future;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, RequestInit};

use crate::{Clock, Request, Response, Spawn, Transport, TransportError};

pub use tabs::{BrowserTabs, LockGuard, TabNames};

/// Sends requests with `fetch` (cookies go along for the same origin, as `fetch` does by
/// default) and hands back status and body, whatever the status. The access token goes
/// in `Authorization: Bearer`; a body is sent as `application/json`.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(
        &self,
        request: &Request,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>> {
        let prepared = prepare(request, access_token);
        async move { send(prepared?).await }
    }

    /// `navigator.onLine`: false only when the browser knows it has no network.
    fn is_online(&self) -> bool {
        web_sys::window().is_none_or(|window| window.navigator().on_line())
    }

    /// The window's next `online` event.
    fn online(&self) -> impl Future<Output = ()> + 'static {
        let (sender, receiver) = oneshot::channel();
        ONLINE_WAITERS.with(|waiters| {
            let mut waiters = waiters.borrow_mut();
            if waiters.is_none() && !listen_for_online() {
                // Without a window no event will come: the coordinator's timer decides.
                return;
            }
            let waiting = waiters.get_or_insert_with(Vec::new);
            waiting.retain(|waiter| !waiter.is_canceled());
            waiting.push(sender);
        });
        async move {
            let _ = receiver.await;
        }
    }
}

thread_local! {
    /// Who waits for the next `online` event; `None` until the one listener is added.
    static ONLINE_WAITERS: std::cell::RefCell<Option<Vec<oneshot::Sender<()>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Adds the page's one `online` listener, which wakes every waiter.
fn listen_for_online() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let wake = Closure::<dyn Fn()>::new(|| {
        let waiters = ONLINE_WAITERS.with(|waiters| {
            waiters
                .borrow_mut()
                .as_mut()
                .map(std::mem::take)
                .unwrap_or_default()
        });
        for waiter in waiters {
            let _ = waiter.send(());
        }
    });
    let added = window
        .add_event_listener_with_callback("online", wake.as_ref().unchecked_ref())
        .is_ok();
    // The listener lives as long as the page.
    wake.forget();
    added
}

/// Calls `on_wake` whenever the page may have slept or been hidden: the tab becomes
/// visible, the window gets focus or the network back, or the page is shown again
/// (`restored` is true when it comes from the back/forward cache). Hand it to
/// [`Coordinator::wake`](crate::Coordinator::wake), and reload a restored page when
/// [`Coordinator::missed_messages`](crate::Coordinator::missed_messages) says so.
pub fn on_wake(on_wake: impl Fn(bool) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let on_wake = std::rc::Rc::new(on_wake);
    let listen = |target: &web_sys::EventTarget,
                  name: &str,
                  callback: Closure<dyn Fn(web_sys::Event)>| {
        let _ = target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
        // The listeners live as long as the page.
        callback.forget();
    };
    for name in ["focus", "online"] {
        let on_wake = std::rc::Rc::clone(&on_wake);
        listen(&window, name, Closure::new(move |_| on_wake(false)));
    }
    let shown = std::rc::Rc::clone(&on_wake);
    listen(
        &window,
        "pageshow",
        Closure::new(move |event: web_sys::Event| {
            let restored = event
                .dyn_ref::<web_sys::PageTransitionEvent>()
                .is_some_and(|event| event.persisted());
            shown(restored);
        }),
    );
    if let Some(document) = window.document() {
        let visible = document.clone();
        listen(
            &document,
            "visibilitychange",
            Closure::new(move |_| {
                if visible.visibility_state() == web_sys::VisibilityState::Visible {
                    on_wake(false);
                }
            }),
        );
    }
}

fn prepare(
    request: &Request,
    access_token: Option<&str>,
) -> Result<web_sys::Request, TransportError> {
    let unbuildable = |_| TransportError {
        status: 0,
        message: "the request could not be built".to_owned(),
    };
    let headers = Headers::new().map_err(unbuildable)?;
    headers
        .set("Accept", "application/json")
        .map_err(unbuildable)?;
    if let Some(token) = access_token {
        headers
            .set("Authorization", &format!("Bearer {token}"))
            .map_err(unbuildable)?;
    }
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    if let Some(body) = &request.body {
        headers
            .set("Content-Type", "application/json")
            .map_err(unbuildable)?;
        init.set_body(&JsValue::from_str(body));
    }
    init.set_headers(&headers);
    web_sys::Request::new_with_str_and_init(&request.url, &init).map_err(unbuildable)
}

async fn send(request: web_sys::Request) -> Result<Response, TransportError> {
    // `fetch` rejects with a TypeError ("Failed to fetch") when no response came.
    let network = |error: JsValue| TransportError {
        status: 0,
        message: format!(
            "network error: {}",
            error
                .dyn_ref::<js_sys::Error>()
                .map(|error| String::from(error.message()))
                .unwrap_or_default()
        ),
    };
    let window = web_sys::window().ok_or(TransportError {
        status: 0,
        message: "no window".to_owned(),
    })?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .unchecked_into();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .ok()
        .flatten()
        .and_then(|seconds| seconds.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // The body as text: the policy decodes it once, into the caller's type.
    let body = match response.text() {
        Ok(text) => JsFuture::from(text)
            .await
            .ok()
            .and_then(|text| text.as_string()),
        Err(_) => None,
    };
    let body = body.ok_or(TransportError {
        status,
        message: format!("HTTP {status}: the body could not be read"),
    })?;
    Ok(Response {
        status,
        body,
        retry_after,
    })
}

/// The page's clock (`Date.now()`) and its timers (`setTimeout`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
        let (done, wait) = oneshot::channel::<()>();
        let fire = Closure::once_into_js(move || {
            let _ = done.send(());
        });
        let delay = i32::try_from(duration.as_millis()).unwrap_or(i32::MAX);
        let scheduled = web_sys::window().and_then(|window| {
            window
                .set_timeout_with_callback_and_timeout_and_arguments_0(fire.unchecked_ref(), delay)
                .ok()
        });
        async move {
            // Without a window nothing would ever fire: waking at once beats never.
            if scheduled.is_some() {
                let _ = wait.await;
            }
        }
    }
}

/// Runs the refresh on the page's microtask queue (`wasm_bindgen_futures::spawn_local`).
#[derive(Debug, Clone, Copy, Default)]
pub struct BrowserSpawner;

impl Spawn for BrowserSpawner {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}
