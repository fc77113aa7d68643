//! `trustmark log verify` and `trustmark log monitor` against a real registry process,
//! directly and through a proxy that misbehaves the ways a compromised registry or CDN
//! could: a tampered tile, a forked checkpoint, a checkpoint signed by another key, a
//! rolled-back log. Each must be a finding (exit 1), never "valid".

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::path::Path;
use std::sync::{Arc, Mutex};
use trustmark_core::claims::Action;
use trustmark_core::log::checkpoint::{sign_checkpoint, Checkpoint};
use trustmark_core::log::merkle;
use trustmark_core::sign::SigningKey;

mod common;
use common::{trustmark_cli, CliRun};

/// What the proxy does to the registry's answers.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    Honest,
    /// Flip one bit in every level-0 hash tile.
    TamperTiles,
    /// Flip one bit near the end of every entry bundle (inside the last entry's token,
    /// so it still parses).
    TamperEntries,
    /// Serve this checkpoint note instead of the registry's.
    Checkpoint(String),
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    mode: Arc<Mutex<Mode>>,
}

async fn forward(State(p): State<Proxy>, uri: Uri) -> Response {
    let path = uri.path_and_query().map_or("/", |x| x.as_str()).to_owned();
    let mode = p.mode.lock().unwrap().clone();
    if let (Mode::Checkpoint(note), "/log/checkpoint") = (&mode, path.as_str()) {
        return note.clone().into_response();
    }
    let r = reqwest::get(format!("{}{path}", p.upstream)).await.unwrap();
    let status = StatusCode::from_u16(r.status().as_u16()).unwrap();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream")
        .to_owned();
    let mut body = r.bytes().await.unwrap().to_vec();
    if mode == Mode::TamperTiles && path.starts_with("/log/tile/0/") && !body.is_empty() {
        body[5] ^= 0x01;
    }
    if mode == Mode::TamperEntries && path.starts_with("/log/tile/entries/") && body.len() > 20 {
        let at = body.len() - 20;
        body[at] ^= 0x01;
    }
    (status, [("content-type", content_type)], Bytes::from(body)).into_response()
}

async fn proxy(upstream: &str) -> (String, Arc<Mutex<Mode>>) {
    let mode = Arc::new(Mutex::new(Mode::Honest));
    let (listener, base) = common::bind_loopback().await;
    let router = axum::Router::new().fallback(forward).with_state(Proxy {
        upstream: upstream.to_owned(),
        mode: mode.clone(),
    });
    common::serve_router(listener, router);
    (base, mode)
}

async fn cli(args: &[&str], dir: &Path) -> CliRun {
    trustmark_cli(args, dir, &[]).await
}

/// Runs `trustmark` and asserts its exit code and that standard output holds each text.
async fn expect(args: &[&str], dir: &Path, code: i32, texts: &[&str]) -> CliRun {
    let run = cli(args, dir).await;
    run.expect_code(code);
    for text in texts {
        assert!(
            run.stdout.contains(text),
            "stdout lacks {text:?}\n{}",
            run.context()
        );
    }
    run
}

/// Asserts `value` fits `schemas/<name>.schema.json`.
fn fits(name: &str, value: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../schemas/{name}.schema.json"));
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{value} does not fit {name}: {errors:?}");
}

