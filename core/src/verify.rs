//! Offline badge verification: one entry point, one verdict, one reason.
//!
//! Checks run in the order of SPEC 5 and the first failure is the reason: size and format
//! (`malformed`), `typ` (`wrong_type`), key (`unknown_key`), signature (`bad_signature`),
//! issuer (`untrusted_issuer`), time (`expired`, `not_yet_valid`), origin
//! (`origin_mismatch`), then the status list. Nothing here reads a clock or a file: the
//! time and every trusted input are passed in. Anything that could not be checked is
//! [`Verdict::Unknown`], never valid.

use crate::badge_json;
use crate::catalogue::Catalogue;
use crate::claims::{self, BadgeClaims, ClaimsError, StatusListClaims, MAX_FUTURE_SKEW};
use crate::jws::{self, TokenType, TypedError};
use crate::keys::Jwks;
use crate::status::{self, StatusList, StatusListError};
use serde::Serialize;
use std::collections::HashMap;
use std::mem::MaybeUninit;

/// The three outcomes of a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Checked, and valid.
    Valid,
    /// Checked, and not valid.
    Invalid,
    /// Could not be checked (status missing, stale or unverifiable).
    Unknown,
}

/// Why a badge got its verdict (SPEC 5 reason codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Every check passed.
    Valid,
    /// `exp` has passed.
    Expired,
    /// `nbf` (or `iat`) is in the future.
    NotYetValid,
    /// The status list says revoked.
    Revoked,
    /// The status list says suspended.
    Suspended,
    /// The badge is not for the origin it was checked against.
    OriginMismatch,
    /// The signature does not verify.
    BadSignature,
    /// No trusted key with the token's `kid` vouches for it.
    UnknownKey,
    /// `iss` is not the trusted issuer.
    UntrustedIssuer,
    /// The token is another TrustMark type, or has no `typ`.
    WrongType,
    /// Not a well-formed badge.
    Malformed,
    /// No usable status list: none for the badge's `uri`, or stale.
    StatusUnavailable,
    /// A status list was found but failed verification.
    StatusInvalid,
    /// The badge's index is past the end of its status list.
    StatusOutOfRange,
    /// No badge was found where one was looked for.
    NoBadgeFound,
}

impl Reason {
    /// The reason code as written in JSON output.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Revoked => "revoked",
            Reason::Suspended => "suspended",
            Reason::OriginMismatch => "origin_mismatch",
            Reason::BadSignature => "bad_signature",
            Reason::UnknownKey => "unknown_key",
            Reason::UntrustedIssuer => "untrusted_issuer",
            Reason::WrongType => "wrong_type",
            Reason::Malformed => "malformed",
            Reason::StatusUnavailable => "status_unavailable",
            Reason::StatusInvalid => "status_invalid",
            Reason::StatusOutOfRange => "status_out_of_range",
            Reason::NoBadgeFound => "no_badge_found",
        }
    }

    /// The verdict this reason implies. Only the transient status problems are
    /// `unknown`: they may resolve with a fresh list, everything else will not.
    pub const fn verdict(self) -> Verdict {
        match self {
            Reason::Valid => Verdict::Valid,
            Reason::StatusUnavailable | Reason::StatusInvalid => Verdict::Unknown,
            _ => Verdict::Invalid,
        }
    }

    /// Every reason, in SPEC order.
    pub const ALL: [Reason; 15] = [
        Reason::Valid,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::Revoked,
        Reason::Suspended,
        Reason::OriginMismatch,
        Reason::BadSignature,
        Reason::UnknownKey,
        Reason::UntrustedIssuer,
        Reason::WrongType,
        Reason::Malformed,
        Reason::StatusUnavailable,
        Reason::StatusInvalid,
        Reason::StatusOutOfRange,
        Reason::NoBadgeFound,
    ];
}

/// The result of verifying one badge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Why.
    pub reason: Reason,
    /// The claims, whenever the payload parsed (also for invalid badges).
    pub claims: Option<BadgeClaims>,
    /// A human explanation of a failure, when there is more to say than the reason.
    pub detail: Option<String>,
}

