//! JWKS and JWK parsing on arbitrary input: must never panic; an accepted key's kid is
//! always its thumbprint.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = trustmark_core::Jwks::parse(data) {
        for k in set.keys() {
            assert_eq!(k.kid(), trustmark_core::keys::thumbprint(k.verifying_key().as_bytes()));
        }
    }
    let _ = trustmark_core::PublicKey::from_jwk_json(data);
});
