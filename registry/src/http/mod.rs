//! The HTTP API: the router, its layers (declared once, here) and shared state.

mod badge_image;
mod badges;
mod demo_page;
mod log;
pub mod metrics;
mod page;
mod problem;
mod public;
mod qr;
pub mod script;
mod verify;
mod view;

pub use problem::Problem;

use crate::engine::CommandError;
use crate::storage::{ReadError, SharedStorage};
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;
use trustmark_core::Catalogue;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The registry's state: commands, records, signed documents.
    pub storage: SharedStorage,
    /// Issuer URL.
    pub issuer: Arc<str>,
    /// The indicator catalogue.
    pub catalogue: Arc<Catalogue>,
    /// Whether `/demo` is served.
    pub demo: bool,
    /// Counters for `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// Request timeout, body sizes and request slots (the connection limits are applied
    /// where connections are accepted).
    pub limits: crate::Limits,
}

/// The problem for a failed read: 503 while the database is away, else opaque 500.
pub fn read_problem(e: ReadError) -> Problem {
    match e {
        ReadError::Unavailable => unavailable(e.to_string()),
        other => Problem::internal(other),
    }
}

fn unavailable(detail: String) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "Registry unavailable",
        detail,
    )
}

/// The router with all routes and layers.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    Router::new()
        .route("/api/v1/badges", post(badges::issue))
        .route("/api/v1/badges/{id}", get(badges::get_badge))
        .route("/api/v1/badges/{id}/status", post(badges::change_status))
        .route("/api/v1/origins/{origin}", get(badges::by_origin))
        .route("/statuslists", get(public::status_lists))
        .route("/statuslists/{n}", get(public::status_list))
        .route("/.well-known/jwks.json", get(public::jwks))
        .route("/.well-known/trustmark-registry", get(public::metadata))
        .route("/healthz", get(public::healthz))
        .route("/b/{id}", get(page::page))
        .route("/b/{id}/qr.svg", get(qr::qr))
        .route("/b/{id}/badge.svg", get(badge_image::badge_svg))
        .route("/b/{id}/badge.jwt", get(badges::badge_token))
        .route("/log/checkpoint", get(log::checkpoint))
        .route("/log/tile/{*rest}", get(log::tile))
        .route("/log/entries/{index}", get(log::entry))
        .route("/log/proof/inclusion", get(log::inclusion))
        .route("/log/proof/consistency", get(log::consistency))
        .route("/demo", get(demo_page::demo))
        .route("/badge.js", get(script::latest))
        .route("/badge-{file}", get(script::versioned))
        .route(
            "/api/v1/verify",
            post(verify::verify).layer(DefaultBodyLimit::max(limits.max_verify_body)),
        )
        .route("/api/v1/openapi.json", get(public::openapi))
        .route("/metrics", get(metrics::metrics))
        .fallback(|| async {
            Problem::new(
                StatusCode::NOT_FOUND,
                "not-found",
                "Not found",
                "no such resource",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(DefaultBodyLimit::max(limits.max_body))
        // Its semaphore panics above MAX_PERMITS.
        .layer(tower::limit::ConcurrencyLimitLayer::new(
            limits
                .max_concurrent_requests
                .min(tokio::sync::Semaphore::MAX_PERMITS),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn(problem::ensure_problem))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(|_| {
            Problem::internal("a handler panicked").into_response()
        }))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// A decimal without sign or leading zeros: one spelling per number in a path or query,
/// so one cache entry per resource.
fn canonical_u64(s: &str) -> Option<u64> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    ok.then(|| s.parse().ok()).flatten()
}

/// Maps a writer refusal to its problem.
pub fn command_problem(e: CommandError) -> Problem {
    use CommandError as E;
    match e {
        E::Replay => Problem::new(
            StatusCode::CONFLICT,
            "replay",
            "Replayed request",
            e.to_string(),
        ),
        E::UnknownAuditor => Problem::new(
            StatusCode::FORBIDDEN,
            "unknown-auditor",
            "Auditor not accredited",
            e.to_string(),
        ),
        E::AuditorSuspended => Problem::new(
            StatusCode::FORBIDDEN,
            "auditor-suspended",
            "Auditor suspended",
            e.to_string(),
        ),
        E::AuditorExists => Problem::new(
            StatusCode::CONFLICT,
            "auditor-exists",
            "Auditor exists",
            e.to_string(),
        ),
        E::UnknownBadge => Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-badge",
            "No such badge",
            e.to_string(),
        ),
        E::NotIssuingAuditor => Problem::new(
            StatusCode::FORBIDDEN,
            "not-issuing-auditor",
            "Not the issuing auditor",
            e.to_string(),
        ),
        E::OperatorSuspension => Problem::new(
            StatusCode::FORBIDDEN,
            "operator-suspension",
            "Suspended by the operator",
            e.to_string(),
        ),
        E::StaleRequest { .. } => Problem::new(
            StatusCode::CONFLICT,
            "stale-request",
            "Request older than the badge's last change",
            e.to_string(),
        ),
        E::Text(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-claims",
            "Invalid claims",
            e.to_string(),
        ),
        E::RevokedIsFinal => Problem::new(
            StatusCode::CONFLICT,
            "revoked-is-final",
            "Badge revoked",
            e.to_string(),
        ),
        E::NoChange(_) => Problem::new(
            StatusCode::CONFLICT,
            "no-change",
            "No change",
            e.to_string(),
        ),
        E::Sign(trustmark_core::sign::SignError::TooLarge { max }) => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "badge-too-large",
            "Badge too large",
            format!("the badge would exceed {max} bytes; list fewer or shorter aliases, or shorten the organisation's name"),
        ),
        E::AuditExpired => Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "audit-expired",
            "Audit validity ended",
            e.to_string(),
        ),
        E::Journal | E::WriterStopped | E::Unavailable => unavailable(e.to_string()),
        // Operator-only refusals never come from a signed HTTP request.
        E::ExampleKey
        | E::AuditorKey(_)
        | E::AuditorId
        | E::Sign(_)
        | E::Store(_)
        | E::Keys(_)
        | E::Database => {
            Problem::internal(e)
        }
    }
}
