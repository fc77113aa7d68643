//! Badge issuance, lookup and status changes.

use super::{command_problem, read_problem, AppState, Problem};
use crate::engine::{Command, Done, RequestId};
use crate::event::Actor;
use crate::records::AuditorRecord;
use axum::extract::rejection::StringRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use trustmark_core::claims::FreshnessError;
use trustmark_core::statement::{self, StatementError};
use trustmark_core::{origin, PublicKey, TokenType};

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn body_text(body: Result<String, StringRejection>, max_body: usize) -> Result<String, Problem> {
    body.map(|b| b.trim().to_owned()).map_err(|e| {
        let status = e.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                status,
                "too-large",
                "Request too large",
                format!("the body is larger than {max_body} bytes"),
            )
        } else {
            Problem::new(
                StatusCode::BAD_REQUEST,
                "bad-body",
                "Unreadable body",
                "the body is not UTF-8 text",
            )
        }
    })
}

fn require_type(headers: &HeaderMap, media: &'static str) -> Result<(), Problem> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let base = ct.split(';').next().unwrap_or("").trim();
    if base.eq_ignore_ascii_case(media) {
        Ok(())
    } else {
        Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "media-type",
            "Unsupported media type",
            format!("send the token as {media}"),
        ))
    }
}

/// Finds the accredited, active auditor a statement names, and its key.
async fn auditor_for(
    state: &AppState,
    token: &str,
    ty: TokenType,
) -> Result<(AuditorRecord, PublicKey), Problem> {
    let id = statement::claimed_auditor(token, ty).ok_or_else(|| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "Malformed token",
            "not a signed statement with an iss claim",
        )
    })?;
    let auditor = state
        .storage
        .auditor(&id)
        .await
        .map_err(read_problem)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::FORBIDDEN,
                "unknown-auditor",
                "Auditor not accredited",
                format!("no accredited auditor {id}"),
            )
        })?;
    if !auditor.active {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "auditor-suspended",
            "Auditor suspended",
            format!("auditor {id} is suspended"),
        ));
    }
    let key =
        PublicKey::from_jwk_json(auditor.jwk.to_string().as_bytes()).map_err(Problem::internal)?;
    Ok((auditor, key))
}

fn statement_problem(e: StatementError) -> Problem {
    use trustmark_core::jws::TypedError;
    let detail = e.to_string();
    match e {
        StatementError::Token(TypedError::WrongType { .. }) => Problem::new(
            StatusCode::BAD_REQUEST,
            "wrong-type",
            "Wrong token type",
            detail,
        ),
        StatementError::Token(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed",
            "Malformed token",
            detail,
        ),
        StatementError::WrongKey | StatementError::BadSignature => Problem::new(
            StatusCode::FORBIDDEN,
            "bad-signature",
            "Not signed by the auditor's key",
            detail,
        ),
        StatementError::Claims(_) | StatementError::WrongIssuer => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-claims",
            "Invalid claims",
            detail,
        ),
        StatementError::Freshness(FreshnessError::Stale) => Problem::new(
            StatusCode::BAD_REQUEST,
            "stale",
            "Statement not fresh",
            detail,
        ),
        StatementError::Freshness(_) => Problem::new(
            StatusCode::BAD_REQUEST,
            "future-dated",
            "Dated in the future",
            format!("{detail}; check the signing machine's clock"),
        ),
        _ => Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid",
            "Invalid statement",
            detail,
        ),
    }
}

/// `POST /api/v1/badges`: an auditor-signed audit statement in, a badge out.
pub async fn issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<Response, Problem> {
    require_type(&headers, "application/trustmark-audit+jwt")?;
    let token = body_text(body, state.limits.max_body)?;
    let (auditor, key) = auditor_for(&state, &token, TokenType::AuditStatement).await?;
    let claims = statement::verify_audit_statement(&token, &auditor.id, &key, now())
        .map_err(statement_problem)?;
    let evaluation = state
        .catalogue
        .evaluate(&claims.values())
        .map_err(|problems| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "indicators",
                "Audit does not pass",
                "one or more indicators are missing, out of range or failing",
            )
            .with("indicators", json!(problems))
        })?;
    let command = Command::Issue {
        statement: token,
        claims: Box::new(claims),
        evaluation,
    };
    match state.storage.run(command).await.map_err(command_problem)? {
        Done::Issued {
            id,
            token,
            list,
            idx,
            score,
        } => {
            state.metrics.record_issuance();
            let reference = format!("{}/b/{id}", state.issuer);
            let location = format!("/api/v1/badges/{id}");
            let body = json!({
                "id": id, "token": token, "ref": reference,
                "status": {"idx": idx, "uri": format!("{}/statuslists/{list}", state.issuer)},
                "score": score,
            });
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(body),
            )
                .into_response())
        }
        other => Err(Problem::internal(format!(
            "unexpected writer result {other:?}"
        ))),
    }
}

