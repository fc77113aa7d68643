//! C2SP `tlog-checkpoint` (c2sp.org/tlog-checkpoint): the signed tree head as note text.
//!
//! ```text
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! The origin line, the tree size in decimal without leading zeros, the root hash in
//! standard padded base64, then optional non-empty extension lines; every line ends in a
//! newline. [`Checkpoint::parse`] accepts exactly what [`Checkpoint::format`] writes, so a
//! checkpoint has one text form.

use super::merkle::Hash;
use super::note::{self, NoteError, VerifierKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// The largest checkpoint text [`Checkpoint::parse`] reads: 8 KiB.
pub const MAX_CHECKPOINT_SIZE: usize = 8 * 1024;

/// A log's signed tree head, as the text of a checkpoint note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity; for TrustMark also the name of the key that signs it.
    pub origin: String,
    /// The number of leaves.
    pub size: u64,
    /// The RFC 6962 root of the first `size` leaves.
    pub root: Hash,
    /// Extension lines, without their newlines (TrustMark writes none).
    pub extensions: Vec<String>,
}

/// Why a checkpoint was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The text is larger than [`MAX_CHECKPOINT_SIZE`].
    #[error("the checkpoint is larger than 8 KiB")]
    TooLarge,
    /// Not lines of text: a control character other than newline, no final newline, or
    /// fewer than three lines.
    #[error("the checkpoint is not newline-terminated lines of text")]
    Malformed,
    /// The origin line is empty.
    #[error("the checkpoint's origin line is empty")]
    Origin,
    /// The size line is not a decimal `u64` without sign or leading zeros.
    #[error("the checkpoint's size is not a canonical decimal number")]
    Size,
    /// The root line is not the canonical padded standard base64 of 32 bytes.
    #[error("the checkpoint's root hash is not canonical base64 of 32 bytes")]
    Root,
    /// An extension line is empty.
    #[error("the checkpoint has an empty extension line")]
    Extension,
    /// The signed note did not open (see [`NoteError`]).
    #[error("the checkpoint note did not open: {0}")]
    Note(#[from] NoteError),
    /// The checkpoint's origin is not the name of the key that signed it.
    #[error("the checkpoint's origin is not its signing key's name")]
    OriginMismatch,
}

