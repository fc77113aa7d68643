//! The evidence log over HTTP (SPEC 6): the checkpoint, C2SP tlog-tiles static paths
//! (hash tiles and entry bundles, immutable, so any CDN can serve them), single entries,
//! and JSON proof helpers. Everything is answered only up to the published checkpoint.

use super::{canonical_u64, read_problem, AppState, Problem};
use crate::evidence::Published;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::json;
use std::collections::HashMap;
use trustmark_core::log::merkle::Hash;
use trustmark_core::log::tile::{self, TilePath};

const CORS: (header::HeaderName, &str) = (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
/// Tiles, entry bundles and entries never change once served.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn b64(h: &Hash) -> String {
    base64::engine::general_purpose::STANDARD.encode(h)
}

fn not_found(detail: &str) -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "not-in-log",
        "Not in the log",
        detail.to_owned(),
    )
}

fn bad_query(detail: &str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid-query",
        "Invalid query",
        detail.to_owned(),
    )
}

/// Runs `f` on the log as served (the lock is never held across an await).
fn read<T>(state: &AppState, f: impl FnOnce(&Published) -> T) -> Result<T, Problem> {
    let view = state.storage.log();
    let log = view
        .read()
        .map_err(|_| Problem::internal("log lock poisoned"))?;
    Ok(f(&log))
}

fn number(q: &HashMap<String, String>, name: &str) -> Result<u64, Problem> {
    let v = q
        .get(name)
        .ok_or_else(|| bad_query(&format!("the {name} parameter is required")))?;
    canonical_u64(v).ok_or_else(|| {
        bad_query(&format!(
            "{name} must be a decimal number without sign or leading zeros"
        ))
    })
}

/// `GET /log/checkpoint`: the latest signed checkpoint. Short-lived: clients poll it.
pub async fn checkpoint(State(state): State<AppState>) -> Result<Response, Problem> {
    let note = read(&state, |l| l.checkpoint().map(|c| c.note.clone()))?
        .ok_or_else(|| Problem::internal("no checkpoint published"))?;
    Ok((
        [
            CORS,
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        note.to_string(),
    )
        .into_response())
}

/// `GET /log/tile/{…}`: a hash tile or an entry bundle (C2SP tlog-tiles).
pub async fn tile(
    State(state): State<AppState>,
    Path(rest): Path<String>,
) -> Result<Response, Problem> {
    let path = tile::parse_path(&format!("tile/{rest}"))
        .map_err(|_| not_found("not a canonical tile path"))?;
    let body = match path {
        TilePath::Hash {
            level,
            index,
            width,
        } => read(&state, |l| l.hash_tile(level, index, width))?
            .map_err(|_| not_found("the published tree does not hold this tile"))?,
        TilePath::Entries { index, width } => {
            let size = read(&state, Published::size)?;
            if tile::tile_width(0, index, size).is_none_or(|have| have < width) {
                return Err(not_found("the published tree does not hold this bundle"));
            }
            // tile_width answered, so these are within the published tree.
            let first = index * 256;
            let end = first + u64::from(width);
            let entries = state
                .storage
                .log_entries(first, end)
                .await
                .map_err(read_problem)?;
            let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
            tile::entry_bundle(&refs).map_err(Problem::internal)?
        }
    };
    Ok((
        [
            CORS,
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        body,
    )
        .into_response())
}

/// `GET /log/entries/{index}`: one entry's bytes, exactly as hashed into the leaf.
pub async fn entry(
    State(state): State<AppState>,
    Path(index): Path<String>,
) -> Result<Response, Problem> {
    let index = canonical_u64(&index).ok_or_else(|| not_found("not an entry index"))?;
    if index >= read(&state, Published::size)? {
        return Err(not_found("no entry with this index in the published tree"));
    }
    let bytes = state
        .storage
        .log_entries(index, index + 1)
        .await
        .map_err(read_problem)?
        .pop()
        .ok_or_else(|| Problem::internal(format!("log entry {index} missing")))?;
    Ok((
        [
            CORS,
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        bytes,
    )
        .into_response())
}

/// `GET /log/proof/inclusion?index=I&size=N`.
pub async fn inclusion(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (index, size) = (number(&q, "index")?, number(&q, "size")?);
    let (published, proof, leaf) = read(&state, |log| {
        (log.size(), log.inclusion(index, size), log.leaf_hash(index))
    })?;
    let proof = proof.map_err(|_| {
        bad_query(&format!(
            "need index < size <= {published} (the published tree size)"
        ))
    })?;
    let leaf = leaf.map_err(|_| bad_query("index"))?;
    Ok((
        [CORS, (header::CACHE_CONTROL, IMMUTABLE)],
        Json(json!({
            "index": index,
            "size": size,
            "leaf_hash": b64(&leaf),
            "proof": proof.iter().map(b64).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}

/// `GET /log/proof/consistency?old=M&new=N`.
pub async fn consistency(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Problem> {
    let (old, new) = (number(&q, "old")?, number(&q, "new")?);
    let (published, proof) = read(&state, |log| (log.size(), log.consistency(old, new)))?;
    let proof = proof.map_err(|_| {
        bad_query(&format!(
            "need 0 < old <= new <= {published} (the published tree size)"
        ))
    })?;
    Ok((
        [CORS, (header::CACHE_CONTROL, IMMUTABLE)],
        Json(json!({
            "old": old,
            "new": new,
            "proof": proof.iter().map(b64).collect::<Vec<_>>(),
        })),
    )
        .into_response())
}
