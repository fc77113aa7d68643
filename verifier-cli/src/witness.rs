//! What this machine remembers of each registry's evidence log between runs: the pinned
//! log key, the last checkpoint verified (so the next run can prove the log only grew),
//! and for `log monitor` the compact range of the tree scanned so far with the events
//! found for each watched origin.
//!
//! Kept in `TRUSTMARK_STATE_DIR`, else the platform's state (or data) directory, one
//! file per registry, replaced atomically. It is not a cache: deleting it forgets the
//! pinned key and the history the next check is held to.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

const STATE_FORMAT: &str = "trustmark-log-state/1";
/// Largest state file read.
const MAX_STATE: usize = 16 * 1024 * 1024;

/// One event of a watched origin, as `log monitor` reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    /// Entry index.
    pub index: u64,
    /// When (the registry's clock).
    pub at: i64,
    /// Entry type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The badge.
    pub badge: String,
    /// What it says, in a few words (origins, auditor, new status).
    pub detail: String,
}

/// A watched origin: how far the log was scanned for it and what was found.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Watch {
    /// Entries scanned: `0..size`.
    pub size: u64,
    /// The compact range of those entries (standard base64 hashes, largest subtree
    /// first), from which the next scan's root is rebuilt.
    pub range: Vec<String>,
    /// Badges issued for the origin.
    pub badges: Vec<String>,
    /// Events found, oldest first.
    pub events: Vec<Seen>,
}

/// The remembered state of one registry's log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Always the current format.
    pub format: String,
    /// The registry's issuer URL.
    pub registry: String,
    /// The pinned log key (C2SP verifier key).
    pub vkey: Option<String>,
    /// The last checkpoint verified, as a signed note.
    pub checkpoint: Option<String>,
    /// Watched origins.
    #[serde(default)]
    pub watches: BTreeMap<String, Watch>,
}

/// Where the state of `registry` lives.
pub fn path(registry: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("TRUSTMARK_STATE_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            dirs::state_dir()
                .or_else(dirs::data_local_dir)
                .map(|d| d.join("trustmark"))
        })?;
    let digest = trustmark_core::statement::digest(registry);
    Some(dir.join(format!("log-{}.json", digest.get(..32).unwrap_or(&digest))))
}

/// Why the state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// There is no state directory.
    #[error("no directory to keep the log state in (set TRUSTMARK_STATE_DIR)")]
    NoDir,
    /// The file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a state file of this registry.
    #[error("{} is not a log state file of this registry; move it away to start over", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
    },
}

/// Loads the state of `registry` (empty if there is none yet).
pub fn load(registry: &str) -> Result<State, StateError> {
    let path = path(registry).ok_or(StateError::NoDir)?;
    let bytes = match crate::input::read_file(&path.to_string_lossy(), MAX_STATE) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(StateError::Corrupt { path }),
        Err(_) if !path.exists() => {
            return Ok(State {
                format: STATE_FORMAT.into(),
                registry: registry.to_owned(),
                ..State::default()
            })
        }
        Err(_) => {
            return Err(StateError::Io {
                source: std::io::Error::other("unreadable"),
                path,
            })
        }
    };
    let state: State =
        serde_json::from_slice(&bytes).map_err(|_| StateError::Corrupt { path: path.clone() })?;
    if state.format != STATE_FORMAT || state.registry != registry {
        return Err(StateError::Corrupt { path });
    }
    Ok(state)
}

/// Saves the state (replacing the file whole).
pub fn save(state: &State) -> Result<(), StateError> {
    let path = path(&state.registry).ok_or(StateError::NoDir)?;
    let io = |source| StateError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let text = serde_json::to_vec_pretty(state).map_err(|e| io(std::io::Error::other(e)))?;
    crate::files::write_atomic(&path, &text, 0o644).map_err(io)
}
