//! Claims of the four TrustMark token types and their validation (SPEC 3.1-3.4).
//!
//! Validation here is about form: every required claim present with the right type and
//! range, origins canonical, identifiers URL-safe. What depends on trust or time (keys,
//! issuer, expiry, status) is decided in [`crate::verify`].

use crate::catalogue::Catalogue;
use crate::origin;
use crate::status::StatusListJson;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The scheme identifier of this catalogue version.
pub const SCHEME: &str = "rcep-b2b-web/1";

/// Why a token's claims are unacceptable. Names the first claim found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The payload does not have the claim set's shape (a claim missing or mistyped).
    #[error("the claims do not have the required members and types")]
    Shape,
    /// A claim is present but its value is not acceptable.
    #[error("the {0} claim is invalid")]
    Invalid(&'static str),
}

/// `org`: the organisation that runs the site.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// Legal name.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Business registration number, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reg: Option<String>,
}

/// `audit`: what the auditor measured, in catalogue order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSummary {
    /// Audit time (unix seconds).
    pub at: i64,
    /// Overall score 0-100.
    pub score: u8,
    /// Normalised score per indicator, in catalogue order.
    pub ind: Vec<u8>,
    /// base64url SHA-256 of the auditor's signed audit statement bytes.
    pub digest: String,
}

/// `status.status_list`: where the badge's status lives.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusListRef {
    /// Index in the list.
    pub idx: u64,
    /// The list's URL (its `sub`).
    pub uri: String,
}

/// `status`: the IETF Token Status List reference.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusRef {
    /// The list reference.
    pub status_list: StatusListRef,
}

/// Badge claims (`trustmark+jwt`): a closed set. Unknown claims are refused, which also
/// lets serde's derived parser catch every duplicate member in the same pass (no map
/// types anywhere below), so badges need no separate duplicate scan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BadgeClaims {
    /// Registry issuer URL.
    pub iss: String,
    /// The site's canonical origin.
    pub sub: String,
    /// Further canonical origins the badge is valid for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Issued at (unix seconds).
    pub iat: i64,
    /// Expires at (unix seconds).
    pub exp: i64,
    /// Not before (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Badge id.
    pub jti: String,
    /// `<iss>/schemes/rcep-b2b-web/1`.
    pub trust_mark_type: String,
    /// The organisation.
    pub org: Org,
    /// Auditor id at the registry.
    pub auditor: String,
    /// Audit summary.
    pub audit: AuditSummary,
    /// Public verification page.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Status list reference.
    pub status: StatusRef,
}

/// Status list claims (`statuslist+jwt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaims {
    /// Registry issuer URL.
    pub iss: String,
    /// The list's own URL.
    pub sub: String,
    /// Issued at.
    pub iat: i64,
    /// Expires at.
    pub exp: i64,
    /// Seconds a consumer may cache the list.
    pub ttl: u64,
    /// The list.
    pub status_list: StatusListJson,
}

/// One measured indicator value in an audit statement.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValue {
    /// The measurement.
    pub value: f64,
}

/// Audit statement claims (`trustmark-audit+jwt`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditStatementClaims {
    /// Auditor id.
    pub iss: String,
    /// Signed at.
    pub iat: i64,
    /// Unique per submission.
    pub jti: String,
    /// The audited site's canonical origin.
    pub sub: String,
    /// Further canonical origins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The organisation.
    pub org: Org,
    /// Must be `rcep-b2b-web/1`.
    pub scheme: String,
    /// When the audit was done.
    pub audited_at: i64,
    /// Requested badge validity, 1-400 days.
    pub valid_days: u16,
    /// Indicator id -> value.
    pub indicators: BTreeMap<String, IndicatorValue>,
    /// The audit report, if published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_uri: Option<String>,
    /// BCP 47 tags of the site's language versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
}

/// What a status change request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Final.
    Revoke,
    /// Reversible.
    Suspend,
    /// Undo a suspension.
    Reinstate,
}

