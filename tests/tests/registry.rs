//! The registry over a real socket: issue → verify offline with the served keys and list
//! (library and `trustmark` binary) → suspend → reinstate → revoke, and the rejection
//! rules of SPEC 3.3 and 3.4, each answered with an RFC 9457 problem.

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use trustmark_core::claims::{
    Action, AuditStatementClaims, IndicatorValue, Org, StatusChangeClaims, SCHEME,
};
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::{Catalogue, Jwks, OriginPolicy, Reason, Verifier};
use trustmark_registry::{start, Config, Limits, Running};

mod common;

const SITE: &str = "https://www.supplier.example";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

struct Auditor {
    id: &'static str,
    key: SigningKey,
}

impl Auditor {
    fn new(id: &'static str, seed: u8) -> Self {
        Auditor {
            id,
            key: SigningKey::from_seed(&[seed; 32]),
        }
    }

    fn statement(&self, jti: &str, f: impl FnOnce(&mut AuditStatementClaims)) -> String {
        let values: BTreeMap<String, IndicatorValue> = Catalogue::rcep_b2b_web_1()
            .unwrap()
            .indicators
            .iter()
            .map(|i| {
                (
                    i.id.clone(),
                    IndicatorValue {
                        value: (i.threshold + i.best) / 2.0,
                    },
                )
            })
            .collect();
        let mut claims = AuditStatementClaims {
            iss: self.id.into(),
            iat: now(),
            jti: jti.into(),
            sub: SITE.into(),
            aliases: vec!["https://supplier.example".into()],
            org: Org {
                name: "Shenzhen Example Electronics Co., Ltd.".into(),
                country: "CN".into(),
                reg: None,
            },
            scheme: SCHEME.into(),
            audited_at: now() - 86_400,
            valid_days: 365,
            indicators: values,
            report_uri: None,
            languages: Some(vec!["en".into(), "vi".into()]),
        };
        f(&mut claims);
        sign::sign_audit_statement(&claims, &self.key).unwrap()
    }

    fn change(&self, jti: &str, badge: &str, action: Action) -> String {
        self.change_at(jti, badge, action, now())
    }

    fn change_at(&self, jti: &str, badge: &str, action: Action, iat: i64) -> String {
        let claims = StatusChangeClaims {
            iss: self.id.into(),
            iat,
            jti: jti.into(),
            badge: badge.into(),
            action,
            reason: "e2e".into(),
        };
        sign::sign_status_change(&claims, &self.key).unwrap()
    }
}

/// Accredits auditors with the operator path (store opened directly, server not running),
/// then starts the registry on an ephemeral loopback port.
async fn registry(name: &str, auditors: &[&Auditor], suspended: &[&str]) -> (Running, PathBuf) {
    let data = common::temp_dir(name);
    let list: Vec<(&str, &str, &SigningKey)> =
        auditors.iter().map(|a| (a.id, a.id, &a.key)).collect();
    common::accredit(
        &data,
        &format!("http://127.0.0.1:9/{name}"),
        &list,
        suspended,
    );
    let running = start(Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data: data.clone(),
        store: common::store_for(&data),
        public_url: None,
        demo: false,
        limits: Limits::default(),
    })
    .await
    .unwrap();
    (running, data)
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(&self, path: &str, media: &str, body: String) -> (StatusCode, Value, String) {
        common::post(&self.base, path, media, body).await
    }
    async fn issue(&self, statement: String) -> (StatusCode, Value, String) {
        self.post(
            "/api/v1/badges",
            "application/trustmark-audit+jwt",
            statement,
        )
        .await
    }
    async fn change(&self, badge: &str, request: String) -> (StatusCode, Value, String) {
        self.post(
            &format!("/api/v1/badges/{badge}/status"),
            "application/trustmark-status+jwt",
            request,
        )
        .await
    }
    async fn text(&self, path: &str) -> String {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.text().await.unwrap()
    }
}

