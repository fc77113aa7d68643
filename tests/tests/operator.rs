//! Operator commands work whether or not the server runs: through the running server's
//! admin socket (mode 0600), and on the data directory when it is stopped.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::Catalogue;

mod common;
use common::{
    audit_claims, bin, free_port, get_json, post_statement, spawn_registry as serve, stop,
    wait_healthy as healthy,
};

/// A verifier trusting what the registry at `base` serves now: its keys and list 1.
async fn served_verifier(base: &str) -> (trustmark_core::Verifier, trustmark_core::Jwks) {
    let jwks_text = common::get_text(&format!("{base}/.well-known/jwks.json")).await;
    let jwks = trustmark_core::Jwks::parse(jwks_text.as_bytes()).unwrap();
    let mut verifier =
        trustmark_core::Verifier::new(base, jwks.clone(), Catalogue::rcep_b2b_web_1().unwrap());
    let list = common::get_text(&format!("{base}/statuslists/1")).await;
    verifier.add_status_list(&list).unwrap();
    (verifier, jwks)
}

fn registry(data: &Path, args: &[&str]) -> Output {
    let out = Command::new(bin("trustmark-registry"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_commands_online_and_offline() {
    let dir = std::env::temp_dir().join(format!("tm-e2e-operator-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");

    // A key made the way an auditor makes one.
    let key_file = dir.join("auditor.jwk");
    let out = Command::new(bin("trustmark"))
        .args(["keygen", "-o", key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = dir.join("auditor.pub.jwk");
    std::fs::write(&public, &out.stdout).unwrap();
    let key = SigningKey::from_jwk_json(&std::fs::read(&key_file).unwrap()).unwrap();

    let server = serve(&data, port);
    healthy(&base).await;
    let socket = data.join("admin/admin.sock");
    assert_eq!(
        std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Online: accredit through the socket, then issue over HTTP with that auditor.
    registry(
        &data,
        &[
            "auditor",
            "add",
            "--id",
            "ops-lab",
            "--name",
            "Ops Lab",
            "--key",
            public.to_str().unwrap(),
        ],
    );
    let claims = audit_claims("ops-lab", "ops-1", |i| i.best);
    let (status, body) =
        post_statement(&base, sign::sign_audit_statement(&claims, &key).unwrap()).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let id = body["id"].as_str().unwrap().to_owned();

    let out = registry(
        &data,
        &[
            "badge",
            "suspend",
            &id,
            "--reason",
            "certificate link broken",
        ],
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{id} is now suspended")
    );
    let record = get_json(&format!("{base}/api/v1/badges/{id}")).await;
    assert_eq!(record["status"], "suspended");
    assert_eq!(record["history"][1]["by"]["kind"], "operator");
    assert_eq!(record["history"][1]["reason"], "certificate link broken");
    let listing = String::from_utf8(registry(&data, &["auditor", "list"]).stdout).unwrap();
    assert!(listing.starts_with("ops-lab\tactive\t"), "{listing}");

    // Key rotation on the running registry: old badges still verify (status: suspended,
    // not unknown_key), new badges and lists use the new keys.
    let old_token = record["token"].as_str().unwrap().to_owned();
    let out = registry(&data, &["key", "rotate"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("new badge key "));
    let (verifier, jwks) = served_verifier(&base).await;
    assert_eq!(jwks.keys().len(), 4);
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        verifier
            .verify(&old_token, trustmark_core::OriginPolicy::Ignore, now)
            .reason,
        trustmark_core::Reason::Suspended
    );
    let mut fresh = claims.clone();
    fresh.jti = "ops-2".into();
    fresh.iat = now;
    let (status, body) =
        post_statement(&base, sign::sign_audit_statement(&fresh, &key).unwrap()).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let new_token = body["token"].as_str().unwrap().to_owned();
    let kid = |t: &str| {
        trustmark_core::jws::Compact::parse(t, 8192)
            .unwrap()
            .header()
            .kid
            .clone()
            .unwrap()
    };
    assert_ne!(
        kid(&new_token),
        kid(&old_token),
        "new badges use the new key"
    );
    assert_eq!(
        verifier
            .verify(&new_token, trustmark_core::OriginPolicy::Ignore, now)
            .reason,
        trustmark_core::Reason::Valid
    );

    // The operator's status change was counted by the running registry.
    assert_eq!(
        common::metric(&base, "trustmark_status_changes_total").await,
        1
    );

    // Withdrawing the old (compromised) badge key: it leaves the key set at once, and the
    // badge it signed is re-signed under the current key, same id and status index.
    let old_kid = kid(&old_token);
    let out = registry(&data, &["key", "withdraw", &old_kid]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("key {old_kid} withdrawn; 1 current badge(s) re-signed under the current key")
    );
    let (verifier, jwks) = served_verifier(&base).await;
    assert!(jwks.is_withdrawn(&old_kid) && jwks.get(&old_kid).is_none());
    let served = reqwest::get(format!("{base}/b/{id}/badge.jwt"))
        .await
        .unwrap();
    assert_eq!(
        served.headers()["content-type"],
        "application/trustmark+jwt"
    );
    let resigned = served.text().await.unwrap();
    assert_ne!(resigned, old_token);
    let now = chrono::Utc::now().timestamp();
    let fresh = verifier.verify(&resigned, trustmark_core::OriginPolicy::Ignore, now);
    assert_eq!(
        fresh.reason,
        trustmark_core::Reason::Suspended,
        "{:?}",
        fresh.detail
    );
    let claims = fresh.claims.unwrap();
    assert_eq!(claims.jti, id);
    assert_eq!(
        serde_json::to_value(&claims.status).unwrap(),
        record["claims"]["status"]
    );
    assert_eq!(
        verifier
            .verify(&old_token, trustmark_core::OriginPolicy::Ignore, now)
            .reason,
        trustmark_core::Reason::UnknownKey
    );

    // Offline: the server is stopped; the same command works on the data directory.
    stop(server);
    assert!(!socket.exists(), "a stopped server removes its socket");
    let out = registry(&data, &["badge", "revoke", &id, "--reason", "fraud"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("{id} is now revoked")
    );
    let badges = String::from_utf8(registry(&data, &["badge", "list"]).stdout).unwrap();
    assert!(
        badges.contains(&format!("{id}\trevoked\tops-lab")),
        "{badges}"
    );

    // Restarted, the registry serves what the offline command did.
    let server = serve(&data, port);
    healthy(&base).await;
    let record = get_json(&format!("{base}/api/v1/badges/{id}")).await;
    assert_eq!(record["status"], "revoked");
    stop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
