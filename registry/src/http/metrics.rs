//! `/metrics` in the Prometheus text format: requests by route class and status class,
//! request latency, issuances and status changes (API and operator).

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
    requests: [[AtomicU64; CLASSES.len()]; ROUTES.len()],
    latency_buckets: [[AtomicU64; BUCKETS.len()]; ROUTES.len()],
    latency_count: [AtomicU64; ROUTES.len()],
    latency_sum_micros: [AtomicU64; ROUTES.len()],
    issuances: AtomicU64,
    status_changes: AtomicU64,
    /// Items checked by bulk verification.
    pub bulk_verify_items: AtomicU64,
    /// Bulk verifications dropped (timeout, client gone) before their results were ready.
    pub bulk_verify_abandoned: AtomicU64,
}

impl Metrics {
    /// Counts one badge issued (call after it is durable).
    pub fn record_issuance(&self) {
        self.issuances.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one status change, whoever asked for it (call after it is durable).
    pub fn record_status_change(&self) {
        self.status_changes.fetch_add(1, Ordering::Relaxed);
    }

    /// The plain counters as `(name, help, value)`, in output order. A new counter is a
    /// field, a `record_*` method and one entry here.
    fn counters(&self) -> Vec<(&'static str, &'static str, u64)> {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            (
                "trustmark_issuances_total",
                "Badges issued.",
                load(&self.issuances),
            ),
            (
                "trustmark_status_changes_total",
                "Badge status changes (API and operator).",
                load(&self.status_changes),
            ),
            (
                "trustmark_bulk_verify_items_total",
                "Items checked by bulk verification.",
                load(&self.bulk_verify_items),
            ),
            (
                "trustmark_bulk_verify_abandoned_total",
                "Bulk verifications stopped because the request ended first (timeout, client gone).",
                load(&self.bulk_verify_abandoned),
            ),
        ]
    }
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
    for (route, row) in ROUTES.iter().zip(&m.requests) {
        for (class, v) in CLASSES.iter().zip(row) {
            let v = v.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "trustmark_requests_total{{route=\"{route}\",status=\"{class}\"}} {v}"
            );
        }
    }
    let _ = writeln!(out, "# HELP trustmark_request_duration_seconds Request latency.\n# TYPE trustmark_request_duration_seconds histogram");
    let per_route = ROUTES
        .iter()
        .zip(&m.latency_buckets)
        .zip(m.latency_count.iter().zip(&m.latency_sum_micros));
    for ((route, buckets), (count, sum)) in per_route {
        for (bound, bucket) in BUCKETS.iter().zip(buckets) {
            let _ = writeln!(
                out,
                "trustmark_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_sum{{route=\"{route}\"}} {}",
            sum.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(
            out,
            "trustmark_request_duration_seconds_count{{route=\"{route}\"}} {count}"
        );
    }
    for (name, help, value) in m.counters() {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}
