//! `trustmark verify-bulk --registry` against a real registry on a socket and local sites
//! served by the test (`/.well-known/trustmark.jwt`): a site's own badge, a copied badge,
//! a revoked one, no badge, two badges, a slow site, an unreachable one; records in input
//! order whatever finishes first, and the same records at any concurrency.

use axum::routing::get;
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::Duration;
use trustmark_core::claims::Action;
use trustmark_core::sign::SigningKey;
use trustmark_registry::Limits;

mod common;
use common::{
    accredit, audit_claims, bin, post_statement, post_status_change, start_in_process,
    status_change, temp_dir,
};

/// Serves `body` at `/.well-known/trustmark.jwt` (404 when `None`) after `delay`, and a
/// home page without badge markup.
async fn site(listener: tokio::net::TcpListener, body: Option<String>, delay: Duration) {
    let page = || async { axum::response::Html("<!doctype html><title>Supplier</title><p>Hello") };
    let app = axum::Router::new().route("/", get(page)).route(
        "/.well-known/trustmark.jwt",
        get(move || {
            let body = body.clone();
            async move {
                tokio::time::sleep(delay).await;
                match body {
                    Some(b) => (axum::http::StatusCode::OK, b),
                    None => (axum::http::StatusCode::NOT_FOUND, String::new()),
                }
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
}

async fn listener() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", l.local_addr().unwrap());
    (l, origin)
}

/// Issues a badge for `origin`; returns its id and token.
async fn issue(base: &str, key: &SigningKey, jti: &str, origin: &str) -> (String, String) {
    let mut claims = audit_claims("lab", jti, |i| i.best);
    claims.sub = origin.to_owned();
    let statement = trustmark_core::sign::sign_audit_statement(&claims, key).unwrap();
    let (status, body) = post_statement(base, statement).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// Runs `trustmark verify-bulk - --registry BASE EXTRA` on `input` (off the runtime).
async fn bulk(base: &str, input: String, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let mut args = vec![
        "verify-bulk".to_owned(),
        "-".into(),
        "--registry".into(),
        base.into(),
        "--ignore-origin".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(bin("trustmark"))
            .args(&args)
            .env_remove("TRUSTMARK_REGISTRY")
            .env("TRUSTMARK_CONFIG", "/nonexistent/trustmark.toml")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let records = stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}\n{stderr}")))
            .collect();
        (out.status.code().unwrap_or(-1), records, stderr)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_in_bulk_against_a_real_registry() {
    let data = temp_dir("cli-bulk");
    let key = SigningKey::from_seed(&[52; 32]);
    accredit(&data, "http://127.0.0.1:9", &[("lab", "Lab", &key)], &[]);
    let running = start_in_process(&data, None, Limits::default()).await;
    let base = format!("http://{}", running.addr);

    let (good_l, good) = listener().await;
    let (copy_l, copy) = listener().await;
    let (revoked_l, revoked) = listener().await;
    let (none_l, none) = listener().await;
    let (two_l, two) = listener().await;
    let (slow_l, slow) = listener().await;
    let closed = {
        let (l, origin) = listener().await;
        drop(l);
        origin
    };
    let (_, good_token) = issue(&base, &key, "bulk-good", &good).await;
    let (revoked_id, revoked_token) = issue(&base, &key, "bulk-revoked", &revoked).await;
    let (_, two_token) = issue(&base, &key, "bulk-two", &two).await;
    let (_, slow_token) = issue(&base, &key, "bulk-slow", &slow).await;
    let request = status_change("lab", &key, "bulk-revoke-1", &revoked_id, Action::Revoke);
    let (status, body) = post_status_change(&base, &revoked_id, request).await;
    assert!(status.is_success(), "{body}");

    let no_delay = Duration::ZERO;
    site(good_l, Some(format!("{good_token}\n")), no_delay).await;
    site(copy_l, Some(good_token.clone()), no_delay).await;
    site(revoked_l, Some(revoked_token), no_delay).await;
    site(none_l, None, no_delay).await;
    // A copied badge first, then the site's own: the own one is reported.
    site(
        two_l,
        Some(format!("{good_token}\n\n{two_token}\n")),
        no_delay,
    )
    .await;
    site(slow_l, Some(slow_token), Duration::from_millis(1500)).await;

    // The slow site comes first: everything after it finishes earlier, yet keeps its place.
    let lines = [
        format!("{slow}/"),
        good.clone(),
        good_token.clone(),
        copy.clone(),
        revoked.clone(),
        String::new(),
        none.clone(),
        two.clone(),
        closed.clone(),
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let schema_text =
        std::fs::read_to_string(common::root().join("schemas/verify-bulk-record.schema.json"))
            .unwrap();
    let schema =
        jsonschema::draft202012::new(&serde_json::from_str::<Value>(&schema_text).unwrap())
            .unwrap();
    let mut previous: Option<Vec<Value>> = None;
    for concurrency in ["16", "1"] {
        let (code, records, stderr) =
            bulk(&base, input.clone(), &["--concurrency", concurrency]).await;
        assert_eq!(code, 2, "the unreachable site cannot be checked\n{stderr}");
        for r in &records {
            assert!(schema.is_valid(r), "{r}");
        }
        let got: Vec<(u64, &str, &str, Option<u64>)> = records
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().unwrap(),
                    r["kind"].as_str().unwrap(),
                    r["reason"].as_str().or(r["error"].as_str()).unwrap(),
                    r["badges_found"].as_u64(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "site", "valid", Some(1)),
                (2, "site", "valid", Some(1)),
                (3, "token", "valid", Some(1)),
                (4, "site", "origin_mismatch", Some(1)),
                (5, "site", "revoked", Some(1)),
                (7, "site", "no_badge_found", Some(0)),
                (8, "site", "valid", Some(2)),
                (9, "site", "fetch_failed", None),
            ],
            "{stderr}"
        );
        // Sites are checked against the origin asked for, whatever badge they serve.
        assert_eq!(records[0]["origin"], slow);
        assert_eq!(records[3]["origin"], copy);
        assert_eq!(records[3]["badge"]["sub"], good);
        assert_eq!(records[6]["badge"]["sub"], two);
        assert!(
            records[5]["detail"]
                .as_str()
                .unwrap()
                .contains("/.well-known/trustmark.jwt"),
            "{}",
            records[5]
        );
        assert!(records[2]["origin"].is_null());
        assert!(
            stderr.contains("  verdict: valid 4, invalid 3, unknown 1"),
            "{stderr}"
        );
        if let Some(p) = &previous {
            assert_eq!(p, &records, "the records do not depend on --concurrency");
        }
        previous = Some(records);
    }

    // Without the unreachable site, the worst verdict is invalid.
    let input: String = lines[..8].iter().map(|l| format!("{l}\n")).collect();
    let (code, records, stderr) = bulk(&base, input, &[]).await;
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(records.len(), 7);
    running.stop().await.unwrap();
}
