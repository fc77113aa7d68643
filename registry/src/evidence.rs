//! The evidence log (SPEC 6): every issuance, status change, key change and
//! accreditation is a leaf of an RFC 6962 Merkle tree (entry format in
//! `trustmark_core::evidence`, `docs/spec/log.md`).
//!
//! The log is derived from the journal like the indexes, and its checkpoints live in the
//! journal too: each batch's frame ends with the checkpoint over the tree the batch
//! leaves, signed before the frame is written and published only after its `fdatasync`.
//! So a change and its log entry are durable together, a checkpoint is never served for
//! entries that could still be lost, and on start every stored checkpoint is checked
//! against the tree rebuilt from the journal: a journal that no longer matches what was
//! signed (edited, truncated, or a lost log key) stops the registry before it can sign a
//! checkpoint inconsistent with one it already published.

use crate::event::{Actor, BadgeStatus, Event};
use std::sync::{Arc, RwLock};
use trustmark_core::evidence::{self, By, Entry, Status};
use trustmark_core::log::checkpoint::Checkpoint;
use trustmark_core::log::merkle::{self, Hash, HashReader, Tree};
use trustmark_core::log::note::{self, VerifierKey};
use trustmark_core::log::tile;
use trustmark_core::sign::SigningKey;

/// Why the log could not be replayed or extended.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A stored checkpoint is not signed by this registry's log key.
    #[error("the checkpoint stored at journal event {seq} is not signed by this registry's log key (keys/log.jwk replaced?)")]
    Signature {
        /// Journal position of the checkpoint.
        seq: u64,
    },
    /// A stored checkpoint does not match the tree rebuilt from the journal.
    #[error("the checkpoint stored at journal event {seq} (size {size}) does not match the log rebuilt from the journal: the journal was altered after it was signed")]
    Mismatch {
        /// Journal position of the checkpoint.
        seq: u64,
        /// Its tree size.
        size: u64,
    },
    /// Signing the next checkpoint would contradict the last one signed.
    #[error("refusing to sign a checkpoint of size {size}: it is not consistent with the last one signed (size {last})")]
    Inconsistent {
        /// The size that would have been signed.
        size: u64,
        /// The last signed size.
        last: u64,
    },
    /// The log key does not make a valid note signer (a build defect).
    #[error("the log key cannot sign notes: {0}")]
    Key(String),
}

/// A signed checkpoint as served.
#[derive(Clone, Debug)]
pub struct Signed {
    /// Tree size.
    pub size: u64,
    /// Root hash.
    pub root: Hash,
    /// The signed note, as served at `/log/checkpoint`.
    pub note: Arc<str>,
}

/// What readers see: the tree and the latest published checkpoint. The tree may run
/// ahead of the checkpoint while a batch is being written; readers answer only up to the
/// checkpoint's size.
#[derive(Default)]
pub struct Published {
    tree: Tree,
    checkpoint: Option<Signed>,
}

/// The log shared with the HTTP handlers.
pub type LogView = Arc<RwLock<Published>>;

/// Why a reader's request cannot be answered.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// Outside the published tree (or an invalid range).
    OutOfRange,
}

impl Published {
    /// The latest checkpoint.
    pub fn checkpoint(&self) -> Option<&Signed> {
        self.checkpoint.as_ref()
    }

    /// The published tree size.
    pub fn size(&self) -> u64 {
        self.checkpoint.as_ref().map_or(0, |c| c.size)
    }

    /// The leaf hash at `index` of the published tree.
    pub fn leaf_hash(&self, index: u64) -> Result<Hash, ReadError> {
        if index >= self.size() {
            return Err(ReadError::OutOfRange);
        }
        self.tree
            .subtree(0, index)
            .map_err(|_| ReadError::OutOfRange)
    }

    /// An inclusion proof of `index` in the tree of `size` (at most the published size).
    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ReadError> {
        if size > self.size() || index >= size {
            return Err(ReadError::OutOfRange);
        }
        merkle::inclusion_proof(&self.tree, index, size).map_err(|_| ReadError::OutOfRange)
    }

