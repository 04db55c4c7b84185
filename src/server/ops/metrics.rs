//! Metrics in the Prometheus text format, for operators of several instances: refreshes
//! and logins by outcome, throttle refusals, the page cache, and request latency by
//! route. Off unless `server.metrics_addr` names an address; then served there
//! (`GET /metrics`), apart from the public listener, so that nothing about the traffic is
//! public by default.
//!
//! Counts are recorded through the `metrics` facade, which does nothing until a recorder
//! is installed; the recorder is process-wide and installed once.

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::api::ErrCode;

/// Names of the series.
pub(crate) const REFRESHES: &str = "painless_refreshes_total";
pub(crate) const LOGINS: &str = "painless_logins_total";
pub(crate) const THROTTLE_REFUSALS: &str = "painless_login_throttle_refusals_total";
pub(crate) const PAGE_CACHE: &str = "painless_page_cache_total";
pub(crate) const API_ANSWERS: &str = "painless_api_answers_total";
pub(crate) const REQUEST_DURATION: &str = "painless_http_request_duration_seconds";

/// Latency buckets, in seconds: a token check takes microseconds, a password hash tens of
/// milliseconds, a request stuck behind an outage seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

static RECORDER: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use.
fn recorder() -> Option<&'static PrometheusHandle> {
    RECORDER
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.into()), &BUCKETS)
                .and_then(|builder| builder.install_recorder())
                .map_err(|error| tracing::error!(%error, "metrics recorder not installed"))
                .ok()
        })
        .as_ref()
}

/// A refresh's outcome: `rotated`, `grace`, or why it was refused.
pub(crate) fn refresh(outcome: &'static str) {
    metrics::counter!(REFRESHES, "outcome" => outcome).increment(1);
}

/// A login's outcome: `ok`, `bad_login`, `throttled`, `overloaded`, `invalid_input`,
/// `unavailable` or `error`.
pub(crate) fn login(outcome: &'static str) {
    metrics::counter!(LOGINS, "outcome" => outcome).increment(1);
}

/// A login refused by the throttle, by the limit that refused it (`account`, `address`).
pub(crate) fn throttle_refusal(limit: &'static str) {
    metrics::counter!(THROTTLE_REFUSALS, "limit" => limit).increment(1);
}

/// A page served from the cache of anonymous pages (`hit`) or kept in it (`stored`).
pub(crate) fn page_cache(outcome: &'static str) {
    metrics::counter!(PAGE_CACHE, "outcome" => outcome).increment(1);
}

/// An `/api` answer, by its errcode (`0` for a success): the same figures whichever
/// status `server.auth_errors` gives the refusals.
pub(crate) fn api_answer(code: ErrCode) {
    // Every /api answer passes here: no label is made while no metrics are served.
    if matches!(RECORDER.get(), Some(Some(_))) {
        metrics::counter!(API_ANSWERS, "errcode" => code.code().to_string()).increment(1);
    }
}

/// Times every request, labelled by its route pattern, method and status class. Every
/// label comes from a closed set, since each new value is a new series held until the
/// process ends: the route pattern (never the concrete path) or `unmatched`, the method
/// if HTTP defines it or `other` (a client may send any token as a method).
pub(crate) async fn time_requests(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = match response.status().as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    };
    metrics::histogram!(
        REQUEST_DURATION,
        "route" => route,
        "method" => method,
        "status" => status
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a label: one of the methods HTTP defines, else `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// The metrics listener, bound (so that start-up fails on a taken address) but not yet
/// serving.
pub(crate) struct MetricsServer {
    listener: TcpListener,
    handle: &'static PrometheusHandle,
}

impl MetricsServer {
    pub(crate) async fn bind(addr: SocketAddr) -> std::io::Result<Option<Self>> {
        let Some(handle) = recorder() else {
            return Ok(None);
        };
        let listener = TcpListener::bind(addr).await?;
        Ok(Some(Self { listener, handle }))
    }

    pub(crate) fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves `GET /metrics` until aborted, and drains the histograms now and then (the
    /// exporter needs that when it runs no listener of its own).
    pub(crate) fn spawn(self) -> tokio::task::JoinHandle<()> {
        let handle = self.handle;
        let app = Router::new().route("/metrics", get(move || async move { handle.render() }));
        let serve = axum::serve(self.listener, app).into_future();
        let upkeep = async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        };
        tokio::spawn(async move {
            tokio::select! {
                served = serve => if let Err(error) = served {
                    tracing::error!(%error, "metrics listener failed");
                },
                () = upkeep => {}
            }
        })
    }
}
