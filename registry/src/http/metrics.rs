//! `/metrics` in the Prometheus text format: requests by route class and status class,
//! request latency, issuances and status changes.

use super::AppState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
const ROUTES: [&str; 6] = [
    "issue",
    "status_change",
    "status_list",
    "page",
    "api",
    "other",
];
const CLASSES: [&str; 4] = ["2xx", "3xx", "4xx", "5xx"];

/// Counters, all lock-free.
#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; 4]; 6],
    latency_buckets: [[AtomicU64; 10]; 6],
    latency_count: [AtomicU64; 6],
    latency_sum_micros: [AtomicU64; 6],
    /// Badges issued.
    pub issuances: AtomicU64,
    /// Status changes made through the API.
    pub status_changes: AtomicU64,
    /// Items checked by bulk verification.
    pub bulk_verify_items: AtomicU64,
    /// Bulk verifications dropped (timeout, client gone) before their results were ready.
    pub bulk_verify_abandoned: AtomicU64,
}

fn route_of(method: &axum::http::Method, path: &str) -> usize {
    match (method.as_str(), path) {
        ("POST", "/api/v1/badges") => 0,
        ("POST", p) if p.ends_with("/status") => 1,
        (_, p) if p.starts_with("/statuslists") => 2,
        (_, p) if p.starts_with("/b/") => 3,
        (_, p) if p.starts_with("/api/") => 4,
        _ => 5,
    }
}

/// Middleware: counts and times every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = route_of(request.method(), request.uri().path());
    let start = Instant::now();
    let response = next.run(request).await;
    let elapsed = start.elapsed().as_secs_f64();
    let m = &state.metrics;
    let class = (response.status().as_u16() / 100).clamp(2, 5) as usize - 2;
    if let Some(c) = m.requests.get(route).and_then(|r| r.get(class)) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(buckets) = m.latency_buckets.get(route) {
        for (bound, bucket) in BUCKETS.iter().zip(buckets) {
            if elapsed <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if let (Some(c), Some(s)) = (m.latency_count.get(route), m.latency_sum_micros.get(route)) {
        c.fetch_add(1, Ordering::Relaxed);
        s.fetch_add((elapsed * 1e6) as u64, Ordering::Relaxed);
    }
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    let _ = writeln!(out, "# HELP trustmark_requests_total HTTP requests by route and status class.\n# TYPE trustmark_requests_total counter");
    for (r, route) in ROUTES.iter().enumerate() {
        for (c, class) in CLASSES.iter().enumerate() {
            let v = m.requests[r][c].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "trustmark_requests_total{{route=\"{route}\",status=\"{class}\"}} {v}"
            );
        }
    }
    let _ = writeln!(out, "# HELP trustmark_request_duration_seconds Request latency.\n# TYPE trustmark_request_duration_seconds histogram");
    for (r, route) in ROUTES.iter().enumerate() {
        for (b, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "trustmark_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                m.latency_buckets[r][b].load(Ordering::Relaxed)
            );
        }
        let count = m.latency_count[r].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_sum{{route=\"{route}\"}} {}",
            m.latency_sum_micros[r].load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_count{{route=\"{route}\"}} {count}"
        );
    }
    let _ = writeln!(out, "# HELP trustmark_issuances_total Badges issued.\n# TYPE trustmark_issuances_total counter\ntrustmark_issuances_total {}", m.issuances.load(Ordering::Relaxed));
    let _ = writeln!(out, "# HELP trustmark_status_changes_total Badge status changes through the API.\n# TYPE trustmark_status_changes_total counter\ntrustmark_status_changes_total {}", m.status_changes.load(Ordering::Relaxed));
    let _ = writeln!(out, "# HELP trustmark_bulk_verify_items_total Items checked by bulk verification.\n# TYPE trustmark_bulk_verify_items_total counter\ntrustmark_bulk_verify_items_total {}", m.bulk_verify_items.load(Ordering::Relaxed));
    let _ = writeln!(out, "# HELP trustmark_bulk_verify_abandoned_total Bulk verifications stopped because the request ended first (timeout, client gone).\n# TYPE trustmark_bulk_verify_abandoned_total counter\ntrustmark_bulk_verify_abandoned_total {}", m.bulk_verify_abandoned.load(Ordering::Relaxed));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
