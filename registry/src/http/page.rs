//! The public verification page (`/b/{id}`), its QR code and badge image, and `/demo`.
//! Server-rendered with auto-escaping templates; no JavaScript.

use super::{AppState, Problem};
use crate::event::BadgeStatus;
use crate::i18n::{self, Strings};
use crate::store::BadgeRecord;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Environment, Value};
use serde::Deserialize;
use std::sync::OnceLock;
use trustmark_core::catalogue::Direction;
use trustmark_core::{AuditStatementClaims, BadgeClaims};

const CSS: &str = include_str!("../../templates/base.css");
const PAGE_HEADERS: [(header::HeaderName, &str); 3] = [
    (header::CACHE_CONTROL, "no-cache"),
    (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // `.html` names turn on HTML auto-escaping for every interpolation.
        for (name, source) in [
            ("badge.html", include_str!("../../templates/badge.html")),
            (
                "notfound.html",
                include_str!("../../templates/notfound.html"),
            ),
            ("demo.html", include_str!("../../templates/demo.html")),
        ] {
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

fn render(name: &str, ctx: Value) -> Result<String, Problem> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(Problem::internal)
}

/// Query parameters of the page.
#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    from: Option<String>,
}

fn strings(query_lang: Option<&str>, headers: &HeaderMap) -> Strings {
    i18n::negotiate(
        query_lang,
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

fn date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn date_time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The status a buyer must be told: an expired badge is expired whatever the list says,
/// unless it was revoked.
fn shown_status(record: &BadgeRecord, claims: &BadgeClaims, now: i64) -> &'static str {
    match record.status {
        BadgeStatus::Revoked => "revoked",
        _ if now >= claims.exp => "expired",
        BadgeStatus::Suspended => "suspended",
        BadgeStatus::Valid => "valid",
    }
}

fn number(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "percent" => format!("{} %", number(v)),
        "seconds" => format!("{} s", number(v)),
        "per_1000" => format!("{} / 1000", number(v)),
        _ => number(v),
    }
}

fn not_found(state: &AppState, t: Strings) -> Result<Response, Problem> {
    let html = render(
        "notfound.html",
        context! { lang => t.lang, title => t.get("notfound.title"), body => t.get("notfound.body"), css => Value::from_safe_string(CSS.into()), issuer => &*state.issuer },
    )?;
    Ok((StatusCode::NOT_FOUND, PAGE_HEADERS, Html(html)).into_response())
}

fn load(state: &AppState, id: &str) -> Result<Option<(BadgeRecord, BadgeClaims)>, Problem> {
    let Some(record) = state.store.badge(id).map_err(Problem::internal)? else {
        return Ok(None);
    };
    let compact =
        trustmark_core::jws::Compact::parse(&record.token, trustmark_core::jws::MAX_TOKEN_LEN)
            .map_err(Problem::internal)?;
    let claims: BadgeClaims =
        serde_json::from_slice(compact.payload()).map_err(Problem::internal)?;
    Ok(Some((record, claims)))
}

/// `GET /b/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = strings(q.lang.as_deref(), &headers);
    let Some((record, claims)) = load(&state, &id)? else {
        return not_found(&state, t);
    };
    let now = chrono::Utc::now().timestamp();
    let status = shown_status(&record, &claims, now);

    let origins = record.origins.join(", ");
    let wrong_site = q.from.as_deref().and_then(|from| {
        let covered =
            trustmark_core::origin::canonicalize(from).is_ok_and(|o| claims.covers_origin(&o));
        (!covered).then(|| {
            t.fill(
                "warning.wrong_site.body",
                &[("from", from), ("origins", &origins)],
            )
        })
    });

    let statement: Option<AuditStatementClaims> =
        trustmark_core::jws::Compact::parse(&record.statement, trustmark_core::jws::MAX_TOKEN_LEN)
            .ok()
            .and_then(|c| serde_json::from_slice(c.payload()).ok());
    let values = statement.as_ref().map(|s| s.values()).unwrap_or_default();
    let indicators: Vec<Value> = state
        .catalogue
        .indicators
        .iter()
        .zip(&claims.audit.ind)
        .map(|(ind, score)| {
            let op = match ind.direction {
                _ if ind.threshold == ind.best => "=",
                Direction::HigherIsBetter => "≥",
                Direction::LowerIsBetter => "≤",
            };
            let pass = *score >= 60;
            context! {
                name => t.get(&format!("indicator.{}", ind.id)),
                value => values.get(&ind.id).map(|v| with_unit(*v, &ind.unit)).unwrap_or_default(),
                threshold => format!("{op} {}", with_unit(ind.threshold, &ind.unit)),
                score => score,
                pass => pass,
                result => t.get(if pass { "indicators.pass" } else { "indicators.fail" }),
            }
        })
        .collect();
    let auditor_name = state
        .store
        .auditor(&record.auditor)
        .ok()
        .flatten()
        .map_or_else(
            || record.auditor.clone(),
            |a| format!("{} ({})", a.name, a.id),
        );
    let history: Vec<Value> = record
        .history
        .iter()
        .map(|h| context! { date => date_time(h.at), status => t.get(&format!("status.{}", h.status.as_str())), reason => &h.reason })
        .collect();
    let last_change = record.history.last().map_or(claims.iat, |h| h.at);
    let languages: Vec<Value> = i18n::LANGUAGES
        .iter()
        .map(|code| context! { code => code, name => Strings { lang: code }.get("lang.name"), current => *code == t.lang })
        .collect();
    let from_param = q
        .from
        .as_deref()
        .map(|f| format!("&from={}", percent_encode(f)))
        .unwrap_or_default();
    let score = claims.audit.score.to_string();
    let html = render(
        "badge.html",
        context! {
            lang => t.lang,
            css => Value::from_safe_string(CSS.into()),
            issuer => &*state.issuer,
            id => &record.id,
            page_url => &claims.reference,
            status => status,
            org => &claims.org.name,
            country => &claims.org.country,
            reg => &claims.org.reg,
            origins => &record.origins,
            auditor => auditor_name,
            audit_date => date(claims.audit.at),
            issued => date(claims.iat),
            expires => date(claims.exp),
            status_list => &claims.status.status_list.uri,
            indicators => indicators,
            history => history,
            languages => languages,
            from_param => from_param,
            wrong_site => wrong_site,
            t => context! {
                title => t.fill("page.title", &[("org", &claims.org.name)]),
                heading => t.get("page.heading"),
                intro => t.get("page.intro"),
                status_word => t.get(&format!("status.{status}")),
                status_explain => t.get(&format!("status.{status}.explain")),
                since => t.fill("status.since", &[("date", &date_time(last_change))]),
                organisation => t.get("label.organisation"),
                country => t.get("label.country"),
                registration => t.get("label.registration"),
                sites => t.get("label.sites"),
                auditor => t.get("label.auditor"),
                audit_date => t.get("label.audit_date"),
                valid_from => t.get("label.valid_from"),
                valid_until => t.get("label.valid_until"),
                score => t.get("label.score"),
                score_of => t.fill("score.of", &[("score", &score)]),
                badge_id => t.get("label.badge_id"),
                indicators => t.get("indicators.heading"),
                col_indicator => t.get("indicators.col.indicator"),
                col_value => t.get("indicators.col.value"),
                col_threshold => t.get("indicators.col.threshold"),
                col_score => t.get("indicators.col.score"),
                col_result => t.get("indicators.col.result"),
                wrong_site_title => t.get("warning.wrong_site.title"),
                history => t.get("history.heading"),
                col_date => t.get("history.col.date"),
                col_status => t.get("history.col.status"),
                col_reason => t.get("history.col.reason"),
                qr_alt => t.get("qr.alt"),
                qr_caption => t.get("qr.caption"),
                verify => t.get("verify.heading"),
                verify_body => t.get("verify.body"),
                lang_switch => t.get("lang.switch"),
            },
        },
    )?;
    Ok((
        PAGE_HEADERS,
        [(header::CONTENT_LANGUAGE, t.lang)],
        Html(html),
    )
        .into_response())
}

