//! Deterministic generator of the golden vectors in `testdata/vectors/` and the
//! throwaway keys in `keys-example/`.
//!
//! Shared by `examples/gen_vectors.rs` (which writes the files) and `tests/vectors.rs`
//! (which checks the committed files are exactly what this produces). Keys come from
//! fixed seeds, times are fixed, Ed25519 signatures are deterministic and zlib output
//! is stable, so the same source always yields the same bytes.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use trustmark_core::claims::*;
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::{b64, Catalogue, Jwks, KeyUse, StatusList, TokenType};

pub const ISSUER: &str = "https://registry.example";
/// The verification time of every case unless it says otherwise: 2027-01-01T00:00:00Z.
pub const AT: i64 = 1_798_761_600;
const DAY: i64 = 86_400;
pub const AUDITOR: &str = "auditor-example";
const LIST_URI: &str = "https://registry.example/statuslists/1";

fn seed(label: &str) -> [u8; 32] {
    Sha256::digest(format!("trustmark example key: {label}").as_bytes()).into()
}

pub struct Keys {
    pub badge: SigningKey,
    pub badge_old: SigningKey,
    pub status: SigningKey,
    pub auditor: SigningKey,
    pub rogue: SigningKey,
    pub withdrawn: SigningKey,
    pub log: SigningKey,
}

pub fn keys() -> Keys {
    Keys {
        badge: SigningKey::from_seed(&seed("registry badge key 2")),
        badge_old: SigningKey::from_seed(&seed("registry badge key 1")),
        status: SigningKey::from_seed(&seed("registry status list key 1")),
        auditor: SigningKey::from_seed(&seed("auditor-example")),
        rogue: SigningKey::from_seed(&seed("not trusted by anyone")),
        withdrawn: SigningKey::from_seed(&seed("registry badge key withdrawn")),
        log: SigningKey::from_seed(&seed("registry log key 1")),
    }
}

fn raw_sign(header: &str, payload: &str, key: &SigningKey) -> String {
    let input = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let sig = key.sign_bytes(input.as_bytes());
    format!("{input}.{}", b64::encode(sig))
}

fn header(typ: &str, kid: &str) -> String {
    json!({"alg": "EdDSA", "typ": typ, "kid": kid}).to_string()
}

