//! The auditor's private key file: the Ed25519 private JWK `trustmark keygen` wrote.
//!
//! Refused like the registry refuses its own key files: readable by group or others
//! (a key others could read may already be someone else's), or anything but one
//! Ed25519 private JWK. The file's bytes are wiped from memory once parsed, and no
//! error carries any of them.

use super::AuditorError;
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use trustmark_core::sign::SigningKey;
use trustmark_core::KeyError;
use zeroize::Zeroizing;

/// Largest key file read; a JWK is a few hundred bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// Why the key file cannot sign.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// It could not be read.
    #[error("cannot be read: {0}")]
    Read(std::io::Error),
    /// Group or others may read or write it.
    #[error("is accessible to other users (mode {mode:04o}); a private key must be mode 0600")]
    Permissions {
        /// The permission bits.
        mode: u32,
    },
    /// Not a regular file.
    #[error("is not a regular file")]
    NotFile,
    /// Larger than any key file.
    #[error("is larger than {MAX_KEY_FILE} bytes; a key file is one JWK")]
    TooLarge,
    /// Not a JSON object.
    #[error("is not a JSON Web Key")]
    NotJwk,
    /// A key set rather than one key.
    #[error("is a key set (JWKS), not one private key")]
    KeySet,
    /// Another key type.
    #[error("is not an Ed25519 key (kty OKP, crv Ed25519); auditor keys are Ed25519")]
    NotEd25519,
    /// A public key only.
    #[error(
        "holds a public key only (no \"d\"): it is the line keygen printed, not the file it wrote"
    )]
    PublicOnly,
    /// A key marked for another use (the registry's badge or status list key).
    #[error("is marked for {0} signing, not for an auditor's statements")]
    OtherUse(String),
    /// The JWK does not hold a usable key.
    #[error("is not a usable Ed25519 private key: {0}")]
    Invalid(KeyError),
}

impl KeyFileError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            KeyFileError::Read(_) | KeyFileError::NotFile => {
                "pass the private key file written by `trustmark keygen -o FILE`"
            }
            KeyFileError::Permissions { .. } => {
                "make it private (chmod 600 FILE); if others could read it, make a new key with `trustmark keygen` and have the operator accredit it"
            }
            KeyFileError::PublicOnly => {
                "--key takes the private file written by `trustmark keygen -o FILE`; the public JWK it printed is for the registry operator"
            }
            _ => "make an auditor key with `trustmark keygen -o FILE` and give its public JWK to the registry operator",
        }
    }
}

/// The members looked at before the key is parsed; `d` is skipped unread, so the secret
/// is never copied into a value that cannot be wiped.
#[derive(Deserialize)]
struct Probe {
    kty: Option<String>,
    crv: Option<String>,
    d: Option<IgnoredAny>,
    keys: Option<IgnoredAny>,
    trustmark_use: Option<String>,
}

fn check(path: &Path) -> Result<SigningKey, KeyFileError> {
    let meta = std::fs::metadata(path).map_err(KeyFileError::Read)?;
    if !meta.is_file() {
        return Err(KeyFileError::NotFile);
    }
    // Room for the whole cap up front: a growing buffer would leave unwiped copies of
    // the secret behind in the allocations it outgrew.
    let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE as usize + 1));
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
        .map_err(KeyFileError::Read)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyFileError::TooLarge);
    }
    let probe: Probe = serde_json::from_slice(&bytes).map_err(|_| KeyFileError::NotJwk)?;
    if probe.keys.is_some() {
        return Err(KeyFileError::KeySet);
    }
    if probe.kty.as_deref() != Some("OKP") || probe.crv.as_deref() != Some("Ed25519") {
        return Err(KeyFileError::NotEd25519);
    }
    if probe.d.is_none() {
        return Err(KeyFileError::PublicOnly);
    }
    if let Some(usage) = probe.trustmark_use.filter(|u| u != "audit") {
        return Err(KeyFileError::OtherUse(usage));
    }
    // After the kind checks, so a public JWK (usually world-readable, and harmless) is
    // named as what it is rather than as a key with the wrong mode.
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyFileError::Permissions { mode });
    }
    SigningKey::from_jwk_json(&bytes).map_err(KeyFileError::Invalid)
}

