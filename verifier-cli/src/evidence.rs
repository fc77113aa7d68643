//! Reading a registry's evidence log over the network (SPEC 6) the way a CDN-served
//! transparency log is read: the signed checkpoint, then only the static tiles and
//! entries, from which every proof is rebuilt and checked here. Nothing the registry
//! computes is trusted: a tile that was altered, a checkpoint that forks or rolls back
//! the log, or a signature by another key is a finding, never "could not check".

use crate::error::CliError;
use crate::fetch::Fetcher;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use trustmark_core::evidence::{Entry, MAX_ENTRY};
use trustmark_core::log::checkpoint::{open_checkpoint, Checkpoint};
use trustmark_core::log::merkle::{self, Hash, HashReader};
use trustmark_core::log::note::VerifierKey;
use trustmark_core::log::tile;

/// Largest checkpoint note read.
const MAX_NOTE: usize = 16 * 1024;
/// Largest metadata document read.
const MAX_METADATA: usize = 64 * 1024;
/// Largest tile read: 256 hashes.
const MAX_TILE: usize = 256 * 32;
/// Largest entry bundle read: 256 entries of at most [`MAX_ENTRY`] bytes and their
/// length prefixes.
const MAX_BUNDLE: usize = 256 * (MAX_ENTRY + 2);

/// What is wrong with the log: checked, and not as it must be.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Finding {
    /// The checkpoint is not signed by the pinned log key.
    #[error("the checkpoint is not signed by the pinned log key {pinned}")]
    WrongKey {
        /// The pinned verifier key.
        pinned: String,
    },
    /// The registry's metadata names a log key other than the pinned one.
    #[error("the registry now names log key {named}, not the pinned {pinned}")]
    KeyChanged {
        /// Pinned.
        pinned: String,
        /// Named by the metadata.
        named: String,
    },
    /// The log is smaller than a checkpoint seen before.
    #[error("the log shrank: size {size} after size {seen} was seen")]
    Rollback {
        /// The size now.
        size: u64,
        /// The size seen before.
        seen: u64,
    },
    /// Two checkpoints that cannot both be true: same size, other root, or no valid
    /// consistency proof between them.
    #[error("the log forked: the checkpoint of size {size} does not extend the one of size {seen} seen before")]
    Fork {
        /// The size now.
        size: u64,
        /// The size seen before.
        seen: u64,
    },
    /// The tiles do not lead to the signed root.
    #[error("the log's tiles do not match its signed checkpoint (tampered or inconsistent data)")]
    Tiles,
    /// An entry is not where, or not what, the registry says.
    #[error("entry {index}: {why}")]
    Entry {
        /// The entry index.
        index: u64,
        /// What is wrong.
        why: String,
    },
    /// The badge's log entries do not account for its issuance and status history.
    #[error("badge {badge}: {why}")]
    Badge {
        /// The badge id.
        badge: String,
        /// What is wrong.
        why: String,
    },
}

/// Either a finding (exit 1) or a failure to check (exit 2).
#[derive(Debug)]
pub enum Problem {
    /// Checked, and wrong.
    Finding(Finding),
    /// Could not check.
    Failed(CliError),
}

impl From<Finding> for Problem {
    fn from(f: Finding) -> Self {
        Problem::Finding(f)
    }
}

impl From<CliError> for Problem {
    fn from(e: CliError) -> Self {
        Problem::Failed(e)
    }
}

impl From<crate::fetch::FetchError> for Problem {
    fn from(e: crate::fetch::FetchError) -> Self {
        Problem::Failed(e.into())
    }
}

/// What the registry metadata says about its log.
#[derive(Debug, Clone, Deserialize)]
pub struct LogInfo {
    /// Checkpoint origin.
    pub origin: String,
    /// C2SP verifier key.
    pub vkey: String,
}

/// The body of a GET that must answer 2xx; any other status is the registry's error.
pub async fn get_ok(fetcher: &Fetcher, url: &str, cap: usize) -> Result<Vec<u8>, CliError> {
    let got = fetcher.get(url, cap, None).await?;
    if !got.ok() {
        return Err(CliError::RegistryAnswer {
            url: got.url,
            status: got.status,
        });
    }
    Ok(got.body)
}

/// The log named in the registry's metadata.
pub async fn log_info(fetcher: &Fetcher, issuer: &str) -> Result<LogInfo, CliError> {
    #[derive(Deserialize)]
    struct Metadata {
        log: LogInfo,
    }
    let body = get_ok(
        fetcher,
        &format!("{issuer}/.well-known/trustmark-registry"),
        MAX_METADATA,
    )
    .await?;
    let meta: Metadata = serde_json::from_slice(&body)
        .map_err(|_| CliError::RegistryDocument("metadata without a log"))?;
    Ok(meta.log)
}

/// The note at `/log/checkpoint`, as served.
pub async fn fetch_note(fetcher: &Fetcher, issuer: &str) -> Result<String, CliError> {
    let body = get_ok(fetcher, &format!("{issuer}/log/checkpoint"), MAX_NOTE).await?;
    String::from_utf8(body).map_err(|_| CliError::RegistryDocument("a checkpoint that is not text"))
}

/// Opens a checkpoint note with the pinned key.
pub fn open(note: &str, pinned: &VerifierKey) -> Result<Checkpoint, Finding> {
    open_checkpoint(note.as_bytes(), pinned).map_err(|_| Finding::WrongKey {
        pinned: pinned.to_string(),
    })
}

/// Hash tiles of one tree size, fetched on demand: proofs are first planned with a
/// reader that only records which subtrees they need, then those tiles are fetched,
/// then the proof is built from them.
pub struct Tiles<'a> {
    fetcher: &'a Fetcher,
    issuer: String,
    size: u64,
    tiles: HashMap<(u8, u64), Vec<u8>>,
}

