//! The evidence log's parsers on arbitrary input: signed notes (with the published
//! PeterNeumann and EnochRoot keys and the example log key), checkpoints, verifier keys,
//! tile paths and entry bundles. Must never panic, and whatever parses writes back to the
//! same bytes: a checkpoint, key, path or bundle has one encoding, and a note that opens
//! carries, for each key that verified it, exactly the signature line that signing the
//! text with that key makes (Ed25519 is deterministic and `verify_strict` admits no second
//! encoding, so another verifying line would be a forgery).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use trustmark_core::log::checkpoint::{self, Checkpoint};
use trustmark_core::log::note::{self, VerifierKey};
use trustmark_core::log::tile;
use trustmark_core::sign::SigningKey;

struct Signer {
    key: SigningKey,
    vkey: VerifierKey,
}

fn hex32(s: &str) -> [u8; 32] {
    let bytes: Vec<u8> = (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

static SIGNERS: LazyLock<Vec<Signer>> = LazyLock::new(|| {
    let signer = |name: &str, key: SigningKey, vkey: &str| {
        let made = VerifierKey::new(name, &key.as_ed25519().verifying_key()).unwrap();
        // The target's keys are the published ones, not whatever the code derives.
        assert_eq!(made.to_string(), vkey, "{name}");
        Signer { key, vkey: made }
    };
    vec![
        // golang.org/x/mod/sumdb/note: PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALV…
        signer(
            "PeterNeumann",
            SigningKey::from_seed(&hex32(
                "810a1402d5146c8d84f2443330f54080ebf98ee17d9c74f6252fc5d5c7283173",
            )),
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ),
        // The Go example's key generated from zero bytes.
        signer(
            "EnochRoot",
            SigningKey::from_seed(&[0; 32]),
            "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
        ),
        signer(
            "registry.example/log",
            SigningKey::from_jwk_json(include_bytes!("../../keys-example/registry-log.jwk"))
                .unwrap(),
            "registry.example/log+47fd0dfe+ARlJj1P8DVZo2geRsBMQet4lfg0L/qtansK3eJzz8PvD",
        ),
    ]
});

/// Whether `lines` (newline-separated) has `line` (with its newline) as one of them.
fn has_line(lines: &[u8], line: &str) -> bool {
    let line = line.strip_suffix('\n').unwrap().as_bytes();
    lines.split(|b| *b == b'\n').any(|l| l == line)
}

fuzz_target!(|data: &[u8]| {
    let keys: Vec<VerifierKey> = SIGNERS.iter().map(|s| s.vkey.clone()).collect();
    if let Ok(opened) = note::open(data, &keys) {
        let text = opened.text.as_bytes();
        assert!(data.starts_with(text));
        assert_eq!(data.get(text.len()), Some(&b'\n'));
        let signatures = &data[text.len() + 1..];
        assert!(!opened.verified_by.is_empty());
        for vkey in &opened.verified_by {
            let signer = SIGNERS.iter().find(|s| s.vkey == *vkey).unwrap();
            // The signer refuses texts with a line starting with an em dash, which a note
            // may carry (its text ends at the last blank line); none of the keys here
            // signed such a text, so there is nothing to compare for them.
            if let Ok(signed) = note::sign(&opened.text, vkey.name(), signer.key.as_ed25519()) {
                assert!(signed.starts_with(&opened.text));
                assert!(
                    has_line(signatures, &signed[opened.text.len() + 1..]),
                    "a verifying signature line that signing does not make"
                );
            }
        }
        // The same note opened for a checkpoint: origin and text agree.
        for vkey in &opened.verified_by {
            if let Ok(cp) = checkpoint::open_checkpoint(data, vkey) {
                assert_eq!(cp.origin, vkey.name());
                assert_eq!(cp.format(), opened.text);
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(cp) = Checkpoint::parse(text) {
            assert_eq!(cp.format(), text);
        }
        if let Ok(path) = tile::parse_path(text) {
            assert_eq!(path.to_string(), text);
        }
        if let Ok(key) = VerifierKey::parse(text) {
            assert_eq!(key.to_string(), text);
        }
    }
    if let Ok(entries) = tile::parse_entry_bundle(data) {
        assert!(!entries.is_empty() && entries.len() <= 256);
        assert_eq!(tile::entry_bundle(&entries).unwrap(), data);
    }
});
