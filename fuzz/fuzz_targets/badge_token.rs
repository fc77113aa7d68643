//! Badge token decoding and full verification on arbitrary input. Must never panic, and
//! must be non-malleable: the only byte strings that verify are the vector tokens that
//! were signed as they are (no re-encoding, padding, whitespace or duplicate member of a
//! valid badge may verify too).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::sync::OnceLock;
use trustmark_core::{Catalogue, Jwks, OriginPolicy, Verdict, Verifier};

const AT: i64 = 1_798_761_600;

struct Fixture {
    verifier: Verifier,
    signed: HashSet<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let jwks = Jwks::parse(include_bytes!("../../testdata/vectors/jwks/registry.json")).expect("vector JWKS");
        let mut verifier = Verifier::new("https://registry.example", jwks, Catalogue::rcep_b2b_web_1().expect("catalogue"));
        let list = include_str!("../../testdata/vectors/statuslists/1.jwt");
        verifier.add_status_list(list.trim()).expect("vector status list");
        let cases: serde_json::Value = serde_json::from_str(include_str!("../../testdata/vectors/cases.json")).expect("cases");
        let signed = cases["cases"]
            .as_array()
            .expect("cases array")
            .iter()
            .filter_map(|c| c["token"].as_str())
            .filter(|t| verifier.verify(t, OriginPolicy::Ignore, AT).verdict() == Verdict::Valid)
            .map(str::to_owned)
            .collect();
        Fixture { verifier, signed }
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let f = fixture();
    let _ = trustmark_core::jws::Compact::parse(token, 8192);
    let outcome = f.verifier.verify(token, OriginPolicy::Ignore, AT);
    if outcome.verdict() == Verdict::Valid {
        assert!(f.signed.contains(token), "a byte string other than a signed token verified: {token:?}");
    }
});