impl Outcome {
    /// The verdict.
    pub fn verdict(&self) -> Verdict {
        self.reason.verdict()
    }

    fn fail(
        reason: Reason,
        claims: Option<BadgeClaims>,
        detail: impl Into<Option<String>>,
    ) -> Self {
        Outcome {
            reason,
            claims,
            detail: detail.into(),
        }
    }
}

/// Which origin a badge must be valid for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginPolicy<'a> {
    /// The badge's `sub` or an alias must equal this canonical origin.
    Require(&'a str),
    /// Skip the origin check (bulk audits of badges detached from their sites).
    Ignore,
}

/// Why a status list token was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListProblem {
    /// Not a well-formed status list token, or another type.
    #[error("not a status list token: {0}")]
    Token(TypedError),
    /// The claims are missing or invalid.
    #[error("status list claims: {0}")]
    Claims(ClaimsError),
    /// No trusted key vouches for it.
    #[error("the status list is signed by an unknown key")]
    UnknownKey,
    /// It is signed by a key the registry withdrew.
    #[error("the status list is signed by a withdrawn key")]
    WithdrawnKey,
    /// The signature does not verify.
    #[error("the status list signature does not verify")]
    BadSignature,
    /// Its `iss` is not the trusted issuer.
    #[error("the status list is from another issuer")]
    UntrustedIssuer,
    /// The `status_list` claim does not decode.
    #[error("the status list does not decode: {0}")]
    List(StatusListError),
}

/// A status list whose signature, issuer and encoding have been checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedStatusList {
    /// Its claims.
    pub claims: StatusListClaims,
    /// The decoded list.
    pub list: StatusList,
}

impl VerifiedStatusList {
    /// Whether the list may still be relied on at `at`: before `exp` and within `ttl`
    /// of `iat`.
    pub fn is_fresh(&self, at: i64) -> bool {
        let ttl_end = self
            .claims
            .iat
            .saturating_add(i64::try_from(self.claims.ttl).unwrap_or(i64::MAX));
        at < self.claims.exp && at <= ttl_end
    }
}

/// Verifies a status list token against trusted keys and issuer (time-independent parts).
pub fn verify_status_list(
    token: &str,
    keys: &Jwks,
    issuer: &str,
) -> Result<VerifiedStatusList, StatusListProblem> {
    let compact =
        jws::parse_typed(token, TokenType::StatusList).map_err(StatusListProblem::Token)?;
    let claims: StatusListClaims =
        claims::from_payload(compact.payload()).map_err(StatusListProblem::Claims)?;
    claims.validate().map_err(StatusListProblem::Claims)?;
    let kid = compact.header().kid.as_deref().unwrap_or_default();
    if keys.is_withdrawn(kid) {
        return Err(StatusListProblem::WithdrawnKey);
    }
    let key = keys
        .get(kid)
        .filter(|k| k.vouches_for(TokenType::StatusList, claims.iat))
        .ok_or(StatusListProblem::UnknownKey)?;
    if !compact.verify(key.verifying_key()) {
        return Err(StatusListProblem::BadSignature);
    }
    if claims.iss != issuer {
        return Err(StatusListProblem::UntrustedIssuer);
    }
    let list = StatusList::decode(&claims.status_list).map_err(StatusListProblem::List)?;
    Ok(VerifiedStatusList { claims, list })
}

enum ListEntry {
    Verified(Box<VerifiedStatusList>),
    Rejected(StatusListProblem),
}

/// A badge verifier for one trusted issuer, its keys and the status lists at hand.
///
/// Build it once and verify many badges: keys are decoded and lists decompressed up
/// front, so each badge costs a parse, one signature check and a lookup.
pub struct Verifier {
    issuer: String,
    keys: Jwks,
    catalogue: Catalogue,
    lists: HashMap<String, ListEntry>,
    unattributed_rejects: usize,
    issuer_is_url: bool,
    /// The header part a badge signed with each badge key carries when a TrustMark
    /// signer made it, recognised by its text on the verify path.
    badge_headers: Vec<jws::KnownHeader>,
}

