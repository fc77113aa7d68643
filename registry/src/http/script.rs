//! The embeddable badge script (`badge-js/`, built into `badge-js/dist/` and committed, so
//! the registry builds without Node): `GET /badge.js` (the current version, short cache)
//! and `GET /badge-{file}` for the versioned, immutable files: `badge-<version>.js`,
//! `badge-fallback-<version>.js` (Ed25519 for browsers whose WebCrypto lacks it) and
//! `badge-i18n-<version>.json` (the labels of every language but English).
//!
//! Every response allows any origin to read it (CORS and CORP), because a page that pins
//! the script with SRI fetches it in CORS mode from another origin.

use super::Problem;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

const MAIN: &str = include_str!("../../../badge-js/dist/badge.js");
const FALLBACK: &str = include_str!("../../../badge-js/dist/badge-fallback.js");
const I18N: &str = include_str!("../../../badge-js/dist/badge-i18n.json");
const VERSION_FILE: &str = include_str!("../../../badge-js/dist/VERSION");
const INTEGRITY: &str = include_str!("../../../badge-js/dist/integrity.json");

const JS: &str = "application/javascript; charset=utf-8";
const JSON: &str = "application/json";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
// Long enough to spare the registry, short enough that a new release reaches every page
// within minutes.
const SHORT: &str = "public, max-age=300";

/// The script's version (`badge-js/package.json`, as built into `dist/VERSION`).
pub fn version() -> &'static str {
    VERSION_FILE.trim()
}

/// The path of the versioned, immutable script.
pub fn versioned_path() -> String {
    format!("/badge-{}.js", version())
}

/// The SRI value (`sha384-…`) of the versioned script, as the build recorded it.
pub fn integrity() -> &'static str {
    static SRI: OnceLock<String> = OnceLock::new();
    SRI.get_or_init(|| {
        serde_json::from_str::<serde_json::Value>(INTEGRITY)
            .ok()
            .and_then(|v| v.get("badge.js")?.as_str().map(str::to_owned))
            .unwrap_or_default()
    })
}

fn serve(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (
                header::HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /badge.js`: the current version.
pub async fn latest() -> Response {
    serve(MAIN, JS, SHORT)
}

/// `GET /badge-{file}`: one of the versioned files; any other name (an older or newer
/// version) is a 404, never a different file under an immutable name.
pub async fn versioned(Path(file): Path<String>) -> Result<Response, Problem> {
    let v = version();
    let named = |prefix: &str, ext: &str| {
        file.strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(ext))
            == Some(v)
    };
    if named("", ".js") {
        Ok(serve(MAIN, JS, IMMUTABLE))
    } else if named("fallback-", ".js") {
        Ok(serve(FALLBACK, JS, IMMUTABLE))
    } else if named("i18n-", ".json") {
        Ok(serve(I18N, JSON, IMMUTABLE))
    } else {
        Err(Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Not found",
            format!("this registry serves version {v} of the badge script"),
        ))
    }
}
