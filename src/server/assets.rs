//! Static files (WASM, JS, CSS, public assets): embedded into the binary at build time so a
//! release binary is the whole site, or read from `server.site_root` when one is set.
//! Whatever is not a file is rendered by the app as its 404 page.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::state::AppState;
use crate::app::shell;

/// The site cargo-leptos built. Release builds carry the files; debug builds read them
/// from this folder at run time, so `cargo leptos watch` serves fresh files.
#[derive(rust_embed::RustEmbed)]
#[folder = "target/site"]
#[allow_missing = true]
struct Site;

/// Whether the embedded site holds the WASM bundle (a release binary built without
/// `cargo leptos build` would serve pages that never hydrate).
pub(crate) fn embedded_site_is_complete(output_name: &str) -> bool {
    Site::get(&format!("pkg/{output_name}.wasm")).is_some()
        && Site::get(&format!("pkg/{output_name}.js")).is_some()
}

/// The module the main JS file imports to load WASM chunks; cargo-leptos writes it under
/// this name (`--split`, file hashing off), next to the bundle.
const SPLIT_LOADER: &str = "pkg/__wasm_split.______________________.js";

/// The URL of the WASM-split loader, if the site served (embedded or from `site_root`)
/// has one.
pub(crate) fn split_loader_url(site_root: &str) -> Option<String> {
    let present = if site_root.is_empty() {
        Site::get(SPLIT_LOADER).is_some()
    } else {
        std::path::Path::new(site_root).join(SPLIT_LOADER).is_file()
    };
    present.then(|| format!("/{SPLIT_LOADER}"))
}

pub(crate) async fn static_file_or_not_found(
    State(state): State<AppState>,
    request: Request,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let site_root = state.settings.server.site_root.clone();
        if site_root.is_empty() {
            if let Some(response) = embedded(request.uri().path(), request.headers()) {
                return response;
            }
        } else {
            let (parts, _) = request.into_parts();
            let probe = Request::from_parts(parts.clone(), Body::empty());
            let Ok(response) = ServeDir::new(&site_root)
                .precompressed_br()
                .precompressed_gzip()
                .oneshot(probe)
                .await;
            if response.status() != StatusCode::NOT_FOUND {
                return response.into_response();
            }
            return not_found_page(state, Request::from_parts(parts, Body::empty())).await;
        }
    }
    not_found_page(state, request).await
}

fn embedded(path: &str, headers: &HeaderMap) -> Option<Response> {
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with('/') {
        return None;
    }
    let file = Site::get(path)?;
    let accepts = headers
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (body, encoding) = [("br", ".br"), ("gzip", ".gz")]
        .into_iter()
        .filter(|(name, _)| {
            accepts
                .split(',')
                .any(|a| a.split(';').next().is_some_and(|a| a.trim() == *name))
        })
        .find_map(|(name, suffix)| {
            Site::get(&format!("{path}{suffix}")).map(|f| (f.data, Some(name)))
        })
        .unwrap_or((file.data, None));
    let etag = format!(
        "\"{}{}\"",
        hex(&file.metadata.sha256_hash()[..12]),
        encoding.map(|e| format!("-{e}")).unwrap_or_default()
    );
    let mut response = if headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Body::from(body.into_owned()).into_response()
    };
    let response_headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(file.metadata.mimetype()) {
        response_headers.insert(CONTENT_TYPE, mime);
    }
    if let Some(encoding) = encoding {
        response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response_headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    // File names are not content-hashed, so browsers revalidate with the ETag.
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, etag);
    }
    Some(response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The app's own 404 page, with status 404.
async fn not_found_page(state: AppState, request: Request) -> Response {
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || provide_context(state.clone()),
        move || shell(options.clone()),
    );
    let mut response = handler(request).await.into_response();
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}
