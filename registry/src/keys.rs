//! The registry's signing keys: one for badges, one for status lists.
//!
//! Private keys live in `DATA/keys/` as JWK files with mode 0600, created on first start.
//! `DATA/keys/published.json` is the JWKS served at `/.well-known/jwks.json`: every key
//! ever used, with its use and validity window, so badges signed by a retired key still
//! verify. The example keys in `keys-example/` are refused outside demo mode.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use trustmark_core::sign::SigningKey;
use trustmark_core::{Jwks, KeyUse, PublicKey};
use zeroize::Zeroizing;

/// The throwaway keys published in `keys-example/`.
const EXAMPLE_KEYS: [&str; 3] = [
    include_str!("../../keys-example/registry-badge.jwk"),
    include_str!("../../keys-example/registry-status.jwk"),
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
}

/// The registry's current signing keys and the published key set.
pub struct KeyRing {
    /// Signs badges.
    pub badge: SigningKey,
    /// Signs status lists.
    pub status: SigningKey,
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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyRingError + '_ {
    move |source| KeyRingError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes a file that may hold a secret: created with mode 0600 from the first byte.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), KeyRingError> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io(path))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(io(path))
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

fn fresh_key() -> Result<SigningKey, KeyRingError> {
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

impl KeyRing {
    /// Loads the keys from `DATA/keys`, creating missing ones (valid from `now`).
    pub fn load_or_create(data: &Path, now: i64, demo: bool) -> Result<KeyRing, KeyRingError> {
        let dir = data.join("keys");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).map_err(io(&dir))?;
        let (badge, _) = load_or_create_one(&dir, "badge", demo)?;
        let (status, _) = load_or_create_one(&dir, "status", demo)?;
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
                published = Jwks::from_keys(published.keys().iter().cloned().chain([entry]));
                changed = true;
            }
        }
        if changed {
            let tmp = dir.join("published.json.tmp");
            let _ = std::fs::remove_file(&tmp);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o644)
                .open(&tmp)
                .map_err(io(&tmp))?;
            f.write_all(published.to_json().as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io(&tmp))?;
            std::fs::rename(&tmp, &published_path).map_err(io(&published_path))?;
        }
        Ok(KeyRing {
            badge,
            status,
            published,
        })
    }
}
