//! `POST /api/v1/verify`: bulk verification with trustmark-core, against this registry's
//! own keys and current status lists.

use super::metrics::Metrics;
use super::{AppState, Problem};
use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use trustmark_core::{Jwks, OriginPolicy, Verifier};

/// Most items in one request.
pub const MAX_ITEMS: usize = 1000;

/// One item to check: against `origin`, or with `ignore_origin: true` (exactly one), as
/// `trustmark verify` takes `--origin` or `--ignore-origin`.
#[derive(Deserialize)]
pub struct Item {
    token: String,
    #[serde(default)]
    origin: Option<String>,
    #[serde(default)]
    ignore_origin: bool,
}

/// The request body.
#[derive(Deserialize)]
pub struct Request {
    items: Vec<Item>,
}

/// What a given `origin` that is not an origin is checked against. No badge covers it
/// (`sub` and `aliases` are canonical origins, validated before the origin check), so the
/// item fails the origin check, yet every earlier check (SPEC 5 order) still runs first.
const NO_ORIGIN: &str = "";

/// Tells the blocking loop to stop when the request is dropped (timeout, client gone)
/// before its results are ready, and counts it.
struct Abandon {
    stop: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    done: bool,
}

impl Drop for Abandon {
    fn drop(&mut self) {
        if !self.done {
            self.stop.store(true, Ordering::Relaxed);
            self.metrics
                .bulk_verify_abandoned
                .fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn bad_request(detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "bad-request",
        "Unreadable request",
        detail,
    )
}

/// Verifies up to [`MAX_ITEMS`] badges; results in input order, objects as in SPEC 5.
pub async fn verify(
    State(state): State<AppState>,
    body: Result<Json<Request>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(request) = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            "Request too large",
            format!(
                "the body is larger than {} bytes",
                state.limits.max_verify_body
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media-type",
            "Unsupported media type",
            "send the request as application/json",
        ),
        _ => bad_request(e.body_text()),
    })?;
    if request.items.len() > MAX_ITEMS {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-items",
            "Too many items",
            format!("at most {MAX_ITEMS} items per request"),
        ));
    }
    // A missing origin must not quietly skip the origin check.
    for (i, item) in request.items.iter().enumerate() {
        match (item.origin.is_some(), item.ignore_origin) {
            (true, false) | (false, true) => {}
            (false, false) => {
                return Err(bad_request(format!(
                    "items[{i}]: give origin or ignore_origin: true"
                )))
            }
            (true, true) => {
                return Err(bad_request(format!(
                    "items[{i}]: give origin or ignore_origin: true, not both"
                )))
            }
        }
    }
    let published = state.storage.jwks();
    let jwks = Jwks::parse(published.as_bytes()).map_err(Problem::internal)?;
    let mut verifier = Verifier::new(&*state.issuer, jwks, (*state.catalogue).clone());
    let lists: Vec<String> = state
        .storage
        .status_lists()
        .iter()
        .map(|l| l.token.clone())
        .collect();
    for list in lists {
        verifier.add_status_list(&list).map_err(Problem::internal)?;
    }
    let now = chrono::Utc::now().timestamp();
    let stop = Arc::new(AtomicBool::new(false));
    let mut abandon = Abandon {
        stop: stop.clone(),
        metrics: state.metrics.clone(),
        done: false,
    };
    let metrics = state.metrics.clone();
    // Signature checks are CPU work: keep them off the async workers.
    let results = tokio::task::spawn_blocking(move || {
        let mut results = Vec::with_capacity(request.items.len());
        for item in &request.items {
            // Nobody waits for the rest once the request is gone.
            if stop.load(Ordering::Relaxed) {
                break;
            }
            results.push(check(&verifier, item, now));
            metrics.bulk_verify_items.fetch_add(1, Ordering::Relaxed);
        }
        results
    })
    .await
    .map_err(Problem::internal)?;
    abandon.done = true;
    Ok(Json(json!({ "results": results })))
}

/// One item's result object (SPEC 5).
fn check(verifier: &Verifier, item: &Item, now: i64) -> Value {
    let origin = item
        .origin
        .as_deref()
        .map(trustmark_core::origin::canonicalize);
    let (policy, checked) = match &origin {
        Some(Ok(o)) => (OriginPolicy::Require(o), Value::from(o.as_str())),
        Some(Err(_)) => (OriginPolicy::Require(NO_ORIGIN), Value::Null),
        None => (OriginPolicy::Ignore, Value::Null),
    };
    let outcome = verifier.verify(&item.token, policy, now);
    json!({"verdict": outcome.verdict(), "reason": outcome.reason.code(), "badge": outcome.claims, "origin": checked})
}
