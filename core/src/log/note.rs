//! C2SP `signed-note` (c2sp.org/signed-note) with Ed25519 signatures (type `0x01`).
//!
//! A note is a UTF-8 text ending in a newline, a blank line, and one or more signature
//! lines `— <key name> base64(key id || signature)`:
//!
//! ```text
//! If you think cryptography is the answer to your problem,
//! then you don't know what your problem is.
//!
//! — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=
//! ```
//!
//! A verifier key is `<name>+<key id, 8 lowercase hex digits>+base64(0x01 || public key)`,
//! and the key id is the first four bytes of `SHA-256(name || 0x0A || 0x01 || public key)`:
//! it is derived, never taken on trust, so [`VerifierKey::parse`] refuses a key whose id
//! does not match.
//!
//! [`open`] returns the text only when a known key's signature verifies (Ed25519
//! `verify_strict`). As the spec requires, signatures by unknown keys (name and id not
//! both matching a known key) are ignored, and a known key's signature that fails makes
//! the whole note invalid.
//!
//! ```
//! use trustmark_core::log::note::{self, VerifierKey};
//!
//! let key = VerifierKey::parse("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").unwrap();
//! let signed = "If you think cryptography is the answer to your problem,\n\
//!               then you don't know what your problem is.\n\
//!               \n\
//!               — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
//! let opened = note::open(signed.as_bytes(), &[key.clone()]).unwrap();
//! assert!(opened.text.starts_with("If you think"));
//! assert_eq!(opened.verified_by, vec![key]);
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The largest note [`open`] reads: 1 MiB.
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The most signature lines [`open`] reads (the spec asks verifiers to accept at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The signature type byte of Ed25519 note signatures.
const TYPE_ED25519: u8 = 0x01;

/// The start of every signature line: em dash (U+2014) and a space.
const SIG_PREFIX: &str = "\u{2014} ";

/// The longest verifier key string [`VerifierKey::parse`] reads; an Ed25519 key with a
/// name of a few hundred bytes fits many times over.
const MAX_KEY_STRING: usize = 4096;

/// Why a note, a verifier key or a signing request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NoteError {
    /// The note is larger than [`MAX_NOTE_SIZE`].
    #[error("the note is larger than 1 MiB")]
    TooLarge,
    /// The note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("the note has more than 100 signature lines")]
    TooManySignatures,
    /// Not a signed note: bad UTF-8, a control character other than newline, no blank
    /// line before the signatures, a signature block not ending in a newline, or a
    /// signature line that is not `— <name> <canonical base64 of at least 5 bytes>`.
    #[error("not a well-formed signed note")]
    Malformed,
    /// A key name is empty or contains a `+`, whitespace or a control character.
    #[error("a key name must be non-empty, without '+', whitespace or control characters")]
    KeyName,
    /// A verifier key string is not `<name>+<8 lowercase hex digits>+<canonical base64>`.
    #[error("not a verifier key of the form name+keyid+base64")]
    MalformedKey,
    /// A verifier key's id is not the one derived from its name and public key.
    #[error("the verifier key's id does not match its name and public key")]
    KeyIdMismatch,
    /// A verifier key of a signature type other than Ed25519 (`0x01`).
    #[error("the verifier key is not an Ed25519 (type 0x01) key")]
    UnsupportedKeyType,
    /// The Ed25519 public key is not a canonical encoding of a curve point, or is a weak
    /// (small-order) point.
    #[error("the public key is not a valid Ed25519 point")]
    InvalidKey,
    /// Two different known keys share a name and key id, so a signature cannot be
    /// attributed.
    #[error("two different known keys share a name and key id")]
    AmbiguousKey,
    /// A signature line names a known key (name and id) and does not verify.
    #[error("a signature by a known key does not verify")]
    InvalidSignature,
    /// No signature by a known key: the text must be ignored.
    #[error("the note has no signature by a known key")]
    NoVerifiedSignature,
    /// The text to sign does not end in a newline, contains a control character other
    /// than newline, or has a line starting with an em dash (U+2014), which would read as
    /// a signature line.
    #[error("the text cannot be signed as a note")]
    UnsignableText,
}

