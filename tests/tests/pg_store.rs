//! The PostgreSQL store's own guarantees: status list `iat`s strictly increase across
//! changes made by two processes within the same seconds; a key rotation by an operator
//! command (`--store`, same output as on a data directory) makes the other processes
//! sign with the new key at once; migrations create the schema on a fresh database and
//! a database of a newer schema is refused; a wrong password never shows in an error.
//! Needs `TRUSTMARK_TEST_PG` (from `scripts/test-all`).

mod common;

use common::{
    free_port, get_json, pg_accredit, pg_fresh, run_bin, spawn_pg_registry, status_change,
    temp_dir, wait_healthy, Killed,
};
use std::time::{Duration, Instant};
use trustmark_core::claims::Action;
use trustmark_core::sign::SigningKey;

fn kid(token: &str) -> String {
    trustmark_core::jws::Compact::parse(token, 8192)
        .unwrap()
        .header()
        .kid
        .clone()
        .unwrap()
}

fn claims(token: &str) -> serde_json::Value {
    let c = trustmark_core::jws::Compact::parse(token, 8192).unwrap();
    serde_json::from_slice(c.payload()).unwrap()
}

/// Runs `trustmark-registry` with `args` (no config file), 30 s at most.
fn registry(args: &[&str]) -> common::Run {
    let mut child = std::process::Command::new(common::bin("trustmark-registry"))
        .args(args)
        .env_remove("TRUSTMARK_CONFIG")
        .env_remove("TRUSTMARK_STORE")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if common::wait_bounded(&mut child, Duration::from_secs(30)).is_none() {
        let _ = child.kill();
    }
    common::Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out: child.wait_with_output().unwrap(),
    }
}

