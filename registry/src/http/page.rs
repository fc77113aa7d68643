//! `GET /b/{id}`: the public verification page a buyer lands on from a badge.
//! Server-rendered with auto-escaping templates; no JavaScript.

use super::view::{date, date_time, load, render, shown_status, strings, CSS, PAGE_HEADERS};
use super::{AppState, Problem};
use crate::i18n::{self, Strings};
use crate::records::BadgeRecord;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Value};
use serde::Deserialize;
use trustmark_core::catalogue::Direction;
use trustmark_core::origin;
use trustmark_core::{AuditStatementClaims, BadgeClaims};

/// No canonical origin is longer: `https://`, a 253-byte host and `:65535`.
const MAX_FROM: usize = 300;

/// Query parameters of the page.
#[derive(Deserialize)]
pub struct PageQuery {
    lang: Option<String>,
    from: Option<String>,
}

/// The warning for a `?from=` the badge does not cover, or `None` when it covers it.
/// The value is shown only when it already is a canonical origin: anything else is
/// attacker-chosen text on the registry's own page, so a fixed phrase stands in for it.
fn wrong_site(t: Strings, claims: &BadgeClaims, origins: &str, from: &str) -> Option<String> {
    let covered = origin::canonicalize(from).is_ok_and(|o| claims.covers_origin(&o));
    if covered {
        return None;
    }
    let shown = if from.len() <= MAX_FROM && origin::check_canonical(from).is_ok() {
        from.to_owned()
    } else {
        t.get("warning.wrong_site.not_origin")
    };
    Some(t.fill(
        "warning.wrong_site.body",
        &[("from", &shown), ("origins", origins)],
    ))
}

/// The `from` the language links carry, so the page in another language warns alike:
/// the value itself when short enough to be an origin, else the origin it names, if any.
fn link_from(from: &str) -> Option<String> {
    if from.len() <= MAX_FROM {
        return Some(from.to_owned());
    }
    origin::canonicalize(from)
        .ok()
        .filter(|o| o.len() <= MAX_FROM)
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

/// One table row per catalogue indicator: measured value (from the signed statement),
/// requirement, normalised score and a pass/fail word.
fn indicator_rows(
    state: &AppState,
    t: Strings,
    record: &BadgeRecord,
    claims: &BadgeClaims,
) -> Vec<Value> {
    let statement: Option<AuditStatementClaims> =
        trustmark_core::jws::Compact::parse(&record.statement, trustmark_core::jws::MAX_TOKEN_LEN)
            .ok()
            .and_then(|c| serde_json::from_slice(c.payload()).ok());
    let values = statement.as_ref().map(|s| s.values()).unwrap_or_default();
    state
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
        .collect()
}

/// The page's fixed strings in language `t`.
fn labels(t: Strings, claims: &BadgeClaims, status: &str, last_change: i64) -> Value {
    let score = claims.audit.score.to_string();
    context! {
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
        log => t.get("log.heading"),
        log_intro => t.get("log.intro"),
        col_entry => t.get("log.col.entry"),
        col_event => t.get("log.col.event"),
        qr_alt => t.get("qr.alt"),
        qr_caption => t.get("qr.caption"),
        verify => t.get("verify.heading"),
        verify_body => t.get("verify.body"),
        lang_switch => t.get("lang.switch"),
    }
}

/// `GET /b/{id}`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let t = strings(q.lang.as_deref(), &headers);
    let Some((record, claims)) = load(&state, &id).await? else {
        return not_found(&state, t);
    };
    let status = shown_status(&record, &claims, chrono::Utc::now().timestamp());
    let origins = record.origins.join(", ");
    let from = q.from.as_deref();
    let auditor_name = state
        .storage
        .auditor(&record.auditor)
        .await
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
    let log: Vec<Value> = record
        .log
        .iter()
        .map(|l| {
            let event = match (l.kind.as_str(), l.status) {
                ("status_changed", Some(s)) => t.fill(
                    "log.event.status_changed",
                    &[("status", &t.get(&format!("status.{}", s.as_str())))],
                ),
                ("reissued", _) => t.get("log.event.reissued"),
                _ => t.get("log.event.issued"),
            };
            context! { index => l.index, date => date_time(l.at), event => event }
        })
        .collect();
    let last_change = record.history.last().map_or(claims.iat, |h| h.at);
    let languages: Vec<Value> = i18n::LANGUAGES
        .iter()
        .map(|code| context! { code => code, name => Strings { lang: code }.get("lang.name"), current => *code == t.lang })
        .collect();
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
            indicators => indicator_rows(&state, t, &record, &claims),
            history => history,
            log => log,
            languages => languages,
            link_from => from.and_then(link_from),
            wrong_site => from.and_then(|f| wrong_site(t, &claims, &origins, f)),
            t => labels(t, &claims, status, last_change),
        },
    )?;
    Ok((
        PAGE_HEADERS,
        [(header::CONTENT_LANGUAGE, t.lang)],
        Html(html),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    // The `from` length cap never cuts off a real origin.
    use super::*;

    #[test]
    fn the_longest_origin_fits_under_the_cap() {
        let label = "a".repeat(63);
        // 4 labels of 63 and 3 dots is 255; DNS allows 253, so trim the last label.
        let host = format!("{label}.{label}.{label}.{}", &label[..61]);
        assert_eq!(host.len(), 253);
        let longest = format!("https://{host}:65535");
        assert!(origin::check_canonical(&longest).is_ok());
        assert!(longest.len() <= MAX_FROM);
        assert_eq!(link_from(&longest).as_deref(), Some(longest.as_str()));
        let long_url = format!("https://copycat.example/{}", "a".repeat(MAX_FROM));
        assert_eq!(
            link_from(&long_url).as_deref(),
            Some("https://copycat.example")
        );
        assert_eq!(link_from(&"a".repeat(MAX_FROM + 1)), None);
    }
}
