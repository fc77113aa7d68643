//! Two registry processes on one PostgreSQL database: 16 clients spread over both issue
//! at once (no status index repeats, every acknowledged badge is there through either
//! process, every checkpoint any client saw is a prefix of the final one, every badge
//! has its log entry), and `kill -9` of one process under load while the other keeps
//! serving. Needs the test cluster (`TRUSTMARK_TEST_PG`, from `scripts/test-all`).

mod common;

use common::{
    assert_consistent, free_port, get_json, load_statement, open_checkpoint, pg_accredit, pg_fresh,
    spawn_pg_registry, temp_dir, wait_healthy, Killed,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trustmark_core::sign::SigningKey;

/// What the clients saw.
#[derive(Default)]
struct Seen {
    /// Acknowledged badges: id, list URL, index.
    badges: Vec<(String, String, u64)>,
    /// Checkpoints read from either process.
    checkpoints: Vec<String>,
    /// Failed requests: which client, and what happened.
    failures: Vec<(usize, String)>,
}

/// Runs `clients` clients for `secs` seconds; client `c` starts on `bases[c % n]` and,
/// if `failover`, moves to the next base after a failed request.
async fn load(
    bases: Vec<String>,
    clients: usize,
    secs: u64,
    key: SigningKey,
    failover: bool,
) -> Seen {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bases, key, seen) = (bases.clone(), key.clone(), seen.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap();
            let mut at = c % bases.len();
            let mut i = 0u64;
            while Instant::now() < deadline {
                i += 1;
                let base = &bases[at];
                let statement = load_statement("lab", &key, &format!("c{c}-{i}"));
                let r = http
                    .post(format!("{base}/api/v1/badges"))
                    .header("content-type", "application/trustmark-audit+jwt")
                    .body(statement)
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                        let b: serde_json::Value = r.json().await.unwrap();
                        seen.lock().unwrap().badges.push((
                            b["id"].as_str().unwrap().into(),
                            b["status"]["uri"].as_str().unwrap().into(),
                            b["status"]["idx"].as_u64().unwrap(),
                        ));
                    }
                    other => {
                        let what = match other {
                            Ok(r) => {
                                format!("{} {}", r.status(), r.text().await.unwrap_or_default())
                            }
                            Err(e) => format!("{e}"),
                        };
                        seen.lock().unwrap().failures.push((c, what));
                        if failover {
                            at = (at + 1) % bases.len();
                        }
                        continue;
                    }
                }
                if i.is_multiple_of(5) {
                    if let Ok(r) = http.get(format!("{base}/log/checkpoint")).send().await {
                        if r.status().is_success() {
                            let note = r.text().await.unwrap();
                            seen.lock().unwrap().checkpoints.push(note);
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    Arc::try_unwrap(seen).ok().unwrap().into_inner().unwrap()
}

/// Starts two processes on a fresh database; returns them and their base URLs (the
/// issuer, shared, is the first one's URL, as behind a load balancer).
async fn two_processes(name: &str, key: &SigningKey) -> (Killed, Killed, String, String) {
    let dir = temp_dir(name);
    let url = pg_fresh(name);
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    pg_accredit(&url, &a, &[("lab", "Lab", key)]);
    let first = Killed(Some(spawn_pg_registry(&url, pa, &a, &dir.join("a.log"))));
    let second = Killed(Some(spawn_pg_registry(&url, pb, &a, &dir.join("b.log"))));
    wait_healthy(&a).await;
    wait_healthy(&b).await;
    (first, second, a, b)
}

/// Every acknowledged badge is there through `bases`, with an `issued` log entry inside
/// the final checkpoint; no (list, index) repeats; every checkpoint seen is a prefix of
/// the final one.
async fn check_everything(seen: &Seen, bases: &[String]) {
    let mut slots = HashSet::new();
    for (id, list, idx) in &seen.badges {
        assert!(
            slots.insert((list.clone(), *idx)),
            "{list} index {idx} handed out twice"
        );
        let _ = id;
    }
    let base = &bases[0];
    let vkey = get_json(&format!("{base}/.well-known/trustmark-registry")).await["log"]["vkey"]
        .as_str()
        .unwrap()
        .to_owned();
    // Every process serves the same final checkpoint once it caught up (≤ 1 s).
    let mut finals = Vec::new();
    for b in bases {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let note = common::get_text(&format!("{b}/log/checkpoint")).await;
            let head = open_checkpoint(&note, &vkey);
            let other = open_checkpoint(
                &common::get_text(&format!("{base}/log/checkpoint")).await,
                &vkey,
            );
            if head == other || Instant::now() > deadline {
                finals.push(head);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let last = finals[0];
    assert!(
        finals.iter().all(|f| *f == last),
        "the processes serve different logs"
    );
    for note in &seen.checkpoints {
        assert_consistent(base, open_checkpoint(note, &vkey), last).await;
    }
    let http = reqwest::Client::new();
    for (i, (id, _, _)) in seen.badges.iter().enumerate() {
        let b = &bases[i % bases.len()];
        let r = http
            .get(format!("{b}/api/v1/badges/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "acknowledged badge {id} missing from {b}");
        let record: serde_json::Value = r.json().await.unwrap();
        let entry = &record["log"][0];
        assert_eq!(entry["type"], "issued", "{record}");
        let index = entry["index"].as_u64().unwrap();
        assert!(index < last.0, "badge {id}'s entry {index} outside the log");
        let bytes = common::get_text(&format!("{b}/log/entries/{index}")).await;
        assert!(bytes.contains(id.as_str()), "entry {index} is not {id}'s");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_over_two_processes_share_one_consistent_registry() {
    let key = SigningKey::from_seed(&[61; 32]);
    let (_a, _b, a, b) = two_processes("pg-two", &key).await;
    let seen = load(vec![a.clone(), b.clone()], 16, 4, key, false).await;
    assert!(
        seen.failures.is_empty(),
        "failed requests: {:?}",
        &seen.failures[..seen.failures.len().min(5)]
    );
    assert!(
        seen.badges.len() >= 100,
        "only {} badges issued",
        seen.badges.len()
    );
    assert!(!seen.checkpoints.is_empty());
    check_everything(&seen, &[a, b]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_one_process_under_load_fails_only_its_in_flight_requests() {
    let key = SigningKey::from_seed(&[62; 32]);
    let (_a, mut victim, a, b) = two_processes("pg-kill", &key).await;
    let bases = vec![a.clone(), b.clone()];
    let loader = tokio::spawn(load(bases, 16, 5, key, true));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut child = victim.0.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let seen = loader.await.unwrap();
    // Clients of the survivor (even ones) never failed; each client of the killed
    // process failed at most once (its request in flight), then moved over.
    for (c, what) in &seen.failures {
        assert!(
            c % 2 == 1,
            "client {c} of the surviving process failed: {what}"
        );
    }
    let odd = seen.failures.len();
    assert!(
        odd <= 8,
        "{odd} failures for 8 clients of the killed process: {:?}",
        seen.failures
    );
    assert!(
        seen.badges.len() >= 100,
        "only {} badges issued",
        seen.badges.len()
    );
    check_everything(&seen, &[a]).await;
}
