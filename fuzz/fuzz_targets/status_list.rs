//! Status list decoding (`bits` + zlib `lst`) and status list tokens on arbitrary input:
//! must never panic, never allocate past the inflation cap, lookups stay in bounds, and a
//! token that verifies is one of the vectors' status list tokens byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use trustmark_core::status::{StatusList, StatusListJson, MAX_INFLATED};
use trustmark_core::Jwks;

struct Fixture {
    keys: Jwks,
    issuer: String,
    signed: HashSet<String>,
}

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let read = |p: PathBuf| {
            std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        };
        let manifest: serde_json::Value =
            serde_json::from_str(&read(vectors().join("cases.json"))).expect("cases.json");
        // The vectors' real keys, so that signed input reaches the signature check and
        // what lies past it (an empty key set stops every token at the kid lookup).
        let keys =
            Jwks::parse(read(vectors().join(manifest["jwks"].as_str().expect("jwks"))).as_bytes())
                .expect("vector JWKS");
        // Taken from the vector files, not from the verifier: every status list token the
        // vectors hold. Some of them must not verify (the vector tests say which); here
        // the point is that nothing else does.
        let mut signed: HashSet<String> = std::fs::read_dir(vectors().join("statuslists"))
            .expect("statuslists")
            .map(|e| read(e.expect("entry").path()).trim().to_owned())
            .collect();
        let files = signed.len();
        assert!(files >= 9, "only {files} status list files");
        signed.extend(
            manifest["cases"]
                .as_array()
                .expect("cases array")
                .iter()
                .filter(|c| c["kind"] == "status_list")
                .map(|c| c["token"].as_str().expect("token").to_owned()),
        );
        Fixture {
            keys,
            issuer: manifest["issuer"].as_str().expect("issuer").to_owned(),
            signed,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&bits, rest)) = data.split_first() else {
        return;
    };
    let lst = trustmark_core::b64::encode(rest);
    if let Ok(list) = StatusList::decode(&StatusListJson { bits, lst }) {
        assert!(list.as_bytes().len() <= MAX_INFLATED);
        assert!(list.get(list.len()).is_none());
        let _ = list.get(list.len().saturating_sub(1));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if trustmark_core::verify::verify_status_list(text, &f.keys, &f.issuer).is_ok() {
            assert!(
                f.signed.contains(text),
                "a byte string that is no vector list verified: {text:?}"
            );
        }
    }
});
