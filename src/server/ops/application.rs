//! Builds the app from settings: store, secret, demo users, router, listener; and runs it
//! until a shutdown signal, letting requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list, AxumRouteListing, LeptosRoutes};
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::ErrCode;
use crate::app::{shell, App};
use crate::server::auth::forms;
use crate::server::auth::key_wrap::{self, KeyEncryptionKey, SharedKeyError};
use crate::server::auth::passwords::PasswordGate;
use crate::server::auth::throttle::{Limits, LoginThrottle, SharedFailures};
use crate::server::auth::tokens::{generate_key_text, load_or_create_secret, AccessTokens};
use crate::server::http::cross_origin::refuse_cross_origin;
use crate::server::http::error::{answer_in_mode, ApiError, Rejected};
use crate::server::http::page_cache::{self, PageCache};
use crate::server::http::serve::{serve, ConnectionLimits};
use crate::server::http::ssr;
use crate::server::http::{assets, bundle, language, security_headers};
use crate::server::ops::config::Secret;
use crate::server::ops::config::{AccountLockout, ConfigError, Settings};
use crate::server::ops::maintenance;
use crate::server::ops::metrics::{self, MetricsServer};
use crate::server::ops::secrets::random_token;
use crate::server::ops::state::{AppState, Shared};
use crate::server::routes;
use crate::server::store::users;
use crate::server::store::{DbError, Store};

/// The name cargo-leptos gives the WASM and JS bundle (`output-name` in Cargo.toml).
pub(crate) const OUTPUT_NAME: &str = "painless";

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("signing secret: {0}")]
    Secret(std::io::Error),
    #[error("signing key stored in the database: {0}")]
    StoredKey(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A built app bound to its listener; `local_addr` tells where (port 0 picks one).
pub struct Application {
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    state: AppState,
    metrics: Option<MetricsServer>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        crate::server::auth::passwords::return_large_blocks_to_the_system();
        let state = prepare_state(settings).await?;
        let addr = state.settings.server.site_addr;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| StartupError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| StartupError::Bind { addr, source })?;
        let mut state = state;
        state.leptos_options = leptos_options(local_addr);
        let state = AppState::new(state);
        let server = &state.settings.server;
        let limits = ConnectionLimits {
            max_connections: server.max_connections,
            header_read_timeout: server.header_read_timeout,
            idle_timeout: server.idle_timeout,
            shutdown_grace: server.shutdown_grace,
        };
        let metrics = match state.settings.metrics_addr() {
            Some(addr) => MetricsServer::bind(addr)
                .await
                .map_err(|source| StartupError::Bind { addr, source })?,
            None => None,
        };
        Ok(Self {
            listener,
            router: router(state.clone()),
            limits,
            state,
            metrics,
        })
    }

    /// Where metrics are served, when `server.metrics_addr` asks for them.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(MetricsServer::local_addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves until `shutdown` resolves, then stops accepting and lets requests in flight
    /// finish for at most `server.shutdown_grace_secs`.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        drop(self.state);
        let background = maintenance::spawn(store.clone());
        let listener = store.spawn_listener();
        let metrics = self.metrics.map(MetricsServer::spawn);
        let served = serve(self.listener, self.router, self.limits, shutdown).await;
        background.abort();
        for task in [listener, metrics].into_iter().flatten() {
            task.abort();
        }
        // What was counted since the last flush is not lost on a clean stop.
        maintenance::flush_counts(&store).await;
        served
    }
}