/// The registry's checkpoint note as served now.
async fn checkpoint(base: &str) -> String {
    reqwest::get(format!("{base}/log/checkpoint"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The registry's log key, read from its data directory, signing a checkpoint of the
/// real origin and size with another root: a fork only the log key could make.
fn forked(data: &Path, real: &str) -> String {
    let key = common::registry_log_key(data);
    let mut text = real.split("\n\n").next().unwrap().to_owned();
    text.push('\n');
    let mut checkpoint = Checkpoint::parse(&text).unwrap();
    checkpoint.root = merkle::leaf_hash(b"another history");
    sign_checkpoint(&checkpoint, key.as_ed25519()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_verify_and_monitor_hold_the_registry_to_its_history() {
    let key = SigningKey::from_seed(&[33; 32]);
    let registry = common::registry_process("cli-log", &[("lab", "Lab", &key)]).await;
    let base = registry.base.clone();
    let dir = common::temp_dir("cli-log-client");
    let a = common::issue_badge_for(&base, "lab", &key, "a-1", "https://a.example").await;
    common::issue_badge_for(&base, "lab", &key, "b-1", "https://b.example").await;
    let a_id = a["id"].as_str().unwrap().to_owned();

    // First check: pins the key, remembers the checkpoint.
    let verify = ["log", "verify", "--registry", &base];
    expect(&verify, &dir, 0, &["(pinned now)"]).await;
    // The log grows: the next check proves the old checkpoint is a prefix.
    let change = common::status_change("lab", &key, "s-1", &a_id, Action::Suspend);
    let (status, _, _) = common::post(
        &base,
        &format!("/api/v1/badges/{a_id}/status"),
        "application/trustmark-status+jwt",
        change,
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let lines = [
        "consistent with the checkpoint of size 3 verified before",
        "issued for https://a.example: included",
        "status suspended, by auditor lab: included",
    ];
    expect(
        &[&verify[..], &["--badge", &a_id]].concat(),
        &dir,
        0,
        &lines,
    )
    .await;
    // A token works as well as an id; JSON output.
    let token = a["token"].as_str().unwrap();
    let run = expect(
        &[&verify[..], &["--badge", token, "--json"]].concat(),
        &dir,
        0,
        &[],
    )
    .await;
    let v = &run.json_lines()[0];
    fits("log-verify-output", v);
    assert_eq!(v["verdict"], "valid");
    assert_eq!(v["checkpoint"]["size"], 4);
    assert_eq!(v["badge"]["entries"].as_array().unwrap().len(), 2);

    // The monitor lists a's events, not b's; the next run marks only what is new.
    let monitor = [
        "log",
        "monitor",
        "--registry",
        &base,
        "--origin",
        "a.example",
    ];
    let run = expect(
        &monitor,
        &dir,
        0,
        &["https://a.example: 2 event(s) in 4 log entries, 2 new"],
    )
    .await;
    assert!(!run.stdout.contains("b.example"), "{}", run.context());
    common::issue_badge_for(&base, "lab", &key, "a-2", "https://a.example").await;
    let run = expect(
        &[&monitor[..4], &["--origin", "https://a.example", "--json"]].concat(),
        &dir,
        0,
        &[],
    )
    .await;
    let v = &run.json_lines()[0];
    fits("log-monitor-output", v);
    assert_eq!(
        (v["log_size"].as_u64(), v["new_events"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(v["events"].as_array().unwrap().len(), 3);
    assert_eq!(v["badges"].as_array().unwrap().len(), 2);

    // A bundle carries the checkpoint; the live log must extend it.
    let bundle = dir.join("registry.bundle");
    let bundle = bundle.to_str().unwrap();
    expect(
        &["bundle", "fetch", "--registry", &base, "-o", bundle],
        &dir,
        0,
        &[],
    )
    .await;
    common::issue_badge_for(&base, "lab", &key, "b-2", "https://b.example").await;
    let lines = ["consistent with the bundle's checkpoint of size 5"];
    expect(
        &[&verify[..], &["--bundle", bundle]].concat(),
        &dir,
        0,
        &lines,
    )
    .await;

    // Through a proxy: first honest (pins and remembers, keyed by the proxy's URL) ...
    let (via, mode) = proxy(&base).await;
    let through = ["log", "verify", "--registry", &via];
    expect(&through, &dir, 0, &[]).await;
    let real = checkpoint(&base).await;
    let set = |m: Mode| *mode.lock().unwrap() = m;

    // ... then a tampered tile: the proof rebuilt from the tiles fails.
    common::issue_badge_for(&base, "lab", &key, "a-3", "https://a.example").await;
    set(Mode::TamperTiles);
    expect(
        &[&through[..], &["--badge", &a_id]].concat(),
        &dir,
        1,
        &["NOT VALID"],
    )
    .await;
    // The failed check was not remembered: honest data passes again.
    set(Mode::Honest);
    expect(&through, &dir, 0, &[]).await;

    // A fork: same size, another root, signed with the real log key.
    let now = checkpoint(&base).await;
    set(Mode::Checkpoint(forked(&registry.data, &now)));
    expect(&through, &dir, 1, &["the log forked"]).await;

    // A rollback: an older checkpoint, genuinely signed.
    set(Mode::Checkpoint(real));
    expect(&through, &dir, 1, &["the log shrank"]).await;

    // Another key under the same origin name.
    let other = SigningKey::from_seed(&[99; 32]);
    let mut text = now.split("\n\n").next().unwrap().to_owned();
    text.push('\n');
    let wrong = sign_checkpoint(&Checkpoint::parse(&text).unwrap(), other.as_ed25519()).unwrap();
    set(Mode::Checkpoint(wrong));
    let run = expect(&[&through[..], &["--json"]].concat(), &dir, 1, &[]).await;
    let v = &run.json_lines()[0];
    fits("log-verify-output", v);
    assert_eq!(v["verdict"], "invalid");
    let problem = v["problem"].as_str().unwrap();
    assert!(
        problem.contains("not signed by the pinned log key"),
        "{problem}"
    );

    // The monitor rebuilds the root from the entries: tampered entries are caught.
    let watch = [
        "log",
        "monitor",
        "--registry",
        &via,
        "--origin",
        "a.example",
    ];
    set(Mode::TamperEntries);
    expect(&watch, &dir, 1, &["do not match its signed checkpoint"]).await;
    set(Mode::Honest);
    expect(&watch, &dir, 0, &["4 event(s) in 7 log entries"]).await;

    // A registry that is not there cannot be checked: exit 2, not 1.
    drop(registry);
    let run = cli(
        &["log", "verify", "--registry", &base, "--timeout", "2"],
        &dir,
    )
    .await;
    run.expect_code(2);
    let _ = std::fs::remove_dir_all(&dir);
}
