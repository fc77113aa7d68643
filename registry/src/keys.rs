//! The registry's signing keys: one for badges, one for status lists, one for the
//! evidence log's checkpoints.
//!
//! Private keys live in `DATA/keys/` as JWK files with mode 0600, created on first start.
//! `DATA/keys/published.json` is the JWKS served at `/.well-known/jwks.json`: every key
//! ever used, with its use and validity window, so badges signed by a retired key still
//! verify. The example keys in `keys-example/` are refused outside demo mode.

use crate::durable;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use trustmark_core::sign::SigningKey;
use trustmark_core::{Jwks, KeyUse, PublicKey};
use zeroize::Zeroizing;

/// The throwaway keys published in `keys-example/`.
const EXAMPLE_KEYS: [&str; 4] = [
    include_str!("../../keys-example/registry-badge.jwk"),
    include_str!("../../keys-example/registry-status.jwk"),
    include_str!("../../keys-example/registry-log.jwk"),
    include_str!("../../keys-example/auditor.jwk"),
];

/// Why the keys could not be loaded or created.
#[derive(Debug, thiserror::Error)]
pub enum KeyRingError {
    /// A key file could not be read or written.
    #[error("key file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key file is readable by group or others.
    #[error("key file {} is readable by other users (mode {mode:o}); chmod 600 it", path.display())]
    Permissions {
        /// The file.
        path: PathBuf,
        /// Its mode.
        mode: u32,
    },
    /// A key file does not hold a valid private JWK, or the published set is invalid.
    #[error("key file {} is not a valid key: {source}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        source: trustmark_core::KeyError,
    },
    /// One of the published example keys, outside demo mode.
    #[error("key file {} holds a published example key; it is only allowed with --demo", path.display())]
    ExampleKey {
        /// The file.
        path: PathBuf,
    },
    /// The OS random generator failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// No published key has this id.
    #[error("no key {0} is published by this registry")]
    UnknownKid(String),
    /// The key was withdrawn before.
    #[error("key {0} is already withdrawn")]
    AlreadyWithdrawn(String),
}

/// The registry's current signing keys and the published key set.
pub struct KeyRing {
    /// Signs badges.
    pub badge: SigningKey,
    /// Signs status lists.
    pub status: SigningKey,
    /// Signs the evidence log's checkpoints. Never rotated: it is the log's identity,
    /// published as a C2SP verifier key in the registry metadata, not in the JWKS.
    pub log: SigningKey,
    /// Every published key (current and retired), with windows.
    pub published: Jwks,
}

/// Whether `kid` is one of the published example keys.
pub fn is_example_kid(kid: &str) -> bool {
    EXAMPLE_KEYS
        .iter()
        .filter_map(|k| SigningKey::from_jwk_json(k.as_bytes()).ok())
        .any(|k| k.kid() == kid)
}

/// Whether a public JWK (as accredited for an auditor) is one of the example keys. The
/// key is compared by its recomputed thumbprint, never by a `kid` member it claims.
pub fn is_example_jwk(jwk: &serde_json::Value) -> bool {
    PublicKey::from_jwk_json(jwk.to_string().as_bytes()).is_ok_and(|k| is_example_kid(k.kid()))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyRingError + '_ {
    move |source| KeyRingError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes a file that may hold a secret: created with mode 0600 from the first byte,
/// synced with its directory.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyRingError> {
    durable::create_new(path, contents, 0o600).map_err(io(path))
}

fn load_private(path: &Path, demo: bool) -> Result<SigningKey, KeyRingError> {
    let mode = std::fs::metadata(path)
        .map_err(io(path))?
        .permissions()
        .mode()
        & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyRingError::Permissions {
            path: path.to_owned(),
            mode,
        });
    }
    let text = Zeroizing::new(std::fs::read(path).map_err(io(path))?);
    let key = SigningKey::from_jwk_json(&text).map_err(|source| KeyRingError::Invalid {
        path: path.to_owned(),
        source,
    })?;
    if !demo && is_example_kid(key.kid()) {
        return Err(KeyRingError::ExampleKey {
            path: path.to_owned(),
        });
    }
    Ok(key)
}

/// A new Ed25519 key from OS randomness.
pub fn fresh_key() -> Result<SigningKey, KeyRingError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|_| KeyRingError::Random)?;
    Ok(SigningKey::from_seed(&seed))
}

fn load_or_create_one(
    dir: &Path,
    name: &str,
    demo: bool,
) -> Result<(SigningKey, bool), KeyRingError> {
    let path = dir.join(format!("{name}.jwk"));
    if path.exists() {
        return Ok((load_private(&path, demo)?, false));
    }
    let key = fresh_key()?;
    let mut text = key.to_private_jwk_json();
    text.push('\n');
    write_private(&path, text.as_bytes())?;
    Ok((key, true))
}

fn write_published(dir: &Path, published: &Jwks) -> Result<(), KeyRingError> {
    let path = dir.join("published.json");
    durable::replace(&path, published.to_json().as_bytes(), 0o644).map_err(io(&path))
}

