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

/// One item to check.
#[derive(Deserialize)]
pub struct Item {
    token: String,
    #[serde(default)]
    origin: Option<String>,
}

/// The request body.
#[derive(Deserialize)]
pub struct Request {
    items: Vec<Item>,
}

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

/// Verifies up to [`MAX_ITEMS`] badges; results in input order, objects as in SPEC 5.
pub async fn verify(
    State(state): State<AppState>,
    body: Result<Json<Request>, JsonRejection>,
) -> Result<Json<Value>, Problem> {
    let Json(request) = body.map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Unreadable request",
            e.body_text(),
        )
    })?;
    if request.items.len() > MAX_ITEMS {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-items",
            "Too many items",
            format!("at most {MAX_ITEMS} items per request"),
        ));
    }
    let published = state
        .jwks
        .read()
        .map_err(|_| Problem::internal("jwks lock poisoned"))?
        .clone();
    let jwks = Jwks::parse(published.as_bytes()).map_err(Problem::internal)?;
    let mut verifier = Verifier::new(&*state.issuer, jwks, (*state.catalogue).clone());
    let lists: Vec<String> = state
        .lists
        .read()
        .map_err(|_| Problem::internal("status list lock poisoned"))?
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
    let checked = match &origin {
        Some(Ok(o)) => Value::from(o.as_str()),
        _ => Value::Null,
    };
    let outcome = match &origin {
        Some(Err(_)) => trustmark_core::Outcome {
            reason: trustmark_core::Reason::OriginMismatch,
            claims: None,
            detail: None,
        },
        Some(Ok(o)) => verifier.verify(&item.token, OriginPolicy::Require(o), now),
        None => verifier.verify(&item.token, OriginPolicy::Ignore, now),
    };
    json!({"verdict": outcome.verdict(), "reason": outcome.reason.code(), "badge": outcome.claims, "origin": checked})
}
