//! One error type for every `/api` handler, mapped to the envelope in one place, and the
//! extractors whose rejections become that error (so malformed input answers the envelope).
//! In `server.auth_errors = "http"` mode the same envelopes carry the statuses a standard
//! client keys on ([`standard_status`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::State;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::WWW_AUTHENTICATE;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;

use crate::api::{Envelope, ErrCode};
use crate::i18n::Key;
use crate::server::http::language;
use crate::server::ops::config::AuthErrors;
use crate::server::ops::state::AppState;

/// Everything an `/api` handler can fail with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("missing access token")]
    MissingToken,
    #[error("invalid access token")]
    InvalidToken,
    #[error("access token expired")]
    TokenExpired,
    #[error("session superseded")]
    SessionSuperseded,
    /// The refresh token is missing, unknown, spent, revoked or expired. Deliberately one
    /// answer for all: a thief must not learn that reuse was detected. The server logs which.
    #[error("session over")]
    SessionOver,
    #[error("bad login")]
    BadLogin,
    #[error("too many failed logins")]
    RateLimited,
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("no such endpoint")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("demo controls are disabled")]
    DemoDisabled,
    #[error("cross-origin request refused")]
    CrossOrigin,
    #[error("request timed out")]
    RequestTimeout,
    #[error("too busy")]
    Overloaded,
    /// The database cannot be reached; the store logs it once per outage.
    #[error("database unavailable")]
    Unavailable,
    /// The cause is logged by the middleware, never sent to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Put on error responses so middleware can count and log them without parsing bodies.
#[derive(Debug, Clone)]
pub(crate) struct Rejected {
    pub code: ErrCode,
    /// For internal errors only: what went wrong, for the log.
    pub cause: Option<String>,
}

impl ApiError {
    /// The errcode this error answers with.
    pub(crate) fn code(&self) -> ErrCode {
        self.parts().1
    }

    /// HTTP status, errcode and public message. Business errors answer 200 as the original
    /// backend did; protocol errors carry a fitting status too.
    fn parts(&self) -> (StatusCode, ErrCode, String) {
        use ApiError::*;
        let (status, code) = match self {
            MissingToken => (StatusCode::OK, ErrCode::InvalidCredential),
            InvalidToken => (StatusCode::OK, ErrCode::InvalidAccessToken),
            TokenExpired => (StatusCode::OK, ErrCode::AccessTokenExpired),
            SessionSuperseded => (StatusCode::OK, ErrCode::SessionSuperseded),
            SessionOver => (StatusCode::OK, ErrCode::SessionOver),
            BadLogin => (StatusCode::OK, ErrCode::BadLogin),
            DemoDisabled => (StatusCode::OK, ErrCode::DemoDisabled),
            RateLimited => (StatusCode::TOO_MANY_REQUESTS, ErrCode::RateLimited),
            InvalidInput(_) => (StatusCode::BAD_REQUEST, ErrCode::InvalidInput),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, ErrCode::PayloadTooLarge),
            NotFound => (StatusCode::NOT_FOUND, ErrCode::NotFound),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, ErrCode::MethodNotAllowed),
            CrossOrigin => (StatusCode::FORBIDDEN, ErrCode::CrossOrigin),
            RequestTimeout => (StatusCode::REQUEST_TIMEOUT, ErrCode::RequestTimeout),
            Overloaded => (StatusCode::SERVICE_UNAVAILABLE, ErrCode::Overloaded),
            Unavailable => (StatusCode::SERVICE_UNAVAILABLE, ErrCode::Unavailable),
            Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, ErrCode::Internal),
        };
        // In the request's language; the details of malformed input stay as the parser
        // wrote them (English).
        let locale = language::current();
        let message = match self {
            InvalidInput(detail) => locale.format(Key::InvalidInputDetail, &[("detail", detail)]),
            _ => locale.errmsg(code).to_owned(),
        };
        (status, code, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        let cause = match self {
            ApiError::Internal(cause) => Some(cause),
            _ => None,
        };
        let mut response = (status, Json(Envelope::<()>::error(code, message))).into_response();
        // Overload passes within a second; a database outage takes longer; a throttle
        // lasts its window, but clients should not hammer it either.
        let retry_after = match code {
            ErrCode::Overloaded => Some("1"),
            ErrCode::Unavailable => Some("5"),
            ErrCode::RateLimited => Some("60"),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static(seconds),
            );
        }
        response.extensions_mut().insert(Rejected { code, cause });
        response
    }
}