impl Verifier {
    /// A verifier trusting `issuer` and `keys`, scoring against `catalogue`.
    pub fn new(issuer: impl Into<String>, keys: Jwks, catalogue: Catalogue) -> Self {
        let issuer = issuer.into();
        let badge_headers = keys
            .keys()
            .iter()
            .filter(|k| k.usage().is_none_or(|u| u.permits(TokenType::Badge)))
            .filter_map(|k| jws::KnownHeader::badge(k.kid()))
            .collect();
        Verifier {
            badge_headers,
            issuer_is_url: claims::is_url(&issuer),
            issuer,
            keys,
            catalogue,
            lists: HashMap::new(),
            unattributed_rejects: 0,
        }
    }

    /// The trusted issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Adds a status list token. A list that fails verification is remembered under the
    /// URL it claims, so badges pointing there get `status_invalid` rather than
    /// `status_unavailable`; the error is also returned for the caller to report.
    pub fn add_status_list(&mut self, token: &str) -> Result<(), StatusListProblem> {
        match verify_status_list(token, &self.keys, &self.issuer) {
            Ok(list) => {
                let sub = list.claims.sub.clone();
                let newer = match self.lists.get(&sub) {
                    Some(ListEntry::Verified(old)) => list.claims.iat > old.claims.iat,
                    _ => true,
                };
                if newer {
                    self.lists.insert(sub, ListEntry::Verified(Box::new(list)));
                }
                Ok(())
            }
            Err(problem) => {
                // A broken list is filed under the URL it claims.
                match jws::unverified_string_claim(token, TokenType::StatusList, "sub") {
                    Some(sub) => {
                        self.lists
                            .entry(sub)
                            .or_insert(ListEntry::Rejected(problem));
                    }
                    None => self.unattributed_rejects += 1,
                }
                Err(problem)
            }
        }
    }

    /// Verifies one badge token at time `at` (unix seconds).
    pub fn verify(&self, token: &str, origin: OriginPolicy<'_>, at: i64) -> Outcome {
        // The payload is decoded on the stack: a badge is at most 8 KiB.
        let mut payload_buf = [MaybeUninit::uninit(); jws::MAX_PAYLOAD_LEN];
        let compact = match jws::parse_badge(token, &self.badge_headers, &mut payload_buf) {
            Ok(c) => c,
            Err(TypedError::WrongType { .. }) => {
                return Outcome::fail(Reason::WrongType, None, None)
            }
            Err(e) => return Outcome::fail(Reason::Malformed, None, e.to_string()),
        };
        let claims: BadgeClaims = match badge_json::parse(compact.payload) {
            Ok(c) => c,
            Err(e) => return Outcome::fail(Reason::Malformed, None, e.to_string()),
        };
        let known = self.issuer_is_url.then_some(self.issuer.as_str());
        if let Err(e) = claims.validate_with_known_issuer(&self.catalogue, known) {
            return Outcome::fail(Reason::Malformed, Some(claims), e.to_string());
        }
        let kid = &*compact.kid;
        let Some(key) = self.keys.get(kid) else {
            let why = self
                .keys
                .is_withdrawn(kid)
                .then(|| "the registry withdrew the key with this kid (compromised)".to_owned());
            return Outcome::fail(Reason::UnknownKey, Some(claims), why);
        };
        if !key.vouches_for(TokenType::Badge, claims.iat) {
            let why =
                "the key with this kid is not valid for badges issued at this time".to_owned();
            return Outcome::fail(Reason::UnknownKey, Some(claims), why);
        }
        if !jws::verify_signature(
            key.verifying_key(),
            compact.signing_input.as_bytes(),
            &compact.signature,
        ) {
            return Outcome::fail(Reason::BadSignature, Some(claims), None);
        }
        if claims.iss != self.issuer {
            return Outcome::fail(Reason::UntrustedIssuer, Some(claims), None);
        }
        if at >= claims.exp {
            return Outcome::fail(Reason::Expired, Some(claims), None);
        }
        let not_before = claims.nbf.unwrap_or(claims.iat).max(claims.iat);
        if not_before > at.saturating_add(MAX_FUTURE_SKEW) {
            return Outcome::fail(Reason::NotYetValid, Some(claims), None);
        }
        if let OriginPolicy::Require(origin) = origin {
            if !claims.covers_origin(origin) {
                return Outcome::fail(Reason::OriginMismatch, Some(claims), None);
            }
        }
        let (reason, detail) = self.status_of(&claims, at);
        Outcome {
            reason,
            claims: Some(claims),
            detail,
        }
    }