/// Status change request claims (`trustmark-status+jwt`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChangeClaims {
    /// Auditor id.
    pub iss: String,
    /// Signed at.
    pub iat: i64,
    /// Unique per request.
    pub jti: String,
    /// Badge id.
    pub badge: String,
    /// What to do.
    pub action: Action,
    /// Short reason.
    pub reason: String,
}

/// Parses a payload (already checked for duplicate members) into a claims type.
pub(crate) fn from_payload<T: serde::de::DeserializeOwned>(
    payload: &[u8],
) -> Result<T, ClaimsError> {
    // One UTF-8 check of the whole payload is cheaper than serde_json's per-string checks.
    let text = std::str::from_utf8(payload).map_err(|_| ClaimsError::Shape)?;
    serde_json::from_str(text).map_err(|_| ClaimsError::Shape)
}

fn ensure(ok: bool, claim: &'static str) -> Result<(), ClaimsError> {
    ok.then_some(()).ok_or(ClaimsError::Invalid(claim))
}

/// URL-safe identifier of 1..=max characters (`[A-Za-z0-9_-]`).
pub fn is_url_safe_id(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An issuer or page URL: http(s), a canonical origin, then an optional path without
/// query, fragment or trailing slash.
/// Whether `s` is acceptable as an issuer (or page) URL: http(s), a canonical origin, then
/// an optional path without query, fragment or trailing slash.
pub fn is_issuer_url(s: &str) -> bool {
    is_url(s)
}

pub(crate) fn is_url(s: &str) -> bool {
    is_url_below(s, None)
}

/// [`is_url`], with a shortcut: when `s` extends `known_good` (a URL already checked) by
/// a path, its origin is known canonical and only the path is checked.
fn is_url_below(s: &str, known_good: Option<&str>) -> bool {
    if s.len() > 2048 {
        return false;
    }
    let path = match known_good.and_then(|k| s.strip_prefix(k)) {
        Some(rest) if rest.starts_with('/') => rest,
        _ => {
            let Some(after) = s
                .strip_prefix("https://")
                .or_else(|| s.strip_prefix("http://"))
            else {
                return false;
            };
            let cut = after
                .bytes()
                .position(|b| b == b'/')
                .map_or(s.len(), |i| s.len() - after.len() + i);
            let (base, path) = s.split_at(cut);
            if origin::check_canonical(base).is_err() {
                return false;
            }
            path
        }
    };
    // A fold without early exit vectorises.
    !path.ends_with('/')
        && !path.as_bytes().iter().fold(false, |any, &b| {
            any | matches!(b, b'?' | b'#' | b' ' | b'\\') | b.is_ascii_control()
        })
}

/// Whether `c` could make text read differently from what it says: controls (Cc),
/// format characters (Cf: bidi overrides and isolates, zero-width characters, soft
/// hyphen, tags) and line or paragraph separators (Zl, Zp).
pub fn is_deceptive(c: char) -> bool {
    use icu_properties::{props::GeneralCategory as Gc, CodePointMapData};
    c.is_control()
        || matches!(
            CodePointMapData::<Gc>::new().get(c),
            Gc::Format | Gc::LineSeparator | Gc::ParagraphSeparator
        )
}

/// Whether `s` is text fit to show a person as signed: not blank, at most `max`
/// characters, and free of the characters [`is_deceptive`] refuses.
pub fn is_display_text(s: &str, max: usize) -> bool {
    // ASCII fast path, in passes without early exits (which vectorise): with no control
    // character, the only whitespace `trim` could remove from ASCII text is the space.
    let bytes = s.as_bytes();
    if bytes.iter().fold(0u8, |all, &b| all | b).is_ascii() {
        let control = bytes
            .iter()
            .fold(false, |any, &b| any | b.is_ascii_control());
        return s.len() <= max && !control && bytes.iter().any(|&b| b != b' ');
    }
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(is_deceptive)
}

fn text_ok(s: &str, max: usize) -> bool {
    is_display_text(s, max)
}

fn check_origins(sub: &str, aliases: &[String], sub_name: &'static str) -> Result<(), ClaimsError> {
    ensure(origin::check_canonical(sub).is_ok(), sub_name)?;
    ensure(aliases.len() <= 20, "aliases")?;
    for (i, a) in aliases.iter().enumerate() {
        ensure(origin::check_canonical(a).is_ok() && a != sub, "aliases")?;
        ensure(aliases.iter().skip(i + 1).all(|b| b != a), "aliases")?;
    }
    Ok(())
}

fn check_org(org: &Org) -> Result<(), ClaimsError> {
    ensure(text_ok(&org.name, 200), "org.name")?;
    ensure(
        org.country.len() == 2 && org.country.bytes().all(|b| b.is_ascii_uppercase()),
        "org.country",
    )?;
    ensure(
        org.reg.as_deref().is_none_or(|r| text_ok(r, 100)),
        "org.reg",
    )
}

impl BadgeClaims {
    /// The scheme URL a badge from issuer `iss` must carry.
    pub fn trust_mark_type_for(iss: &str) -> String {
        format!("{iss}/schemes/{SCHEME}")
    }

    /// Checks form and internal consistency, including that `audit.score` and
    /// `audit.ind` agree with the catalogue and pass every required indicator.
    pub fn validate(&self, catalogue: &Catalogue) -> Result<(), ClaimsError> {
        self.validate_with_known_issuer(catalogue, None)
    }

    /// [`BadgeClaims::validate`], skipping the form check of `iss` when it equals
    /// `known_good_issuer`, a URL the caller has already checked once.
    pub(crate) fn validate_with_known_issuer(
        &self,
        catalogue: &Catalogue,
        known_good_issuer: Option<&str>,
    ) -> Result<(), ClaimsError> {
        ensure(
            known_good_issuer == Some(self.iss.as_str()) || is_url(&self.iss),
            "iss",
        )?;
        check_origins(&self.sub, &self.aliases, "sub")?;
        ensure(self.iat >= 0, "iat")?;
        ensure(self.exp > self.iat, "exp")?;
        // A badge that never expires would outlive any key compromise it was minted in.
        ensure(
            self.exp.saturating_sub(self.iat) <= MAX_BADGE_LIFETIME + MAX_FUTURE_SKEW,
            "exp",
        )?;
        ensure(self.nbf.is_none_or(|n| n >= 0), "nbf")?;
        ensure(is_url_safe_id(&self.jti, 40), "jti")?;
        // `trust_mark_type == trust_mark_type_for(iss)`, without building the string.
        ensure(
            self.trust_mark_type
                .strip_prefix(self.iss.as_str())
                .and_then(|rest| rest.strip_prefix("/schemes/"))
                == Some(SCHEME),
            "trust_mark_type",
        )?;
        check_org(&self.org)?;
        ensure(is_url_safe_id(&self.auditor, 64), "auditor")?;
        let a = &self.audit;
        ensure(a.at >= 0 && a.at <= self.iat, "audit.at")?;
        ensure(
            a.ind.len() == catalogue.indicators.len() && a.ind.iter().all(|n| *n <= 100),
            "audit.ind",
        )?;
        ensure(catalogue.required_pass(&a.ind), "audit.ind")?;
        ensure(catalogue.overall(&a.ind) == Some(a.score), "audit.score")?;
        ensure(
            crate::b64::decode_array::<32>(&a.digest).is_some(),
            "audit.digest",
        )?;
        ensure(is_url_below(&self.reference, known_good_issuer), "ref")?;
        ensure(
            is_url_below(&self.status.status_list.uri, known_good_issuer),
            "status.status_list.uri",
        )?;
        Ok(())
    }

    /// Whether `origin` (canonical) is the badge's `sub` or one of its aliases.
    pub fn covers_origin(&self, origin: &str) -> bool {
        self.sub == origin || self.aliases.iter().any(|a| a == origin)
    }
}

impl StatusListClaims {
    /// Checks form: URLs, times and a `ttl` of at least one second.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        ensure(is_url(&self.iss), "iss")?;
        ensure(is_url(&self.sub), "sub")?;
        ensure(self.iat >= 0, "iat")?;
        ensure(self.exp > self.iat, "exp")?;
        ensure(self.ttl > 0, "ttl")
    }
}