    /// A consistency proof from `old` to `new` (at most the published size).
    pub fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, ReadError> {
        if new > self.size() || old > new || old == 0 {
            return Err(ReadError::OutOfRange);
        }
        merkle::consistency_proof(&self.tree, old, new).map_err(|_| ReadError::OutOfRange)
    }

    /// The hash tile `level`/`index` of `width` hashes, if the published tree holds it
    /// whole.
    pub fn hash_tile(&self, level: u8, index: u64, width: u16) -> Result<Vec<u8>, ReadError> {
        if tile::tile_width(level, index, self.size()).is_none_or(|have| have < width) {
            return Err(ReadError::OutOfRange);
        }
        tile::hash_tile(&self.tree, level, index, width).map_err(|_| ReadError::OutOfRange)
    }
}

impl Published {
    /// How many leaves the tree holds (it may run ahead of the checkpoint).
    pub fn tree_len(&self) -> u64 {
        self.tree.len()
    }

    /// Appends leaf hashes to the tree: a follower's copy of a log that another process
    /// (or the database) extends.
    pub fn push_hashes(&mut self, hashes: impl IntoIterator<Item = Hash>) {
        for h in hashes {
            self.tree.push(h);
        }
    }

    /// Publishes `note` if it is a checkpoint signed by `key` over this tree (at its
    /// current length); otherwise leaves the published checkpoint as it was.
    pub fn publish_note(
        &mut self,
        note: &str,
        key: &trustmark_core::PublicKey,
    ) -> Result<(), LogError> {
        let (size, root) = open_note(note, key)?;
        if size != self.tree.len() || self.tree.root_at(size) != Some(root) {
            return Err(LogError::Mismatch { seq: 0, size });
        }
        self.checkpoint = Some(Signed {
            size,
            root,
            note: Arc::from(note),
        });
        Ok(())
    }
}

/// Opens a checkpoint note signed by `key`, under whatever origin it names (the issuer
/// URL may have changed since it was signed; the key may not): its size and root.
pub fn open_note(note: &str, key: &trustmark_core::PublicKey) -> Result<(u64, Hash), LogError> {
    let origin = note.lines().next().unwrap_or_default();
    let vkey = VerifierKey::new(origin, key.verifying_key())
        .map_err(|_| LogError::Signature { seq: 0 })?;
    let checkpoint = trustmark_core::log::checkpoint::open_checkpoint(note.as_bytes(), &vkey)
        .map_err(|_| LogError::Signature { seq: 0 })?;
    Ok((checkpoint.size, checkpoint.root))
}

/// Signs the checkpoint of the tree `after` under `origin`, a log whose last signed
/// checkpoint is `head` (if any) over the tree `before`; `after` must extend `before`.
/// Refuses when the stored head is not this key's checkpoint of `before`: signing then
/// could contradict a checkpoint already published.
pub fn sign_extension(
    key: &SigningKey,
    origin: &str,
    head: Option<&str>,
    before: &trustmark_core::log::compact::CompactRange,
    after: &trustmark_core::log::compact::CompactRange,
) -> Result<String, LogError> {
    let last = match head {
        Some(note) => Some(open_note(note, &key.public())?),
        None => None,
    };
    let consistent = match last {
        Some((size, root)) => size == before.size() && root == before.root(),
        None => before.size() == 0,
    };
    if !consistent || after.size() < before.size() {
        return Err(LogError::Inconsistent {
            size: after.size(),
            last: last.map_or(0, |(size, _)| size),
        });
    }
    let text = Checkpoint {
        origin: origin.to_owned(),
        size: after.size(),
        root: after.root(),
        extensions: Vec::new(),
    }
    .format();
    note::sign(&text, origin, key.as_ed25519()).map_err(|e| LogError::Key(e.to_string()))
}

/// The writer's side of the log.
pub struct EvidenceLog {
    key: SigningKey,
    vkey: VerifierKey,
    view: LogView,
    /// Size and root of the last checkpoint signed (stored or not yet published).
    last: Option<(u64, Hash)>,
    /// The origin line of the last checkpoint signed.
    last_origin: Option<String>,
}