/// Opens the store, loads the secret, seeds demo users.
async fn prepare_state(settings: Settings) -> Result<Shared, StartupError> {
    let settings = Arc::new(settings);
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let store = Store::open(&settings).await?;
    tracing::info!(backend = store.backend(), "store ready");
    let secret = signing_key(&settings, &store).await?;
    let previous = settings.tokens.jwt_previous_secret.key_bytes();
    let demo = &settings.demo;
    if demo.enabled {
        store.seed_demo_users(&demo.users).await?;
        tracing::warn!(
            users = demo.users.len(),
            "demo mode is on: demo users and /api/demo/* are enabled"
        );
    } else {
        let locked = store.count_demo_users().await?;
        if locked > 0 {
            tracing::info!(
                users = locked,
                "demo mode is off: demo users cannot log in and their sessions end at their next refresh"
            );
        }
    }
    let dummy_password_hash =
        tokio::task::spawn_blocking(|| users::hash_password(&random_token(16)))
            .await
            .map_err(|e| DbError::Task(e.to_string()))??;
    Ok(Shared {
        tokens: Arc::new(AccessTokens::new(
            &secret,
            previous.as_deref(),
            &settings.tokens,
        )),
        throttle: LoginThrottle::new(
            Limits {
                per_account: settings.login.max_failures,
                per_address: settings.login.max_failures_per_address,
                window: settings.login.failure_window,
                ipv6_prefix_len: settings.login.ipv6_prefix_len,
                account_refuses_all: settings.login.account_lockout == AccountLockout::Refuse,
            },
            store.postgres_pool().map(SharedFailures::new),
        ),
        passwords: Arc::new(PasswordGate::new(
            settings.hash_workers(),
            settings.login.hash_queue,
        )),
        leptos_options: leptos_options(settings.server.site_addr),
        bundle: bundle::BundleUrls::of_site(&settings.server.site_root, OUTPUT_NAME),
        dummy_password_hash: dummy_password_hash.into(),
        settings,
        store,
    })
}

/// The configured key; else, on PostgreSQL, the one every instance shares (generated by
/// the first to start, wrapped if there is a key-encryption key); else the one generated
/// once and kept in `data_dir`.
async fn signing_key(settings: &Settings, store: &Store) -> Result<Vec<u8>, StartupError> {
    let configured = &settings.tokens.jwt_secret;
    if configured.is_empty() {
        let kek = settings
            .tokens
            .key_encryption_key()?
            .as_ref()
            .and_then(KeyEncryptionKey::from_secret);
        let shared = key_wrap::shared_signing_key(store, generate_key_text(), kek.as_ref())
            .await
            .map_err(|error| match error {
                SharedKeyError::Db(error) => StartupError::Db(error),
                other => StartupError::StoredKey(other.to_string()),
            })?;
        if let Some(shared) = shared {
            return Secret::new(shared).key_bytes().ok_or_else(|| {
                StartupError::Secret(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "the signing key stored in the database is not 32+ bytes of base64",
                ))
            });
        }
    }
    load_or_create_secret(configured, &settings.server.data_dir).map_err(StartupError::Secret)
}

/// Leptos' options, from our settings rather than cargo-leptos' environment, so the binary
/// runs the same anywhere. `cargo leptos watch` (which sets `LEPTOS_WATCH`), or
/// `LEPTOS_ENV=DEV`, turns on live reload and lets the page's CSP reach its socket.
fn leptos_options(site_addr: SocketAddr) -> LeptosOptions {
    let dev = std::env::var_os("LEPTOS_WATCH").is_some()
        || std::env::var("LEPTOS_ENV").is_ok_and(|env| env.eq_ignore_ascii_case("dev"));
    let reload_port = std::env::var("LEPTOS_RELOAD_PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3001);
    LeptosOptions::builder()
        .output_name(OUTPUT_NAME)
        .site_pkg_dir("pkg")
        .site_addr(site_addr)
        .reload_port(reload_port)
        .env(if dev {
            leptos::config::Env::DEV
        } else {
            leptos::config::Env::PROD
        })
        .build()
}

/// The app's page routes, found once per process. leptos walks the app to find them with
/// a process-wide switch turned on that makes every `Resource` created meanwhile wait
/// forever (`SuppressResourceLoad`): a page rendered by another server in this process
/// (tests start many) while a second one built its router hung until the request timeout.
/// Found once, before any server exists, nothing can render during the walk.
fn page_routes() -> &'static [AxumRouteListing] {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App))
}