/// Longest a badge may be valid (`exp - iat`), in seconds: 400 days, the longest audit
/// validity a statement may ask for (`valid_days`).
pub const MAX_BADGE_LIFETIME: i64 = 400 * 86_400;

/// Largest tolerated clock difference for "issued in the future", in seconds.
pub const MAX_FUTURE_SKEW: i64 = 60;
/// Oldest acceptable audit statement or status change, in seconds.
pub const MAX_STATEMENT_AGE: i64 = 600;

/// Why a signed statement's time is unacceptable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FreshnessError {
    /// Older than [`MAX_STATEMENT_AGE`].
    #[error("the statement is older than {MAX_STATEMENT_AGE} seconds")]
    Stale,
    /// Dated more than [`MAX_FUTURE_SKEW`] in the future.
    #[error("the statement is dated more than {MAX_FUTURE_SKEW} seconds in the future")]
    Future,
    /// `audited_at` is later than the verifier's clock: a badge made from it would say
    /// the audit happened after the badge was issued.
    #[error("audited_at is later than the current time")]
    AuditedInFuture,
}

/// Checks an auditor statement's `iat` against `now`.
pub fn check_fresh(iat: i64, now: i64) -> Result<(), FreshnessError> {
    if iat > now.saturating_add(MAX_FUTURE_SKEW) {
        Err(FreshnessError::Future)
    } else if iat < now.saturating_sub(MAX_STATEMENT_AGE) {
        Err(FreshnessError::Stale)
    } else {
        Ok(())
    }
}