impl Checkpoint {
    /// Parses a checkpoint text (the text of the note, not the signed note).
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > MAX_CHECKPOINT_SIZE {
            return Err(CheckpointError::TooLarge);
        }
        if text.bytes().any(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::Malformed);
        }
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Malformed)?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(CheckpointError::Malformed);
        };
        if origin.is_empty() {
            return Err(CheckpointError::Origin);
        }
        let size = parse_size(size).ok_or(CheckpointError::Size)?;
        let root = parse_root(root).ok_or(CheckpointError::Root)?;
        let extensions = lines
            .map(|line| {
                if line.is_empty() {
                    Err(CheckpointError::Extension)
                } else {
                    Ok(line.to_owned())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint text. For any checkpoint [`Checkpoint::parse`] returned, this is
    /// the text it parsed; a hand-built one with an empty or multi-line origin or
    /// extension gives a text that `parse` refuses.
    pub fn format(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }
}

/// ASCII digits only, no leading zero (except `0` itself), fitting a `u64`.
fn parse_size(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// Exactly 44 characters of padded standard base64 decoding to 32 bytes; the engine
/// refuses non-zero trailing bits, so the encoding is the canonical one.
fn parse_root(s: &str) -> Option<Hash> {
    if s.len() != 44 {
        return None;
    }
    STANDARD.decode(s).ok()?.try_into().ok()
}

/// Opens a checkpoint note signed by `key` and parses its text, which must name `key`'s
/// name as its origin.
///
/// Signatures by other keys (witnesses, a rotated log key) are ignored, as the note spec
/// requires; `key` must have signed it.
pub fn open_checkpoint(note: &[u8], key: &VerifierKey) -> Result<Checkpoint, CheckpointError> {
    let opened = note::open(note, std::slice::from_ref(key))?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if checkpoint.origin != key.name() {
        return Err(CheckpointError::OriginMismatch);
    }
    Ok(checkpoint)
}

/// Signs `checkpoint` as a note by the key named after its origin.
///
/// Refuses a checkpoint whose text [`Checkpoint::parse`] would not give back as it is
/// (an empty or multi-line origin or extension), so the log never signs a checkpoint its
/// readers would reject or read differently.
#[cfg(feature = "sign")]
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    key: &ed25519_dalek::SigningKey,
) -> Result<String, CheckpointError> {
    let text = checkpoint.format();
    if Checkpoint::parse(&text)? != *checkpoint {
        return Err(CheckpointError::Malformed);
    }
    Ok(note::sign(&text, &checkpoint.origin, key)?)
}

#[cfg(test)]
mod tests {
    // One rejecting case per canonical-form rule of the checkpoint text.
    use super::*;

    const ROOT: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

    fn text(origin: &str, size: &str, root: &str, ext: &[&str]) -> String {
        let mut t = format!("{origin}\n{size}\n{root}\n");
        for e in ext {
            t.push_str(e);
            t.push('\n');
        }
        t
    }

    #[test]
    fn the_spec_example_round_trips() {
        let t = text("example.com/behind-the-sofa", "20852163", ROOT, &[]);
        let cp = Checkpoint::parse(&t).unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.size, 20_852_163);
        assert!(cp.extensions.is_empty());
        assert_eq!(cp.format(), t);
        let with_ext = text("o", "0", ROOT, &["ext one", "two"]);
        let cp = Checkpoint::parse(&with_ext).unwrap();
        assert_eq!(cp.extensions, ["ext one", "two"]);
        assert_eq!(cp.format(), with_ext);
        let max = text("o", "18446744073709551615", ROOT, &[]);
        assert_eq!(Checkpoint::parse(&max).unwrap().size, u64::MAX);
    }

    #[test]
    fn each_rule_has_a_rejecting_case() {
        use CheckpointError::*;
        let good = text("o", "5", ROOT, &[]);
        let root31 = STANDARD.encode([0u8; 31]);
        let root33 = STANDARD.encode([0u8; 33]);
        let cases: Vec<(String, CheckpointError)> = vec![
            (format!("{}\n", "a".repeat(MAX_CHECKPOINT_SIZE)), TooLarge),
            (good.trim_end_matches('\n').to_owned(), Malformed),
            ("o\n5\n".to_owned(), Malformed),
            (String::new(), Malformed),
            (good.replace("o\n", "o\r\n"), Malformed),
            (format!("\t{good}"), Malformed),
            (text("", "5", ROOT, &[]), Origin),
            (text("o", "", ROOT, &[]), Size),
            (text("o", "05", ROOT, &[]), Size),
            (text("o", "00", ROOT, &[]), Size),
            (text("o", "+5", ROOT, &[]), Size),
            (text("o", "-5", ROOT, &[]), Size),
            (text("o", " 5", ROOT, &[]), Size),
            (text("o", "5 ", ROOT, &[]), Size),
            (text("o", "0x5", ROOT, &[]), Size),
            (text("o", "18446744073709551616", ROOT, &[]), Size),
            (text("o", "\u{0665}", ROOT, &[]), Size),
            (text("o", "5", ROOT.trim_end_matches('='), &[]), Root),
            (text("o", "5", &ROOT.replace("2I=", "2J="), &[]), Root),
            (text("o", "5", &ROOT.replace('/', "_"), &[]), Root),
            (text("o", "5", &format!("{ROOT} "), &[]), Root),
            (text("o", "5", &root31, &[]), Root),
            (text("o", "5", &root33, &[]), Root),
            (text("o", "5", "", &[]), Root),
            (text("o", "5", ROOT, &[""]), Extension),
            (format!("{good}\n"), Extension),
            (text("o", "5", ROOT, &["x", ""]), Extension),
        ];
        for (t, want) in cases {
            assert_eq!(Checkpoint::parse(&t), Err(want), "{t:?}");
        }
    }

    #[cfg(feature = "sign")]
    #[test]
    fn signed_checkpoints_open_with_their_key_only() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
        let vkey = VerifierKey::new("log.example/a", &key.verifying_key()).unwrap();
        let cp = Checkpoint {
            origin: "log.example/a".into(),
            size: 3,
            root: [1; 32],
            extensions: vec![],
        };
        let signed = sign_checkpoint(&cp, &key).unwrap();
        assert_eq!(open_checkpoint(signed.as_bytes(), &vkey), Ok(cp.clone()));

        // A key with another name, even with the same public key, never verified it.
        let other = VerifierKey::new("log.example/b", &key.verifying_key()).unwrap();
        assert_eq!(
            open_checkpoint(signed.as_bytes(), &other),
            Err(CheckpointError::Note(NoteError::NoVerifiedSignature))
        );
        // Signed by the right key under a name that is not the origin.
        let text = cp.format();
        let misnamed = note::sign(&text, "log.example/b", &key).unwrap();
        assert_eq!(
            open_checkpoint(misnamed.as_bytes(), &other),
            Err(CheckpointError::OriginMismatch)
        );
        // A verified note whose text is not a checkpoint.
        let junk = note::sign("hello\n", "log.example/a", &key).unwrap();
        assert_eq!(
            open_checkpoint(junk.as_bytes(), &vkey),
            Err(CheckpointError::Malformed)
        );
        // Checkpoints that would not read back are not signed.
        for bad in [
            Checkpoint {
                origin: String::new(),
                ..cp.clone()
            },
            Checkpoint {
                origin: "a\nb".into(),
                ..cp.clone()
            },
            Checkpoint {
                extensions: vec![String::new()],
                ..cp.clone()
            },
            Checkpoint {
                extensions: vec!["a\nb".into()],
                ..cp.clone()
            },
        ] {
            assert!(sign_checkpoint(&bad, &key).is_err(), "{bad:?}");
        }
    }
}