async fn sql(url: &str, query: &str) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client.batch_execute(query).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn list_iat_increases_across_processes_and_rotation_reaches_every_process() {
    let key = SigningKey::from_seed(&[64; 32]);
    let dir = temp_dir("pg-store");
    let url = pg_fresh("pg_store");
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    pg_accredit(&url, &a, &[("lab", "Lab", &key)]);
    let _first = Killed(Some(spawn_pg_registry(&url, pa, &a, &dir.join("a.log"))));
    let _second = Killed(Some(spawn_pg_registry(&url, pb, &a, &dir.join("b.log"))));
    wait_healthy(&a).await;
    wait_healthy(&b).await;
    let badge = common::issue_badge_for(&a, "lab", &key, "iat-0", "https://iat.example").await;
    let id = badge["id"].as_str().unwrap().to_owned();

    // Six changes, alternating processes, as fast as they go: several land in one
    // second. After each, the changing process serves the list it signed.
    let mut lists: Vec<(i64, String)> = Vec::new();
    let first = common::get_text(&format!("{a}/statuslists/1")).await;
    lists.push((
        claims(&first)["iat"].as_i64().unwrap(),
        claims(&first)["status_list"]["lst"].to_string(),
    ));
    for i in 0..6 {
        let base = if i % 2 == 0 { &a } else { &b };
        let action = if i % 2 == 0 {
            Action::Suspend
        } else {
            Action::Reinstate
        };
        // A request must be signed after the badge's last change (whole seconds).
        if i > 0 {
            common::next_second().await;
        }
        let request = status_change("lab", &key, &format!("iat-{}", i + 1), &id, action);
        let (status, body) = common::post_status_change(base, &id, request).await;
        assert_eq!(status, 200, "{body}");
        let token = common::get_text(&format!("{base}/statuslists/1")).await;
        let c = claims(&token);
        lists.push((
            c["iat"].as_i64().unwrap(),
            c["status_list"]["lst"].to_string(),
        ));
    }
    for pair in lists.windows(2) {
        assert!(pair[1].0 > pair[0].0, "iat did not increase: {lists:?}");
        assert_ne!(pair[1].1, pair[0].1, "a change did not change the list");
    }
    // Within the same second, too: two changes in a row on one list (two badges).
    let other = common::issue_badge_for(&b, "lab", &key, "iat-x", "https://iat2.example").await;
    let other = other["id"].as_str().unwrap().to_owned();
    common::next_second().await;
    let (s1, _) = common::post_status_change(
        &a,
        &id,
        status_change("lab", &key, "iat-y", &id, Action::Suspend),
    )
    .await;
    let t1 = claims(&common::get_text(&format!("{a}/statuslists/1")).await)["iat"]
        .as_i64()
        .unwrap();
    let (s2, _) = common::post_status_change(
        &b,
        &other,
        status_change("lab", &key, "iat-z", &other, Action::Suspend),
    )
    .await;
    let t2 = claims(&common::get_text(&format!("{b}/statuslists/1")).await)["iat"]
        .as_i64()
        .unwrap();
    assert_eq!((s1.as_u16(), s2.as_u16()), (200, 200));
    assert!(t2 > t1, "two changes in one second share iat {t1}");

    // Rotation by an operator command against the database: same output as on a data
    // directory, and the other process signs with the new key right after.
    let rotated = run_bin("trustmark-registry", &["key", "rotate", "--store", &url]);
    rotated.expect_code(0);
    let line = rotated.stdout();
    assert!(line.starts_with("new badge key "), "{}", rotated.context());
    let new_kid = line
        .trim_start_matches("new badge key ")
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let fresh =
        common::issue_badge_for(&b, "lab", &key, "after-rotate", "https://rot.example").await;
    assert_eq!(
        kid(fresh["token"].as_str().unwrap()),
        new_kid,
        "process B signed with an old key"
    );
    let fresh =
        common::issue_badge_for(&a, "lab", &key, "after-rotate-2", "https://rot2.example").await;
    assert_eq!(kid(fresh["token"].as_str().unwrap()), new_kid);
    // Both serve the new key within the refresh interval.
    for base in [&a, &b] {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let jwks = get_json(&format!("{base}/.well-known/jwks.json")).await;
            let has = jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["kid"] == new_kid.as_str());
            if has {
                break;
            }
            assert!(Instant::now() < deadline, "{base} never served the new key");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Withdrawing the retired key that signed the first badge re-signs it under the new
    // key, with the same id; the other process serves the new token.
    let old_kid = kid(badge["token"].as_str().unwrap());
    assert_ne!(old_kid, new_kid);
    let withdrawn = run_bin(
        "trustmark-registry",
        &["key", "withdraw", &old_kid, "--store", &url],
    );
    assert!(
        withdrawn
            .expect_code(0)
            .stdout()
            .starts_with(&format!("key {old_kid} withdrawn; ")),
        "{}",
        withdrawn.context()
    );
    let served = common::get_text(&format!("{b}/b/{id}/badge.jwt")).await;
    assert_eq!(kid(served.trim()), new_kid, "the badge was not re-signed");
    assert_eq!(claims(served.trim())["jti"], id.as_str());
    // The other operator commands, against the database, with the usual lines.
    let list = run_bin("trustmark-registry", &["auditor", "list", "--store", &url]);
    assert!(
        list.expect_code(0).stdout().starts_with("lab\tactive\t"),
        "{}",
        list.context()
    );
    let out = run_bin(
        "trustmark-registry",
        &[
            "badge", "revoke", &other, "--reason", "fraud", "--store", &url,
        ],
    );
    assert_eq!(
        out.expect_code(0).stdout().trim(),
        format!("{other} is now revoked")
    );
    let badges = run_bin("trustmark-registry", &["badge", "list", "--store", &url]);
    assert!(
        badges.stdout().contains(&format!("{other}\trevoked\tlab")),
        "{}",
        badges.context()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_create_the_schema_and_a_newer_schema_is_refused() {
    let url = pg_fresh("pg_migrate");
    let key = SigningKey::from_seed(&[65; 32]);
    pg_accredit(&url, "http://127.0.0.1:9", &[("lab", "Lab", &key)]);
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let version: i32 = client
        .query_one("SELECT max(version) FROM schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(version, trustmark_registry::storage::pg::migrate::latest());
    let keys: i64 = client
        .query_one("SELECT count(*) FROM keys WHERE current", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(keys, 3, "badge, status list and log keys");
    // A second start applies nothing and keeps the keys.
    pg_accredit(&url, "http://127.0.0.1:9", &[]);
    let again: i64 = client
        .query_one("SELECT count(*) FROM keys", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(again, 3);
    sql(&url, "INSERT INTO schema_version (version) VALUES (9999)").await;
    let port = free_port();
    let out = registry(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--store",
        &url,
    ]);
    out.expect_code(2)
        .expect_stderr("schema is version 9999, newer than this registry knows");
    let out = run_bin("trustmark-registry", &["auditor", "list", "--store", &url]);
    out.expect_code(2)
        .expect_stderr("newer than this registry knows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_without_showing_it() {
    let url = common::pg_cluster();
    let wrong = url.replacen(":trustmark-test@", ":n0t-the-Passw0rd@", 1);
    assert_ne!(wrong, url, "the test cluster URL carries a password");
    let port = free_port();
    let out = registry(&[
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--store",
        &wrong,
    ]);
    out.expect_code(2)
        .expect_stderr("password authentication failed");
    assert!(
        !out.stderr().contains("n0t-the-Passw0rd"),
        "{}",
        out.context()
    );
    assert!(out.stderr().contains(":***@"), "{}", out.context());
    let out = run_bin("trustmark-registry", &["badge", "list", "--store", &wrong]);
    out.expect_code(2);
    assert!(
        !out.stderr().contains("n0t-the-Passw0rd"),
        "{}",
        out.context()
    );
    // Demo mode stays on the embedded store.
    let out = registry(&[
        "serve",
        "--demo",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--store",
        &url,
    ]);
    out.expect_code(2)
        .expect_stderr("--demo runs on the embedded store only");
}