/// Replaces one character in the middle of the signature, keeping base64url canonical.
fn tamper_signature(token: &str) -> String {
    let mut bytes = token.as_bytes().to_vec();
    let i = bytes.len() - 20;
    bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn audit_values() -> BTreeMap<String, f64> {
    [
        ("multilingual_parameter_deviation", 0.8),
        ("multilingual_metadata_consistency", 97.5),
        ("product_parameter_authenticity", 99.1),
        ("certificate_chain_validity", 100.0),
        ("certificate_link_response_time", 0.9),
        ("local_payment_redirect_success", 99.6),
        ("local_payment_redirect_timeouts", 2.0),
        ("tls_configuration", 1.0),
        ("business_identity_match", 1.0),
        ("contact_reachability", 95.0),
        ("site_availability", 99.92),
        ("data_protection_notice", 100.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn org() -> Org {
    Org {
        name: "Shenzhen Example Electronics Co., Ltd.".into(),
        country: "CN".into(),
        reg: Some("91440300EXAMPLE0001".into()),
    }
}

pub fn audit_statement(iat: i64) -> AuditStatementClaims {
    AuditStatementClaims {
        iss: AUDITOR.into(),
        iat,
        jti: "audit-2026-11-29-0001".into(),
        sub: "https://www.supplier.example".into(),
        aliases: vec!["https://supplier.example".into()],
        org: org(),
        scheme: SCHEME.into(),
        audited_at: iat - 2 * DAY,
        valid_days: 365,
        indicators: audit_values()
            .into_iter()
            .map(|(k, v)| (k, IndicatorValue { value: v }))
            .collect(),
        report_uri: Some("https://auditor.example/reports/2026-0001".into()),
        languages: Some(vec![
            "en".into(),
            "zh-Hans".into(),
            "vi".into(),
            "th".into(),
        ]),
    }
}

fn badge_claims(statement_token: &str, statement: &AuditStatementClaims) -> BadgeClaims {
    let eval = Catalogue::rcep_b2b_web_1()
        .unwrap()
        .evaluate(&statement.values())
        .unwrap();
    let jti = "b_7Hq2mX9kLp4RtVw3";
    BadgeClaims {
        iss: ISSUER.into(),
        sub: statement.sub.clone(),
        aliases: statement.aliases.clone(),
        iat: AT - 30 * DAY,
        exp: AT + 335 * DAY,
        nbf: None,
        jti: jti.into(),
        trust_mark_type: BadgeClaims::trust_mark_type_for(ISSUER),
        org: statement.org.clone(),
        auditor: AUDITOR.into(),
        audit: AuditSummary {
            at: statement.audited_at,
            score: eval.score,
            ind: eval.normalized(),
            digest: trustmark_core::statement::digest(statement_token),
        },
        reference: format!("{ISSUER}/b/{jti}"),
        status: StatusRef {
            status_list: StatusListRef {
                idx: 42,
                uri: LIST_URI.into(),
            },
        },
    }
}

fn list_claims(iss: &str, iat: i64, exp: i64, ttl: u64, list: &StatusList) -> StatusListClaims {
    StatusListClaims {
        iss: iss.into(),
        sub: LIST_URI.into(),
        iat,
        exp,
        ttl,
        status_list: list.encode(),
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap();
    s.push('\n');
    s
}

struct Cases(Vec<Value>);

impl Cases {
    fn badge(
        &mut self,
        name: &str,
        description: &str,
        token: &str,
        origin: Option<&str>,
        lists: &[&str],
        reason: &str,
    ) {
        self.badge_at(name, description, token, origin, lists, reason, None);
    }

    #[allow(clippy::too_many_arguments)]
    fn badge_at(
        &mut self,
        name: &str,
        description: &str,
        token: &str,
        origin: Option<&str>,
        lists: &[&str],
        reason: &str,
        at: Option<i64>,
    ) {
        let verdict = match reason {
            "valid" => "valid",
            "status_unavailable" | "status_invalid" => "unknown",
            _ => "invalid",
        };
        let mut case = json!({
            "name": name, "kind": "badge", "description": description, "token": token,
            "origin": origin,
            "status_lists": lists.iter().map(|l| format!("statuslists/{l}.jwt")).collect::<Vec<_>>(),
            "expect": {"verdict": verdict, "reason": reason},
        });
        if let Some(at) = at {
            case["at"] = json!(at);
        }
        self.0.push(case);
    }

    fn other(&mut self, kind: &str, name: &str, description: &str, token: &str, reason: &str) {
        self.0.push(json!({"name": name, "kind": kind, "description": description, "token": token, "expect": {"reason": reason}}));
    }
}

/// Every vector file, as (path relative to the repository root, contents).
pub fn generate() -> Vec<(String, String)> {
    let k = keys();
    let cat = Catalogue::rcep_b2b_web_1().unwrap();
    let mut files: Vec<(String, String)> = Vec::new();

    // Keys: the registry publishes a current and a retired badge key and a status key.
    let jwks = Jwks::from_keys([
        k.badge
            .public()
            .with_use(KeyUse::Badge)
            .with_window(Some(AT - 200 * DAY), None),
        k.badge_old
            .public()
            .with_use(KeyUse::Badge)
            .with_window(Some(AT - 400 * DAY), Some(AT - 200 * DAY)),
        k.status
            .public()
            .with_use(KeyUse::Status)
            .with_window(Some(AT - 400 * DAY), None),
    ])
    .with_withdrawn(k.withdrawn.kid(), AT - 10 * DAY);
    let jwks_value: Value = serde_json::from_str(&jwks.to_json()).unwrap();
    files.push((
        "testdata/vectors/jwks/registry.json".into(),
        pretty(&jwks_value),
    ));
    let auditor_pub = k.auditor.public().with_use(KeyUse::Audit);
    files.push((
        "testdata/vectors/jwks/auditor.json".into(),
        pretty(&auditor_pub.to_jwk_value()),
    ));

    // Example private keys for docs and demos: never for production.
    for (file, key) in [
        ("registry-badge", &k.badge),
        ("registry-status", &k.status),
        ("registry-log", &k.log),
        ("auditor", &k.auditor),
    ] {
        files.push((
            format!("keys-example/{file}.jwk"),
            format!("{}\n", k_private(key)),
        ));
    }

    // Status lists.
    let mut list = StatusList::new(2, 131_072).unwrap();
    list.set(1001, 1).unwrap();
    list.set(2002, 2).unwrap();
    list.set(3003, 3).unwrap();
    let fresh = list_claims(ISSUER, AT - 600, AT + DAY, 3600, &list);
    let good_list = sign::sign_status_list(&fresh, &k.status).unwrap();
    let mut bomb_claims = fresh.clone();
    bomb_claims.status_list = {
        use std::io::Write;
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![0u8; 16 * 1024 * 1024 + 1]).unwrap();
        trustmark_core::status::StatusListJson {
            bits: 2,
            lst: b64::encode(enc.finish().unwrap()),
        }
    };
    let lists: Vec<(&str, String)> = vec![
        ("1", good_list.clone()),
        (
            "1-expired",
            sign::sign_status_list(
                &list_claims(ISSUER, AT - 2 * DAY, AT - DAY, 3600, &list),
                &k.status,
            )
            .unwrap(),
        ),
        (
            "1-ttl-stale",
            sign::sign_status_list(
                &list_claims(ISSUER, AT - 7200, AT + DAY, 3600, &list),
                &k.status,
            )
            .unwrap(),
        ),
        (
            "1-unknown-key",
            sign::sign_status_list(&fresh, &k.rogue).unwrap(),
        ),
        (
            "1-badge-key",
            sign::sign_status_list(&fresh, &k.badge).unwrap(),
        ),
        ("1-bad-signature", tamper_signature(&good_list)),
        (
            "1-other-issuer",
            sign::sign_status_list(
                &list_claims(
                    "https://other-registry.example",
                    AT - 600,
                    AT + DAY,
                    3600,
                    &list,
                ),
                &k.status,
            )
            .unwrap(),
        ),
        (
            "1-future",
            sign::sign_status_list(
                &list_claims(ISSUER, AT + 3600, AT + 2 * DAY, 3600, &list),
                &k.status,
            )
            .unwrap(),
        ),
        (
            "1-bomb",
            sign::sign_status_list(&bomb_claims, &k.status).unwrap(),
        ),
        (
            "1-withdrawn-key",
            sign::sign_status_list(&fresh, &k.withdrawn).unwrap(),
        ),
    ];
    for (name, token) in &lists {
        files.push((
            format!("testdata/vectors/statuslists/{name}.jwt"),
            format!("{token}\n"),
        ));
    }

    // The audit statement behind the badge, and the badge.
    let statement = audit_statement(AT - 30 * DAY - 120);
    let statement_token = sign::sign_audit_statement(&statement, &k.auditor).unwrap();
    let base = badge_claims(&statement_token, &statement);
    base.validate(&cat).unwrap();
    let mint = |c: &BadgeClaims| sign::sign_badge(c, &k.badge).unwrap();
    let with = |f: &dyn Fn(&mut BadgeClaims)| {
        let mut c = base.clone();
        f(&mut c);
        c
    };
    let valid = mint(&base);
    files.push(("testdata/examples/badge.jwt".into(), format!("{valid}\n")));
    let www = Some("https://www.supplier.example");
    let mut cases = Cases(Vec::new());
    let b = &mut cases;

    b.badge(
        "valid",
        "A current badge, checked against its own origin with a fresh status list.",
        &valid,
        www,
        &["1"],
        "valid",
    );
    b.badge(
        "valid-alias",
        "The same badge checked against its alias origin.",
        &valid,
        Some("https://supplier.example"),
        &["1"],
        "valid",
    );
    b.badge(
        "valid-ignore-origin",
        "Origin check skipped (--ignore-origin).",
        &valid,
        None,
        &["1"],
        "valid",
    );
    let idn = mint(&with(&|c| {
        c.sub = "https://xn--bcher-kva.example".into();
        c.aliases = vec![];
        c.status.status_list.idx = 43;
    }));
    b.badge(
        "valid-idn-origin",
        "An IDN site: the badge names the punycode origin, the user gives the Unicode one.",
        &idn,
        Some("https://bücher.example"),
        &["1"],
        "valid",
    );
    let loopback = mint(&with(&|c| {
        c.sub = "http://localhost:8080".into();
        c.aliases = vec![];
        c.status.status_list.idx = 44;
    }));
    b.badge(
        "valid-loopback-http",
        "http:// is allowed for loopback origins.",
        &loopback,
        Some("http://localhost:8080"),
        &["1"],
        "valid",
    );
    let old = sign::sign_badge(
        &with(&|c| {
            c.iat = AT - 300 * DAY;
            c.exp = AT + 60 * DAY;
            c.audit.at = c.iat - 2 * DAY;
        }),
        &k.badge_old,
    )
    .unwrap();
    b.badge(
        "valid-retired-key",
        "Signed by a retired key inside that key's validity window: still valid.",
        &old,
        www,
        &["1"],
        "valid",
    );

    b.badge(
        "revoked",
        "Status list entry 1 (revoked).",
        &mint(&with(&|c| c.status.status_list.idx = 1001)),
        www,
        &["1"],
        "revoked",
    );
    b.badge(
        "suspended",
        "Status list entry 2 (suspended).",
        &mint(&with(&|c| c.status.status_list.idx = 2002)),
        www,
        &["1"],
        "suspended",
    );
    b.badge(
        "status-value-3",
        "Status value 3 is unassigned: could not check.",
        &mint(&with(&|c| c.status.status_list.idx = 3003)),
        www,
        &["1"],
        "status_invalid",
    );
    b.badge(
        "status-out-of-range",
        "Index past the end of a 131,072-entry list.",
        &mint(&with(&|c| c.status.status_list.idx = 131_072)),
        www,
        &["1"],
        "status_out_of_range",
    );
    b.badge(
        "status-list-missing",
        "No status list supplied for the badge's uri.",
        &valid,
        www,
        &[],
        "status_unavailable",
    );
    b.badge(
        "status-list-expired",
        "The status list's exp has passed.",
        &valid,
        www,
        &["1-expired"],
        "status_unavailable",
    );
    b.badge(
        "status-list-ttl-stale",
        "The status list is older than its ttl.",
        &valid,
        www,
        &["1-ttl-stale"],
        "status_unavailable",
    );
    b.badge(
        "status-list-unknown-key",
        "The status list is signed by a key not in the JWKS.",
        &valid,
        www,
        &["1-unknown-key"],
        "status_invalid",
    );
    b.badge(
        "status-list-badge-key",
        "The status list is signed with the badge key (trustmark_use badge).",
        &valid,
        www,
        &["1-badge-key"],
        "status_invalid",
    );
    b.badge(
        "status-list-bad-signature",
        "The status list's signature does not verify.",
        &valid,
        www,
        &["1-bad-signature"],
        "status_invalid",
    );
    b.badge(
        "status-list-other-issuer",
        "The status list is from another issuer.",
        &valid,
        www,
        &["1-other-issuer"],
        "status_invalid",
    );
    b.badge(
        "status-list-future",
        "The status list is dated an hour in the future.",
        &valid,
        www,
        &["1-future"],
        "status_invalid",
    );
    b.badge(
        "status-list-zlib-bomb",
        "The status list inflates past 16 MiB.",
        &valid,
        www,
        &["1-bomb"],
        "status_invalid",
    );
    b.badge(
        "status-list-newest-wins",
        "A stale and a fresh copy of the same list: the fresh one is used.",
        &valid,
        www,
        &["1-ttl-stale", "1"],
        "valid",
    );

    let expired = mint(&with(&|c| {
        c.iat = AT - 190 * DAY;
        c.exp = AT - 10 * DAY;
        c.audit.at = c.iat - 2 * DAY;
    }));
    b.badge(
        "expired",
        "exp has passed.",
        &expired,
        www,
        &["1"],
        "expired",
    );
    b.badge(
        "expired-with-stale-list",
        "Expired and the list is stale: time is checked first.",
        &expired,
        www,
        &["1-expired"],
        "expired",
    );
    b.badge_at(
        "expired-at-exp",
        "Verified exactly at exp.",
        &valid,
        www,
        &["1"],
        "expired",
        Some(base.exp),
    );
    b.badge(
        "not-yet-valid",
        "nbf is a week ahead.",
        &mint(&with(&|c| c.nbf = Some(AT + 7 * DAY))),
        www,
        &["1"],
        "not_yet_valid",
    );
    b.badge(
        "not-yet-valid-iat",
        "Issued a day in the future.",
        &mint(&with(&|c| {
            c.iat = AT + DAY;
            c.exp = AT + 300 * DAY;
        })),
        www,
        &["1"],
        "not_yet_valid",
    );
    b.badge(
        "origin-mismatch",
        "A valid badge shown on another site.",
        &valid,
        Some("https://copycat.example"),
        &["1"],
        "origin_mismatch",
    );
    b.badge(
        "origin-mismatch-scheme",
        "Same host over another port is another origin.",
        &valid,
        Some("https://www.supplier.example:8443"),
        &["1"],
        "origin_mismatch",
    );
    b.badge(
        "unknown-key",
        "Signed by a key not in the JWKS.",
        &sign::sign_badge(&base, &k.rogue).unwrap(),
        www,
        &["1"],
        "unknown_key",
    );
    b.badge(
        "retired-key-outside-window",
        "Signed by the retired key after its window closed.",
        &sign::sign_badge(&base, &k.badge_old).unwrap(),
        www,
        &["1"],
        "unknown_key",
    );
    b.badge(
        "status-key-signs-badge",
        "Signed by the status-list key (trustmark_use status).",
        &sign::sign_badge(&base, &k.status).unwrap(),
        www,
        &["1"],
        "unknown_key",
    );
    b.badge(
        "bad-signature",
        "One signature character changed.",
        &tamper_signature(&valid),
        www,
        &["1"],
        "bad_signature",
    );
    let parts: Vec<&str> = valid.split('.').collect();
    let forged_payload =
        serde_json::to_string(&with(&|c| c.org.name = "Counterfeit Trading Co.".into())).unwrap();
    let tampered = format!("{}.{}.{}", parts[0], b64::encode(forged_payload), parts[2]);
    b.badge(
        "tampered-payload",
        "The organisation name changed after signing.",
        &tampered,
        www,
        &["1"],
        "bad_signature",
    );
    let evil = "https://evil.example";
    b.badge(
        "untrusted-issuer",
        "Signed with a trusted key but naming another issuer.",
        &mint(&with(&|c| {
            c.iss = evil.into();
            c.trust_mark_type = BadgeClaims::trust_mark_type_for(evil);
        })),
        www,
        &["1"],
        "untrusted_issuer",
    );

    // Form.
    b.badge(
        "malformed-jti-too-long",
        "jti of 41 characters.",
        &mint(&with(&|c| c.jti = "a".repeat(41))),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-sub-not-canonical",
        "sub with upper-case letters.",
        &mint(&with(&|c| c.sub = "https://WWW.supplier.example".into())),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-sub-default-port",
        "sub with an explicit default port.",
        &mint(&with(&|c| {
            c.sub = "https://www.supplier.example:443".into()
        })),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-score-inconsistent",
        "audit.score does not match audit.ind.",
        &mint(&with(&|c| c.audit.score -= 1)),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-failing-indicator",
        "audit.ind shows a failed required indicator.",
        &mint(&with(&|c| {
            c.audit.ind[7] = 0;
            c.audit.score = cat.overall(&c.audit.ind).unwrap();
        })),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-trust-mark-type",
        "trust_mark_type is not the issuer's scheme URL.",
        &mint(&with(&|c| {
            c.trust_mark_type = "https://registry.example/schemes/other/1".into()
        })),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-missing-claim",
        "No auditor claim.",
        &{
            let mut v = serde_json::to_value(&base).unwrap();
            v.as_object_mut().unwrap().remove("auditor");
            raw_sign(
                &header("trustmark+jwt", k.badge.kid()),
                &v.to_string(),
                &k.badge,
            )
        },
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "valid-lifetime-400-days",
        "exp - iat is exactly 400 days, the longest audit validity.",
        &mint(&with(&|c| {
            c.exp = c.iat + 400 * DAY;
            c.status.status_list.idx = 45;
        })),
        www,
        &["1"],
        "valid",
    );
    b.badge(
        "malformed-lifetime-over-400-days",
        "exp - iat is 400 days plus 61 seconds: longer than any audit may last.",
        &mint(&with(&|c| {
            c.exp = c.iat + 400 * DAY + 61;
            c.status.status_list.idx = 45;
        })),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "malformed-lifetime-forever",
        "A badge valid until the year 9999.",
        &mint(&with(&|c| c.exp = 253_402_300_799)),
        www,
        &["1"],
        "malformed",
    );
    for (name, description, f) in [
        (
            "malformed-org-bidi-override",
            "org.name carries U+202E RIGHT-TO-LEFT OVERRIDE, which reorders what a reader sees.",
            (&|c: &mut BadgeClaims| c.org.name = "Example Co., Ltd.\u{202e}dtL .oC niatsruT".into())
                as &dyn Fn(&mut BadgeClaims),
        ),
        (
            "malformed-org-zero-width",
            "org.name carries U+200B ZERO WIDTH SPACE, which hides a difference from a reader.",
            &|c: &mut BadgeClaims| {
                c.org.name = "Shenzhen Exam\u{200b}ple Electronics Co., Ltd.".into()
            },
        ),
        (
            "malformed-reg-bidi-isolate",
            "org.reg carries U+2066 LEFT-TO-RIGHT ISOLATE.",
            &|c: &mut BadgeClaims| c.org.reg = Some("\u{2066}91440300EXAMPLE0001".into()),
        ),
        (
            "malformed-org-control",
            "org.name carries an ANSI escape sequence.",
            &|c: &mut BadgeClaims| c.org.name = "Example\u{1b}[2K\u{1b}[1GVALID Co.".into(),
        ),
    ] {
        b.badge(name, description, &mint(&with(f)), www, &["1"], "malformed");
    }
    b.badge(
        "withdrawn-key",
        "Signed by a key the registry withdrew (listed under withdrawn, not keys).",
        &sign::sign_badge(&base, &k.withdrawn).unwrap(),
        www,
        &["1"],
        "unknown_key",
    );
    b.badge(
        "status-list-withdrawn-key",
        "The status list is signed by a withdrawn key.",
        &valid,
        www,
        &["1-withdrawn-key"],
        "status_invalid",
    );
    b.badge(
        "garbage",
        "Not a token at all.",
        "hello world",
        www,
        &["1"],
        "malformed",
    );
    b.badge("empty", "The empty string.", "", www, &["1"], "malformed");

    // RFC 8725 attacks. Each is signed with the trusted badge key so that only the
    // attack itself can make it fail.
    let payload = serde_json::to_string(&base).unwrap();
    let kid = k.badge.kid();
    let body = format!(
        "{}.{}",
        b64::encode(r#"{"alg":"none","typ":"trustmark+jwt"}"#),
        b64::encode(&payload)
    );
    b.badge(
        "alg-none",
        "alg none with an empty signature (RFC 8725 2.1).",
        &format!("{body}."),
        www,
        &["1"],
        "malformed",
    );
    for alg in ["None", "NONE", "nOnE"] {
        let t = format!(
            "{}.{}.",
            b64::encode(format!(
                r#"{{"alg":"{alg}","typ":"trustmark+jwt","kid":"{kid}"}}"#
            )),
            b64::encode(&payload)
        );
        b.badge(
            &format!("alg-none-case-{alg}"),
            &format!("alg {alg} in another letter case."),
            &t,
            www,
            &["1"],
            "malformed",
        );
    }
    let hs_header = format!(r#"{{"alg":"HS256","typ":"trustmark+jwt","kid":"{kid}"}}"#);
    let hs_input = format!("{}.{}", b64::encode(&hs_header), b64::encode(&payload));
    let mut mac =
        Hmac::<Sha256>::new_from_slice(k.badge.public().verifying_key().as_bytes()).unwrap();
    mac.update(hs_input.as_bytes());
    let hs = format!("{hs_input}.{}", b64::encode(mac.finalize().into_bytes()));
    b.badge(
        "alg-hs256-key-confusion",
        "HS256 keyed with the public key bytes (RFC 8725 2.1, 3.1).",
        &hs,
        www,
        &["1"],
        "malformed",
    );
    for alg in ["ES256", "RS256", "PS256"] {
        let h = format!(r#"{{"alg":"{alg}","typ":"trustmark+jwt","kid":"{kid}"}}"#);
        b.badge(
            &format!("alg-{}", alg.to_lowercase()),
            &format!("alg {alg} is not accepted."),
            &raw_sign(&h, &payload, &k.badge),
            www,
            &["1"],
            "malformed",
        );
    }
    let rogue_jwk = k.rogue.public().to_jwk_value();
    let extra: Vec<(&str, Value)> = vec![
        ("jku", json!("https://evil.example/jwks.json")),
        ("jwk", rogue_jwk),
        ("x5u", json!("https://evil.example/cert.pem")),
        (
            "x5c",
            json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]),
        ),
        ("x5t", json!("dGh1bWJwcmludA")),
        ("crit", json!(["exp"])),
        ("zip", json!("DEF")),
        ("enc", json!("A256GCM")),
        ("b64", json!(false)),
    ];
    for (member, value) in extra {
        let mut h = json!({"alg": "EdDSA", "typ": "trustmark+jwt", "kid": kid});
        h[member] = value;
        b.badge(
            &format!("header-{member}"),
            &format!("Header member {member} is refused (RFC 8725)."),
            &raw_sign(&h.to_string(), &payload, &k.badge),
            www,
            &["1"],
            "malformed",
        );
    }
    let dup_header =
        format!(r#"{{"alg":"EdDSA","typ":"trustmark+jwt","kid":"{kid}","kid":"{kid}"}}"#);
    b.badge(
        "duplicate-header-member",
        "kid appears twice in the header.",
        &raw_sign(&dup_header, &payload, &k.badge),
        www,
        &["1"],
        "malformed",
    );
    let dup_payload = format!(
        "{},\"sub\":\"https://evil.example\"}}",
        payload.strip_suffix('}').unwrap()
    );
    b.badge(
        "duplicate-claim",
        "sub appears twice in the claims (a parser keeping the last would see evil.example).",
        &raw_sign(&header("trustmark+jwt", kid), &dup_payload, &k.badge),
        www,
        &["1"],
        "malformed",
    );
    let alg_ed25519 = format!(r#"{{"alg":"Ed25519","typ":"trustmark+jwt","kid":"{kid}"}}"#);
    b.badge(
        "alg-ed25519",
        "alg Ed25519 (RFC 9864) is accepted like EdDSA.",
        &raw_sign(&alg_ed25519, &payload, &k.badge),
        www,
        &["1"],
        "valid",
    );
    let mut big = serde_json::to_value(&base).unwrap();
    big["note"] = json!("x".repeat(8200));
    b.badge(
        "oversized",
        "A token over 8 KiB.",
        &raw_sign(&header("trustmark+jwt", kid), &big.to_string(), &k.badge),
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "padded-base64",
        "Base64 padding appended to the signature.",
        &format!("{valid}=="),
        www,
        &["1"],
        "malformed",
    );
    let std_alphabet = {
        let mut t = valid.clone();
        if let Some(i) = t.rfind(['-', '_']) {
            t.replace_range(i..=i, if t.as_bytes()[i] == b'-' { "+" } else { "/" });
        }
        t
    };
    b.badge(
        "standard-base64-alphabet",
        "A '+' or '/' in place of base64url's '-' or '_'.",
        &std_alphabet,
        www,
        &["1"],
        "malformed",
    );
    b.badge(
        "missing-typ",
        "No typ header.",
        &raw_sign(
            &json!({"alg":"EdDSA","kid":kid}).to_string(),
            &payload,
            &k.badge,
        ),
        www,
        &["1"],
        "wrong_type",
    );
    b.badge(
        "typ-jwt",
        "typ JWT instead of trustmark+jwt.",
        &raw_sign(&header("JWT", kid), &payload, &k.badge),
        www,
        &["1"],
        "wrong_type",
    );

    // One wrong-typ case for each ordered pair of token types.
    let change = StatusChangeClaims {
        iss: AUDITOR.into(),
        iat: AT - 60,
        jti: "chg-0001".into(),
        badge: base.jti.clone(),
        action: Action::Suspend,
        reason: "Certificate link to the issuing body is broken".into(),
    };
    let current_statement = audit_statement(AT - 60);
    let tokens: Vec<(TokenType, String)> = vec![
        (TokenType::Badge, valid.clone()),
        (TokenType::StatusList, good_list.clone()),
        (
            TokenType::AuditStatement,
            sign::sign_audit_statement(&current_statement, &k.auditor).unwrap(),
        ),
        (
            TokenType::StatusChange,
            sign::sign_status_change(&change, &k.auditor).unwrap(),
        ),
    ];
    let kind = |t: TokenType| match t {
        TokenType::Badge => "badge",
        TokenType::StatusList => "status_list",
        TokenType::AuditStatement => "audit_statement",
        TokenType::StatusChange => "status_change",
    };
    for (as_type, _) in &tokens {
        for (of_type, token) in &tokens {
            let (as_kind, of_kind) = (kind(*as_type), kind(*of_type));
            let name = format!(
                "{}-as-{}",
                of_kind.replace('_', "-"),
                as_kind.replace('_', "-")
            );
            if as_type == of_type {
                if *as_type != TokenType::Badge {
                    b.other(
                        as_kind,
                        &name,
                        &format!("A {of_kind} verified as its own type."),
                        token,
                        "valid",
                    );
                }
            } else if *as_type == TokenType::Badge {
                b.badge(
                    &name,
                    &format!("A {of_kind} presented as a badge."),
                    token,
                    www,
                    &["1"],
                    "wrong_type",
                );
            } else {
                b.other(
                    as_kind,
                    &name,
                    &format!("A {of_kind} presented as a {as_kind}."),
                    token,
                    "wrong_type",
                );
            }
        }
    }
    b.other(
        "audit_statement",
        "audit-statement-stale",
        "Signed 11 minutes before verification.",
        &sign::sign_audit_statement(&audit_statement(AT - 660), &k.auditor).unwrap(),
        "stale",
    );
    b.other(
        "audit_statement",
        "audit-statement-future",
        "Dated two minutes in the future.",
        &sign::sign_audit_statement(&audit_statement(AT + 120), &k.auditor).unwrap(),
        "future",
    );
    b.other(
        "audit_statement",
        "audit-statement-wrong-key",
        "Signed by a key that is not the auditor's.",
        &sign::sign_audit_statement(&current_statement, &k.rogue).unwrap(),
        "wrong_key",
    );
    b.other(
        "audit_statement",
        "audit-statement-audited-in-future",
        "Signed 30 s ahead of the verifier's clock (inside the skew) with audited_at equal to iat: the audit would postdate the badge.",
        &sign::sign_audit_statement(
            &{
                let mut s = audit_statement(AT + 30);
                s.audited_at = AT + 30;
                s
            },
            &k.auditor,
        )
        .unwrap(),
        "audited_in_future",
    );
    b.other(
        "audit_statement",
        "audit-statement-audited-after-signing",
        "audited_at is after the statement's own iat.",
        &sign::sign_audit_statement(
            &{
                let mut s = audit_statement(AT - 60);
                s.audited_at = AT - 30;
                s
            },
            &k.auditor,
        )
        .unwrap(),
        "malformed",
    );
    b.other(
        "audit_statement",
        "audit-statement-org-bidi-override",
        "org.name carries U+202E RIGHT-TO-LEFT OVERRIDE.",
        &sign::sign_audit_statement(
            &{
                let mut s = audit_statement(AT - 60);
                s.org.name = "Example Co.\u{202e}".into();
                s
            },
            &k.auditor,
        )
        .unwrap(),
        "malformed",
    );
    b.other(
        "status_change",
        "status-change-reason-bidi-override",
        "The reason carries U+202E RIGHT-TO-LEFT OVERRIDE.",
        &sign::sign_status_change(
            &StatusChangeClaims {
                reason: "fraud\u{202e}".into(),
                ..change.clone()
            },
            &k.auditor,
        )
        .unwrap(),
        "malformed",
    );
    b.other(
        "status_change",
        "status-change-bad-signature",
        "Signature changed.",
        &tamper_signature(&tokens[3].1),
        "bad_signature",
    );

    let manifest = json!({
        "description": "TrustMark golden vectors. Every case names a token, its inputs and the expected result. Regenerate with the generator; never edit by hand.",
        "generator": "cargo run -p trustmark-core --features sign --example gen_vectors",
        "issuer": ISSUER,
        "at": AT,
        "jwks": "jwks/registry.json",
        "auditor": AUDITOR,
        "auditor_key": "jwks/auditor.json",
        // The statement behind the badges' audit.digest, so that digest and indicators can
        // be rechecked from the signed bytes rather than taken on trust.
        "audit_statements": [statement_token],
        "cases": cases.0,
    });
    files.push(("testdata/vectors/cases.json".into(), pretty(&manifest)));

    // JWKS that must be refused, with the reason.
    let x = b64::encode(k.badge.public().verifying_key().as_bytes());
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let bad_sets = json!([
        {"name": "kid-mismatch", "expect": "kid_mismatch", "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": k.rogue.kid()}]}},
        {"name": "weak-key", "expect": "weak_key", "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64::encode(identity)}]}},
        {"name": "private-key-in-set", "expect": "private_key_in_set", "jwks": {"keys": [serde_json::from_str::<Value>(&k_private(&k.rogue)).unwrap()]}},
        {"name": "duplicate-kid", "expect": "duplicate_kid", "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x}, {"kty": "OKP", "crv": "Ed25519", "x": x}]}},
        {"name": "not-ed25519", "expect": "not_ed25519", "jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": x}]}},
        {"name": "x-too-short", "expect": "invalid_point", "jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": &x[..42]}]}}
    ]);
    files.push((
        "testdata/vectors/jwks/invalid.json".into(),
        pretty(&bad_sets),
    ));
    files.push((
        "testdata/vectors/log/trustmark-checkpoint.json".into(),
        pretty(&log_checkpoint_example(&k.log)),
    ));
    files
}

