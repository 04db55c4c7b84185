//! One logical API request, as the coordinator sends and, if needed, replays it.

use serde::Serialize;

use crate::api::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Everything needed to send a request again with a new token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: Method,
    /// Path and query, e.g. `/api/orders?page=2&page_size=10`.
    pub path: String,
    /// JSON body of a POST.
    pub body: Option<String>,
    /// Never triggers or waits for a refresh (login, refresh, logout, demo controls).
    pub bypass: bool,
}

impl ApiRequest {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            body: None,
            bypass: false,
        }
    }

    /// A POST with a JSON body.
    pub fn post(path: impl Into<String>, body: &impl Serialize) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            // Serialising our own plain structs cannot fail.
            body: Some(json::to_string(body).unwrap_or_else(|_| "null".to_owned())),
            bypass: false,
        }
    }

    /// A POST without a body.
    pub fn post_empty(path: impl Into<String>) -> Self {
        Self {
            method: Method::Post,
            path: path.into(),
            body: None,
            bypass: false,
        }
    }

    /// Marks the request as one that must never trigger or wait for a refresh.
    pub fn bypassing_refresh(mut self) -> Self {
        self.bypass = true;
        self
    }

    /// `GET /api/me`, for logs and the refresh lab.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.path)
    }
}
