//! `GET /demo` (demo mode only): a stand-in supplier page carrying the demo badge the
//! way a real site would, with the no-JS fallback link and image.

use super::view::{render, CSS, PAGE_HEADERS};
use super::{AppState, Problem};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Value};

/// `GET /demo`.
pub async fn demo(State(state): State<AppState>) -> Result<Response, Problem> {
    let origin = trustmark_core::origin::canonicalize(&state.issuer).map_err(Problem::internal)?;
    let id = state
        .store
        .badges_for_origin(&origin)
        .map_err(Problem::internal)?
        .into_iter()
        .next();
    let Some(id) = id.filter(|_| state.demo) else {
        return Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            "the demo page exists only with serve --demo",
        ));
    };
    let html = render(
        "demo.html",
        context! { css => Value::from_safe_string(CSS.into()), id => id, origin => origin },
    )?;
    Ok((PAGE_HEADERS, Html(html)).into_response())
}