/// Loads the auditor's signing key from `path`.
pub fn load(path: &Path) -> Result<SigningKey, AuditorError> {
    check(path).map_err(|source| AuditorError::Key {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    // Only a private Ed25519 JWK in a file nobody else can read signs.
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::PathBuf;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("tm-cli-key-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn write(name: &str, text: &str, mode: u32) -> PathBuf {
        let path = dir().join(name);
        let _ = std::fs::remove_file(&path);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .unwrap();
        std::fs::write(&path, text).unwrap();
        // umask may have cleared bits; set exactly what the case needs.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    fn private_jwk(seed: u8) -> String {
        SigningKey::from_seed(&[seed; 32])
            .to_private_jwk_json()
            .to_string()
    }

    #[test]
    fn a_private_key_in_a_0600_file_loads() {
        let path = write("ok.jwk", &private_jwk(7), 0o600);
        let key = load(&path).unwrap();
        assert_eq!(key.kid(), SigningKey::from_seed(&[7; 32]).kid());
        // Owner read-only is private too.
        let path = write("ro.jwk", &private_jwk(7), 0o400);
        assert!(load(&path).is_ok());
    }

    #[test]
    fn what_is_refused_and_why() {
        let public = SigningKey::from_seed(&[7; 32])
            .public()
            .to_jwk_value()
            .to_string();
        let badge_key = private_jwk(8).replacen('{', r#"{"trustmark_use":"badge","#, 1);
        type Case = (&'static str, String, u32, fn(&KeyFileError) -> bool);
        let cases: Vec<Case> = vec![
            ("group.jwk", private_jwk(7), 0o640, |e| {
                matches!(e, KeyFileError::Permissions { mode: 0o640 })
            }),
            ("world.jwk", private_jwk(7), 0o604, |e| {
                matches!(e, KeyFileError::Permissions { .. })
            }),
            ("public.jwk", public.clone(), 0o644, |e| {
                matches!(e, KeyFileError::PublicOnly)
            }),
            ("set.jwk", format!(r#"{{"keys":[{public}]}}"#), 0o600, |e| {
                matches!(e, KeyFileError::KeySet)
            }),
            (
                "p256.jwk",
                r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}"#.into(),
                0o600,
                |e| matches!(e, KeyFileError::NotEd25519),
            ),
            (
                "badge.jwk",
                badge_key,
                0o600,
                |e| matches!(e, KeyFileError::OtherUse(u) if u == "badge"),
            ),
            ("text.jwk", "not json".into(), 0o600, |e| {
                matches!(e, KeyFileError::NotJwk)
            }),
            (
                "mismatch.jwk",
                private_jwk(7).replace(
                    &trustmark_core::b64::encode(
                        SigningKey::from_seed(&[7; 32])
                            .public()
                            .verifying_key()
                            .as_bytes(),
                    ),
                    &trustmark_core::b64::encode(
                        SigningKey::from_seed(&[9; 32])
                            .public()
                            .verifying_key()
                            .as_bytes(),
                    ),
                ),
                0o600,
                |e| matches!(e, KeyFileError::Invalid(_)),
            ),
        ];
        for (name, text, mode, want) in cases {
            let path = write(name, &text, mode);
            match check(&path) {
                Err(e) => {
                    assert!(want(&e), "{name}: {e:?}");
                    // The error never carries the secret.
                    let shown = format!("{e} {e:?}");
                    assert!(
                        !shown.contains(&trustmark_core::b64::encode([7u8; 32])),
                        "{name}"
                    );
                }
                Ok(_) => panic!("{name} loaded"),
            }
        }
        assert!(matches!(
            check(&dir().join("absent.jwk")),
            Err(KeyFileError::Read(_))
        ));
        assert!(matches!(check(&dir()), Err(KeyFileError::NotFile)));
    }
}
