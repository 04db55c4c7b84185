//! The OpenAPI 3.1 document of `/api`, served at `GET /api/openapi.json`.
//!
//! Each endpoint's path, method, parameters, body and success answer come from its
//! handler's `#[utoipa::path]` attribute, registered together with the route by utoipa-axum
//! (`routes/`, `auth/handlers.rs`), and the bodies from the wire types in `crate::api`. What holds for many
//! endpoints at once — the refusals a request can meet, and the security schemes as this
//! deployment configures them — is added here, once.

use std::borrow::Cow;

use utoipa::openapi::content::Content;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AnyOfBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{
    ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{LicenseBuilder, OpenApi, Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::api::{paths, Envelope, ErrCode};
use crate::server::auth::extract::refresh_cookie_name;
use crate::server::ops::config::{AuthErrors, SecureCookies, Settings};

/// Names of the security schemes, as the handlers' attributes use them.
pub(crate) mod scheme {
    pub const BEARER: &str = "bearer";
    pub const QUERY_APPKEY: &str = "appkey";
    pub const QUERY_TOKEN: &str = "token";
    pub const REFRESH_COOKIE: &str = "refresh_cookie";
}

/// Tags that group the endpoints.
pub(crate) mod tag {
    pub const AUTH: &str = "auth";
    pub const ACCOUNT: &str = "account";
    pub const DEMO: &str = "demo";
    pub const OPERATIONS: &str = "operations";
}

/// The envelopes the handlers answer with, named so that `#[utoipa::path]` sees plain types
/// (it composes generic ones through an interface of its own that is not public).
pub(crate) mod answers {
    use super::Nothing;
    use crate::api::{
        AccessGrant, ActiveSession, CountersReport, EndedSessions, Envelope, Lifetime, OrdersPage,
        Profile, Stats,
    };

    pub(crate) type TextAnswer = Envelope<String>;
    pub(crate) type GrantAnswer = Envelope<AccessGrant>;
    pub(crate) type EmptyAnswer = Envelope<Nothing>;
    pub(crate) type ProfileAnswer = Envelope<Profile>;
    pub(crate) type OrdersAnswer = Envelope<OrdersPage>;
    pub(crate) type SessionsAnswer = Envelope<Vec<ActiveSession>>;
    pub(crate) type EndedAnswer = Envelope<EndedSessions>;
    pub(crate) type StatsAnswer = Envelope<Stats>;
    pub(crate) type LifetimeAnswer = Envelope<Lifetime>;
    pub(crate) type CountersAnswer = Envelope<CountersReport>;
}

/// What every `200` answer may be: success, or a business refusal that says what to do.
pub(crate) const OK_OR_REFUSED: &str = "The envelope. `errcode` 0 with `data`, or a business \
     refusal with `data` null: 30001, 40001, 40014 or 42001 — refresh the access token and \
     replay; 42002 — log in again; 40101 — wrong credentials; 40300 — demo mode is off.";

/// The errcode table as an integer enum; its description names each code.
impl PartialSchema for ErrCode {
    fn schema() -> RefOr<Schema> {
        let table: Vec<String> = ErrCode::ALL
            .iter()
            .map(|code| format!("- `{}` {code:?}: {}", code.code(), code.default_message()))
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
            .minimum(Some(0))
            .maximum(Some(99_999))
            .enum_values(Some(ErrCode::ALL.map(ErrCode::code)))
            .description(Some(format!(
                "What happened; never changes with the language of `errmsg`.\n\n{}",
                table.join("\n")
            )))
            .into()
    }
}

impl ToSchema for ErrCode {}

/// The envelope of an endpoint whose `data` is `T`: `data` is null whenever `errcode` is not
/// 0, so the schema allows both (written out because a derived generic field is neither
/// nullable nor required). Registered as `Envelope_<T>`.
impl<T: ToSchema> PartialSchema for Envelope<T> {
    fn schema() -> RefOr<Schema> {
        let data = AnyOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .item(T::schema());
        envelope_schema(data)
    }
}

impl<T: ToSchema> ToSchema for Envelope<T> {
    fn name() -> Cow<'static, str> {
        format!("Envelope_{}", short_type_name::<T>()).into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ErrCode::name().into_owned(), ErrCode::schema()));
        T::schemas(schemas);
    }
}

/// `{errcode, errmsg, data}`, all three always present.
fn envelope_schema(data: impl Into<RefOr<Schema>>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .property("errcode", Ref::from_schema_name(ErrCode::name()))
        .property("errmsg", ObjectBuilder::new().schema_type(Type::String))
        .property("data", data)
        .required("errcode")
        .required("errmsg")
        .required("data")
        .into()
}

/// `alloc::vec::Vec<painless::api::ActiveSession>` → `Vec_ActiveSession`.
fn short_type_name<T>() -> String {
    std::any::type_name::<T>()
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .filter(|path| !path.is_empty())
        .map(|path| path.rsplit("::").next().unwrap_or(path))
        .collect::<Vec<_>>()
        .join("_")
}