/// Whether `name` is a valid key name: non-empty, no `+`, no Unicode whitespace, and (as
/// notes allow none) no control character.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c == '+' || c.is_whitespace() || c < ' ')
}

/// `SHA-256(name || 0x0A || type || key)[:4]`.
fn derive_key_id(name: &str, type_and_key: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n']);
    h.update(type_and_key);
    let [a, b, c, d, ..]: [u8; 32] = h.finalize().into();
    [a, b, c, d]
}

/// Eight lowercase hex digits, and nothing else.
fn parse_key_id(hex: &str) -> Option<[u8; 4]> {
    if hex.len() != 8 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok().map(u32::to_be_bytes)
}

/// A named Ed25519 note verifier key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    name: String,
    id: [u8; 4],
    key: VerifyingKey,
}

impl VerifierKey {
    /// The verifier key for `name` and an Ed25519 public key, with its derived key id.
    pub fn new(name: &str, key: &VerifyingKey) -> Result<VerifierKey, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::KeyName);
        }
        if key.is_weak() {
            return Err(NoteError::InvalidKey);
        }
        let mut type_and_key = [0u8; 33];
        if let Some((t, k)) = type_and_key.split_first_mut() {
            *t = TYPE_ED25519;
            k.copy_from_slice(key.as_bytes());
        }
        Ok(VerifierKey {
            name: name.to_owned(),
            id: derive_key_id(name, &type_and_key),
            key: *key,
        })
    }

    /// Parses `<name>+<key id>+<base64(0x01 || key)>`.
    ///
    /// Refuses anything [`fmt::Display`] would not write back byte for byte: the key id
    /// must be eight lowercase hex digits and the base64 standard, padded and canonical.
    /// The key id must be the derived one, the type Ed25519, and the key a canonical,
    /// non-weak point.
    pub fn parse(s: &str) -> Result<VerifierKey, NoteError> {
        if s.len() > MAX_KEY_STRING {
            return Err(NoteError::MalformedKey);
        }
        // The name holds no '+', so the first two separate the fields; the base64 may
        // contain more.
        let (name, rest) = s.split_once('+').ok_or(NoteError::MalformedKey)?;
        let (hex, b64) = rest.split_once('+').ok_or(NoteError::MalformedKey)?;
        if !valid_name(name) {
            return Err(NoteError::KeyName);
        }
        let id = parse_key_id(hex).ok_or(NoteError::MalformedKey)?;
        let type_and_key = STANDARD.decode(b64).map_err(|_| NoteError::MalformedKey)?;
        if type_and_key.is_empty() {
            return Err(NoteError::MalformedKey);
        }
        if derive_key_id(name, &type_and_key) != id {
            return Err(NoteError::KeyIdMismatch);
        }
        let (ty, key) = type_and_key.split_first().ok_or(NoteError::MalformedKey)?;
        if *ty != TYPE_ED25519 {
            return Err(NoteError::UnsupportedKeyType);
        }
        let key: [u8; 32] = key.try_into().map_err(|_| NoteError::MalformedKey)?;
        let point = VerifyingKey::from_bytes(&key).map_err(|_| NoteError::InvalidKey)?;
        // Decompression accepts some non-canonical y encodings; only the canonical one is
        // the key.
        if point.to_edwards().compress().to_bytes() != key {
            return Err(NoteError::InvalidKey);
        }
        VerifierKey::new(name, &point)
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id (big-endian, as on the wire).
    pub fn key_id(&self) -> [u8; 4] {
        self.id
    }

    /// The Ed25519 public key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Whether `signature` over `text` verifies under this key (Ed25519 `verify_strict`).
    fn verifies(&self, text: &[u8], signature: &[u8]) -> bool {
        let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
            return false;
        };
        self.key
            .verify_strict(text, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.id;
        let mut type_and_key = Vec::with_capacity(33);
        type_and_key.push(TYPE_ED25519);
        type_and_key.extend_from_slice(self.key.as_bytes());
        write!(
            f,
            "{}+{a:02x}{b:02x}{c:02x}{d:02x}+{}",
            self.name,
            STANDARD.encode(type_and_key)
        )
    }
}