impl AuditStatementClaims {
    /// Checks form (not indicator values: see [`Catalogue::evaluate`]).
    pub fn validate(&self) -> Result<(), ClaimsError> {
        ensure(is_url_safe_id(&self.iss, 64), "iss")?;
        ensure(self.iat >= 0, "iat")?;
        ensure(is_url_safe_id(&self.jti, 64), "jti")?;
        check_origins(&self.sub, &self.aliases, "sub")?;
        check_org(&self.org)?;
        ensure(self.scheme == SCHEME, "scheme")?;
        // The audit is done before its statement is signed, both on the auditor's clock.
        ensure(
            self.audited_at >= 0 && self.audited_at <= self.iat,
            "audited_at",
        )?;
        ensure((1..=400).contains(&self.valid_days), "valid_days")?;
        ensure(self.report_uri.as_deref().is_none_or(is_url), "report_uri")?;
        let tag_ok = |t: &String| {
            !t.is_empty()
                && t.len() <= 35
                && t.split('-').all(|p| {
                    !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric())
                })
        };
        ensure(
            self.languages
                .as_ref()
                .is_none_or(|l| l.len() <= 30 && l.iter().all(tag_ok)),
            "languages",
        )
    }

    /// The indicator values as a plain map, for [`Catalogue::evaluate`].
    pub fn values(&self) -> BTreeMap<String, f64> {
        self.indicators
            .iter()
            .map(|(k, v)| (k.clone(), v.value))
            .collect()
    }
}

impl StatusChangeClaims {
    /// Checks form.
    pub fn validate(&self) -> Result<(), ClaimsError> {
        ensure(is_url_safe_id(&self.iss, 64), "iss")?;
        ensure(self.iat >= 0, "iat")?;
        ensure(is_url_safe_id(&self.jti, 64), "jti")?;
        ensure(is_url_safe_id(&self.badge, 40), "badge")?;
        ensure(text_ok(&self.reason, 200), "reason")
    }
}

#[cfg(test)]
mod tests {
    // Form rules that the vectors do not reach one by one.
    use super::*;

