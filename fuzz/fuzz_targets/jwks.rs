//! JWKS and JWK parsing on arbitrary input: must never panic; an accepted key's kid is
//! always its RFC 7638 thumbprint, computed here rather than by the parser's own helper
//! (which would compare the parser with itself).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

fn thumbprint(x: &[u8; 32]) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64url(x));
    b64url(&Sha256::digest(canonical.as_bytes()))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = trustmark_core::Jwks::parse(data) {
        for k in set.keys() {
            assert_eq!(k.kid(), thumbprint(k.verifying_key().as_bytes()));
        }
    }
    if let Ok(key) = trustmark_core::PublicKey::from_jwk_json(data) {
        assert_eq!(key.kid(), thumbprint(key.verifying_key().as_bytes()));
    }
});
