//! `GET /b/{id}/badge.svg`: the no-JS badge, an image of the badge's current status
//! that a supplier's page links to its verification page.

use super::view::{load, render, shown_status, strings};
use super::{AppState, Problem};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;

/// Label key and fill colour per shown status. Red for every state a buyer must not rely
/// on; grey for an unknown id, which is neither a good nor a bad badge but none at all.
fn look(status: Option<&str>) -> (&'static str, &'static str) {
    match status {
        Some("valid") => ("badge.verified", "#0b6b2f"),
        Some("suspended") => ("badge.suspended", "#8a4b00"),
        Some("revoked") => ("badge.revoked", "#a4161a"),
        Some("expired") => ("badge.expired", "#a4161a"),
        _ => ("badge.notfound", "#595959"),
    }
}

/// `GET /b/{id}/badge.svg`, labelled in the Accept-Language language. An unknown id is a
/// 404 that still carries an image, so the embedding page shows a badge-sized notice
/// instead of a broken image.
pub async fn badge_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = strings(None, &headers);
    let now = chrono::Utc::now().timestamp();
    let shown = load(&state, &id)
        .await?
        .map(|(record, claims)| shown_status(&record, &claims, now));
    let code = if shown.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let (key, color) = look(shown);
    let svg = render(
        "badge-image.svg",
        context! { label => t.get(key), color => color },
    )?;
    Ok((
        code,
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        svg,
    )
        .into_response())
}
