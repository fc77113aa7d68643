//! The single writer: plans commands against the current state, appends their events to
//! the journal with one `fdatasync` per batch (group commit), then applies them to the
//! sled indexes and the in-memory status lists, and re-signs the lists that changed.
//! Nothing is acknowledged before its batch is durable.
//!
//! `command` holds what the writer is asked and answers, `plan` turns commands into
//! events, `commit` makes events durable and applies them, `alloc` hands out status
//! slots, `lists` signs the status lists, `keys_ops` rotates and withdraws keys.

mod alloc;
mod command;
mod commit;
mod keys_ops;
pub use keys_ops::resign_if_signed_by;
mod lists;
#[cfg(test)]
mod log_tests;
pub mod plan;
#[cfg(test)]
mod tests;

pub use alloc::{badge_id, random_u64, LIST_FILL, LIST_SIZE};
pub use command::{Command, CommandError, Done, RequestId};
pub use lists::{
    list_iat, sign_list_token, IatWait, PublishedKeys, SignedList, SignedLists, LIST_RESIGN_AFTER,
    LIST_TTL, MAX_IAT_LEAD,
};

use crate::durable;
use crate::evidence::{EvidenceLog, LogError, LogView};
use crate::journal::{Journal, JournalError};
use crate::keys::{KeyRing, KeyRingError};
use crate::store::{Store, StoreError};
use alloc::{ListState, Lists};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use trustmark_core::sign;
use trustmark_core::status::StatusListError;