/// `GET /api/v1/badges/{id}`: the token, its claims, current status, history, its
/// evidence log entries and the signed audit statement behind it (its SHA-256 is the
/// badge's `audit.digest`).
pub async fn get_badge(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    let claims: Value =
        trustmark_core::jws::Compact::parse(&record.token, trustmark_core::jws::MAX_TOKEN_LEN)
            .ok()
            .and_then(|c| serde_json::from_slice(c.payload()).ok())
            .unwrap_or(Value::Null);
    let body = json!({
        "id": record.id,
        "token": record.token,
        "claims": claims,
        "status": record.status.as_str(),
        "history": record.history.iter().map(|h| json!({"status": h.status.as_str(), "at": h.at, "reason": h.reason, "by": h.by})).collect::<Vec<_>>(),
        "log": record.log,
        "audit_statement": record.statement,
        "status_list": {"idx": record.idx, "uri": format!("{}/statuslists/{}", state.issuer, record.list)},
    });
    Ok(([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(body)).into_response())
}

/// `GET /b/{id}/badge.jwt`: the badge's current token (re-signed after a key withdrawal),
/// so a site pointing `src=` here keeps a badge that verifies.
pub async fn badge_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let record = find(&state, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/trustmark+jwt"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        record.token,
    )
        .into_response())
}

/// The badge with this id, or the 404 problem.
async fn find(state: &AppState, id: &str) -> Result<crate::records::BadgeRecord, Problem> {
    state
        .storage
        .badge(id)
        .await
        .map_err(read_problem)?
        .ok_or_else(|| {
            Problem::new(
                StatusCode::NOT_FOUND,
                "unknown-badge",
                "No such badge",
                format!("no badge {id}"),
            )
        })
}

/// `POST /api/v1/badges/{id}/status`: a status change request signed by the issuing auditor.
pub async fn change_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<String, StringRejection>,
) -> Result<Response, Problem> {
    require_type(&headers, "application/trustmark-status+jwt")?;
    let token = body_text(body, state.limits.max_body)?;
    let (auditor, key) = auditor_for(&state, &token, TokenType::StatusChange).await?;
    let claims = statement::verify_status_change(&token, &auditor.id, &key, now())
        .map_err(statement_problem)?;
    if claims.badge != id {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "badge-mismatch",
            "Wrong badge",
            "the request's badge claim names another badge than the URL",
        ));
    }
    let command = Command::ChangeStatus {
        badge: id.clone(),
        action: claims.action,
        reason: claims.reason,
        by: Actor::Auditor(auditor.id),
        request: Some(RequestId {
            jti: claims.jti,
            iat: claims.iat,
        }),
    };
    match state.storage.run(command).await.map_err(command_problem)? {
        Done::StatusChanged { status } => {
            state.metrics.record_status_change();
            Ok(Json(json!({"id": id, "status": status.as_str()})).into_response())
        }
        other => Err(Problem::internal(format!(
            "unexpected writer result {other:?}"
        ))),
    }
}

/// `GET /api/v1/origins/{origin}`: the badges issued for a site.
pub async fn by_origin(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Response, Problem> {
    let origin = origin::canonicalize(&raw).map_err(|e| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-origin",
            "Not an origin",
            e.to_string(),
        )
    })?;
    let mut badges = Vec::new();
    for id in state
        .storage
        .badges_for_origin(&origin)
        .await
        .map_err(read_problem)?
    {
        if let Some(b) = state.storage.badge(&id).await.map_err(read_problem)? {
            // Current badges only: a revoked or expired badge no longer speaks for the site.
            let expired =
                trustmark_core::jws::Compact::parse(&b.token, trustmark_core::jws::MAX_TOKEN_LEN)
                    .ok()
                    .and_then(|c| {
                        serde_json::from_slice::<trustmark_core::BadgeClaims>(c.payload()).ok()
                    })
                    .is_none_or(|c| now() >= c.exp);
            if b.status == crate::event::BadgeStatus::Revoked || expired {
                continue;
            }
            badges.push(json!({"id": b.id, "token": b.token, "status": b.status.as_str(), "ref": format!("{}/b/{}", state.issuer, b.id)}));
        }
    }
    Ok((
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(json!({"origin": origin, "badges": badges})),
    )
        .into_response())
}
