//! Public, cacheable documents: status lists, keys, metadata, health.

use super::{AppState, Problem};
use crate::engine::LIST_TTL;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::sync::Arc;

const CORS: (header::HeaderName, &str) = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");

/// `GET /statuslists/{n}`: the signed list, with an ETag and a cache lifetime that ends
/// when the list's own `ttl` does.
pub async fn status_list(
    State(state): State<AppState>,
    Path(n): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let not_found = || {
        Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-list",
            "No such status list",
            "no status list with this number",
        )
    };
    // Only the canonical decimal names a list: `+1` or `01` would be a second URL for it.
    let n = super::canonical_u64(&n)
        .filter(|n| *n >= 1)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(not_found)?;
    let signed = state.storage.status_list(n).ok_or_else(not_found)?;
    let age = chrono::Utc::now()
        .timestamp()
        .saturating_sub(signed.iat)
        .max(0) as u64;
    let max_age = LIST_TTL.saturating_sub(age);
    let cache = HeaderValue::from_str(&format!("public, max-age={max_age}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    let etag = HeaderValue::from_str(&signed.etag).unwrap_or(HeaderValue::from_static("\"\""));
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == signed.etag || t.trim() == "*")
        });
    let common = [
        (header::CACHE_CONTROL, cache),
        (header::ETAG, etag),
        (CORS.0, HeaderValue::from_static(CORS.1)),
    ];
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, common).into_response());
    }
    Ok((
        common,
        [(header::CONTENT_TYPE, "application/statuslist+jwt")],
        signed.token.clone(),
    )
        .into_response())
}

/// `GET /statuslists`: the aggregation of every list URL.
pub async fn status_lists(State(state): State<AppState>) -> Result<Response, Problem> {
    let count = state.storage.status_lists().len();
    let urls: Vec<String> = (1..=count)
        .map(|n| format!("{}/statuslists/{n}", state.issuer))
        .collect();
    Ok(([CORS], Json(json!({"status_lists": urls}))).into_response())
}

/// `GET /.well-known/jwks.json`: every badge and status-list key, current and retired.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let jwks: Arc<str> = state.storage.jwks();
    (
        [
            CORS,
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        jwks.to_string(),
    )
        .into_response()
}

/// `GET /.well-known/trustmark-registry`: what a verifier needs to find everything else.
pub async fn metadata(State(state): State<AppState>) -> Response {
    let issuer = &*state.issuer;
    let (log_origin, log_vkey) = state.storage.log_identity();
    let body = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "status_lists": format!("{issuer}/statuslists"),
        "schemes": [trustmark_core::BadgeClaims::trust_mark_type_for(issuer)],
        "badge_script": format!("{issuer}{}", super::script::versioned_path()),
        "badge_script_integrity": super::script::integrity(),
        "log": {
            "origin": log_origin,
            "vkey": log_vkey,
            "checkpoint": format!("{issuer}/log/checkpoint"),
        },
    });
    ([CORS], Json(body)).into_response()
}

/// `GET /healthz`.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /api/v1/openapi.json`: the OpenAPI 3.1 description of this API.
pub async fn openapi() -> Response {
    (
        [CORS, (header::CONTENT_TYPE, "application/json")],
        include_str!("../../openapi.json"),
    )
        .into_response()
}