/// The checkpoint origin of the log of the registry whose issuer is `issuer`: the issuer
/// URL without its scheme, then `/log` (C2SP tlog-checkpoint asks for a schema-less URL).
pub fn origin_for(issuer: &str) -> String {
    let bare = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer);
    format!("{bare}/log")
}

/// The log entry recording `event`, if it is one the log records.
pub fn entry_for(event: &Event) -> Option<Entry> {
    let (at, event) = match event {
        Event::BadgeIssued {
            id,
            token,
            auditor,
            origins,
            at,
            ..
        } => (
            *at,
            evidence::Event::Issued {
                badge: id.clone(),
                origins: origins.clone(),
                auditor: auditor.clone(),
                token: token.clone(),
            },
        ),
        Event::StatusChanged {
            badge,
            status,
            reason,
            by,
            at,
            ..
        } => (
            *at,
            evidence::Event::StatusChanged {
                badge: badge.clone(),
                status: match status {
                    BadgeStatus::Valid => Status::Valid,
                    BadgeStatus::Revoked => Status::Revoked,
                    BadgeStatus::Suspended => Status::Suspended,
                },
                by: match by {
                    Actor::Operator => By::Operator,
                    Actor::Auditor(a) => By::Auditor(a.clone()),
                },
                reason_sha256: evidence::reason_digest(reason),
            },
        ),
        Event::BadgeResigned { id, token, at } => (
            *at,
            evidence::Event::Reissued {
                badge: id.clone(),
                token: token.clone(),
            },
        ),
        Event::KeysRotated {
            badge_kid,
            status_kid,
            at,
        } => (
            *at,
            evidence::Event::KeysRotated {
                badge_kid: badge_kid.clone(),
                status_kid: status_kid.clone(),
            },
        ),
        Event::KeyWithdrawn { kid, at } => {
            (*at, evidence::Event::KeyWithdrawn { kid: kid.clone() })
        }
        Event::AuditorAdded { id, jwk, at, .. } => (
            *at,
            evidence::Event::AuditorAdded {
                auditor: id.clone(),
                // Accreditation checked the key, so it always has a thumbprint; an empty
                // kid would only mark a journal written by a defective build.
                kid: trustmark_core::PublicKey::from_jwk_json(jwk.to_string().as_bytes())
                    .map(|k| k.kid().to_owned())
                    .unwrap_or_default(),
            },
        ),
        Event::AuditorSuspended { id, at } => (
            *at,
            evidence::Event::AuditorSuspended {
                auditor: id.clone(),
            },
        ),
        Event::LogCheckpoint { .. } => return None,
    };
    Some(Entry { at, event })
}

/// A new leaf: its index and the entry's bytes.
pub type Leaf = (u64, Vec<u8>);

impl EvidenceLog {
    /// An empty log signed by `key`, named after `issuer`.
    pub fn new(key: SigningKey, issuer: &str) -> Result<EvidenceLog, LogError> {
        let vkey = VerifierKey::new(&origin_for(issuer), key.public().verifying_key())
            .map_err(|e| LogError::Key(e.to_string()))?;
        Ok(EvidenceLog {
            key,
            vkey,
            view: LogView::default(),
            last: None,
            last_origin: None,
        })
    }

    /// The readers' view.
    pub fn view(&self) -> LogView {
        self.view.clone()
    }

    /// The C2SP verifier key of this log (`<origin>+<key id>+<key>`).
    pub fn vkey(&self) -> String {
        self.vkey.to_string()
    }

    /// The checkpoint origin.
    pub fn origin(&self) -> &str {
        self.vkey.name()
    }

    fn tree_mut(&self) -> std::sync::RwLockWriteGuard<'_, Published> {
        // A reader that panicked holding the lock cannot have changed the tree.
        self.view
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replays journal event `seq` on start: appends its leaf, or checks a stored
    /// checkpoint against the tree so far and the log key.
    pub fn replay(&mut self, seq: u64, event: &Event) -> Result<Option<Leaf>, LogError> {
        if let Event::LogCheckpoint { note } = event {
            let (size, root) = self.check_stored(seq, note)?;
            self.last = Some((size, root));
            self.last_origin = note.lines().next().map(str::to_owned);
            self.tree_mut().checkpoint = Some(Signed {
                size,
                root,
                note: Arc::from(note.as_str()),
            });
            return Ok(None);
        }
        Ok(entry_for(event).map(|e| self.push(e)))
    }