/// Verifies `token` offline with what the registry serves right now, in the library and
/// through the `trustmark` binary; both must agree.
async fn verify_offline(api: &Api, issuer: &str, token: &str, dir: &Path) -> Reason {
    let jwks_text = api.text("/.well-known/jwks.json").await;
    let list_text = api.text("/statuslists/1").await;
    let mut v = Verifier::new(
        issuer,
        Jwks::parse(jwks_text.as_bytes()).unwrap(),
        Catalogue::rcep_b2b_web_1().unwrap(),
    );
    v.add_status_list(&list_text).unwrap();
    let reason = v.verify(token, OriginPolicy::Require(SITE), now()).reason;

    let (jwks, list, badge) = (
        dir.join("jwks.json"),
        dir.join("list.jwt"),
        dir.join("badge.jwt"),
    );
    std::fs::write(&jwks, jwks_text).unwrap();
    std::fs::write(&list, list_text).unwrap();
    std::fs::write(&badge, token).unwrap();
    let out = std::process::Command::new(trustmark_bin())
        .args([
            "verify",
            &format!("@{}", badge.display()),
            "--jwks",
            jwks.to_str().unwrap(),
            "--issuer",
            issuer,
        ])
        .args([
            "--status-list",
            list.to_str().unwrap(),
            "--origin",
            SITE,
            "--json",
        ])
        .output()
        .unwrap();
    let cli: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("trustmark said: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(
        cli["reason"],
        reason.code(),
        "the CLI and the library disagree"
    );
    reason
}

/// Sleeps into the next wall-clock second, so a request signed now is strictly newer
/// than a change made before the call.
async fn next_second() {
    let ms = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(1000 - ms) + 20)).await;
}