    fn status_of(&self, claims: &BadgeClaims, at: i64) -> (Reason, Option<String>) {
        let r = &claims.status.status_list;
        let list = match self.lists.get(&r.uri) {
            Some(ListEntry::Verified(list)) => list,
            Some(ListEntry::Rejected(problem)) => {
                return (Reason::StatusInvalid, Some(problem.to_string()))
            }
            None if self.unattributed_rejects > 0 => {
                return (
                    Reason::StatusInvalid,
                    Some("a status list given could not be read".into()),
                )
            }
            None => {
                return (
                    Reason::StatusUnavailable,
                    Some(format!("no status list for {}", r.uri)),
                )
            }
        };
        if list.claims.iat > at.saturating_add(MAX_FUTURE_SKEW) {
            return (
                Reason::StatusInvalid,
                Some("the status list is dated in the future".into()),
            );
        }
        if !list.is_fresh(at) {
            return (
                Reason::StatusUnavailable,
                Some("the status list is stale (past exp or ttl)".into()),
            );
        }
        let value = usize::try_from(r.idx).ok().and_then(|i| list.list.get(i));
        match value {
            None => (Reason::StatusOutOfRange, None),
            Some(status::value::VALID) => (Reason::Valid, None),
            Some(status::value::REVOKED) => (Reason::Revoked, None),
            Some(status::value::SUSPENDED) => (Reason::Suspended, None),
            Some(v) => (
                Reason::StatusInvalid,
                Some(format!("unassigned status value {v}")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    // The verify path must give the outcome the path before it gave (reason, claims and
    // detail), on every vector and on every one-character change of the valid badge.
    use super::*;

    /// `Verifier::verify` as it was before the closed-shape parser and the stack-decoded
    /// payload: the general JWS parser and serde's derived claims parser.
    fn verify_before(v: &Verifier, token: &str, origin: OriginPolicy<'_>, at: i64) -> Outcome {
        let compact = match jws::parse_typed_closed(token, TokenType::Badge) {
            Ok(c) => c,
            Err(TypedError::WrongType { .. }) => {
                return Outcome::fail(Reason::WrongType, None, None)
            }
            Err(e) => return Outcome::fail(Reason::Malformed, None, e.to_string()),
        };
        let claims: BadgeClaims = match claims::from_payload(compact.payload()) {
            Ok(c) => c,
            Err(e) => return Outcome::fail(Reason::Malformed, None, e.to_string()),
        };
        let known = v.issuer_is_url.then_some(v.issuer.as_str());
        if let Err(e) = claims.validate_with_known_issuer(&v.catalogue, known) {
            return Outcome::fail(Reason::Malformed, Some(claims), e.to_string());
        }
        let kid = compact.header().kid.as_deref().unwrap_or_default();
        let Some(key) = v.keys.get(kid) else {
            let why = v
                .keys
                .is_withdrawn(kid)
                .then(|| "the registry withdrew the key with this kid (compromised)".to_owned());
            return Outcome::fail(Reason::UnknownKey, Some(claims), why);
        };
        if !key.vouches_for(TokenType::Badge, claims.iat) {
            let why =
                "the key with this kid is not valid for badges issued at this time".to_owned();
            return Outcome::fail(Reason::UnknownKey, Some(claims), why);
        }
        if !compact.verify(key.verifying_key()) {
            return Outcome::fail(Reason::BadSignature, Some(claims), None);
        }
        if claims.iss != v.issuer {
            return Outcome::fail(Reason::UntrustedIssuer, Some(claims), None);
        }
        if at >= claims.exp {
            return Outcome::fail(Reason::Expired, Some(claims), None);
        }
        let not_before = claims.nbf.unwrap_or(claims.iat).max(claims.iat);
        if not_before > at.saturating_add(MAX_FUTURE_SKEW) {
            return Outcome::fail(Reason::NotYetValid, Some(claims), None);
        }
        if let OriginPolicy::Require(origin) = origin {
            if !claims.covers_origin(origin) {
                return Outcome::fail(Reason::OriginMismatch, Some(claims), None);
            }
        }
        let (reason, detail) = v.status_of(&claims, at);
        Outcome {
            reason,
            claims: Some(claims),
            detail,
        }
    }

    fn vectors() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
    }

    fn read(rel: &str) -> String {
        std::fs::read_to_string(vectors().join(rel)).unwrap()
    }

    #[test]
    fn every_vector_gets_the_outcome_it_got_before() {
        let manifest: serde_json::Value = serde_json::from_str(&read("cases.json")).unwrap();
        let issuer = manifest["issuer"].as_str().unwrap();
        let default_at = manifest["at"].as_i64().unwrap();
        let jwks = Jwks::parse(read(manifest["jwks"].as_str().unwrap()).as_bytes()).unwrap();
        let mut compared = 0;
        for case in manifest["cases"].as_array().unwrap() {
            if case["kind"] != "badge" {
                continue;
            }
            let mut v = Verifier::new(issuer, jwks.clone(), Catalogue::rcep_b2b_web_1().unwrap());
            for list in case["status_lists"].as_array().unwrap() {
                let _ = v.add_status_list(read(list.as_str().unwrap()).trim());
            }
            let origin = case["origin"]
                .as_str()
                .map(|o| crate::origin::canonicalize(o).unwrap());
            let policy = origin
                .as_deref()
                .map_or(OriginPolicy::Ignore, OriginPolicy::Require);
            let at = case["at"].as_i64().unwrap_or(default_at);
            let token = case["token"].as_str().unwrap();
            assert_eq!(
                v.verify(token, policy, at),
                verify_before(&v, token, policy, at),
                "{}",
                case["name"]
            );
            compared += 1;
        }
        assert!(compared > 70, "{compared}");
    }

    #[test]
    fn every_one_character_change_gets_the_outcome_it_got_before() {
        let manifest: serde_json::Value = serde_json::from_str(&read("cases.json")).unwrap();
        let valid = manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "valid")
            .unwrap();
        let token = valid["token"].as_str().unwrap();
        let jwks = Jwks::parse(read(manifest["jwks"].as_str().unwrap()).as_bytes()).unwrap();
        let mut v = Verifier::new(
            manifest["issuer"].as_str().unwrap(),
            jwks,
            Catalogue::rcep_b2b_web_1().unwrap(),
        );
        for list in valid["status_lists"].as_array().unwrap() {
            v.add_status_list(read(list.as_str().unwrap()).trim())
                .unwrap();
        }
        let at = valid["at"]
            .as_i64()
            .unwrap_or(manifest["at"].as_i64().unwrap());
        let b = token.as_bytes();
        let mut reasons = std::collections::HashSet::new();
        for i in 0..=b.len() {
            let mut variants = Vec::new();
            for c in *b"AQgw-_+/=. {" {
                variants.push([&b[..i], &[c], &b[i..]].concat());
                if i < b.len() && b[i] != c {
                    let mut changed = b.to_vec();
                    changed[i] = c;
                    variants.push(changed);
                }
            }
            if i < b.len() {
                variants.push([&b[..i], &b[i + 1..]].concat());
            }
            for t in variants {
                let t = String::from_utf8(t).unwrap();
                for policy in [
                    OriginPolicy::Ignore,
                    OriginPolicy::Require("https://x.example"),
                ] {
                    let got = v.verify(&t, policy, at);
                    assert_eq!(got, verify_before(&v, &t, policy, at), "{t}");
                    reasons.insert(got.reason);
                }
            }
        }
        // The changes reach several checks, not only the first.
        assert!(reasons.len() >= 3, "{reasons:?}");
    }
}
