//! sled indexes derived from the journal. The only file that imports sled.
//!
//! Trees: `auditors` (id → record), `badges` (id → record), `jtis` (auditor NUL jti →
//! badge or request), `origins` (origin NUL badge id), `log` (entry index, big-endian →
//! the evidence log entry's bytes), `meta` (`applied`: how many journal events the
//! indexes reflect; `version`: the layout they were written in). Applying an event is
//! idempotent, so replaying the journal tail after a crash is always safe; indexes of
//! another layout are dropped and rebuilt from the whole journal.

use crate::event::{Actor, Event};
use crate::records;
use serde::Serialize;

/// The layout of the indexes; a database of another layout is rebuilt from the journal.
/// 2: evidence log entries and each badge's log references.
const LAYOUT: u64 = 2;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled failed, or the database is locked by a running registry.
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored record does not decode.
    #[error("store record {0} does not decode")]
    Corrupt(&'static str),
}

pub use crate::records::{AuditorRecord, BadgeRecord, HistoryEntry, LogRef};

/// The indexes.
#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    auditors: sled::Tree,
    badges: sled::Tree,
    jtis: sled::Tree,
    origins: sled::Tree,
    log: sled::Tree,
    meta: sled::Tree,
}

fn jti_key(auditor: &str, jti: &str) -> Vec<u8> {
    [auditor.as_bytes(), b"\0", jti.as_bytes()].concat()
}

fn get<T: serde::de::DeserializeOwned>(
    tree: &sled::Tree,
    key: &[u8],
    what: &'static str,
) -> Result<Option<T>, StoreError> {
    tree.get(key)?
        .map(|v| serde_json::from_slice(&v).map_err(|_| StoreError::Corrupt(what)))
        .transpose()
}

fn put<T: Serialize>(tree: &sled::Tree, key: &[u8], value: &T) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(value).map_err(|_| StoreError::Corrupt("serialise"))?;
    tree.insert(key, bytes)?;
    Ok(())
}