/// Moves the current key to `retired/` and the prepared `.next` key into its place: the
/// last step of a rotation, also run on start when a rotation was interrupted after the
/// new keys were published.
fn finish_rotation(dir: &Path, name: &str) -> Result<(), KeyRingError> {
    let next = dir.join(format!("{name}.jwk.next"));
    if !next.exists() {
        return Ok(());
    }
    let current = dir.join(format!("{name}.jwk"));
    if current.exists() {
        let retired = dir.join("retired");
        durable::create_dir_all(&retired).map_err(io(&retired))?;
        let old = SigningKey::from_jwk_json(&Zeroizing::new(
            std::fs::read(&current).map_err(io(&current))?,
        ))
        .map_err(|source| KeyRingError::Invalid {
            path: current.clone(),
            source,
        })?;
        let target = retired.join(format!("{name}-{}.jwk", old.kid()));
        durable::rename(&current, &target).map_err(io(&target))?;
    }
    durable::rename(&next, &current).map_err(io(&current))
}

impl KeyRing {
    /// Replaces both signing keys: the new ones are published valid from `now`, the old
    /// ones stay published with `valid_until = now`, so everything they signed still
    /// verifies. Crash-safe: new keys are written beside the old, then published, then
    /// swapped in; a start after an interruption completes the swap.
    pub fn rotate(&mut self, data: &Path, now: i64) -> Result<(), KeyRingError> {
        let dir = data.join("keys");
        let (badge, status) = (fresh_key()?, fresh_key()?);
        for (name, key) in [("badge", &badge), ("status", &status)] {
            let next = dir.join(format!("{name}.jwk.next"));
            let _ = std::fs::remove_file(&next);
            let mut text = key.to_private_jwk_json();
            text.push('\n');
            write_private(&next, text.as_bytes())?;
        }
        let retiring = [self.badge.kid().to_owned(), self.status.kid().to_owned()];
        let keys = self.published.keys().iter().map(|k| {
            if retiring.iter().any(|r| r == k.kid()) && k.valid_until().is_none() {
                k.clone().with_window(k.valid_from(), Some(now))
            } else {
                k.clone()
            }
        });
        let fresh = [
            badge
                .public()
                .with_use(KeyUse::Badge)
                .with_window(Some(now), None),
            status
                .public()
                .with_use(KeyUse::Status)
                .with_window(Some(now), None),
        ];
        let published = self.published.without_keys().with_keys(keys.chain(fresh));
        write_published(&dir, &published)?;
        finish_rotation(&dir, "badge")?;
        finish_rotation(&dir, "status")?;
        self.badge = badge;
        self.status = status;
        self.published = published;
        Ok(())
    }

    /// Whether `kid` is one of the keys signing now.
    pub fn is_current(&self, kid: &str) -> bool {
        self.badge.kid() == kid || self.status.kid() == kid
    }

    /// Publishes `kid` as withdrawn: it leaves the key set (no verifier trusts it from
    /// its next JWKS fetch) and is listed under `withdrawn`. A current key must be
    /// rotated out first.
    pub fn withdraw(&mut self, data: &Path, kid: &str, now: i64) -> Result<(), KeyRingError> {
        if self.published.is_withdrawn(kid) {
            return Err(KeyRingError::AlreadyWithdrawn(kid.to_owned()));
        }
        if self.published.get(kid).is_none() || self.is_current(kid) {
            return Err(KeyRingError::UnknownKid(kid.to_owned()));
        }
        let published = self.published.clone().with_withdrawn(kid, now);
        write_published(&data.join("keys"), &published)?;
        self.published = published;
        Ok(())
    }

    /// Loads the keys from `DATA/keys`, creating missing ones (valid from `now`).
    pub fn load_or_create(data: &Path, now: i64, demo: bool) -> Result<KeyRing, KeyRingError> {
        let dir = data.join("keys");
        durable::create_dir_all(&dir).map_err(io(&dir))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
        finish_rotation(&dir, "badge")?;
        finish_rotation(&dir, "status")?;
        let (badge, _) = load_or_create_one(&dir, "badge", demo)?;
        let (status, _) = load_or_create_one(&dir, "status", demo)?;
        let (log, _) = load_or_create_one(&dir, "log", demo)?;
        let published_path = dir.join("published.json");
        let mut published = if published_path.exists() {
            let bytes = std::fs::read(&published_path).map_err(io(&published_path))?;
            Jwks::parse(&bytes).map_err(|source| KeyRingError::Invalid {
                path: published_path.clone(),
                source,
            })?
        } else {
            Jwks::default()
        };
        // A current key missing from the published set is added, valid from now.
        let mut changed = false;
        for (key, usage) in [(&badge, KeyUse::Badge), (&status, KeyUse::Status)] {
            if published.get(key.kid()).is_none() {
                let entry: PublicKey = key.public().with_use(usage).with_window(Some(now), None);
                published = published.with_keys([entry]);
                changed = true;
            }
        }
        if changed {
            write_published(&dir, &published)?;
        }
        Ok(KeyRing {
            badge,
            status,
            log,
            published,
        })
    }
}