impl FromStr for VerifierKey {
    type Err = NoteError;

    fn from_str(s: &str) -> Result<VerifierKey, NoteError> {
        VerifierKey::parse(s)
    }
}

/// A note whose signature by at least one known key verified.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Opened {
    /// The signed text, ending in a newline (without the blank line after it).
    pub text: String,
    /// The known keys whose signatures verified, each once, in the order their first
    /// signature line appears.
    pub verified_by: Vec<VerifierKey>,
}

/// Opens a signed note: checks its form and the signatures by `keys`, and returns the
/// text if at least one of them verified.
///
/// The text is everything up to and including the newline before the note's last blank
/// line (the spec's rule). Refused: more than [`MAX_NOTE_SIZE`] bytes or
/// [`MAX_SIGNATURES`] signature lines; anything [`NoteError::Malformed`] lists; a
/// signature line naming a known key (name and key id) that does not verify
/// ([`NoteError::InvalidSignature`], also for a repeated line of that key); two different
/// known keys sharing a name and id when a line names them ([`NoteError::AmbiguousKey`]);
/// and no verified signature ([`NoteError::NoVerifiedSignature`]). Signature lines whose
/// name and id match no known key are checked for form only, then ignored.
pub fn open(note: &[u8], keys: &[VerifierKey]) -> Result<Opened, NoteError> {
    if note.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge);
    }
    let note = std::str::from_utf8(note).map_err(|_| NoteError::Malformed)?;
    // In UTF-8, bytes below 0x20 only ever encode those ASCII characters.
    if note.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::Malformed);
    }
    let split = note.rfind("\n\n").ok_or(NoteError::Malformed)?;
    let (text, sigs) = note
        .split_at_checked(split + 1)
        .ok_or(NoteError::Malformed)?;
    let sigs = sigs.strip_prefix('\n').ok_or(NoteError::Malformed)?;
    let sigs = sigs.strip_suffix('\n').ok_or(NoteError::Malformed)?;
    if sigs.split('\n').count() > MAX_SIGNATURES {
        return Err(NoteError::TooManySignatures);
    }
    let mut verified_by: Vec<VerifierKey> = Vec::new();
    for line in sigs.split('\n') {
        let rest = line.strip_prefix(SIG_PREFIX).ok_or(NoteError::Malformed)?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed)?;
        if !valid_name(name) || b64.is_empty() {
            return Err(NoteError::Malformed);
        }
        let blob = STANDARD.decode(b64).map_err(|_| NoteError::Malformed)?;
        let (id, signature) = blob.split_first_chunk::<4>().ok_or(NoteError::Malformed)?;
        if signature.is_empty() {
            return Err(NoteError::Malformed);
        }
        let mut matching = keys.iter().filter(|k| k.name == name && k.id == *id);
        let Some(key) = matching.next() else {
            continue;
        };
        if matching.any(|other| other != key) {
            return Err(NoteError::AmbiguousKey);
        }
        if !key.verifies(text.as_bytes(), signature) {
            return Err(NoteError::InvalidSignature);
        }
        if !verified_by.contains(key) {
            verified_by.push(key.clone());
        }
    }
    if verified_by.is_empty() {
        return Err(NoteError::NoVerifiedSignature);
    }
    Ok(Opened {
        text: text.to_owned(),
        verified_by,
    })
}