impl Store {
    /// Opens the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &std::path::Path) -> Result<Store, StoreError> {
        // sled's flusher thread lets go of the directory's lock up to its flush interval
        // (500 ms) after the last handle is dropped, so reopening in the same process
        // (an operator command after the server stopped, tests) waits for that; a lock
        // held by another process still fails after the wait.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        let db = loop {
            match sled::Config::new().path(dir).open() {
                Ok(db) => break db,
                Err(sled::Error::Io(_)) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        };
        let store = Store {
            auditors: db.open_tree("auditors")?,
            badges: db.open_tree("badges")?,
            jtis: db.open_tree("jtis")?,
            origins: db.open_tree("origins")?,
            log: db.open_tree("log")?,
            meta: db.open_tree("meta")?,
            db,
        };
        let layout = store
            .meta
            .get("version")?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes));
        if layout != Some(LAYOUT) {
            // Indexes are derived data: another layout is dropped, and the caller
            // replays the whole journal (`applied` is back to 0).
            for tree in [
                &store.auditors,
                &store.badges,
                &store.jtis,
                &store.origins,
                &store.log,
                &store.meta,
            ] {
                tree.clear()?;
            }
            store.meta.insert("version", &LAYOUT.to_be_bytes())?;
        }
        Ok(store)
    }

    /// How many journal events the indexes reflect.
    pub fn applied(&self) -> Result<u64, StoreError> {
        Ok(self
            .meta
            .get("applied")?
            .and_then(|v| v.as_ref().try_into().ok().map(u64::from_be_bytes))
            .unwrap_or(0))
    }

    /// Applies event number `seq` (0-based journal position), with its evidence log
    /// entry if it has one.
    pub fn apply(
        &self,
        seq: u64,
        event: &Event,
        leaf: Option<&crate::evidence::Leaf>,
    ) -> Result<(), StoreError> {
        if let Some((index, bytes)) = leaf {
            self.log.insert(index.to_be_bytes(), bytes.as_slice())?;
        }
        let index = leaf.map(|(index, _)| *index);
        match event {
            Event::AuditorAdded { .. } => {
                if let Some(record) = records::added_auditor(event) {
                    put(&self.auditors, record.id.as_bytes(), &record)?;
                }
            }
            Event::AuditorSuspended { id, .. } => {
                if let Some(mut a) = self.auditor(id)? {
                    a.active = false;
                    put(&self.auditors, id.as_bytes(), &a)?;
                }
            }
            Event::BadgeIssued {
                id,
                auditor,
                statement_jti,
                origins,
                ..
            } => {
                if let Some(record) = records::issued_badge(seq, event, index) {
                    put(&self.badges, id.as_bytes(), &record)?;
                }
                self.jtis
                    .insert(jti_key(auditor, statement_jti), id.as_bytes())?;
                for o in origins {
                    self.origins
                        .insert([o.as_bytes(), b"\0", id.as_bytes()].concat(), &[])?;
                }
            }
            Event::StatusChanged { .. } | Event::BadgeResigned { .. } => {
                let Some(id) = records::badge_changed_by(event) else {
                    return Err(StoreError::Corrupt("event"));
                };
                if let Some(mut b) = self.badge(id)? {
                    if records::apply_to_badge(&mut b, seq, event, index) {
                        put(&self.badges, id.as_bytes(), &b)?;
                    }
                    if let Event::StatusChanged {
                        by: Actor::Auditor(a),
                        request_jti: Some(j),
                        ..
                    } = event
                    {
                        self.jtis.insert(jti_key(a, j), id.as_bytes())?;
                    }
                }
            }
            // Evidence only: the keys themselves live in DATA/keys, the checkpoints are
            // checked and served by the evidence log.
            Event::KeysRotated { .. }
            | Event::KeyWithdrawn { .. }
            | Event::LogCheckpoint { .. } => {}
        }
        self.meta.insert("applied", &(seq + 1).to_be_bytes())?;
        Ok(())
    }

    /// An auditor by id.
    pub fn auditor(&self, id: &str) -> Result<Option<AuditorRecord>, StoreError> {
        get(&self.auditors, id.as_bytes(), "auditor")
    }

    /// Every auditor, by id.
    pub fn auditors(&self) -> Result<Vec<AuditorRecord>, StoreError> {
        self.auditors
            .iter()
            .values()
            .map(|v| serde_json::from_slice(&v?).map_err(|_| StoreError::Corrupt("auditor")))
            .collect()
    }

    /// A badge by id.
    pub fn badge(&self, id: &str) -> Result<Option<BadgeRecord>, StoreError> {
        get(&self.badges, id.as_bytes(), "badge")
    }

    /// Every badge, by id.
    pub fn badges(&self) -> Result<Vec<BadgeRecord>, StoreError> {
        self.badges
            .iter()
            .values()
            .map(|v| serde_json::from_slice(&v?).map_err(|_| StoreError::Corrupt("badge")))
            .collect()
    }

    /// Badge ids for a canonical origin.
    pub fn badges_for_origin(&self, origin: &str) -> Result<Vec<String>, StoreError> {
        let prefix = [origin.as_bytes(), b"\0"].concat();
        self.origins
            .scan_prefix(&prefix)
            .keys()
            .map(|k| {
                let k = k?;
                Ok(String::from_utf8_lossy(k.get(prefix.len()..).unwrap_or_default()).into_owned())
            })
            .collect()
    }

    /// The evidence log entry at `index`, if the indexes hold it.
    pub fn log_entry(&self, index: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.log.get(index.to_be_bytes())?.map(|v| v.to_vec()))
    }

    /// Whether an auditor already used this `jti`.
    pub fn jti_used(&self, auditor: &str, jti: &str) -> Result<bool, StoreError> {
        Ok(self.jtis.contains_key(jti_key(auditor, jti))?)
    }

    /// Writes sled's buffers out (not a durability point: the journal is).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}
