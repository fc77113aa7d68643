//! The evidence log over a real socket: the checkpoint verifies under the key the
//! metadata names; hash tiles and entry bundles rebuild exactly the signed root; single
//! entries and the JSON proof helpers agree with them; nothing beyond the published tree
//! is served; the badge page and the badge API point at the badge's entries.

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::Value;
use trustmark_core::evidence::{Entry, Event as LogEvent};
use trustmark_core::log::checkpoint::open_checkpoint;
use trustmark_core::log::merkle::{self, Hash, HashReader};
use trustmark_core::log::note::VerifierKey;
use trustmark_core::log::tile;
use trustmark_core::sign::SigningKey;
use trustmark_registry::engine::Command;

mod common;

/// Issues `n` badges in one batch through the engine (no server running), with the clock
/// at `now`.
fn issue_many(data: &std::path::Path, issuer: &str, key: &SigningKey, n: usize) {
    let catalogue = trustmark_core::Catalogue::rcep_b2b_web_1().unwrap();
    let commands = (0..n)
        .map(|i| {
            let claims = common::audit_claims("lab", &format!("bulk-{i}"), |x| x.best);
            Command::Issue {
                statement: trustmark_core::sign::sign_audit_statement(&claims, key).unwrap(),
                evaluation: catalogue.evaluate(&claims.values()).unwrap(),
                claims: Box::new(claims),
            }
        })
        .collect();
    for result in common::execute_offline(data, issuer, commands, common::now()) {
        result.unwrap();
    }
}

async fn get(url: &str) -> reqwest::Response {
    reqwest::get(url).await.unwrap()
}

async fn bytes(url: &str) -> Vec<u8> {
    let r = get(url).await;
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.bytes().await.unwrap().to_vec()
}

