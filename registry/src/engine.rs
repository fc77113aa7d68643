//! The single writer: plans commands against the current state, appends their events to
//! the journal with one `fdatasync` per batch (group commit), then applies them to the
//! sled indexes and the in-memory status lists, and re-signs the lists that changed.
//! Nothing is acknowledged before its batch is durable.

use crate::event::{Actor, BadgeStatus, Event};
use crate::journal::{Journal, JournalError};
use crate::keys::{KeyRing, KeyRingError};
use crate::store::{Store, StoreError};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, RwLock};
use trustmark_core::claims::{
    Action, AuditStatementClaims, AuditSummary, BadgeClaims, StatusListClaims, StatusListRef,
    StatusRef,
};
use trustmark_core::{sign, Evaluation, StatusList};

/// Entries per status list (SPEC 3.2: at least 131,072).
pub const LIST_SIZE: usize = 131_072;
/// A new list is opened when this many indexes of the current one are allocated, so
/// random allocation never searches a nearly full list.
pub const LIST_FILL: usize = LIST_SIZE / 4 * 3;
/// Seconds a verifier may cache a status list.
pub const LIST_TTL: u64 = 600;
/// A list is re-signed when older than this even without changes, so a cached copy is
/// always fresh for its ttl.
pub const LIST_RESIGN_AFTER: i64 = (LIST_TTL / 2) as i64;

/// A signed status list as served.
#[derive(Clone, Debug)]
pub struct SignedList {
    /// The token.
    pub token: String,
    /// Strong ETag (quoted).
    pub etag: String,
    /// `iat` of the token.
    pub iat: i64,
}

/// The signed lists, shared with the HTTP handlers (list n at index n-1).
pub type SignedLists = Arc<RwLock<Vec<Arc<SignedList>>>>;

/// The published JWKS as served, shared with the HTTP handlers.
pub type PublishedKeys = Arc<RwLock<Arc<str>>>;

/// A state change to make.
#[derive(Debug)]
pub enum Command {
    /// Issue a badge for a verified, passing audit statement.
    Issue {
        /// The statement token, byte for byte.
        statement: String,
        /// Its verified claims.
        claims: Box<AuditStatementClaims>,
        /// The catalogue's verdict on its values.
        evaluation: Evaluation,
    },
    /// Revoke, suspend or reinstate a badge.
    ChangeStatus {
        /// Badge id.
        badge: String,
        /// What to do.
        action: Action,
        /// Why.
        reason: String,
        /// Who asks.
        by: Actor,
        /// The signed request's `jti` (auditors only).
        request_jti: Option<String>,
    },
    /// Accredit an auditor.
    AddAuditor {
        /// Id.
        id: String,
        /// Name.
        name: String,
        /// Public JWK.
        jwk: serde_json::Value,
    },
    /// Suspend an auditor.
    SuspendAuditor {
        /// Id.
        id: String,
    },
    /// Replace the badge and status list signing keys (old ones stay published, retired).
    RotateKeys,
}

/// What a command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Done {
    /// A badge was issued.
    Issued {
        /// Badge id.
        id: String,
        /// The token.
        token: String,
        /// Status list number.
        list: u32,
        /// Index.
        idx: u64,
        /// Overall score.
        score: u8,
    },
    /// A status changed.
    StatusChanged {
        /// The new status.
        status: BadgeStatus,
    },
    /// An auditor was added.
    AuditorAdded,
    /// An auditor was suspended.
    AuditorSuspended,
    /// Keys were rotated.
    KeysRotated {
        /// New badge key id.
        badge_kid: String,
        /// New status list key id.
        status_kid: String,
    },
}