/// A reader that records what it is asked and answers zeros.
struct Planner(std::cell::RefCell<HashSet<(u8, u64)>>);

impl HashReader for Planner {
    type Error = std::convert::Infallible;
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        if let Some(slot) = tile::tile_for_subtree(level, index) {
            self.0.borrow_mut().insert((slot.level, slot.index));
        }
        Ok([0; 32])
    }
}

/// A subtree whose tile was not fetched or does not hold it.
#[derive(Debug)]
pub struct Missing;

impl HashReader for Tiles<'_> {
    type Error = Missing;
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, Missing> {
        let slot = tile::tile_for_subtree(level, index).ok_or(Missing)?;
        let data = self.tiles.get(&(slot.level, slot.index)).ok_or(Missing)?;
        tile::subtree_from_tile(data, slot.k, slot.first).ok_or(Missing)
    }
}

impl<'a> Tiles<'a> {
    /// The tiles of the tree of `size` entries of the log at `issuer`.
    pub fn new(fetcher: &'a Fetcher, issuer: &str, size: u64) -> Tiles<'a> {
        Tiles {
            fetcher,
            issuer: issuer.to_owned(),
            size,
            tiles: HashMap::new(),
        }
    }

    /// Starts over for the tree of `size` entries (tiles of another size may differ in
    /// their partial tiles).
    pub fn reset(&mut self, size: u64) {
        self.size = size;
        self.tiles.clear();
    }

    /// Fetches every tile `plan` will read.
    async fn prefetch<T>(&mut self, plan: impl FnOnce(&Planner) -> T) -> Result<(), CliError> {
        let planner = Planner(Default::default());
        let _ = plan(&planner);
        let mut wanted: Vec<(u8, u64)> = planner.0.into_inner().into_iter().collect();
        wanted.sort_unstable();
        for (level, index) in wanted {
            if self.tiles.contains_key(&(level, index)) {
                continue;
            }
            let width = tile::tile_width(level, index, self.size)
                .ok_or(CliError::RegistryDocument("a proof outside its tree"))?;
            let url = format!(
                "{}/log/{}",
                self.issuer,
                tile::tile_path(level, index, width)
            );
            let body = get_ok(self.fetcher, &url, MAX_TILE).await?;
            self.tiles.insert((level, index), body);
        }
        Ok(())
    }

    /// Checks that `old` (seen before) is a prefix of `new` (of this tree's size).
    pub async fn check_consistency(
        &mut self,
        old: &Checkpoint,
        new: &Checkpoint,
    ) -> Result<(), Problem> {
        let fork = Finding::Fork {
            size: new.size,
            seen: old.size,
        };
        if new.size < old.size {
            return Err(Finding::Rollback {
                size: new.size,
                seen: old.size,
            }
            .into());
        }
        if new.size == old.size {
            return if new.root == old.root {
                Ok(())
            } else {
                Err(fork.into())
            };
        }
        if old.size == 0 {
            return Ok(());
        }
        self.prefetch(|p| merkle::consistency_proof(p, old.size, new.size))
            .await?;
        let proof = merkle::consistency_proof(&*self, old.size, new.size)
            .map_err(|_| Problem::Finding(Finding::Tiles))?;
        merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof)
            .map_err(|_| Problem::Finding(fork))
    }

    /// Checks that `bytes` is entry `index` of the tree whose root is `root`.
    pub async fn check_inclusion(
        &mut self,
        index: u64,
        bytes: &[u8],
        root: &Hash,
    ) -> Result<(), Problem> {
        let size = self.size;
        self.prefetch(|p| merkle::inclusion_proof(p, index, size))
            .await?;
        let proof = merkle::inclusion_proof(&*self, index, size)
            .map_err(|_| Problem::Finding(Finding::Tiles))?;
        merkle::verify_inclusion(&merkle::leaf_hash(bytes), index, size, &proof, root).map_err(
            |_| {
                Problem::Finding(Finding::Entry {
                    index,
                    why: "not included in the signed tree (tampered entry or tiles)".into(),
                })
            },
        )
    }
}

/// Entry `index`, as served on its own.
pub async fn fetch_entry(
    fetcher: &Fetcher,
    issuer: &str,
    index: u64,
) -> Result<(Vec<u8>, Entry), Problem> {
    let bytes = get_ok(fetcher, &format!("{issuer}/log/entries/{index}"), MAX_ENTRY).await?;
    let entry = Entry::parse(&bytes).map_err(|e| Finding::Entry {
        index,
        why: e.to_string(),
    })?;
    Ok((bytes, entry))
}

/// Entry bundle `n` of a tree of `size` entries: its entries' bytes.
pub async fn fetch_bundle(
    fetcher: &Fetcher,
    issuer: &str,
    n: u64,
    size: u64,
) -> Result<Vec<Vec<u8>>, Problem> {
    let width = tile::tile_width(0, n, size).ok_or(CliError::RegistryDocument(
        "an entry bundle outside the tree",
    ))?;
    let url = format!("{issuer}/log/{}", tile::entries_path(n, width));
    let body = get_ok(fetcher, &url, MAX_BUNDLE).await?;
    let entries = tile::parse_entry_bundle(&body).map_err(|_| Finding::Entry {
        index: n * 256,
        why: "an entry bundle that does not parse".into(),
    })?;
    if entries.len() != usize::from(width) {
        return Err(Finding::Entry {
            index: n * 256,
            why: format!(
                "an entry bundle of {} entries where {width} were asked",
                entries.len()
            ),
        }
        .into());
    }
    Ok(entries.into_iter().map(<[u8]>::to_vec).collect())
}