/// A refused request's envelope: `data` is always null.
pub(crate) struct RefusalBody;

impl PartialSchema for RefusalBody {
    fn schema() -> RefOr<Schema> {
        envelope_schema(ObjectBuilder::new().schema_type(Type::Null))
    }
}

impl ToSchema for RefusalBody {
    fn name() -> Cow<'static, str> {
        "Refusal".into()
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ErrCode::name().into_owned(), ErrCode::schema()));
    }
}

/// `data` of endpoints that answer nothing but success or refusal.
pub(crate) struct Nothing;

impl PartialSchema for Nothing {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().schema_type(Type::Null).into()
    }
}

impl ToSchema for Nothing {}

/// A refusal answered with an HTTP status other than 200.
#[derive(Clone, Copy)]
enum Refused {
    InvalidInput,
    CrossOrigin,
    RequestTimeout,
    PayloadTooLarge,
    Internal,
    Unavailable,
}

impl Refused {
    fn status(self) -> &'static str {
        match self {
            Refused::InvalidInput => "400",
            Refused::CrossOrigin => "403",
            Refused::RequestTimeout => "408",
            Refused::PayloadTooLarge => "413",
            Refused::Internal => "500",
            Refused::Unavailable => "503",
        }
    }

    fn response(self) -> Response {
        let description = match self {
            Refused::InvalidInput => {
                "40002: the body or the query string is malformed or out of range"
            }
            Refused::CrossOrigin => "40301: a state-changing request from another site",
            Refused::RequestTimeout => "40800: the request was not complete in time",
            Refused::PayloadTooLarge => "41300: the body is larger than the server accepts",
            Refused::Internal => "50000: the server failed; the cause is in its log",
            Refused::Unavailable => {
                "50301: the database cannot be reached, or (login) 50300: every password \
                 hashing worker is busy; nothing was changed, try again after `Retry-After`"
            }
        };
        let mut response = refusal_response(description);
        if matches!(self, Refused::Unavailable) {
            response = response.header("Retry-After", retry_after());
        }
        response.build()
    }
}

/// The answer of a refused request, for the handlers' own refusals (the login throttle).
pub(crate) fn refusal_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        Content::new(Some(Ref::from_schema_name(RefusalBody::name()))),
    )
}

/// The `Retry-After` header of a refusal: seconds to wait.
pub(crate) fn retry_after() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
                .minimum(Some(0))
                .maximum(Some(3_600)),
        )
        .description(Some("Seconds to wait before trying again"))
        .build()
}

/// The finished document for this deployment's settings: the refusals every operation can
/// meet, and only the security schemes that are switched on.
pub(crate) fn complete(mut doc: OpenApi, settings: &Settings) -> OpenApi {
    doc.info.title = "painless".into();
    doc.info.description = Some(
        "Every answer is the envelope `{errcode, errmsg, data}`. Business refusals answer \
         HTTP 200 with a non-zero errcode; malformed requests and server trouble answer a \
         fitting 4xx/5xx with the same envelope. Errcodes never change with the language."
            .into(),
    );
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    // Not utoipa-axum's own, which its default document carries.
    doc.info.contact = None;
    doc.info.license = Some(
        LicenseBuilder::new()
            .name(env!("CARGO_PKG_LICENSE"))
            .identifier(Some(env!("CARGO_PKG_LICENSE")))
            .build(),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        for (is_post, operation) in operations(item) {
            add_refusals(path, is_post, operation);
            if settings.server.auth_errors == AuthErrors::Http {
                describe_http_statuses(path, operation);
            }
            bound_headers(operation);
            if !settings.server.query_tokens {
                drop_query_credentials(operation);
            }
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components
        .schemas
        .insert(RefusalBody::name().into_owned(), RefusalBody::schema());
    components
        .schemas
        .insert(ErrCode::name().into_owned(), ErrCode::schema());
    components.add_security_scheme(
        scheme::BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "The access token from login or refresh; short-lived (`expires_in`). \
                     A JWT verified as RFC8725 recommends: HS256 only (no `none`, no key \
                     confusion), typed `at+jwt` (RFC 9068), issuer, audience and expiry \
                     checked with no leeway, an `iat` not in the future.",
                ))
                .build(),
        ),
    );
    if settings.server.query_tokens {
        components.add_security_scheme(
            scheme::QUERY_APPKEY,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "appkey",
                "The original client's scheme, with `token`: the user's customer code.",
            ))),
        );
        components.add_security_scheme(
            scheme::QUERY_TOKEN,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The original client's scheme, with `appkey`: the access token. URLs are \
                 logged by proxies; prefer the bearer header.",
            ))),
        );
    }
    let (cookie, https_note) = match settings.server.secure_cookies {
        SecureCookies::Always => (refresh_cookie_name(true), String::new()),
        SecureCookies::Never => (refresh_cookie_name(false), String::new()),
        SecureCookies::Auto => (
            refresh_cookie_name(false),
            format!(" Over HTTPS its name is `{}`.", refresh_cookie_name(true)),
        ),
    };
    components.add_security_scheme(
        scheme::REFRESH_COOKIE,
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
            cookie,
            &format!(
                "The refresh token: HttpOnly, SameSite=Strict, set by login and refresh, \
                 rotated on every refresh.{https_note}"
            ),
        ))),
    );
    doc
}

