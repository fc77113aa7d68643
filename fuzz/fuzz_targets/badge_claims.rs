//! Differential: the verify path's own badge claims parser against serde_json's derived
//! reading of the same payload bytes. It must never accept what serde refuses, and what
//! both accept must be the same claims. The one intended difference: serde reads a JSON
//! array in place of the `org`, `audit`, `status` and `status_list` objects (a derived
//! struct also takes its fields as a sequence); SPEC 3.1 makes them objects, so the
//! parser refuses those.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use trustmark_core::BadgeClaims;

/// Whether serde's acceptance rests on an array where SPEC 3.1 has an object.
fn uses_array_form(payload: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(payload) else {
        return false;
    };
    ["org", "audit", "status"].iter().any(|k| v[k].is_array())
        || v["status"]["status_list"].is_array()
}

fuzz_target!(|payload: &[u8]| {
    let ours = trustmark_core::fuzz_parse_badge_claims(payload);
    let serde = serde_json::from_slice::<BadgeClaims>(payload);
    match (ours, serde) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the parsers read different claims"),
        (Ok(a), Err(e)) => panic!("accepted what serde refuses ({e}): {a:?}"),
        (Err(_), Ok(_)) => assert!(
            uses_array_form(payload),
            "refused what serde accepts: {}",
            String::from_utf8_lossy(payload)
        ),
        (Err(_), Err(_)) => {}
    }
});
