//! `GET /b/{id}/qr.svg`: the QR code of a badge's verification page, so a buyer can open
//! the page on a phone.

use super::view::load;
use super::{AppState, Problem};
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// `GET /b/{id}/qr.svg`: encodes the badge's signed `ref`, not a URL built here, so the
/// code leads where the badge itself says its page is.
pub async fn qr(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let Some((_, claims)) = load(&state, &id).await? else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "unknown-badge",
            "No such badge",
            format!("no badge {id}"),
        ));
    };
    let code = qrcode::QrCode::with_error_correction_level(
        claims.reference.as_bytes(),
        qrcode::EcLevel::M,
    )
    .map_err(Problem::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        svg,
    )
        .into_response())
}
