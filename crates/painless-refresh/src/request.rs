//! One logical request, as the coordinator sends it and, if needed, sends it again.

/// The HTTP method of a [`Request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `HEAD`
    Head,
}

impl Method {
    /// The method's name on the wire, such as `"GET"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
        }
    }
}

/// Everything needed to send a request again with a new access token. The body is kept
/// as text, so a replay sends exactly what the first attempt sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// Where the request goes, as the [`Transport`](crate::Transport) understands it: a
    /// path relative to the page in a browser, a path below a base URL or a whole URL
    /// natively.
    pub url: String,
    /// The body, already encoded (the transport decides its content type).
    pub body: Option<String>,
    /// Never starts or waits for a refresh, and is never replayed: for the login, the
    /// refresh and the logout calls themselves, and anything else that must not wait.
    pub bypass: bool,
    /// Safe to send again after a network error or a `503` although the method is not
    /// `GET` or `HEAD`: the API makes a repeat harmless (a `PUT` of a whole resource, a
    /// `POST` with an idempotency key). See [`Request::is_repeatable`].
    pub idempotent: bool,
}

impl Request {
    /// A request without a body.
    ///
    /// ```
    /// use painless_refresh::{Method, Request};
    ///
    /// let request = Request::new(Method::Delete, "/api/items/7");
    /// assert_eq!(request.label(), "DELETE /api/items/7");
    /// ```
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            body: None,
            bypass: false,
            idempotent: false,
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::Get, url)
    }

    /// A `POST` with `body`, already encoded.
    pub fn post(url: impl Into<String>, body: impl Into<String>) -> Self {
        Self::new(Method::Post, url).with_body(body)
    }

    /// A `POST` without a body.
    pub fn post_empty(url: impl Into<String>) -> Self {
        Self::new(Method::Post, url)
    }

    /// The same request with `body`, already encoded.
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Marks the request as one that must never start or wait for a refresh.
    pub fn bypassing_refresh(mut self) -> Self {
        self.bypass = true;
        self
    }

    /// Marks the request as safe to send again after a network error or a `503`.
    ///
    /// ```
    /// use painless_refresh::Request;
    ///
    /// assert!(Request::get("/api/orders").is_repeatable());
    /// assert!(!Request::post("/api/orders", "{}").is_repeatable());
    /// assert!(Request::post("/api/orders", "{}").idempotent().is_repeatable());
    /// ```
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Whether the coordinator may send the request again when a try got no answer or a
    /// `503`: `GET` and `HEAD`, and requests marked [`idempotent`](Request::idempotent).
    /// Any other request may have reached the server before the network failed, so its
    /// caller gets the error at once.
    pub fn is_repeatable(&self) -> bool {
        self.idempotent || matches!(self.method, Method::Get | Method::Head)
    }

    /// Method and URL, such as `GET /api/me`: for logs and timelines.
    pub fn label(&self) -> String {
        format!("{} {}", self.method.as_str(), self.url)
    }
}
