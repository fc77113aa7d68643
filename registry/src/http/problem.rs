//! RFC 9457 problem details: the one place that maps errors to HTTP.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// An API error, rendered as `application/problem+json`.
#[derive(Debug)]
pub struct Problem {
    status: StatusCode,
    kind: &'static str,
    title: &'static str,
    detail: String,
    extra: Option<(&'static str, Value)>,
}

impl Problem {
    /// A problem with a type slug (`/problems/<kind>`), title and detail.
    pub fn new(
        status: StatusCode,
        kind: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            status,
            kind,
            title,
            detail: detail.into(),
            extra: None,
        }
    }

    /// Adds one extension member (RFC 9457 §3.2).
    pub fn with(mut self, name: &'static str, value: Value) -> Self {
        self.extra = Some((name, value));
        self
    }

    /// 500 with an opaque body; the cause goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(cause = %cause, "internal error");
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the registry could not complete the request",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut body = json!({
            "type": format!("/problems/{}", self.kind),
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let (Some((name, value)), Some(members)) = (self.extra, body.as_object_mut()) {
            members.insert(name.to_owned(), value);
        }
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}

/// Middleware: every 4xx that is not already a problem (or a human HTML page or an image)
/// becomes one, so clients see one error format even for axum's own rejections (405, 408,
/// 413, ...).
pub async fn ensure_problem(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !status.is_client_error() {
        return response;
    }
    let ct = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Pages and images are for people and `<img>` elements, which cannot show a problem.
    if ["application/problem+json", "text/html", "image/svg+xml"]
        .iter()
        .any(|t| ct.starts_with(t))
    {
        return response;
    }
    let (kind, title) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "Method not allowed"),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "Request timeout"),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "Request too large"),
        StatusCode::NOT_FOUND => ("not-found", "Not found"),
        _ => ("client-error", "Client error"),
    };
    let detail = status.canonical_reason().unwrap_or(title).to_owned();
    let allow = response.headers().get(header::ALLOW).cloned();
    let mut rebuilt = Problem::new(status, kind, title, detail).into_response();
    if let Some(allow) = allow {
        rebuilt.headers_mut().insert(header::ALLOW, allow);
    }
    rebuilt
}