/// The whole app: `/api`, the Leptos pages, static files; usable without a socket.
pub(crate) fn router(state: AppState) -> Router {
    if !bundle::embedded_site_is_complete(OUTPUT_NAME) && state.settings.server.site_root.is_empty()
    {
        tracing::warn!("the site is missing (no pkg/{OUTPUT_NAME}.wasm): build with `cargo leptos build`; pages will not hydrate");
    }
    let api = routes::router(&state.settings)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_origin,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            answer_in_mode,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_rejections,
        ))
        // Answers carry tokens and personal data: no cache may keep them.
        .layer(SetResponseHeaderLayer::overriding(
            CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("handler panicked".into()).into_response()
        }))
        .layer(DefaultBodyLimit::max(state.settings.server.max_body_bytes));
    // The refresh lab exists only in demo mode; otherwise `/lab` is an unknown page (404).
    let demo = state.settings.demo.enabled;
    let routes: Vec<_> = page_routes()
        .iter()
        .filter(|route| demo || route.path() != crate::api::pages::LAB)
        .cloned()
        .collect();
    let leptos_state = state.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || ssr::provide_page_context(leptos_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .layer(middleware::from_fn_with_state(
            Arc::new(PageCache::default()),
            page_cache::serve_from_cache,
        ));
    let mut app = Router::new()
        .merge(api)
        .merge(forms::router(state.clone()))
        .merge(pages)
        .fallback(assets::static_file_or_not_found)
        .layer(middleware::map_response(set_default_headers))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            security_headers::strict_transport_security,
        ))
        .layer(middleware::from_fn(ssr::send_pages_whole))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_timeout,
        ))
        // Outermost but for tracing: every answer below, refusals of the layers above
        // included, speaks the request's language.
        .layer(middleware::from_fn(language::speak_the_request_language));
    // Timed only when metrics are served: the labels cost allocations on every request.
    if state.settings.metrics_addr().is_some() {
        app = app.layer(middleware::from_fn(metrics::time_requests));
    }
    app.layer(CatchPanicLayer::custom(|_| {
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }))
    .layer(
        TraceLayer::new_for_http()
            // Only the path: query strings may carry `?token=`, which must never be logged.
            .make_span_with(|request: &Request| {
                tracing::info_span!(
                    "http",
                    method = %request.method(),
                    path = %request.uri().path(),
                    errcode = tracing::field::Empty,
                )
            })
            .on_request(())
            .on_response(DefaultOnResponse::new().level(Level::INFO))
            // Not ERROR per 5xx: a refused login flood (503s) would flood the log. The
            // access line above has the status; internal causes are logged once by
            // `count_rejections`.
            .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
    )
    .with_state(state)
}

/// The headers every answer gets unless it sets its own. Pages are rendered for the
/// logged-in user (`private, no-cache`); static files and `/api` set their own policy.
const DEFAULT_HEADERS: [(HeaderName, &str); 7] = [
    (CACHE_CONTROL, "private, no-cache"),
    (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        security_headers::OPENER_POLICY,
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        security_headers::RESOURCE_POLICY,
    ),
    (REFERRER_POLICY, "same-origin"),
    (
        HeaderName::from_static("permissions-policy"),
        security_headers::PERMISSIONS_POLICY,
    ),
];

/// Sets [`DEFAULT_HEADERS`] that the response does not set itself: one layer, not one per
/// header (seven layers cost the small `/api` answers 15 % of their throughput).
async fn set_default_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in DEFAULT_HEADERS {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

/// Answers 408 when a request, its body included, takes longer than
/// `server.request_timeout_secs`; on `/api` as the envelope.
async fn request_timeout(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.settings.server.request_timeout;
    let is_api = request.uri().path().starts_with("/api/") || request.uri().path() == "/api";
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) if is_api => ApiError::RequestTimeout.into_response(),
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Counts `/api` answers per errcode (refusals also in memory; see `maintenance`), puts
/// the errcode on the request's log line and logs internal causes once.
async fn count_rejections(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let rejected = response.extensions().get::<Rejected>();
    let code = rejected.map_or(ErrCode::Ok, |rejected| rejected.code);
    if let Some(rejected) = rejected {
        if let Some(cause) = &rejected.cause {
            tracing::error!(%cause, "internal error");
        }
        state.store.count_rejection(rejected.code);
    }
    tracing::Span::current().record("errcode", code.code());
    metrics::api_answer(code);
    response
}
