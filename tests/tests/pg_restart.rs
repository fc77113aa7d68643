//! A database restart in the middle of load (`pg_ctl restart -m fast`): requests during
//! the outage are answered with 503 problem documents, never another error; requests
//! succeed again afterwards without restarting the registry; nothing acknowledged is
//! lost. Alone in its binary, as it restarts the shared test cluster; needs
//! `TRUSTMARK_TEST_PG` and `TRUSTMARK_TEST_PG_DIR` (from `scripts/test-all`).

mod common;

use common::{free_port, load_statement, pg_accredit, pg_fresh, spawn_pg_registry, temp_dir};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trustmark_core::sign::SigningKey;

#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    unavailable: usize,
    other: Vec<String>,
    /// Successes after the restart finished.
    after: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_restart_answers_503_then_recovers_without_losing_anything() {
    let key = SigningKey::from_seed(&[63; 32]);
    let dir = temp_dir("pg-restart");
    let url = pg_fresh("pg_restart");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    pg_accredit(&url, &base, &[("lab", "Lab", &key)]);
    let _registry = common::Killed(Some(spawn_pg_registry(
        &url,
        port,
        &base,
        &dir.join("registry.log"),
    )));
    common::wait_healthy(&base).await;
    let cluster = std::env::var("TRUSTMARK_TEST_PG_DIR")
        .expect("TRUSTMARK_TEST_PG_DIR names the test cluster's directory (scripts/test-all)");
    let seen = Arc::new(Mutex::new(Seen::default()));
    let restarted = Arc::new(Mutex::new(None::<Instant>));
    let deadline = Instant::now() + Duration::from_secs(8);
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (base, key, seen, restarted) =
            (base.clone(), key.clone(), seen.clone(), restarted.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap();
            let mut i = 0;
            while Instant::now() < deadline {
                i += 1;
                let r = http
                    .post(format!("{base}/api/v1/badges"))
                    .header("content-type", "application/trustmark-audit+jwt")
                    .body(load_statement("lab", &key, &format!("r{c}-{i}")))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let ct = r
                    .headers()
                    .get("content-type")
                    .map(|v| v.to_str().unwrap().to_owned());
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                let outage = {
                    let mut s = seen.lock().unwrap();
                    if status == 201 {
                        s.acknowledged.push(body["id"].as_str().unwrap().to_owned());
                        if restarted.lock().unwrap().is_some() {
                            s.after += 1;
                        }
                        false
                    } else if status == 503
                        && ct.as_deref() == Some("application/problem+json")
                        && body["type"] == "/problems/unavailable"
                    {
                        s.unavailable += 1;
                        true
                    } else {
                        s.other.push(format!("{status} {ct:?} {body}"));
                        false
                    }
                };
                if outage {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let script = common::root().join("scripts/pg-test-cluster");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(script)
            .args(["restart", &cluster])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    *restarted.lock().unwrap() = Some(Instant::now());
    for t in tasks {
        t.await.unwrap();
    }
    let seen = Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap();
    assert!(
        seen.other.is_empty(),
        "answers other than 201 or 503: {:?}",
        seen.other
    );
    assert!(seen.after > 0, "no issuance succeeded after the restart");
    let http = reqwest::Client::new();
    for id in &seen.acknowledged {
        let r = http
            .get(format!("{base}/api/v1/badges/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged badge {id} lost");
    }
    eprintln!(
        "{} acknowledged, {} answered 503 during the restart, {} after it",
        seen.acknowledged.len(),
        seen.unavailable,
        seen.after
    );
}