#[cfg(test)]
mod tests {
    // Rotation keeps retired keys published with closed windows, and an interrupted
    // rotation is completed on the next start.
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tm-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn rotation_retires_and_publishes() {
        let data = dir("rotate");
        let mut ring = KeyRing::load_or_create(&data, 1000, false).unwrap();
        let (old_badge, old_status) = (ring.badge.kid().to_owned(), ring.status.kid().to_owned());
        ring.rotate(&data, 2000).unwrap();
        assert_ne!(ring.badge.kid(), old_badge);
        let keys = ring.published.keys();
        assert_eq!(keys.len(), 4);
        let old = ring.published.get(&old_badge).unwrap();
        assert_eq!(
            (old.valid_from(), old.valid_until()),
            (Some(1000), Some(2000))
        );
        assert!(old.vouches_for(trustmark_core::TokenType::Badge, 1500));
        assert!(!old.vouches_for(trustmark_core::TokenType::Badge, 2001));
        assert_eq!(
            ring.published.get(ring.badge.kid()).unwrap().valid_from(),
            Some(2000)
        );
        assert_eq!(
            ring.published.get(&old_status).unwrap().valid_until(),
            Some(2000)
        );
        // What is on disk is what is in memory, and the old private keys are kept aside.
        let again = KeyRing::load_or_create(&data, 3000, false).unwrap();
        assert_eq!(
            (again.badge.kid(), again.published.keys().len()),
            (ring.badge.kid(), 4)
        );
        assert!(data
            .join("keys/retired")
            .join(format!("badge-{old_badge}.jwk"))
            .exists());
        let _ = std::fs::remove_dir_all(&data);
    }

    #[test]
    fn withdrawal_leaves_the_key_set_and_survives_rotation() {
        let data = dir("withdraw");
        let mut ring = KeyRing::load_or_create(&data, 1000, false).unwrap();
        let old = ring.badge.kid().to_owned();
        assert!(matches!(
            ring.withdraw(&data, &old, 1500),
            Err(KeyRingError::UnknownKid(_))
        ));
        ring.rotate(&data, 2000).unwrap();
        ring.withdraw(&data, &old, 2100).unwrap();
        assert!(ring.published.get(&old).is_none() && ring.published.is_withdrawn(&old));
        assert!(matches!(
            ring.withdraw(&data, &old, 2200),
            Err(KeyRingError::AlreadyWithdrawn(_))
        ));
        ring.rotate(&data, 3000).unwrap();
        let again = KeyRing::load_or_create(&data, 4000, false).unwrap();
        assert!(
            again.published.is_withdrawn(&old),
            "a rotation forgot the withdrawal"
        );
        assert_eq!(again.published.keys().len(), 5);
        let _ = std::fs::remove_dir_all(&data);
    }

    #[test]
    fn an_interrupted_rotation_is_finished_on_start() {
        let data = dir("interrupted");
        let ring = KeyRing::load_or_create(&data, 1000, false).unwrap();
        let next = fresh_key().unwrap();
        let mut text = next.to_private_jwk_json();
        text.push('\n');
        write_private(&data.join("keys/badge.jwk.next"), text.as_bytes()).unwrap();
        let resumed = KeyRing::load_or_create(&data, 2000, false).unwrap();
        assert_eq!(resumed.badge.kid(), next.kid());
        assert_ne!(resumed.badge.kid(), ring.badge.kid());
        assert!(resumed.published.get(next.kid()).is_some());
        let _ = std::fs::remove_dir_all(&data);
    }

    #[test]
    fn example_keys_are_refused_outside_demo_and_loose_modes_everywhere() {
        let data = dir("example");
        std::fs::create_dir_all(data.join("keys")).unwrap();
        write_private(&data.join("keys/badge.jwk"), EXAMPLE_KEYS[0].as_bytes()).unwrap();
        assert!(matches!(
            KeyRing::load_or_create(&data, 1000, false),
            Err(KeyRingError::ExampleKey { .. })
        ));
        assert!(KeyRing::load_or_create(&data, 1000, true).is_ok());
        std::fs::set_permissions(
            data.join("keys/badge.jwk"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        assert!(matches!(
            KeyRing::load_or_create(&data, 1000, true),
            Err(KeyRingError::Permissions { .. })
        ));
        let _ = std::fs::remove_dir_all(&data);
        // The published log key is refused as the log's key just the same.
        let data = dir("example-log");
        std::fs::create_dir_all(data.join("keys")).unwrap();
        write_private(&data.join("keys/log.jwk"), EXAMPLE_KEYS[2].as_bytes()).unwrap();
        assert!(matches!(
            KeyRing::load_or_create(&data, 1000, false),
            Err(KeyRingError::ExampleKey { path }) if path.ends_with("keys/log.jwk")
        ));
        let _ = std::fs::remove_dir_all(&data);
    }
}
