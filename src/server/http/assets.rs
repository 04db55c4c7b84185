//! Static files (WASM, JS, CSS, public assets), from the bundle (`bundle.rs`): embedded
//! into the binary at build time so a release binary is the whole site, or read from
//! `server.site_root` when one is set. Whatever is not a file is rendered by the app as
//! its 404 page.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::ServeDir;

use super::bundle::{bundle_version, hex, unversioned, Build, BundleUrls, Site};
use crate::app::shell;
use crate::server::http::ssr::provide_page_context;
use crate::server::ops::state::AppState;

pub(crate) async fn static_file_or_not_found(
    State(state): State<AppState>,
    request: Request,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        let site_root = state.settings.server.site_root.clone();
        if site_root.is_empty() {
            if let Some(response) = embedded(request.uri().path(), request.headers(), &state.bundle)
            {
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

fn embedded(path: &str, headers: &HeaderMap, bundle: &BundleUrls) -> Option<Response> {
    let path = path.trim_start_matches('/');
    if path.is_empty() || path.ends_with('/') {
        return None;
    }
    let (path, build) = unversioned(path, bundle_version());
    let chunk_of_another_build = build == Build::Other
        && path
            .strip_prefix("pkg/")
            .is_some_and(|file| bundle.is_chunk(file));
    if chunk_of_another_build {
        return None;
    }
    let file = Site::get(&path)?;
    let mime = HeaderValue::from_str(file.metadata.mimetype()).ok();
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
    if let Some(mime) = mime {
        response_headers.insert(CONTENT_TYPE, mime);
    }
    if let Some(encoding) = encoding {
        response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    response_headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    let cache = match build {
        Build::This => "public, max-age=31536000, immutable",
        // A plain or another build's URL: browsers revalidate with the ETag.
        Build::Other | Build::Unnamed => "no-cache",
    };
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, etag);
    }
    Some(response)
}

/// The app's own 404 page, with status 404, rendered like the routes' pages: whole, with
/// the same context and a CSP of its own.
async fn not_found_page(state: AppState, request: Request) -> Response {
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_async_with_context(
        move || provide_page_context(state.clone()),
        move || shell(options.clone()),
    );
    let mut response = handler(request).await.into_response();
    if response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NOT_FOUND;
    }
    response
}