/// Why a command was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The statement's or request's `jti` was used before by this auditor.
    #[error("this jti was already used by the auditor")]
    Replay,
    /// No such auditor.
    #[error("no auditor with this id is accredited")]
    UnknownAuditor,
    /// The auditor is suspended.
    #[error("the auditor is suspended")]
    AuditorSuspended,
    /// The auditor id is taken.
    #[error("an auditor with this id already exists")]
    AuditorExists,
    /// No such badge.
    #[error("no badge with this id")]
    UnknownBadge,
    /// Only the issuing auditor may change a badge.
    #[error("only the auditor who issued the badge may change its status")]
    NotIssuingAuditor,
    /// Revoked badges stay revoked.
    #[error("the badge is revoked, which is final")]
    RevokedIsFinal,
    /// The badge is already in the requested state.
    #[error("the badge is already {0}")]
    NoChange(&'static str),
    /// `audited_at + valid_days` is not in the future.
    #[error("the audit's validity (audited_at + valid_days) has already ended")]
    AuditExpired,
    /// Signing failed (a token over its size cap).
    #[error("the badge could not be signed: {0}")]
    Sign(#[from] sign::SignError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key files could not be written.
    #[error("key rotation failed: {0}")]
    Keys(String),
    /// The journal failed; the engine stops accepting changes.
    #[error("the journal could not be written: {0}")]
    Journal(String),
}

/// Why the registry's state could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be created.
    #[error("data directory {0}: {1}")]
    Dir(String, std::io::Error),
    /// Keys.
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    /// Journal.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// Store (also: locked by a running registry).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A status list could not be signed.
    #[error("status list signing: {0}")]
    Sign(#[from] sign::SignError),
}

struct ListState {
    list: StatusList,
    allocated: Vec<u64>,
    count: usize,
}

impl ListState {
    fn new() -> Self {
        ListState {
            list: StatusList::new(2, LIST_SIZE).expect("2 bits x 131,072 entries is a valid list"),
            allocated: vec![0; LIST_SIZE / 64],
            count: 0,
        }
    }
    fn is_allocated(&self, idx: usize) -> bool {
        self.allocated
            .get(idx / 64)
            .is_some_and(|w| w & (1 << (idx % 64)) != 0)
    }
    fn allocate(&mut self, idx: usize) {
        if let Some(w) = self.allocated.get_mut(idx / 64) {
            if *w & (1 << (idx % 64)) == 0 {
                *w |= 1 << (idx % 64);
                self.count += 1;
            }
        }
    }
}

/// The registry's writable state.
pub struct Engine {
    data: std::path::PathBuf,
    published: PublishedKeys,
    journal: Journal,
    store: Store,
    keys: KeyRing,
    issuer: String,
    lists: Vec<ListState>,
    signed: SignedLists,
    broken: bool,
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Without OS randomness the registry cannot allocate unguessable indexes at all.
    if getrandom::fill(&mut b).is_err() {
        std::process::abort();
    }
    u64::from_le_bytes(b)
}

fn badge_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        std::process::abort();
    }
    format!("b_{}", trustmark_core::b64::encode(b))
}