/// The operations of a path, each with whether it is a POST.
fn operations(item: &mut PathItem) -> impl Iterator<Item = (bool, &mut Operation)> {
    [(false, item.get.as_mut()), (true, item.post.as_mut())]
        .into_iter()
        .filter_map(|(is_post, operation)| Some((is_post, operation?)))
}

/// The refusals that follow from what an operation takes, rather than from its handler.
fn add_refusals(path: &str, is_post: bool, operation: &mut Operation) {
    let takes_input = operation.request_body.is_some()
        || operation
            .parameters
            .as_ref()
            .is_some_and(|parameters| !parameters.is_empty());
    let mut refusals = vec![Refused::RequestTimeout, Refused::Internal];
    // Liveness never touches the database.
    if path != paths::HEALTH {
        refusals.push(Refused::Unavailable);
    }
    if is_post {
        refusals.push(Refused::CrossOrigin);
    }
    if takes_input {
        refusals.push(Refused::InvalidInput);
    }
    if operation.request_body.is_some() {
        refusals.push(Refused::PayloadTooLarge);
    }
    for refused in refusals {
        operation
            .responses
            .responses
            .entry(refused.status().into())
            .or_insert_with(|| refused.response().into());
    }
}

/// In the `http` mode of `server.auth_errors` the refusals that answer 200 in the
/// envelope mode get their RFC 6750 status (`http/error.rs` decides which): a refused or
/// missing access token 401 with `WWW-Authenticate`, a refused refresh cookie or login
/// 400, the demo controls while off 403; a 200 is then a success.
fn describe_http_statuses(path: &str, operation: &mut Operation) {
    // A requirement's map of schemes is private; its serialized form names them.
    let uses = |name: &str| {
        operation.security.iter().flatten().any(|requirement| {
            serde_json::to_value(requirement).is_ok_and(|value| value.get(name).is_some())
        })
    };
    let bearer = uses(scheme::BEARER);
    let demo = operation.tags.iter().flatten().any(|t| t == tag::DEMO);
    let mut refusals: Vec<(&str, &str)> = Vec::new();
    if bearer {
        refusals.push((
            "401",
            "30001, 40014 or 42001: the access token was refused — refresh it and replay \
             (`WWW-Authenticate: Bearer error=\"invalid_token\"`); 40001: no access token \
             (`WWW-Authenticate: Bearer`)",
        ));
    }
    if path == paths::REFRESH || demo {
        refusals.push((
            "400",
            "42002: the refresh cookie's session is over — log in again",
        ));
    }
    if path == paths::LOGIN {
        refusals.push(("400", "40101: wrong customer code, username or password"));
    }
    if demo {
        refusals.push(("403", "40300: demo mode is off"));
    }
    let responses = &mut operation.responses.responses;
    if let Some(RefOr::T(ok)) = responses.get_mut("200") {
        ok.description = "The envelope with `errcode` 0 and `data`.".into();
    }
    for (status, description) in refusals {
        match responses.get_mut(status) {
            Some(RefOr::T(existing)) => {
                existing.description = format!("{}; or {description}", existing.description);
            }
            _ => {
                let mut response = refusal_response(description);
                if status == "401" {
                    response = response.header("WWW-Authenticate", www_authenticate());
                }
                responses.insert(status.into(), response.build().into());
            }
        }
    }
}

/// The challenge of a 401 (RFC 6750 §3).
fn www_authenticate() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(64))
                .enum_values(Some([r#"Bearer error="invalid_token""#, "Bearer"])),
        )
        .description(Some(
            "`Bearer`, with `error=\"invalid_token\"` when a token was refused",
        ))
        .build()
}

/// Headers as precise as the rest: `Set-Cookie` carries the refresh cookie in at most
/// 4096 bytes (what RFC 6265 §6.1 asks a browser to keep), `Retry-After` whole seconds.
fn bound_headers(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if let Some(header) = response.headers.get_mut("Set-Cookie") {
            header.schema = ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(4096))
                .pattern(Some("^(__Host-)?painless_refresh="))
                .into();
        }
        if let Some(header) = response.headers.get_mut("Retry-After") {
            header.schema = retry_after().schema;
        }
    }
}

/// Removes the `?appkey=&token=` alternative where the deployment does not take it.
fn drop_query_credentials(operation: &mut Operation) {
    let query_requirement = SecurityRequirement::new(scheme::QUERY_APPKEY, Vec::<String>::new())
        .add(scheme::QUERY_TOKEN, Vec::<String>::new());
    if let Some(security) = operation.security.as_mut() {
        security.retain(|requirement| requirement != &query_requirement);
    }
}