/// The `trustmark` binary of this workspace build (`cargo test --workspace` builds it).
fn trustmark_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe.parent().unwrap().parent().unwrap().join("trustmark");
    assert!(
        bin.exists(),
        "{} missing: build the workspace (cargo test --workspace)",
        bin.display()
    );
    bin
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_verify_suspend_reinstate_revoke() {
    let auditor = Auditor::new("lab-one", 1);
    let (running, data) = registry("lifecycle", &[&auditor], &[]).await;
    let api = Api {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
    };
    let issuer = running.issuer.clone();

    let statement = auditor.statement("audit-1", |_| {});
    let (status, body, _) = api.issue(statement.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let token = body["token"].as_str().unwrap().to_owned();
    assert!(token.len() < 1200, "badge of {} bytes", token.len());
    assert_eq!(body["ref"], format!("{issuer}/b/{id}"));
    assert_eq!(body["status"]["uri"], format!("{issuer}/statuslists/1"));
    assert!(body["status"]["idx"].as_u64().unwrap() < 131_072);

    // The stored statement is the one whose digest the badge carries.
    let stored: Value =
        serde_json::from_str(&api.text(&format!("/api/v1/badges/{id}")).await).unwrap();
    assert_eq!(stored["audit_statement"], statement);
    assert_eq!(
        stored["claims"]["audit"]["digest"],
        trustmark_core::statement::digest(&statement)
    );
    assert_eq!(stored["claims"]["audit"]["score"], body["score"]);

    assert_eq!(
        verify_offline(&api, &issuer, &token, &data).await,
        Reason::Valid
    );
    let steps = [
        (Action::Suspend, Reason::Suspended),
        (Action::Reinstate, Reason::Valid),
        (Action::Revoke, Reason::Revoked),
    ];
    for (i, (action, want)) in steps.into_iter().enumerate() {
        // A change request must be signed after the badge's previous change.
        next_second().await;
        let (status, body, _) = api
            .change(&id, auditor.change(&format!("chg-{i}"), &id, action))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(
            verify_offline(&api, &issuer, &token, &data).await,
            want,
            "after {action:?}"
        );
    }
    // Revoked is final.
    let (status, body, ct) = api
        .change(&id, auditor.change("chg-final", &id, Action::Reinstate))
        .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::CONFLICT, Some("/problems/revoked-is-final"))
    );
    assert_eq!(ct, "application/problem+json");

    let history: Value =
        serde_json::from_str(&api.text(&format!("/api/v1/badges/{id}")).await).unwrap();
    let words: Vec<&str> = history["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(words, ["valid", "suspended", "valid", "revoked"]);
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rejection_rule_answers_with_a_problem() {
    let lab = Auditor::new("lab-one", 1);
    let other = Auditor::new("lab-two", 2);
    let frozen = Auditor::new("lab-frozen", 3);
    let (running, _) = registry("rejections", &[&lab, &other, &frozen], &["lab-frozen"]).await;
    let api = Api {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
    };

    let (status, body, _) = api.issue(lab.statement("ok-1", |_| {})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();

    let impostor = Auditor {
        id: "lab-one",
        key: SigningKey::from_seed(&[9; 32]),
    };
    let mut failing = lab.statement("fail-1", |c| {
        c.indicators
            .insert("tls_configuration".into(), IndicatorValue { value: 0.0 });
        c.indicators
            .insert("site_availability".into(), IndicatorValue { value: 97.0 });
    });
    let cases: Vec<(&str, String, StatusCode, &str)> = vec![
        (
            "wrong key",
            impostor.statement("x-1", |_| {}),
            StatusCode::FORBIDDEN,
            "bad-signature",
        ),
        (
            "unknown auditor",
            Auditor::new("nobody", 4).statement("x-2", |_| {}),
            StatusCode::FORBIDDEN,
            "unknown-auditor",
        ),
        (
            "suspended auditor",
            frozen.statement("x-3", |_| {}),
            StatusCode::FORBIDDEN,
            "auditor-suspended",
        ),
        (
            "replayed jti",
            lab.statement("ok-1", |_| {}),
            StatusCode::CONFLICT,
            "replay",
        ),
        (
            "stale iat",
            lab.statement("x-4", |c| c.iat = now() - 700),
            StatusCode::BAD_REQUEST,
            "stale",
        ),
        (
            "future iat",
            lab.statement("x-5", |c| c.iat = now() + 300),
            StatusCode::BAD_REQUEST,
            "future-dated",
        ),
        (
            // Inside the clock skew, but the audit would postdate the badge's iat.
            "audited in the future",
            lab.statement("x-5b", |c| {
                c.iat = now() + 40;
                c.audited_at = now() + 40;
            }),
            StatusCode::BAD_REQUEST,
            "future-dated",
        ),
        (
            "audited after signing",
            lab.statement("x-5c", |c| c.audited_at = c.iat + 1),
            StatusCode::BAD_REQUEST,
            "invalid-claims",
        ),
        (
            "bidi override in the organisation name",
            lab.statement("x-5d", |c| c.org.name = "Example\u{202e} Co.".into()),
            StatusCode::BAD_REQUEST,
            "invalid-claims",
        ),
        (
            "missing indicator",
            lab.statement("x-6", |c| {
                c.indicators.remove("contact_reachability");
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "indicators",
        ),
        (
            "out of range",
            lab.statement("x-7", |c| {
                c.indicators
                    .insert("site_availability".into(), IndicatorValue { value: 100.5 });
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "indicators",
        ),
        (
            "malformed JWS",
            "eyJhbGciOiJFZERTQSJ9.e30.AAAA".into(),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            "garbage",
            "not a token".into(),
            StatusCode::BAD_REQUEST,
            "malformed",
        ),
        (
            "status change as audit",
            lab.change("x-8", &id, Action::Suspend),
            StatusCode::BAD_REQUEST,
            "wrong-type",
        ),
    ];
    for (what, token, want, kind) in cases {
        let (status, body, ct) = api.issue(token).await;
        assert_eq!(status, want, "{what}: {body}");
        assert_eq!(body["type"], format!("/problems/{kind}"), "{what}");
        assert_eq!(ct, "application/problem+json", "{what}");
        assert_eq!(body["status"], want.as_u16(), "{what}");
    }

    // A failing audit lists every failing indicator.
    let (status, body, _) = api.issue(std::mem::take(&mut failing)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["indicators"]["failing"],
        json!(["tls_configuration", "site_availability"])
    );

    // Another auditor's badge.
    let (status, body, _) = api
        .change(&id, other.change("o-1", &id, Action::Revoke))
        .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::FORBIDDEN, Some("/problems/not-issuing-auditor"))
    );
    // Replayed status change.
    assert_eq!(
        api.change(&id, lab.change("c-1", &id, Action::Suspend))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body, _) = api
        .change(&id, lab.change("c-1", &id, Action::Reinstate))
        .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::CONFLICT, Some("/problems/replay"))
    );
    // A request signed before the badge's last change is refused, even with a new jti.
    let (status, body, _) = api
        .change(
            &id,
            lab.change_at("c-old", &id, Action::Reinstate, now() - 5),
        )
        .await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::CONFLICT, Some("/problems/stale-request")),
        "{body}"
    );
    // A bidi override in the reason is refused.
    next_second().await;
    let bidi = {
        let claims = StatusChangeClaims {
            iss: "lab-one".into(),
            iat: now(),
            jti: "c-bidi".into(),
            badge: id.clone(),
            action: Action::Reinstate,
            reason: "ok\u{202e}".into(),
        };
        sign::sign_status_change(&claims, &lab.key).unwrap()
    };
    let (status, body, _) = api.change(&id, bidi).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::BAD_REQUEST, Some("/problems/invalid-claims")),
        "{body}"
    );
    // A request for another badge than the URL names.
    let (status, _, _) = api
        .change(&id, lab.change("c-2", "b_other", Action::Reinstate))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Wrong media type, oversized body, unknown badge.
    assert_eq!(
        api.post(
            "/api/v1/badges",
            "application/json",
            lab.statement("x-9", |_| {})
        )
        .await
        .0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let (status, body, _) = api.issue("a".repeat(70_000)).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("/problems/too-large"))
    );
    let (status, _, ct) = api
        .change("b_missing", lab.change("c-3", "b_missing", Action::Suspend))
        .await;
    assert_eq!(
        (status, ct.as_str()),
        (StatusCode::NOT_FOUND, "application/problem+json")
    );
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_list_caching_headers_and_conditional_get() {
    let lab = Auditor::new("lab-one", 1);
    let (running, _) = registry("caching", &[&lab], &[]).await;
    let base = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let r = http
        .get(format!("{base}/statuslists/1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/statuslist+jwt");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let max_age: u64 = r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .trim_start_matches("public, max-age=")
        .parse()
        .unwrap();
    assert!(max_age > 0 && max_age <= trustmark_registry::engine::LIST_TTL);
    let etag = r.headers()["etag"].to_str().unwrap().to_owned();
    let gz = http
        .get(format!("{base}/statuslists/1"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    let again = http
        .get(format!("{base}/statuslists/1"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    // Issuing a badge re-signs nothing visible until a status changes; a change must
    // produce a new list and a new ETag.
    let (id, _) = {
        let r = http
            .post(format!("{base}/api/v1/badges"))
            .header("content-type", "application/trustmark-audit+jwt")
            .body(lab.statement("c-1", |_| {}))
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        (v["id"].as_str().unwrap().to_owned(), v)
    };
    let r = http
        .post(format!("{base}/api/v1/badges/{id}/status"))
        .header("content-type", "application/trustmark-status+jwt")
        .body(lab.change("s-1", &id, Action::Suspend))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let changed = http
        .get(format!("{base}/statuslists/1"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    let lists: Value = http
        .get(format!("{base}/statuslists"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        lists["status_lists"],
        json!([format!("{}/statuslists/1", running.issuer)])
    );
    for other in ["7", "0", "01", "+1", "1.0", "-1"] {
        assert_eq!(
            http.get(format!("{base}/statuslists/{other}"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND,
            "/statuslists/{other}"
        );
    }
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_suspension_is_lifted_only_by_the_operator() {
    use trustmark_registry::admin::Op;
    let lab = Auditor::new("lab-one", 1);
    let (running, data) = registry("operator-suspension", &[&lab], &[]).await;
    let api = Api {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::new(),
    };
    let (status, body, _) = api.issue(lab.statement("os-1", |_| {})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let operator = |action: Action| {
        let (data, id) = (data.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            common::operator(
                &data,
                Op::BadgeChange {
                    id,
                    action,
                    reason: "complaint under review".into(),
                },
            )
        })
    };
    operator(Action::Suspend).await.unwrap().unwrap();
    next_second().await;
    let (status, body, ct) = api
        .change(&id, lab.change("os-2", &id, Action::Reinstate))
        .await;
    assert_eq!(
        (status, body["type"].as_str(), ct.as_str()),
        (
            StatusCode::FORBIDDEN,
            Some("/problems/operator-suspension"),
            "application/problem+json"
        ),
        "{body}"
    );
    let record: Value =
        serde_json::from_str(&api.text(&format!("/api/v1/badges/{id}")).await).unwrap();
    assert_eq!(record["status"], "suspended");
    operator(Action::Reinstate).await.unwrap().unwrap();
    let record: Value =
        serde_json::from_str(&api.text(&format!("/api/v1/badges/{id}")).await).unwrap();
    assert_eq!(record["status"], "valid");
    running.stop().await.unwrap();
}
