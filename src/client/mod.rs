//! Browser-only glue (feature `hydrate`): the coordinator's transport over gloo-net, its
//! clock, its spawner and its link to the other tabs; the page's language.

mod language;
mod tabs;

use std::future::Future;
use std::time::Duration;

use futures::channel::oneshot;
use futures::future::LocalBoxFuture;
use gloo_net::http::{Request, RequestBuilder};

use crate::refresh::{ApiRequest, Clock, Method, Response, Spawn, Transport, TransportError};
pub(crate) use language::{page_locale, remember_locale};
pub use tabs::BrowserTabs;

/// Sends requests with `fetch` and hands back status and body, whatever the HTTP status.
pub struct GlooTransport;

impl Transport for GlooTransport {
    fn send(
        &self,
        request: &ApiRequest,
        access_token: Option<&str>,
    ) -> impl Future<Output = Result<Response, TransportError>> {
        let builder = match request.method {
            Method::Get => Request::get(&request.path),
            Method::Post => Request::post(&request.path),
        };
        let builder = builder.header("Accept", "application/json");
        let builder = match access_token {
            Some(token) => builder.header("Authorization", &format!("Bearer {token}")),
            None => builder,
        };
        let body = request.body.clone();
        async move { send(builder, body).await }
    }
}

async fn send(builder: RequestBuilder, body: Option<String>) -> Result<Response, TransportError> {
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    }
    .map_err(|e| TransportError {
        status: 0,
        message: e.to_string(),
    })?;
    let response = request.send().await.map_err(|e| TransportError {
        status: 0,
        message: format!("network error: {e}"),
    })?;
    let status = response.status();
    // The body as text: the coordinator decodes it once, into the caller's type.
    let body = response.text().await.map_err(|e| TransportError {
        status,
        message: format!("HTTP {status}: {e}"),
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
