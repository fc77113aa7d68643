//! Golden transcripts of the `trustmark` commands that talk to a registry
//! (`tests/cmd/online.md`): a real `trustmark-registry` process on a loopback socket, the
//! CLI finding it through `TRUSTMARK_REGISTRY`. The registry's URL and the badge's id
//! change per run and appear as `[REGISTRY]`, `[BADGE]` and `[TOKEN]`; `[..]` stands for times and
//! fresh ids. Offline transcripts are in `verifier-cli/tests/cmd/`. After an intended
//! change: `TRYCMD=overwrite cargo test -p trustmark-e2e --test golden_online`, then
//! review the diff.

mod common;

use std::os::unix::fs::PermissionsExt;
use trustmark_core::sign::SigningKey;

#[tokio::test(flavor = "multi_thread")]
async fn golden_online_transcripts() {
    let key = SigningKey::from_seed(&[7; 32]);
    let registry = common::registry_process(
        "golden-online",
        &[("kyoto-audit-lab", "Kyoto Audit Lab", &key)],
    )
    .await;
    let badge = common::issue_badge_for(
        &registry.base,
        "kyoto-audit-lab",
        &key,
        &format!("golden-{}", common::now()),
        "https://supplier.example",
    )
    .await;

    // Files the transcript names, relative to the repository root (its working directory).
    let dir = common::root().join("target/golden-online");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key_file = dir.join("auditor.jwk");
    std::fs::write(&key_file, key.to_private_jwk_json().as_bytes()).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(dir.join("badge.jwt"), badge["token"].as_str().unwrap()).unwrap();
    // A supplier list: the badge on its site, the same badge on another, and a site
    // without a badge (the registry's own origin serves none).
    std::fs::write(
        dir.join("suppliers.csv"),
        format!(
            "origin,token\nhttps://supplier.example,{t}\nhttps://copycat.example,{t}\n",
            t = badge["token"].as_str().unwrap()
        ),
    )
    .unwrap();

    let scratch = common::temp_dir("golden-online-cli");
    let registry_url = registry.base.clone();
    let bin = common::bin("trustmark");
    let id = badge["id"].as_str().unwrap().to_owned();
    let token = badge["token"].as_str().unwrap().to_owned();
    // trycmd runs the cases synchronously; the registry is another process.
    tokio::task::spawn_blocking(move || {
        let cases = trycmd::TestCases::new();
        cases
            .register_bin("trustmark", bin)
            .env("NO_COLOR", "1")
            .env("TRUSTMARK_REGISTRY", registry_url.clone())
            .env(
                "TRUSTMARK_CONFIG",
                scratch.join("no-config.toml").display().to_string(),
            )
            .env(
                "TRUSTMARK_CACHE_DIR",
                scratch.join("cache").display().to_string(),
            );
        cases.insert_var("[REGISTRY]", registry_url).unwrap();
        cases.insert_var("[BADGE]", id).unwrap();
        cases.insert_var("[TOKEN]", token).unwrap();
        cases.case("cmd/online.md");
        cases.run();
    })
    .await
    .unwrap();
}
