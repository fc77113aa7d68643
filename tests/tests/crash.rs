//! Crash safety: `kill -9` the registry while 8 clients issue badges, then check that every
//! acknowledged badge survived with its index, that no status index was handed out
//! twice — also across the restart — and that the evidence log stayed in step with the
//! badges: every badge has its entry, every entry its badge, and the log after the
//! restart is consistent with every checkpoint served before the kill.

use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trustmark_core::evidence::{Entry, Event as LogEvent};
use trustmark_core::log::checkpoint::{open_checkpoint, Checkpoint};
use trustmark_core::log::merkle;
use trustmark_core::log::note::VerifierKey;
use trustmark_core::sign::{self, SigningKey};
use trustmark_registry::engine::Engine;

mod common;
use common::{accredit, audit_claims, free_port, now, spawn_registry as spawn, wait_healthy};

fn statement(key: &SigningKey, jti: String) -> String {
    sign::sign_audit_statement(&audit_claims("lab", &jti, |i| i.best), key).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_issuance_loses_no_acknowledged_badge() {
    let data = std::env::temp_dir().join(format!("tm-e2e-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let key = SigningKey::from_seed(&[5; 32]);
    let port = free_port();
    accredit(
        &data,
        &format!("http://127.0.0.1:{port}"),
        &[("lab", "Lab", &key)],
        &[],
    );
    let mut child = spawn(&data, port);
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base).await;

    let meta = common::get_json(&format!("{base}/.well-known/trustmark-registry")).await;
    let vkey = VerifierKey::parse(meta["log"]["vkey"].as_str().unwrap()).unwrap();
    let acked: Arc<Mutex<HashMap<String, (String, u64)>>> = Arc::default();
    let stop_at = Instant::now() + Duration::from_millis(1500);
    // Checkpoints as a monitor saw them while the load ran.
    let seen: Arc<Mutex<Vec<Checkpoint>>> = Arc::default();
    let poller = {
        let (seen, base, vkey) = (seen.clone(), base.clone(), vkey.clone());
        tokio::spawn(async move {
            while let Ok(r) = reqwest::get(format!("{base}/log/checkpoint")).await {
                let Ok(note) = r.text().await else { break };
                let checkpoint = open_checkpoint(note.as_bytes(), &vkey)
                    .unwrap_or_else(|e| panic!("served checkpoint does not verify: {e}\n{note}"));
                seen.lock().unwrap().push(checkpoint);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let mut clients = Vec::new();
    for c in 0..8 {
        let (acked, base, key) = (acked.clone(), base.clone(), key.clone());
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0.. {
                if Instant::now() > stop_at + Duration::from_secs(5) {
                    break;
                }
                let body = statement(&key, format!("c{c}-{i}"));
                let Ok(r) = http
                    .post(format!("{base}/api/v1/badges"))
                    .header("content-type", "application/trustmark-audit+jwt")
                    .body(body)
                    .send()
                    .await
                else {
                    break;
                };
                if r.status() != reqwest::StatusCode::CREATED {
                    break;
                }
                let Ok(v) = r.json::<Value>().await else {
                    break;
                };
                let id = v["id"].as_str().unwrap().to_owned();
                acked.lock().unwrap().insert(
                    id,
                    (
                        v["status"]["uri"].as_str().unwrap().to_owned(),
                        v["status"]["idx"].as_u64().unwrap(),
                    ),
                );
            }
        }));
    }
    tokio::time::sleep_until((stop_at).into()).await;
    child.kill().unwrap(); // SIGKILL: no shutdown, no flush.
    child.wait().unwrap();
    for c in clients {
        c.await.unwrap();
    }
    poller.await.unwrap();
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() > 10, "only {} checkpoints seen", seen.len());
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > 50,
        "only {} badges were acknowledged before the kill",
        acked.len()
    );

    // Reopen as the operator would, replaying the journal into the indexes.
    let engine = Engine::open(&data, &format!("http://127.0.0.1:{port}"), now(), false).unwrap();
    let store = engine.store();
    for (id, (uri, idx)) in &acked {
        let b = store
            .badge(id)
            .unwrap()
            .unwrap_or_else(|| panic!("acknowledged badge {id} lost"));
        assert_eq!(
            (
                format!("http://127.0.0.1:{port}/statuslists/{}", b.list),
                b.idx
            ),
            (uri.clone(), *idx),
            "{id}"
        );
    }
    let all = store.badges().unwrap();
    let slots: HashSet<(u32, u64)> = all.iter().map(|b| (b.list, b.idx)).collect();
    assert_eq!(
        slots.len(),
        all.len(),
        "a status index was handed out twice"
    );

    // The log: opening checked every stored checkpoint against the rebuilt tree. Every
    // badge has exactly its issuance entry, every issuance entry a stored badge, and
    // every checkpoint served before the kill is a prefix of the log now.
    let view = engine.log_view();
    {
        let log = view.read().unwrap();
        let size = log.size();
        let root = log.checkpoint().unwrap().root;
        let mut logged = HashSet::new();
        for index in 0..size {
            let bytes = store.log_entry(index).unwrap().expect("entry stored");
            if let LogEvent::Issued { badge, token, .. } = Entry::parse(&bytes).unwrap().event {
                let b = store
                    .badge(&badge)
                    .unwrap()
                    .expect("a logged badge is stored");
                assert_eq!(b.token, token);
                assert_eq!(b.log.first().map(|l| l.index), Some(index));
                let proof = log.inclusion(index, size).unwrap();
                merkle::verify_inclusion(&merkle::leaf_hash(&bytes), index, size, &proof, &root)
                    .unwrap();
                assert!(logged.insert(badge), "a badge was logged twice");
            }
        }
        assert_eq!(logged.len(), all.len(), "badges and log entries differ");
        for old in &seen {
            assert!(old.size <= size, "a served checkpoint is ahead of the log");
            let proof = log.consistency(old.size, size).unwrap();
            merkle::verify_consistency(old.size, size, &old.root, &root, &proof)
                .unwrap_or_else(|e| panic!("checkpoint of size {} is not a prefix: {e}", old.size));
        }
    }
    drop(store);
    drop(engine);

    // After a restart, new badges still get fresh indexes.
    let mut child = spawn(&data, port);
    wait_healthy(&base).await;
    let http = reqwest::Client::new();
    let mut seen = slots.clone();
    for i in 0..20 {
        let r = http
            .post(format!("{base}/api/v1/badges"))
            .header("content-type", "application/trustmark-audit+jwt")
            .body(statement(&key, format!("after-{i}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        assert!(
            seen.insert((1, v["status"]["idx"].as_u64().unwrap())),
            "index reused after restart"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
