//! Badge token decoding and full verification on arbitrary input. Must never panic, and
//! must be non-malleable: the only byte strings that verify are tokens the vectors expect
//! to verify (no re-encoding, padding, whitespace or duplicate member of a valid badge may
//! verify too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use trustmark_core::{Catalogue, Jwks, OriginPolicy, Verdict, Verifier};

struct Fixture {
    verifier: Verifier,
    at: i64,
    may_verify: HashSet<String>,
}

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(vectors().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let manifest: Value = serde_json::from_str(&read("cases.json")).expect("cases.json");
        let at = manifest["at"].as_i64().expect("at");
        let jwks = Jwks::parse(read(manifest["jwks"].as_str().expect("jwks")).as_bytes())
            .expect("vector JWKS");
        let issuer = manifest["issuer"].as_str().expect("issuer");
        let mut verifier = Verifier::new(
            issuer,
            jwks,
            Catalogue::rcep_b2b_web_1().expect("catalogue"),
        );
        let badges: Vec<&Value> = manifest["cases"]
            .as_array()
            .expect("cases array")
            .iter()
            .filter(|c| c["kind"] == "badge")
            .collect();
        // What may verify comes from the vectors' expectations, never from this verifier,
        // which would otherwise vouch for its own mistakes. One setup serves every input:
        // the manifest's `at`, origins ignored, and every list named by a valid case dated
        // at that `at`. Ignoring the origin only drops a check, so an `origin_mismatch`
        // case (whose token passed every check before the origin) may verify here too.
        let mut may_verify = HashSet::new();
        let mut reproducible = Vec::new();
        let mut lists = HashSet::new();
        for case in &badges {
            let valid = case["expect"]["verdict"] == "valid";
            if valid || case["expect"]["reason"] == "origin_mismatch" {
                may_verify.insert(case["token"].as_str().expect("token").to_owned());
            }
            if valid && case["at"].as_i64().unwrap_or(at) == at {
                reproducible.push(*case);
                for list in case["status_lists"].as_array().expect("status_lists") {
                    lists.insert(list.as_str().expect("list path").to_owned());
                }
            }
        }
        for list in &lists {
            // A valid case may name a broken list beside a good one (the good one wins),
            // so a refused list is not a broken fixture.
            let _ = verifier.add_status_list(read(list).trim());
        }
        // Those cases must verify here, or the setup is not the one the vectors describe
        // and the property below would be checked against nothing.
        for case in &reproducible {
            let token = case["token"].as_str().expect("token");
            let got = verifier.verify(token, OriginPolicy::Ignore, at).verdict();
            assert_eq!(
                got,
                Verdict::Valid,
                "fixture does not reproduce case {}",
                case["name"]
            );
        }
        assert!(
            reproducible.len() >= 8,
            "only {} valid badge cases at the manifest's time",
            reproducible.len()
        );
        Fixture {
            verifier,
            at,
            may_verify,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let f = fixture();
    let _ = trustmark_core::jws::Compact::parse(token, 8192);
    let outcome = f.verifier.verify(token, OriginPolicy::Ignore, f.at);
    if outcome.verdict() == Verdict::Valid {
        assert!(
            f.may_verify.contains(token),
            "a byte string no vector expects to verify did: {token:?}"
        );
    }
});