/// Signs `text` as a note by `name`'s Ed25519 key: `text`, a blank line, and
/// `— name base64(key id || signature)`.
///
/// Refuses an invalid key name ([`NoteError::KeyName`]) and a text that [`open`] would
/// not give back as it is ([`NoteError::UnsignableText`]: no final newline, a control
/// character, a line starting with an em dash), or a note over [`MAX_NOTE_SIZE`].
#[cfg(feature = "sign")]
pub fn sign(text: &str, name: &str, key: &ed25519_dalek::SigningKey) -> Result<String, NoteError> {
    use ed25519_dalek::Signer as _;

    if !valid_name(name) {
        return Err(NoteError::KeyName);
    }
    if !text.ends_with('\n')
        || text.bytes().any(|b| b < 0x20 && b != b'\n')
        || text.split('\n').any(|line| line.starts_with('\u{2014}'))
    {
        return Err(NoteError::UnsignableText);
    }
    let verifier = VerifierKey::new(name, &key.verifying_key())?;
    let signature = key.sign(text.as_bytes()).to_bytes();
    let mut blob = Vec::with_capacity(68);
    blob.extend_from_slice(&verifier.id);
    blob.extend_from_slice(&signature);
    let note = format!("{text}\n{SIG_PREFIX}{name} {}\n", STANDARD.encode(blob));
    if note.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge);
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    // One rejecting case per rule of the note and verifier-key parsers; the published
    // examples are in tests/log.rs.
    use super::*;

    const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const PETER_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
    const ENOCH_SIG: &str = "\u{2014} EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

    fn peter() -> Vec<VerifierKey> {
        vec![VerifierKey::parse(PETER).unwrap()]
    }

    fn open_str(note: &str) -> Result<Opened, NoteError> {
        open(note.as_bytes(), &peter())
    }

    fn good() -> String {
        format!("{TEXT}\n{PETER_SIG}")
    }

    #[test]
    fn the_example_opens() {
        let opened = open_str(&good()).unwrap();
        assert_eq!(opened.text, TEXT);
        assert_eq!(opened.verified_by, peter());
    }

    #[test]
    fn size_and_count_caps() {
        let big = format!("{}\n\n{PETER_SIG}", "a".repeat(MAX_NOTE_SIZE));
        assert_eq!(open_str(&big), Err(NoteError::TooLarge));
        let many = format!("{TEXT}\n{}", PETER_SIG.repeat(101));
        assert_eq!(open_str(&many), Err(NoteError::TooManySignatures));
        let hundred = format!("{TEXT}\n{}", PETER_SIG.repeat(100));
        assert!(open_str(&hundred).is_ok());
    }

    #[test]
    fn malformed_notes() {
        let bad_base64 = PETER_SIG.replace("AM=", "AN=");
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("bad UTF-8", [b"\xff", good().as_bytes()].concat()),
            ("control character", format!("\x01{}", good()).into_bytes()),
            (
                "carriage return",
                good().replace("problem,\n", "problem,\r\n").into_bytes(),
            ),
            ("tab", format!("\t{}", good()).into_bytes()),
            ("no blank line", format!("{TEXT}{PETER_SIG}").into_bytes()),
            ("text only", TEXT.as_bytes().to_vec()),
            ("text and blank line", format!("{TEXT}\n").into_bytes()),
            (
                "no final newline",
                good().trim_end_matches('\n').as_bytes().to_vec(),
            ),
            (
                "line after the signatures",
                format!("{}Unexpected line.\n", good()).into_bytes(),
            ),
            (
                "hyphen instead of em dash",
                good().replace('\u{2014}', "-").into_bytes(),
            ),
            (
                "em dash without space",
                good().replace("\u{2014} ", "\u{2014}").into_bytes(),
            ),
            (
                "two spaces after the dash",
                good().replace("\u{2014} ", "\u{2014}  ").into_bytes(),
            ),
            (
                "two spaces before the signature",
                good().replace("Neumann ", "Neumann  ").into_bytes(),
            ),
            (
                "trailing space",
                good().replace("AM=\n", "AM= \n").into_bytes(),
            ),
            (
                "name with a plus",
                good().replace("PeterNeumann", "Peter+Neumann").into_bytes(),
            ),
            (
                "no signature",
                good().replace(" x08go/ZJ", "x08go/ZJ").into_bytes(),
            ),
            ("unpadded base64", good().replace("AM=", "AM").into_bytes()),
            (
                "non-canonical base64",
                format!("{TEXT}\n{bad_base64}").into_bytes(),
            ),
            (
                "base64url alphabet",
                good().replace("x08go/", "x08go_").into_bytes(),
            ),
            (
                "signature of 4 bytes",
                format!("{TEXT}\n\u{2014} PeterNeumann AAAAAA==\n").into_bytes(),
            ),
            (
                "empty signature block line",
                format!("{TEXT}\n{PETER_SIG}\n").into_bytes(),
            ),
        ];
        for (what, note) in cases {
            assert_eq!(open(&note, &peter()), Err(NoteError::Malformed), "{what}");
        }
    }

    #[test]
    fn signature_rules() {
        // Tampered text.
        let tampered = good().replace("cryptography", "cryptographY");
        assert_eq!(open_str(&tampered), Err(NoteError::InvalidSignature));
        // A known key's signature of the wrong length (Go's test inserts "ABCD").
        let (a, b) = PETER_SIG.split_at(60);
        assert_eq!(
            open_str(&format!("{TEXT}\n{a}ABCD{b}")),
            Err(NoteError::InvalidSignature)
        );
        // A bad repeated line of the known key is still an error.
        let second = PETER_SIG.replace("NIuGUgYN", "NIuGUgYM");
        assert_eq!(
            open_str(&format!("{TEXT}\n{PETER_SIG}{second}")),
            Err(NoteError::InvalidSignature)
        );
        // Only unknown keys: nothing verified.
        assert_eq!(
            open_str(&format!("{TEXT}\n{ENOCH_SIG}")),
            Err(NoteError::NoVerifiedSignature)
        );
        assert_eq!(
            open(good().as_bytes(), &[]),
            Err(NoteError::NoVerifiedSignature)
        );
        // A different name with the same id, or the same name with another id: unknown.
        let renamed = good().replace("PeterNeumann", "PeterNeuman");
        assert_eq!(open_str(&renamed), Err(NoteError::NoVerifiedSignature));
        // Unknown keys' lines are ignored, duplicates of a good line are fine.
        let mixed = format!("{TEXT}\n{ENOCH_SIG}{PETER_SIG}{PETER_SIG}{ENOCH_SIG}");
        assert_eq!(open_str(&mixed).unwrap().verified_by, peter());
    }

    #[test]
    fn ambiguous_keys() {
        let peter = VerifierKey::parse(PETER).unwrap();
        let other = ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]).verifying_key();
        let mut impostor = VerifierKey::new("x", &other).unwrap();
        impostor.name = peter.name.clone();
        impostor.id = peter.id;
        assert_eq!(
            open(good().as_bytes(), &[peter.clone(), impostor.clone()]),
            Err(NoteError::AmbiguousKey)
        );
        // The same key listed twice is not ambiguous.
        assert!(open(good().as_bytes(), &[peter.clone(), peter]).is_ok());
    }

    #[test]
    fn verifier_key_rules() {
        let key = VerifierKey::parse(PETER).unwrap();
        assert_eq!(key.to_string(), PETER);
        assert_eq!(key.name(), "PeterNeumann");
        assert_eq!(key.key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
        assert_eq!(PETER.parse::<VerifierKey>(), Ok(key));
        let b64 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let cases = [
            ("", NoteError::MalformedKey),
            ("PeterNeumann", NoteError::MalformedKey),
            ("PeterNeumann+c74f20a3", NoteError::MalformedKey),
            (&*format!("+c74f20a3+{b64}"), NoteError::KeyName),
            (
                &*format!("Peter Neumann+c74f20a3+{b64}"),
                NoteError::KeyName,
            ),
            (
                &*format!("Peter\u{a0}Neumann+c74f20a3+{b64}"),
                NoteError::KeyName,
            ),
            (
                &*format!("PeterNeumann+C74F20A3+{b64}"),
                NoteError::MalformedKey,
            ),
            (
                &*format!("PeterNeumann+c74f20a+{b64}"),
                NoteError::MalformedKey,
            ),
            (
                &*format!("PeterNeumann+0c74f20a3+{b64}"),
                NoteError::MalformedKey,
            ),
            (
                &*format!("PeterNeumann+c74f20a4+{b64}"),
                NoteError::KeyIdMismatch,
            ),
            (
                &*format!("PeterNeumann+c74f20a3+{b64}="),
                NoteError::MalformedKey,
            ),
            (
                &*format!("PeterNeumann+c74f20a3+{}", b64.trim_end_matches('W')),
                NoteError::MalformedKey,
            ),
            (
                &*format!("PeterNeumann+c74f20a3+{b64} "),
                NoteError::MalformedKey,
            ),
            ("PeterNeumann+c74f20a3+", NoteError::MalformedKey),
            // Go's wrong-length key and unknown-type key, each with its id adjusted.
            (
                "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
                NoteError::MalformedKey,
            ),
            (
                "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
                NoteError::UnsupportedKeyType,
            ),
        ];
        for (s, want) in cases {
            assert_eq!(VerifierKey::parse(s), Err(want), "{s:?}");
        }
        // Every truncation and every single-byte change of the example is refused (the
        // checks of golang.org/x/mod/sumdb/note's TestNewVerifier).
        let bytes = PETER.as_bytes();
        for i in 0..=bytes.len() {
            for j in i + 1..=bytes.len() {
                if (i, j) != (0, bytes.len()) {
                    if let Ok(s) = std::str::from_utf8(&bytes[i..j]) {
                        assert!(VerifierKey::parse(s).is_err(), "{s:?}");
                    }
                }
            }
        }
        for i in 0..bytes.len() {
            let mut changed = bytes.to_vec();
            changed[i] = changed[i].wrapping_add(1);
            if let Ok(s) = std::str::from_utf8(&changed) {
                assert!(VerifierKey::parse(s).is_err(), "{s:?}");
            }
        }
    }

    #[test]
    fn weak_and_non_canonical_points_are_refused() {
        // The identity point (small order) under a correctly derived id.
        let mut identity = [0u8; 33];
        identity[0] = TYPE_ED25519;
        identity[1] = 1;
        let id = derive_key_id("weak", &identity);
        let s = format!(
            "weak+{}+{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            STANDARD.encode(identity)
        );
        assert_eq!(VerifierKey::parse(&s), Err(NoteError::InvalidKey));
        // y = p (non-canonical encoding of y = 0... decodes to a point of small order).
        let mut non_canonical = [0xffu8; 33];
        non_canonical[0] = TYPE_ED25519;
        non_canonical[1] = 0xee;
        non_canonical[32] = 0x7f;
        let id = derive_key_id("odd", &non_canonical);
        let s = format!(
            "odd+{}+{}",
            id.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            STANDARD.encode(non_canonical)
        );
        assert_eq!(VerifierKey::parse(&s), Err(NoteError::InvalidKey));
    }

    #[cfg(feature = "sign")]
    #[test]
    fn signing_refuses_what_open_would_not_return() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        assert_eq!(
            sign("no newline", "n", &key),
            Err(NoteError::UnsignableText)
        );
        assert_eq!(
            sign("a\n\u{2014} b\n", "n", &key),
            Err(NoteError::UnsignableText)
        );
        assert_eq!(
            sign("\u{2014}\n", "n", &key),
            Err(NoteError::UnsignableText)
        );
        assert_eq!(sign("a\r\n", "n", &key), Err(NoteError::UnsignableText));
        assert_eq!(sign("a\n", "a b", &key), Err(NoteError::KeyName));
        assert_eq!(sign("a\n", "a+b", &key), Err(NoteError::KeyName));
        assert_eq!(sign("a\n", "", &key), Err(NoteError::KeyName));
        let big = "a".repeat(MAX_NOTE_SIZE) + "\n";
        assert_eq!(sign(&big, "n", &key), Err(NoteError::TooLarge));
        // Texts with blank lines, ending in blank lines, or an em dash inside a line
        // round-trip.
        let vkey = VerifierKey::new("n", &key.verifying_key()).unwrap();
        for text in ["\n", "a\n\nb\n", "a\n\n", "a \u{2014} b\n", "x\n\n\n"] {
            let note = sign(text, "n", &key).unwrap();
            let opened = open(note.as_bytes(), std::slice::from_ref(&vkey)).unwrap();
            assert_eq!(opened.text, text);
        }
    }
}