fn b64(s: &Value) -> Hash {
    base64::engine::general_purpose::STANDARD
        .decode(s.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

/// Answers `subtree` from level-0 hash tiles fetched beforehand: the way a client that
/// only reads the static paths rebuilds hashes.
struct Tiles(Vec<Hash>);
impl HashReader for Tiles {
    type Error = ();
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, ()> {
        let width = 1usize << level;
        let start = index as usize * width;
        let leaves = self.0.get(start..start + width).ok_or(())?;
        Ok(fold(leaves))
    }
}

fn fold(leaves: &[Hash]) -> Hash {
    if leaves.len() == 1 {
        return leaves[0];
    }
    let (l, r) = leaves.split_at(leaves.len() / 2);
    merkle::node_hash(&fold(l), &fold(r))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiles_entries_and_proofs_rebuild_the_signed_root() {
    let key = SigningKey::from_seed(&[21; 32]);
    let data = common::temp_dir("log-http").join("data");
    std::fs::create_dir_all(&data).unwrap();
    // Filled offline under another issuer: the server below serves under its own
    // address, so its first act is to sign the same tree under its own log origin.
    common::accredit(&data, "http://127.0.0.1:9", &[("lab", "Lab", &key)], &[]);
    issue_many(&data, "http://127.0.0.1:9", &key, 300);
    let running = common::serve(&data, false).await;
    let base = format!("http://{}", running.addr);

    // The checkpoint verifies with the key the metadata names.
    let meta = common::get_json(&format!("{base}/.well-known/trustmark-registry")).await;
    let origin = meta["log"]["origin"].as_str().unwrap();
    assert_eq!(origin, format!("{}/log", running.addr));
    assert_eq!(meta["log"]["checkpoint"], format!("{base}/log/checkpoint"));
    let vkey = VerifierKey::parse(meta["log"]["vkey"].as_str().unwrap()).unwrap();
    assert_eq!(vkey.name(), origin);
    let r = get(&format!("{base}/log/checkpoint")).await;
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    let note = r.text().await.unwrap();
    let checkpoint = open_checkpoint(note.as_bytes(), &vkey).unwrap();
    let size = checkpoint.size;
    // 1 accreditation and 300 issuances, checkpointed.
    assert_eq!(size, 301, "{note}");

    // Level-0 tiles: one full, one partial; each hash is the leaf hash of the entry
    // served alone, and the entry bundles carry the same bytes.
    let full = bytes(&format!("{base}/log/tile/0/000")).await;
    let partial = bytes(&format!("{base}/log/tile/0/001.p/45")).await;
    assert_eq!((full.len(), partial.len()), (256 * 32, 45 * 32));
    let r = get(&format!("{base}/log/tile/0/000")).await;
    assert_eq!(
        r.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let leaves: Vec<Hash> = full
        .chunks(32)
        .chain(partial.chunks(32))
        .map(|c| c.try_into().unwrap())
        .collect();
    let bundle0 = bytes(&format!("{base}/log/tile/entries/000")).await;
    let bundle1 = bytes(&format!("{base}/log/tile/entries/001.p/45")).await;
    let mut entries: Vec<Vec<u8>> = tile::parse_entry_bundle(&bundle0)
        .unwrap()
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    entries.extend(
        tile::parse_entry_bundle(&bundle1)
            .unwrap()
            .into_iter()
            .map(<[u8]>::to_vec),
    );
    assert_eq!(entries.len(), 301);
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../schemas/log-entry.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let schema = jsonschema::draft202012::new(&schema).unwrap();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(merkle::leaf_hash(entry), leaves[i], "leaf {i}");
        Entry::parse(entry).unwrap();
        let value: Value = serde_json::from_slice(entry).unwrap();
        assert!(
            schema.is_valid(&value),
            "entry {i} does not fit log-entry.schema.json"
        );
        if i % 50 == 0 || i == 300 {
            assert_eq!(&bytes(&format!("{base}/log/entries/{i}")).await, entry);
        }
    }
    // The tiles alone give the signed root; the level-1 tile holds one hash so far, the
    // root of the first 256 entries.
    let tiles = Tiles(leaves.clone());
    assert_eq!(merkle::root(&tiles, size).unwrap(), checkpoint.root);
    let level1 = bytes(&format!("{base}/log/tile/1/000.p/1")).await;
    assert_eq!(level1, fold(&leaves[..256]).to_vec());

    // The proof helpers agree with proofs rebuilt from the tiles, and verify.
    for index in [0u64, 1, 100, 255, 256, 299, 300] {
        let v = common::get_json(&format!(
            "{base}/log/proof/inclusion?index={index}&size={size}"
        ))
        .await;
        assert_eq!(b64(&v["leaf_hash"]), leaves[index as usize]);
        let proof: Vec<Hash> = v["proof"].as_array().unwrap().iter().map(b64).collect();
        assert_eq!(proof, merkle::inclusion_proof(&tiles, index, size).unwrap());
        merkle::verify_inclusion(
            &leaves[index as usize],
            index,
            size,
            &proof,
            &checkpoint.root,
        )
        .unwrap();
    }
    for old in [1u64, 2, 255, 256, 257, 300, 301] {
        let v = common::get_json(&format!(
            "{base}/log/proof/consistency?old={old}&new={size}"
        ))
        .await;
        let proof: Vec<Hash> = v["proof"].as_array().unwrap().iter().map(b64).collect();
        let old_root = merkle::root(&tiles, old).unwrap();
        merkle::verify_consistency(old, size, &old_root, &checkpoint.root, &proof).unwrap();
    }

    // Nothing beyond the published tree, nothing non-canonical.
    for (path, status) in [
        ("/log/tile/0/001", StatusCode::NOT_FOUND),
        ("/log/tile/0/001.p/46", StatusCode::NOT_FOUND),
        ("/log/tile/1/000.p/2", StatusCode::NOT_FOUND),
        ("/log/tile/1/000", StatusCode::NOT_FOUND),
        ("/log/tile/0/1", StatusCode::NOT_FOUND),
        ("/log/tile/0/x000/000", StatusCode::NOT_FOUND),
        ("/log/tile/entries/001", StatusCode::NOT_FOUND),
        ("/log/entries/301", StatusCode::NOT_FOUND),
        ("/log/entries/01", StatusCode::NOT_FOUND),
        (
            "/log/proof/inclusion?index=0&size=302",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/log/proof/inclusion?index=301&size=301",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/log/proof/inclusion?index=01&size=301",
            StatusCode::BAD_REQUEST,
        ),
        ("/log/proof/inclusion?size=301", StatusCode::BAD_REQUEST),
        (
            "/log/proof/consistency?old=0&new=301",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/log/proof/consistency?old=5&new=4",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/log/proof/consistency?old=1&new=302",
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let r = get(&format!("{base}{path}")).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }

    // A badge's API record and page point at its entries, which name it.
    let LogEvent::Issued { badge, .. } = Entry::parse(&entries[300]).unwrap().event else {
        panic!("entry 300 is not an issuance");
    };
    let record = common::get_json(&format!("{base}/api/v1/badges/{badge}")).await;
    assert_eq!(record["log"][0]["index"], 300);
    assert_eq!(record["log"][0]["type"], "issued");
    let page = common::get_page(&format!("{base}/b/{badge}?lang=en"), None).await;
    assert!(page.body.contains("Evidence log"), "{}", page.body);
    assert!(page.body.contains(r#"<a href="/log/entries/300">300</a>"#));

    // A status change appends its entry and a new checkpoint that extends the old one.
    let out = common::run_bin(
        "trustmark-registry",
        &[
            "badge",
            "revoke",
            &badge,
            "--reason",
            "log test",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    out.expect_code(0);
    let note = get(&format!("{base}/log/checkpoint"))
        .await
        .text()
        .await
        .unwrap();
    let next = open_checkpoint(note.as_bytes(), &vkey).unwrap();
    assert_eq!(next.size, 302);
    let v = common::get_json(&format!("{base}/log/proof/consistency?old=301&new=302")).await;
    let proof: Vec<Hash> = v["proof"].as_array().unwrap().iter().map(b64).collect();
    merkle::verify_consistency(301, 302, &checkpoint.root, &next.root, &proof).unwrap();
    let last = bytes(&format!("{base}/log/entries/301")).await;
    match Entry::parse(&last).unwrap().event {
        LogEvent::StatusChanged { badge: b, .. } => assert_eq!(b, badge),
        other => panic!("entry 301 is {other:?}"),
    }
    let record = common::get_json(&format!("{base}/api/v1/badges/{badge}")).await;
    assert_eq!(record["log"][1]["index"], 301);
    assert_eq!(record["log"][1]["status"], "revoked");

    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(data.parent().unwrap());
}