/// Why the registry's state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory or a file in it could not be created or written.
    #[error("{}: {source}", path.display())]
    Dir {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Keys.
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    /// Journal.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Store (also: locked by a running registry).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The indexes reflect events the journal no longer holds: the journal lost data.
    #[error("the indexes reflect {applied} events but the journal holds only {journal}: the journal lost acknowledged events; restore it from a backup (docs/registry.md, \"Journal damage\")")]
    IndexAhead {
        /// Events the indexes reflect.
        applied: u64,
        /// Events in the journal.
        journal: u64,
    },
    /// A status list could not be built.
    #[error("status list: {0}")]
    List(#[from] StatusListError),
    /// A status list could not be signed.
    #[error("status list signing: {0}")]
    Sign(#[from] sign::SignError),
    /// The evidence log does not match its stored checkpoints, or cannot sign.
    #[error(transparent)]
    Log(#[from] LogError),
}

/// The embedded store's committed state for planning: the sled indexes, the requests
/// remembered in memory, and the in-memory slot bitmaps.
struct EngineView<'a> {
    store: &'a Store,
    recent: &'a mut HashMap<(String, String), i64>,
    lists: &'a mut Lists,
}

impl plan::PlanView for EngineView<'_> {
    fn auditor(&mut self, id: &str) -> Result<Option<crate::records::AuditorRecord>, CommandError> {
        Ok(self.store.auditor(id)?)
    }

    fn badge(&mut self, id: &str) -> Result<Option<crate::records::BadgeRecord>, CommandError> {
        Ok(self.store.badge(id)?)
    }

    fn jti_used(&mut self, auditor: &str, jti: &str) -> Result<bool, CommandError> {
        Ok(self
            .recent
            .contains_key(&(auditor.to_owned(), jti.to_owned()))
            || self.store.jti_used(auditor, jti)?)
    }

    fn remember_jti(&mut self, auditor: &str, request: &RequestId) {
        self.recent
            .insert((auditor.to_owned(), request.jti.clone()), request.iat);
    }

    fn allocate(&mut self) -> Result<(u32, u64), CommandError> {
        self.lists.allocate().map_err(|_| CommandError::Journal)
    }
}

/// A key change, which runs alone against committed state.
enum KeyChange {
    Rotate,
    Withdraw(String),
}

/// The registry's writable state.
pub struct Engine {
    data: PathBuf,
    published: PublishedKeys,
    journal: Journal,
    store: Store,
    keys: KeyRing,
    log: EvidenceLog,
    issuer: String,
    lists: Lists,
    signed: SignedLists,
    demo: bool,
    /// Set when a journal write failed: in-memory state no longer matches the journal.
    broken: bool,
    /// Authenticated auditor requests seen recently, accepted or refused, by (auditor,
    /// jti), with their `iat`: a refused request must not succeed when replayed later.
    recent: HashMap<(String, String), i64>,
    pruned_at: i64,
}

impl Engine {
    /// Opens the data directory: keys, journal, indexes (replaying any journal tail the
    /// indexes have not seen), and the status lists. `demo` allows the example keys.
    pub fn open(data: &Path, issuer: &str, now: i64, demo: bool) -> Result<Engine, OpenError> {
        let dir_err = |path: &Path| {
            let path = path.to_owned();
            move |source| OpenError::Dir { path, source }
        };
        durable::create_dir_all(data).map_err(dir_err(data))?;
        let keys = KeyRing::load_or_create(data, now, demo)?;
        // Operator commands re-sign lists offline and need the issuer the server used.
        let issuer_file = data.join("issuer");
        if std::fs::read_to_string(&issuer_file).ok().as_deref() != Some(issuer) {
            durable::replace(&issuer_file, issuer.as_bytes(), 0o644)
                .map_err(dir_err(&issuer_file))?;
        }
        let store = Store::open(&data.join("index"))?;
        let (mut journal, events) = Journal::open(&data.join("journal"))?;
        let applied = store.applied()?;
        if applied > journal.len() {
            return Err(OpenError::IndexAhead {
                applied,
                journal: journal.len(),
            });
        }
        // The whole journal rebuilds the log (checking every stored checkpoint); the
        // indexes take only the tail they have not seen.
        let mut log = EvidenceLog::new(keys.log.clone(), issuer)?;
        for (seq, event) in events.iter().enumerate() {
            let leaf = log.replay(seq as u64, event)?;
            if seq as u64 >= applied {
                store.apply(seq as u64, event, leaf.as_ref())?;
            }
        }
        drop(events);
        if log.needs_checkpoint() {
            // Stored before it is served, like every checkpoint.
            let checkpoint = log.sign()?;
            journal.append(std::slice::from_ref(&checkpoint))?;
            store.apply(journal.len() - 1, &checkpoint, None)?;
            log.publish(&checkpoint);
        }
        let mut lists = Lists(Vec::new());
        for b in store.badges()? {
            if let Some(l) = lists.ensure(b.list)? {
                l.allocate(b.idx as usize);
                l.list.set(b.idx as usize, b.status.list_value())?;
            }
        }
        if lists.0.is_empty() {
            lists.0.push(ListState::new()?);
        }
        let published = Arc::new(RwLock::new(Arc::from(keys.published.to_json())));
        let mut engine = Engine {
            data: data.to_owned(),
            published,
            journal,
            store,
            keys,
            log,
            issuer: issuer.to_owned(),
            lists,
            signed: Arc::default(),
            demo,
            broken: false,
            recent: HashMap::new(),
            pruned_at: now,
        };
        for n in 1..=engine.lists.0.len() as u32 {
            engine.sign_list(n, now)?;
        }
        Ok(engine)
    }

    /// The issuer URL a registry in `data` last served under.
    pub fn stored_issuer(data: &Path) -> Option<String> {
        std::fs::read_to_string(data.join("issuer")).ok()
    }

    /// The indexes, for readers.
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    /// The signed lists, for readers.
    pub fn signed_lists(&self) -> SignedLists {
        self.signed.clone()
    }

    /// The evidence log as served.
    pub fn log_view(&self) -> LogView {
        self.log.view()
    }

    /// The evidence log's checkpoint origin and C2SP verifier key.
    pub fn log_identity(&self) -> (String, String) {
        (self.log.origin().to_owned(), self.log.vkey())
    }

    /// The published key set as served (updated on rotation and withdrawal).
    pub fn published_keys(&self) -> PublishedKeys {
        self.published.clone()
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Active auditors accredited with a published example key: anyone can sign as them.
    pub fn example_auditors(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .store
            .auditors()?
            .into_iter()
            .filter(|a| a.active && crate::keys::is_example_jwk(&a.jwk))
            .map(|a| a.id)
            .collect())
    }

    /// Executes a batch: plans every command against the state including what the
    /// commands before it in the batch change, makes the resulting events durable with
    /// one journal append, applies them, and returns one result per command, in order.
    /// A key change first commits everything before it and then runs alone.
    pub fn execute(&mut self, commands: Vec<Command>, now: i64) -> Vec<Result<Done, CommandError>> {
        self.forget_old_requests(now);
        let mut out: Vec<Result<Done, CommandError>> = Vec::with_capacity(commands.len());
        let mut batch = plan::Batch::default();
        let mut events = Vec::new();
        let mut segment = 0;
        for command in commands {
            if self.broken {
                out.push(Err(CommandError::Journal));
                continue;
            }
            let key_change = match command {
                Command::RotateKeys => KeyChange::Rotate,
                Command::WithdrawKey { kid } => KeyChange::Withdraw(kid),
                other => {
                    let signer = plan::Signer {
                        issuer: &self.issuer,
                        badge_key: &self.keys.badge,
                        demo: self.demo,
                    };
                    let mut view = EngineView {
                        store: &self.store,
                        recent: &mut self.recent,
                        lists: &mut self.lists,
                    };
                    let planned = plan::plan(&mut view, &signer, other, now, &mut batch);
                    out.push(planned.map(|(planned, done)| {
                        events.extend(planned);
                        done
                    }));
                    continue;
                }
            };
            let pending = std::mem::take(&mut events);
            self.commit_segment(out.get_mut(segment..), pending, &batch, now);
            batch = plan::Batch::default();
            out.push(match key_change {
                KeyChange::Rotate => self.rotate(now),
                KeyChange::Withdraw(kid) => self.withdraw(&kid, now),
            });
            segment = out.len();
        }
        self.commit_segment(out.get_mut(segment..), events, &batch, now);
        out
    }

    /// Commits one segment's events; if that fails, every success planned in the
    /// segment becomes a journal failure (nothing of it is acknowledged).
    fn commit_segment(
        &mut self,
        results: Option<&mut [Result<Done, CommandError>]>,
        events: Vec<crate::event::Event>,
        batch: &plan::Batch,
        now: i64,
    ) {
        if events.is_empty() {
            return;
        }
        if self.commit(events, batch, now).is_err() {
            for r in results.into_iter().flatten() {
                if r.is_ok() {
                    *r = Err(CommandError::Journal);
                }
            }
        }
    }

    /// Drops remembered requests too old to pass the freshness check anyway.
    fn forget_old_requests(&mut self, now: i64) {
        if now - self.pruned_at < 60 {
            return;
        }
        let oldest = now - trustmark_core::claims::MAX_STATEMENT_AGE;
        self.recent.retain(|_, iat| *iat >= oldest);
        self.pruned_at = now;
    }

    /// Flushes the indexes (on shutdown).
    pub fn flush(&self) {
        if let Err(e) = self.store.flush() {
            tracing::warn!(error = %e, "index flush failed; it will be rebuilt from the journal");
        }
    }
}