    fn check_stored(&self, seq: u64, note: &str) -> Result<(u64, Hash), LogError> {
        // The note's own origin line names the key: the issuer URL may have changed
        // since it was signed, the key may not.
        let origin = note.lines().next().unwrap_or_default();
        let key = VerifierKey::new(origin, self.key.public().verifying_key())
            .map_err(|_| LogError::Signature { seq })?;
        let checkpoint = trustmark_core::log::checkpoint::open_checkpoint(note.as_bytes(), &key)
            .map_err(|_| LogError::Signature { seq })?;
        let tree = self.tree_mut();
        if tree.tree.root_at(checkpoint.size) != Some(checkpoint.root)
            || checkpoint.size != tree.tree.len()
        {
            return Err(LogError::Mismatch {
                seq,
                size: checkpoint.size,
            });
        }
        Ok((checkpoint.size, checkpoint.root))
    }

    fn push(&self, entry: Entry) -> Leaf {
        let bytes = entry.to_bytes();
        let index = self.tree_mut().tree.push(merkle::leaf_hash(&bytes));
        (index, bytes)
    }

    /// Whether a checkpoint must be signed before any is served: the tree has entries
    /// no checkpoint covers (a new registry, a journal from before the log), or the last
    /// one names another origin (the registry's public URL changed).
    pub fn needs_checkpoint(&self) -> bool {
        let len = self.view.read().map_or(0, |p| p.tree.len());
        self.last.is_none_or(|(size, _)| size < len)
            || self.last_origin.as_deref() != Some(self.origin())
    }

    /// Appends the leaves of `events` and signs the checkpoint of the resulting tree,
    /// returned as the event that ends the batch's journal frame. Nothing is published:
    /// [`EvidenceLog::publish`] follows once the frame is durable.
    pub fn stage(&mut self, events: &[Event]) -> Result<(Vec<Option<Leaf>>, Event), LogError> {
        let leaves = events
            .iter()
            .map(|e| entry_for(e).map(|entry| self.push(entry)))
            .collect();
        let checkpoint = self.sign()?;
        Ok((leaves, checkpoint))
    }

    /// Signs the checkpoint of the whole tree, after checking that it extends the last
    /// one signed.
    pub fn sign(&mut self) -> Result<Event, LogError> {
        let (size, root, old_root) = {
            let p = self.tree_mut();
            let size = p.tree.len();
            let old = self.last.map(|(s, _)| p.tree.root_at(s));
            (size, p.tree.root(), old)
        };
        if let Some((last, last_root)) = self.last {
            if size < last || old_root.flatten() != Some(last_root) {
                return Err(LogError::Inconsistent { size, last });
            }
        }
        let text = Checkpoint {
            origin: self.origin().to_owned(),
            size,
            root,
            extensions: Vec::new(),
        }
        .format();
        let note = note::sign(&text, self.origin(), self.key.as_ed25519())
            .map_err(|e| LogError::Key(e.to_string()))?;
        self.last = Some((size, root));
        self.last_origin = Some(self.origin().to_owned());
        Ok(Event::LogCheckpoint { note })
    }

    /// Takes over another log's last signed checkpoint, to test the signer's guard.
    #[cfg(test)]
    pub(crate) fn adopt_last_for_test(&mut self, other: &EvidenceLog) {
        self.last = other.last;
    }

    /// Publishes a checkpoint made by [`EvidenceLog::stage`] or [`EvidenceLog::sign`]
    /// once it is durable.
    pub fn publish(&self, checkpoint: &Event) {
        let Event::LogCheckpoint { note } = checkpoint else {
            return;
        };
        let Some((size, root)) = self.last else {
            return;
        };
        self.tree_mut().checkpoint = Some(Signed {
            size,
            root,
            note: Arc::from(note.as_str()),
        });
    }
}