/// Percent-encodes everything but unreserved characters (RFC 3986).
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `GET /b/{id}/qr.svg`: the QR code of the page's URL.
pub async fn qr(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let Some((_, claims)) = load(&state, &id)? else {
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

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /b/{id}/badge.svg`: a small image of the current status (the no-JS badge).
pub async fn badge_svg(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = strings(None, &headers);
    let (status, label) = match load(&state, &id)? {
        Some((record, claims)) => {
            let s = shown_status(&record, &claims, chrono::Utc::now().timestamp());
            let key = if s == "valid" {
                "badge.verified"
            } else {
                &*format!("badge.{s}")
            };
            (s, t.get(key))
        }
        None => ("revoked", t.get("notfound.title")),
    };
    let color = match status {
        "valid" => "#0b6b2f",
        "suspended" => "#8a4b00",
        _ => "#a4161a",
    };
    let label = xml_escape(&label);
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="200" height="44" viewBox="0 0 200 44" role="img" aria-label="{label}"><title>{label}</title><rect width="200" height="44" rx="6" fill="{color}"/><text x="100" y="27" fill="#fff" font-family="system-ui,sans-serif" font-size="14" font-weight="600" text-anchor="middle">{label}</text></svg>"##
    );
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        svg,
    )
        .into_response())
}

/// `GET /demo` (demo mode only): a stand-in supplier page carrying the demo badge.
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
