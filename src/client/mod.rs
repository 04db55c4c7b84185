//! Browser-only glue (feature `hydrate`): the coordinator's transport over `fetch`, its
//! clock, its spawner and its link to the other tabs; the page's language.

mod language;
mod tabs;

use std::future::Future;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestInit};

use crate::refresh::{ApiRequest, Clock, Response, Spawn, Transport, TransportError};
pub(crate) use language::{page_locale, remember_locale};
pub use tabs::BrowserTabs;

/// Sends requests with `fetch` and hands back status and body, whatever the HTTP status.
pub struct FetchTransport;

impl Transport for FetchTransport {
    fn send(
        &self,
        request: &ApiRequest,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>> {
        let prepared = prepare(request, access_token);
        async move { send(prepared?).await }
    }
}

fn prepare(request: &ApiRequest, access_token: Option<&str>) -> Result<Request, TransportError> {
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
    Request::new_with_str_and_init(&request.path, &init).map_err(unbuildable)
}

async fn send(request: Request) -> Result<Response, TransportError> {
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
    // The body as text: the coordinator decodes it once, into the caller's type.
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
    Ok(Response { status, body })
}

pub struct BrowserClock;

impl Clock for BrowserClock {
    fn now_ms(&self) -> i64 {
        js_sys::Date::now() as i64
    }

    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> + 'static {
        let (done, wait) = oneshot::channel::<()>();
        leptos::prelude::set_timeout(
            move || {
                let _ = done.send(());
            },
            duration,
        );
        async move {
            let _ = wait.await;
        }
    }
}

/// Runs the refresh on the browser's microtask queue.
pub struct BrowserSpawner;

impl Spawn for BrowserSpawner {
    fn spawn(&self, task: LocalBoxFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}
