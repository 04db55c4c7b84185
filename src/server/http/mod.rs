//! HTTP around the handlers, outermost first: the accept loop and its timeouts, who sent a
//! request, the cross-site check, security headers, the request's language, static assets,
//! the cache of anonymous pages and server rendering, and the one error type every `/api`
//! answer goes through. Uses `auth` (the visitor of a render) and `ops` (settings, state).

pub(crate) mod assets; // serving the static files, and the 404 page
pub(crate) mod bundle; // the embedded site, its URLs, versions and WASM chunks
pub(crate) mod cross_origin; // refusing cross-site state-changing requests
pub(crate) mod error; // `ApiError` and the envelope, in one place
pub(crate) mod language; // the language of each request
pub(crate) mod page_cache; // anonymous pages rendered once per path and language
pub(crate) mod requester; // who sent a request and over which scheme, behind trusted proxies
pub(crate) mod security_headers; // CSP with a nonce, HSTS, and the rest
pub(crate) mod serve; // the accept loop: timeouts, connection limits, shutdown
pub(crate) mod ssr; // what server rendering gets from the server