impl Engine {
    /// Opens the data directory: keys, journal, indexes (replaying any journal tail the
    /// indexes have not seen), and the status lists.
    pub fn open(data: &Path, issuer: &str, now: i64, demo: bool) -> Result<Engine, OpenError> {
        std::fs::create_dir_all(data).map_err(|e| OpenError::Dir(data.display().to_string(), e))?;
        let keys = KeyRing::load_or_create(data, now, demo)?;
        // Operator commands re-sign lists offline and need the issuer the server used.
        let issuer_file = data.join("issuer");
        if std::fs::read_to_string(&issuer_file).ok().as_deref() != Some(issuer) {
            std::fs::write(&issuer_file, issuer)
                .map_err(|e| OpenError::Dir(issuer_file.display().to_string(), e))?;
        }
        let store = Store::open(&data.join("index"))?;
        let (journal, events) = Journal::open(&data.join("journal"))?;
        let applied = store.applied()?;
        for (seq, event) in events.iter().enumerate().skip(applied as usize) {
            store.apply(seq as u64, event)?;
        }
        let mut lists: Vec<ListState> = Vec::new();
        for b in store.badges()? {
            let n = b.list as usize;
            while lists.len() < n {
                lists.push(ListState::new());
            }
            if let Some(l) = n.checked_sub(1).and_then(|i| lists.get_mut(i)) {
                l.allocate(b.idx as usize);
                let _ = l.list.set(b.idx as usize, b.status.list_value());
            }
        }
        if lists.is_empty() {
            lists.push(ListState::new());
        }
        let published = Arc::new(RwLock::new(Arc::from(keys.published.to_json())));
        let mut engine = Engine {
            data: data.to_owned(),
            published,
            journal,
            store,
            keys,
            issuer: issuer.to_owned(),
            lists,
            signed: Arc::default(),
            broken: false,
        };
        for n in 1..=engine.lists.len() {
            engine.sign_list(n as u32, now)?;
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

    /// The published key set as served (updated on rotation).
    pub fn published_keys(&self) -> PublishedKeys {
        self.published.clone()
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn list_uri(&self, n: u32) -> String {
        format!("{}/statuslists/{n}", self.issuer)
    }

    fn sign_list(&mut self, n: u32, now: i64) -> Result<(), sign::SignError> {
        let Some(state) = (n as usize).checked_sub(1).and_then(|i| self.lists.get(i)) else {
            return Ok(());
        };
        let claims = StatusListClaims {
            iss: self.issuer.clone(),
            sub: self.list_uri(n),
            iat: now,
            exp: now + 2 * LIST_TTL as i64,
            ttl: LIST_TTL,
            status_list: state.list.encode(),
        };
        let token = sign::sign_status_list(&claims, &self.keys.status)?;
        let etag = format!(
            "\"{}\"",
            trustmark_core::statement::digest(&token)
                .get(..22)
                .unwrap_or_default()
        );
        let signed = Arc::new(SignedList {
            token,
            etag,
            iat: now,
        });
        if let Ok(mut all) = self.signed.write() {
            while all.len() < n as usize {
                all.push(signed.clone());
            }
            if let Some(slot) = all.get_mut(n as usize - 1) {
                *slot = signed;
            }
        }
        Ok(())
    }

    /// Re-signs lists whose signature is older than [`LIST_RESIGN_AFTER`].
    pub fn refresh_lists(&mut self, now: i64) {
        let stale: Vec<u32> = match self.signed.read() {
            Ok(all) => all
                .iter()
                .enumerate()
                .filter(|(_, s)| now - s.iat >= LIST_RESIGN_AFTER)
                .map(|(i, _)| i as u32 + 1)
                .collect(),
            Err(_) => return,
        };
        for n in stale {
            if let Err(e) = self.sign_list(n, now) {
                tracing::error!(list = n, error = %e, "status list re-signing failed");
            }
        }
    }

    fn allocate(&mut self) -> (u32, u64) {
        if self.lists.last().is_none_or(|l| l.count >= LIST_FILL) {
            self.lists.push(ListState::new());
        }
        let n = self.lists.len();
        let Some(state) = self.lists.last_mut() else {
            return (0, 0);
        };
        loop {
            let idx = (random_u64() % LIST_SIZE as u64) as usize;
            if !state.is_allocated(idx) {
                state.allocate(idx);
                return (n as u32, idx as u64);
            }
        }
    }

    fn plan_issue(
        &mut self,
        statement: String,
        claims: &AuditStatementClaims,
        evaluation: &Evaluation,
        now: i64,
        batch_jtis: &mut HashSet<(String, String)>,
    ) -> Result<(Event, Done), CommandError> {
        let auditor = self
            .store
            .auditor(&claims.iss)?
            .ok_or(CommandError::UnknownAuditor)?;
        if !auditor.active {
            return Err(CommandError::AuditorSuspended);
        }
        let key = (claims.iss.clone(), claims.jti.clone());
        if self.store.jti_used(&key.0, &key.1)? || batch_jtis.contains(&key) {
            return Err(CommandError::Replay);
        }
        let exp = claims
            .audited_at
            .saturating_add(i64::from(claims.valid_days) * 86_400);
        if exp <= now {
            return Err(CommandError::AuditExpired);
        }
        let (list, idx) = self.allocate();
        let id = badge_id();
        let badge = BadgeClaims {
            iss: self.issuer.clone(),
            sub: claims.sub.clone(),
            aliases: claims.aliases.clone(),
            iat: now,
            exp,
            nbf: None,
            jti: id.clone(),
            trust_mark_type: BadgeClaims::trust_mark_type_for(&self.issuer),
            org: claims.org.clone(),
            auditor: claims.iss.clone(),
            audit: AuditSummary {
                at: claims.audited_at,
                score: evaluation.score,
                ind: evaluation.normalized(),
                digest: trustmark_core::statement::digest(&statement),
            },
            reference: format!("{}/b/{id}", self.issuer),
            status: StatusRef {
                status_list: StatusListRef {
                    idx,
                    uri: self.list_uri(list),
                },
            },
        };
        let token = sign::sign_badge(&badge, &self.keys.badge)?;
        batch_jtis.insert(key);
        let origins = std::iter::once(claims.sub.clone())
            .chain(claims.aliases.iter().cloned())
            .collect();
        let event = Event::BadgeIssued {
            id: id.clone(),
            token: token.clone(),
            statement,
            auditor: claims.iss.clone(),
            statement_jti: claims.jti.clone(),
            origins,
            list,
            idx,
            at: now,
        };
        Ok((
            event,
            Done::Issued {
                id,
                token,
                list,
                idx,
                score: evaluation.score,
            },
        ))
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_status(
        &self,
        badge: String,
        action: Action,
        reason: String,
        by: Actor,
        request_jti: Option<String>,
        now: i64,
        pending: &mut std::collections::HashMap<String, BadgeStatus>,
        batch_jtis: &mut HashSet<(String, String)>,
    ) -> Result<(Event, Done), CommandError> {
        let record = self
            .store
            .badge(&badge)?
            .ok_or(CommandError::UnknownBadge)?;
        if let Actor::Auditor(a) = &by {
            if *a != record.auditor {
                return Err(CommandError::NotIssuingAuditor);
            }
            let auditor = self.store.auditor(a)?.ok_or(CommandError::UnknownAuditor)?;
            if !auditor.active {
                return Err(CommandError::AuditorSuspended);
            }
            if let Some(j) = &request_jti {
                let key = (a.clone(), j.clone());
                if self.store.jti_used(a, j)? || batch_jtis.contains(&key) {
                    return Err(CommandError::Replay);
                }
                batch_jtis.insert(key);
            }
        }
        let current = pending.get(&badge).copied().unwrap_or(record.status);
        let next = match (current, action) {
            (BadgeStatus::Revoked, _) => return Err(CommandError::RevokedIsFinal),
            (_, Action::Revoke) => BadgeStatus::Revoked,
            (BadgeStatus::Valid, Action::Suspend) => BadgeStatus::Suspended,
            (BadgeStatus::Suspended, Action::Reinstate) => BadgeStatus::Valid,
            (s, _) => return Err(CommandError::NoChange(s.as_str())),
        };
        pending.insert(badge.clone(), next);
        Ok((
            Event::StatusChanged {
                badge,
                status: next,
                reason,
                by,
                request_jti,
                at: now,
            },
            Done::StatusChanged { status: next },
        ))
    }

    /// Executes a batch: plans every command, makes all resulting events durable with
    /// one journal append, applies them, and returns one result per command, in order.
    pub fn execute(&mut self, commands: Vec<Command>, now: i64) -> Vec<Result<Done, CommandError>> {
        if self.broken {
            return commands
                .iter()
                .map(|_| {
                    Err(CommandError::Journal(
                        "an earlier write failed; restart the registry".into(),
                    ))
                })
                .collect();
        }
        let mut results: Vec<Result<Done, CommandError>> = Vec::with_capacity(commands.len());
        let mut events: Vec<Event> = Vec::new();
        let mut batch_jtis = HashSet::new();
        let mut pending = std::collections::HashMap::new();
        let mut new_auditors = HashSet::new();
        for command in commands {
            let planned = match command {
                Command::Issue {
                    statement,
                    claims,
                    evaluation,
                } => self.plan_issue(statement, &claims, &evaluation, now, &mut batch_jtis),
                Command::ChangeStatus {
                    badge,
                    action,
                    reason,
                    by,
                    request_jti,
                } => self.plan_status(
                    badge,
                    action,
                    reason,
                    by,
                    request_jti,
                    now,
                    &mut pending,
                    &mut batch_jtis,
                ),
                Command::AddAuditor { id, name, jwk } => match self.store.auditor(&id) {
                    Ok(Some(_)) => Err(CommandError::AuditorExists),
                    Ok(None) if !new_auditors.insert(id.clone()) => {
                        Err(CommandError::AuditorExists)
                    }
                    Ok(None) => Ok((
                        Event::AuditorAdded {
                            id,
                            name,
                            jwk,
                            at: now,
                        },
                        Done::AuditorAdded,
                    )),
                    Err(e) => Err(e.into()),
                },
                Command::RotateKeys => match self.keys.rotate(&self.data, now) {
                    Ok(()) => {
                        let (badge_kid, status_kid) = (
                            self.keys.badge.kid().to_owned(),
                            self.keys.status.kid().to_owned(),
                        );
                        Ok((
                            Event::KeysRotated {
                                badge_kid: badge_kid.clone(),
                                status_kid: status_kid.clone(),
                                at: now,
                            },
                            Done::KeysRotated {
                                badge_kid,
                                status_kid,
                            },
                        ))
                    }
                    Err(e) => Err(CommandError::Keys(e.to_string())),
                },
                Command::SuspendAuditor { id } => match self.store.auditor(&id) {
                    Ok(Some(_)) => Ok((
                        Event::AuditorSuspended { id, at: now },
                        Done::AuditorSuspended,
                    )),
                    // Accredited earlier in this same batch.
                    Ok(None) if new_auditors.contains(&id) => Ok((
                        Event::AuditorSuspended { id, at: now },
                        Done::AuditorSuspended,
                    )),
                    Ok(None) => Err(CommandError::UnknownAuditor),
                    Err(e) => Err(e.into()),
                },
            };
            results.push(planned.map(|(event, done)| {
                events.push(event);
                done
            }));
        }
        if events.is_empty() {
            return results;
        }
        let first_seq = self.journal.len();
        if let Err(e) = self.journal.append(&events) {
            // State planned in memory (allocations) no longer matches the journal.
            self.broken = true;
            tracing::error!(error = %e, "journal append failed; refusing further changes");
            return results
                .into_iter()
                .map(|r| r.and_then(|_| Err(CommandError::Journal(e.to_string()))))
                .collect();
        }
        let mut changed_lists = HashSet::new();
        for (i, event) in events.iter().enumerate() {
            if let Err(e) = self.store.apply(first_seq + i as u64, event) {
                // The journal has it; the index will catch up on the next start.
                tracing::error!(error = %e, "index update failed after a durable write");
            }
            if let Event::StatusChanged { badge, status, .. } = event {
                if let Ok(Some(b)) = self.store.badge(badge) {
                    if let Some(l) = (b.list as usize)
                        .checked_sub(1)
                        .and_then(|i| self.lists.get_mut(i))
                    {
                        let _ = l.list.set(b.idx as usize, status.list_value());
                        changed_lists.insert(b.list);
                    }
                }
            }
            if let Event::KeysRotated { .. } = event {
                // Lists are re-signed with the new key at once; the JWKS is republished.
                changed_lists.extend(1..=self.lists.len() as u32);
                if let Ok(mut p) = self.published.write() {
                    *p = Arc::from(self.keys.published.to_json());
                }
            }
            if let Event::BadgeIssued { list, .. } = event {
                if self
                    .signed
                    .read()
                    .map(|s| s.len() < *list as usize)
                    .unwrap_or(false)
                {
                    changed_lists.insert(*list);
                }
            }
        }
        for n in changed_lists {
            if let Err(e) = self.sign_list(n, now) {
                tracing::error!(list = n, error = %e, "status list signing failed");
            }
        }
        results
    }

    /// Flushes the indexes (on shutdown).
    pub fn flush(&self) {
        if let Err(e) = self.store.flush() {
            tracing::warn!(error = %e, "index flush failed; it will be rebuilt from the journal");
        }
    }
}

#[cfg(test)]
mod tests {
    // Index allocation: random, never repeated, and a new list once one is full enough.
    use super::*;

    #[test]
    fn allocation_never_repeats_and_opens_a_new_list() {
        let data = std::env::temp_dir().join(format!("tm-engine-alloc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data);
        let mut engine = Engine::open(&data, "https://registry.example", 1000, false).unwrap();
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            assert!(
                seen.insert(engine.allocate()),
                "an index was handed out twice"
            );
        }
        assert!(seen
            .iter()
            .all(|(list, idx)| *list == 1 && (*idx as usize) < LIST_SIZE));
        // Fill list 1 to the threshold: the next index comes from a fresh list 2.
        if let Some(first) = engine.lists.first_mut() {
            first.count = LIST_FILL;
        }
        let (list, idx) = engine.allocate();
        assert_eq!(list, 2);
        assert!((idx as usize) < LIST_SIZE);
        assert_eq!(engine.lists.len(), 2);
        let _ = std::fs::remove_dir_all(&data);
    }
}