/// The example registry's log origin, also its note key name.
pub const LOG_ORIGIN: &str = "registry.example/log";

/// A checkpoint of the Certificate Transparency reference tree (the eight leaves of
/// `rfc6962.json`), signed by the example log key: the literal example of
/// docs/spec/log-formats.md.
fn log_checkpoint_example(key: &SigningKey) -> Value {
    use trustmark_core::log::{checkpoint, merkle, note};
    let leaves = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    let mut tree = merkle::Tree::new();
    for leaf in leaves {
        tree.push(merkle::leaf_hash(&hex_decode(leaf)));
    }
    let cp = checkpoint::Checkpoint {
        origin: LOG_ORIGIN.into(),
        size: tree.len(),
        root: tree.root(),
        extensions: vec![],
    };
    let vkey = note::VerifierKey::new(LOG_ORIGIN, &key.as_ed25519().verifying_key()).unwrap();
    json!({
        "description": "A checkpoint of the eight-leaf Certificate Transparency reference tree (rfc6962.json), signed by keys-example/registry-log.jwk; the literal example of docs/spec/log-formats.md",
        "vkey": vkey.to_string(),
        "origin": LOG_ORIGIN,
        "size": cp.size,
        "root_hex": hex_encode(&cp.root),
        "note": checkpoint::sign_checkpoint(&cp, key.as_ed25519()).unwrap(),
    })
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn k_private(key: &SigningKey) -> String {
    key.to_private_jwk_json().to_string()
}