    #[test]
    fn urls_must_have_canonical_origins_and_clean_paths() {
        assert!(is_url("https://registry.example"));
        assert!(is_url("https://registry.example/statuslists/1"));
        assert!(is_url("http://127.0.0.1:8700/b/abc"));
        assert!(!is_url("https://registry.example/"));
        assert!(!is_url("https://Registry.example/x"));
        assert!(!is_url("http://registry.example/x"));
        assert!(!is_url("https://registry.example/x?y"));
        assert!(!is_url("registry.example"));
    }

    #[test]
    fn freshness_window() {
        assert_eq!(check_fresh(1000, 1000), Ok(()));
        assert_eq!(check_fresh(1060, 1000), Ok(()));
        assert_eq!(check_fresh(1061, 1000), Err(FreshnessError::Future));
        assert_eq!(check_fresh(400, 1000), Ok(()));
        assert_eq!(check_fresh(399, 1000), Err(FreshnessError::Stale));
    }

    #[test]
    fn display_text_shortcut_agrees_with_the_character_check() {
        // The check as written before its ASCII path became folds.
        let reference = |s: &str, max: usize| {
            if s.is_ascii() {
                s.len() <= max && !s.bytes().any(|b| b.is_ascii_control()) && !s.trim().is_empty()
            } else {
                !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(is_deceptive)
            }
        };
        let pieces = [
            "", " ", "a", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{1f}", "\u{7f}",
        ];
        let more = [
            "\u{a0}", "\u{85}", "\u{200b}", "\u{3000}", "\u{e9}", "\u{4e2d}", "x",
        ];
        for a in pieces.iter().chain(&more) {
            for b in pieces.iter().chain(&more) {
                for c in pieces.iter().chain(&more) {
                    let s = format!("{a}{b}{c}");
                    for max in [0, 1, 2, 3, 200] {
                        assert_eq!(is_display_text(&s, max), reference(&s, max), "{s:?} {max}");
                    }
                }
            }
        }
    }

    #[test]
    fn trust_mark_type_is_the_scheme_url_under_the_issuer() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap())
                .unwrap();
        let token = manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "valid")
            .unwrap()["token"]
            .as_str()
            .unwrap();
        let payload = crate::b64::decode(token.split('.').nth(1).unwrap()).unwrap();
        let base: BadgeClaims = from_payload(&payload).unwrap();
        let catalogue = Catalogue::rcep_b2b_web_1().unwrap();
        for (iss, tmt) in [
            (
                "https://registry.example",
                "https://registry.example/schemes/rcep-b2b-web/1",
            ),
            (
                "https://registry.example",
                "https://registry.example/schemes/rcep-b2b-web/1/",
            ),
            (
                "https://registry.example",
                "https://registry.example/schemes/rcep-b2b-web/2",
            ),
            (
                "https://registry.example",
                "https://registry.example//schemes/rcep-b2b-web/1",
            ),
            (
                "https://registry.example",
                "https://registry.exampl/schemes/rcep-b2b-web/1",
            ),
            (
                "https://registry.example",
                "https://other.example/schemes/rcep-b2b-web/1",
            ),
            ("https://registry.example", "/schemes/rcep-b2b-web/1"),
            ("https://registry.example", ""),
            (
                "https://registry.example/t",
                "https://registry.example/t/schemes/rcep-b2b-web/1",
            ),
            (
                "https://registry.example/t",
                "https://registry.example/schemes/rcep-b2b-web/1",
            ),
        ] {
            let claims = BadgeClaims {
                iss: iss.into(),
                trust_mark_type: tmt.into(),
                ..base.clone()
            };
            let want = tmt == BadgeClaims::trust_mark_type_for(iss);
            assert_eq!(
                claims.validate(&catalogue).err() != Some(ClaimsError::Invalid("trust_mark_type")),
                want,
                "{iss} {tmt}"
            );
        }
    }

    #[test]
    fn ids_are_url_safe_and_bounded() {
        assert!(is_url_safe_id("b_0123-abc", 40));
        assert!(!is_url_safe_id(&"a".repeat(41), 40));
        assert!(!is_url_safe_id("a/b", 40));
        assert!(!is_url_safe_id("", 40));
    }
}