/// The status of an errcode in `"http"` mode, and its `WWW-Authenticate` challenge, from
/// the status it has in the envelope mode. RFC 6750 §3.1: a refused access token answers
/// `401` with `error="invalid_token"`, a request without one `401` with a bare challenge.
/// A refused refresh token or login answers `400`, as an OAuth token endpoint answers
/// `invalid_grant` (RFC 6749 §5.2): a standard client must not take either for "refresh
/// and retry". Every errcode is named, so that a new one cannot be forgotten.
pub(crate) fn standard_status(
    code: ErrCode,
    envelope_status: StatusCode,
) -> (StatusCode, Option<&'static str>) {
    use ErrCode::*;
    match code {
        SessionSuperseded | InvalidAccessToken | AccessTokenExpired => (
            StatusCode::UNAUTHORIZED,
            Some(r#"Bearer error="invalid_token""#),
        ),
        InvalidCredential => (StatusCode::UNAUTHORIZED, Some("Bearer")),
        SessionOver | BadLogin => (StatusCode::BAD_REQUEST, None),
        DemoDisabled => (StatusCode::FORBIDDEN, None),
        Ok | InvalidInput | PayloadTooLarge | NotFound | MethodNotAllowed | RateLimited
        | CrossOrigin | RequestTimeout | Internal | Overloaded | Unavailable => {
            (envelope_status, None)
        }
    }
}

/// Gives every refused `/api` answer the status of the configured mode (see
/// [`standard_status`]); the envelope and its errcode stay as they are.
pub(crate) async fn answer_in_mode(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if state.settings.server.auth_errors == AuthErrors::Http {
        if let Some(code) = response.extensions().get::<Rejected>().map(|r| r.code) {
            let (status, challenge) = standard_status(code, response.status());
            *response.status_mut() = status;
            if let Some(challenge) = challenge {
                response
                    .headers_mut()
                    .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
            }
        }
    }
    response
}

impl From<crate::server::store::DbError> for ApiError {
    fn from(error: crate::server::store::DbError) -> Self {
        if error.is_unavailable() {
            ApiError::Unavailable
        } else {
            ApiError::Internal(error.to_string())
        }
    }
}

/// What every successful handler returns: `{"errcode": 0, "errmsg": "ok", "data": …}`.
pub(crate) struct Data<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Data<T> {
    fn into_response(self) -> Response {
        let mut envelope = Envelope::ok(self.0);
        envelope.errmsg = language::current().errmsg(ErrCode::Ok).to_owned();
        Json(envelope).into_response()
    }
}

pub(crate) type ApiResult<T> = Result<Data<T>, ApiError>;

/// `Json<T>` whose rejection is an [`ApiError`].
pub(crate) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(request, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::BytesRejection(_) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::InvalidInput(
            "expected a JSON body with Content-Type: application/json".into(),
        ),
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::InvalidInput("body is not valid JSON".into())
        }
        JsonRejection::JsonDataError(e) => ApiError::InvalidInput(e.body_text().replace(
            "Failed to deserialize the JSON body into the target type: ",
            "",
        )),
        other => ApiError::InvalidInput(other.body_text()),
    }
}

/// `Query<T>` whose rejection is an [`ApiError`].
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    ApiError::InvalidInput(
        rejection
            .body_text()
            .replace("Failed to deserialize query string: ", "query string: "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_http_mode_exactly_the_refresh_errcodes_answer_401() {
        for code in ErrCode::ALL {
            let (status, challenge) = standard_status(code, StatusCode::OK);
            let refresh = ErrCode::DEFAULT_REFRESH_SET.contains(&code);
            assert_eq!(status == StatusCode::UNAUTHORIZED, refresh, "{code:?}");
            assert_eq!(challenge.is_some(), refresh, "{code:?}");
        }
        // (errcode, its status in the envelope mode, in the http mode)
        for (code, envelope, http) in [
            (
                ErrCode::SessionOver,
                StatusCode::OK,
                StatusCode::BAD_REQUEST,
            ),
            (ErrCode::BadLogin, StatusCode::OK, StatusCode::BAD_REQUEST),
            (ErrCode::DemoDisabled, StatusCode::OK, StatusCode::FORBIDDEN),
            (
                ErrCode::NotFound,
                StatusCode::NOT_FOUND,
                StatusCode::NOT_FOUND,
            ),
            (
                ErrCode::Unavailable,
                StatusCode::SERVICE_UNAVAILABLE,
                StatusCode::SERVICE_UNAVAILABLE,
            ),
        ] {
            assert_eq!(standard_status(code, envelope).0, http, "{code:?}");
        }
    }

    /// The errcode table of `docs/api.md` states both modes' statuses; they are these.
    #[test]
    fn the_errcode_table_states_each_modes_status() {
        let document = include_str!("../../../docs/api.md");
        let status = |cell: &str| -> StatusCode {
            let number = cell.trim().split(' ').next().unwrap_or_default();
            number
                .parse::<u16>()
                .ok()
                .and_then(|n| StatusCode::from_u16(n).ok())
                .unwrap_or_else(|| panic!("a status in {cell:?}"))
        };
        for code in ErrCode::ALL {
            let prefix = format!("| {} | {code:?} |", code.code());
            let row = document
                .lines()
                .find(|line| line.starts_with(&prefix))
                .unwrap_or_else(|| panic!("docs/api.md has no row for {code:?}"));
            let cells: Vec<&str> = row.trim_matches('|').split(" | ").collect();
            let (envelope, http) = (status(cells[3]), status(cells[4]));
            assert_eq!(standard_status(code, envelope).0, http, "{code:?}: {row}");
        }
    }
}
