//! What the public pages and images share: the templates, page headers, dates, the
//! language choice and the badge as a buyer must be told about it.

use super::{AppState, Problem};
use crate::event::BadgeStatus;
use crate::i18n::{self, Strings};
use crate::records::BadgeRecord;
use axum::http::{header, HeaderMap};
use minijinja::{AutoEscape, Environment, Value};
use std::sync::OnceLock;
use trustmark_core::BadgeClaims;

/// The stylesheet, inlined so the strict CSP needs no style source.
pub const CSS: &str = include_str!("../../templates/base.css");

/// Headers of every HTML page.
pub const PAGE_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CACHE_CONTROL, "no-cache"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

const TEMPLATES: [(&str, &str); 4] = [
    ("badge.html", include_str!("../../templates/badge.html")),
    (
        "notfound.html",
        include_str!("../../templates/notfound.html"),
    ),
    ("demo.html", include_str!("../../templates/demo.html")),
    (
        "badge-image.svg",
        include_str!("../../templates/badge-image.svg"),
    ),
];

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Every template is markup: HTML escaping is also right for SVG (XML) text and
        // attributes, so no interpolation can open an element.
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".svg") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        for (name, source) in TEMPLATES {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

/// Renders a template; a failure is an internal error.
pub fn render(name: &str, ctx: Value) -> Result<String, Problem> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(Problem::internal)
}

/// The page language: `?lang=` if supported, else Accept-Language, else English.
pub fn strings(query_lang: Option<&str>, headers: &HeaderMap) -> Strings {
    i18n::negotiate(
        query_lang,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// `YYYY-MM-DD` (UTC).
pub fn date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn date_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The status a buyer must be told: an expired badge is expired whatever the list says,
/// unless it was revoked.
pub fn shown_status(record: &BadgeRecord, claims: &BadgeClaims, now: i64) -> &'static str {
    match record.status {
        BadgeStatus::Revoked => "revoked",
        _ if now >= claims.exp => "expired",
        BadgeStatus::Suspended => "suspended",
        BadgeStatus::Valid => "valid",
    }
}

/// The stored badge and its claims, or `None` for an unknown id.
pub async fn load(
    state: &AppState,
    id: &str,
) -> Result<Option<(BadgeRecord, BadgeClaims)>, Problem> {
    let Some(record) = state.storage.badge(id).await.map_err(super::read_problem)? else {
        return Ok(None);
    };
    let compact =
        trustmark_core::jws::Compact::parse(&record.token, trustmark_core::jws::MAX_TOKEN_LEN)
            .map_err(Problem::internal)?;
    let claims: BadgeClaims =
        serde_json::from_slice(compact.payload()).map_err(Problem::internal)?;
    Ok(Some((record, claims)))
}
