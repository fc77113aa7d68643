//! Status list decoding (`bits` + zlib `lst`) and status list tokens on arbitrary input:
//! must never panic, never allocate past the inflation cap, and lookups stay in bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trustmark_core::status::{StatusList, StatusListJson, MAX_INFLATED};

fuzz_target!(|data: &[u8]| {
    let Some((&bits, rest)) = data.split_first() else { return };
    let lst = trustmark_core::b64::encode(rest);
    if let Ok(list) = StatusList::decode(&StatusListJson { bits, lst }) {
        assert!(list.as_bytes().len() <= MAX_INFLATED);
        assert!(list.get(list.len()).is_none());
        let _ = list.get(list.len().saturating_sub(1));
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let keys = trustmark_core::Jwks::default();
        let _ = trustmark_core::verify::verify_status_list(text, &keys, "https://registry.example");
    }
});
