//! `GET /demo` (demo mode only): a stand-in supplier page carrying the demo badge the
//! way a real site would: the `<trustmark-badge>` element with the badge script, around
//! the no-JS fallback link and image.

use super::view::{render, CSS};
use super::{AppState, Problem};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Value};

/// `GET /demo`.
pub async fn demo(State(state): State<AppState>) -> Result<Response, Problem> {
    let origin = trustmark_core::origin::canonicalize(&state.issuer).map_err(Problem::internal)?;
    let id = state
        .storage
        .badges_for_origin(&origin)
        .await
        .map_err(super::read_problem)?
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
    // The token inline, as a site would paste it: the page needs no extra request, and a
    // `trustmark verify` of the page finds it in the element.
    let token = state
        .storage
        .badge(&id)
        .await
        .map_err(super::read_problem)?
        .map(|r| r.token)
        .unwrap_or_default();
    let html = render(
        "demo.html",
        context! {
            css => Value::from_safe_string(CSS.into()),
            id => id,
            token => token,
            origin => origin,
            script => super::script::versioned_path(),
            integrity => super::script::integrity(),
        },
    )?;
    Ok((DEMO_HEADERS, Html(html)).into_response())
}

/// The page headers of the other pages, plus the script and its requests, which come from
/// this registry only: the CSP a careful supplier site would send.
const DEMO_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CACHE_CONTROL, "no-cache"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];
