//! One batch of commands as one transaction: take the global write lock (the `log_head`
//! row), plan against a prefetched snapshot with the shared planner, write the records,
//! the evidence log entries and the checkpoint over them, re-sign the status lists the
//! batch changed, and commit. Nothing is acknowledged before the commit returns.

use super::keys::{self, KeyCache};
use super::snapshot::Snapshot;
use crate::engine::plan::{self, Batch, Signer};
use crate::engine::{list_iat, sign_list_token, Command, CommandError, Done, LIST_SIZE};
use crate::event::{BadgeStatus, Event};
use crate::evidence::{self, LogError};
use crate::records::{self, AuditorRecord, BadgeRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use tokio::try_join;
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;
use trustmark_core::log::compact::CompactRange;
use trustmark_core::log::merkle;
use trustmark_core::sign::SigningKey;
use trustmark_core::StatusList;

/// Why a whole transaction failed: nothing of it was committed (or, for a lost
/// connection during COMMIT, it is unknown whether it was).
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// The database failed or went away.
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
    /// The evidence log's stored head does not match, or cannot be signed.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A token could not be signed.
    #[error("signing: {0}")]
    Sign(#[from] trustmark_core::sign::SignError),
    /// A status list could not be built.
    #[error("status list: {0}")]
    List(#[from] trustmark_core::status::StatusListError),
    /// A stored row does not decode.
    #[error("stored {0} does not decode")]
    Corrupt(&'static str),
}

impl TxError {
    /// What every command of the failed transaction is told.
    pub fn command_error(&self) -> CommandError {
        match self {
            TxError::Db(e) if super::connect::is_unavailable(e) => CommandError::Unavailable,
            _ => CommandError::Database,
        }
    }
}

/// What the writer knows besides the database: who it signs as.
pub struct WriterCtx {
    pub(super) issuer: String,
    pub(super) origin: String,
    pub(super) keys: KeyCache,
}

/// The log head as locked.
pub(super) struct Head {
    pub(super) range: CompactRange,
    pub(super) note: Option<String>,
}

/// Takes the global write lock and reads the log head.
pub(super) async fn lock_head(tx: &Transaction<'_>) -> Result<Head, TxError> {
    let row = tx
        .query_typed_one(
            "SELECT size, compact, note FROM log_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .await?;
    let size: i64 = row.try_get(0)?;
    let compact: Vec<u8> = row.try_get(1)?;
    let hashes = compact
        .chunks(32)
        .map(|c| <merkle::Hash>::try_from(c).map_err(|_| TxError::Corrupt("log head")))
        .collect::<Result<Vec<_>, _>>()?;
    let range =
        CompactRange::from_parts(size as u64, hashes).ok_or(TxError::Corrupt("log head"))?;
    Ok(Head {
        range,
        note: row.try_get(2)?,
    })
}

/// The changes a transaction writes, gathered from its events.
#[derive(Default)]
pub(super) struct Changes {
    pub(super) events: Vec<Event>,
    pub(super) auditors: BTreeMap<String, AuditorRecord>,
    pub(super) badges: BTreeMap<String, BadgeRecord>,
    pub(super) lists: BTreeSet<u32>,
    pub(super) all_lists: bool,
    pub(super) keys_changed: bool,
    /// Sign a checkpoint even without new entries (the log's origin changed).
    pub(super) new_checkpoint: bool,
    pub(super) remembered: Vec<(String, String, i64)>,
}

/// Runs a segment of ordinary commands (no key changes) in one transaction.
pub async fn run_commands(
    client: &mut tokio_postgres::Client,
    ctx: &mut WriterCtx,
    commands: Vec<Command>,
    now: i64,
) -> Result<Vec<Result<Done, CommandError>>, TxError> {
    let tx = client.transaction().await?;
    // Pipelined: the server runs them in order, so everything after the lock sees the
    // state as of the lock, but the round trips overlap.
    let (head, current, mut snapshot) = try_join!(
        lock_head(&tx),
        ctx.keys.current(&tx),
        Snapshot::load(&tx, &commands)
    )?;
    let signer = Signer {
        issuer: &ctx.issuer,
        badge_key: &current.badge,
        demo: false,
    };
    let mut batch = Batch::default();
    let mut changes = Changes::default();
    let mut out = Vec::with_capacity(commands.len());
    for command in commands {
        out.push(
            plan::plan(&mut snapshot, &signer, command, now, &mut batch).map(|(events, done)| {
                changes.events.extend(events);
                done
            }),
        );
    }
    snapshot.release_unused(&tx).await?;
    changes.remembered = std::mem::take(&mut snapshot.remembered);
    finish(tx, ctx, &current, head, &snapshot, changes, now).await?;
    Ok(out)
}

/// Applies `changes`' events to the records, writes everything, extends and signs the
/// log, re-signs the lists they changed, and commits.
pub(super) async fn finish(
    tx: Transaction<'_>,
    ctx: &WriterCtx,
    current: &keys::Current,
    head: Head,
    snapshot: &Snapshot,
    mut changes: Changes,
    now: i64,
) -> Result<(), TxError> {
    let mut range = head.range.clone();
    let (mut idxs, mut hashes, mut entries) = (Vec::new(), Vec::new(), Vec::new());
    let mut origins: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for event in &changes.events {
        let leaf = evidence::entry_for(event).map(|entry| {
            let bytes = entry.to_bytes();
            let hash = merkle::leaf_hash(&bytes);
            let index = range.size();
            range.push(hash);
            idxs.push(index as i64);
            hashes.push(hash.to_vec());
            entries.push(bytes);
            index
        });
        let seq = leaf.unwrap_or(range.size());
        match event {
            Event::AuditorAdded { .. } => {
                if let Some(a) = records::added_auditor(event) {
                    changes.auditors.insert(a.id.clone(), a);
                }
            }
            Event::AuditorSuspended { id, .. } => {
                let known = changes
                    .auditors
                    .get(id)
                    .or_else(|| snapshot.auditors.get(id))
                    .cloned();
                if let Some(mut a) = known {
                    a.active = false;
                    changes.auditors.insert(id.clone(), a);
                }
            }
            Event::BadgeIssued { id, origins: o, .. } => {
                if let Some(b) = records::issued_badge(seq, event, leaf) {
                    for origin in o {
                        origins.0.push(origin.clone());
                        origins.1.push(id.clone());
                    }
                    changes.badges.insert(id.clone(), b);
                }
            }
            Event::StatusChanged { .. } | Event::BadgeResigned { .. } => {
                let Some(id) = records::badge_changed_by(event) else {
                    continue;
                };
                let known = changes
                    .badges
                    .get(id)
                    .or_else(|| snapshot.badges.get(id))
                    .cloned();
                if let Some(mut b) = known {
                    records::apply_to_badge(&mut b, seq, event, leaf);
                    if matches!(event, Event::StatusChanged { .. }) {
                        changes.lists.insert(b.list);
                    }
                    changes.badges.insert(id.to_owned(), b);
                }
            }
            Event::KeysRotated { .. } | Event::KeyWithdrawn { .. } => {
                changes.all_lists = true;
                changes.keys_changed = true;
            }
            Event::LogCheckpoint { .. } => {}
        }
    }
    let log_entries = async {
        if !idxs.is_empty() {
            tx.execute_typed(
                "INSERT INTO log_entries (idx, hash, entry)
                 SELECT * FROM unnest($1::int8[], $2::bytea[], $3::bytea[])",
                &[
                    (&idxs, Type::INT8_ARRAY),
                    (&hashes, Type::BYTEA_ARRAY),
                    (&entries, Type::BYTEA_ARRAY),
                ],
            )
            .await?;
        }
        Ok::<(), TxError>(())
    };
    let ((), (), lists) = try_join!(
        write_records(&tx, &changes, &origins),
        log_entries,
        list_states(&tx)
    )?;
    sign_lists(&tx, ctx, &current.status, &changes, lists, now).await?;
    let keys_bump = i64::from(changes.keys_changed);
    let head_update = async {
        if range.size() > head.range.size() || head.note.is_none() || changes.new_checkpoint {
            let note = evidence::sign_extension(
                &current.log,
                &ctx.origin,
                head.note.as_deref(),
                &head.range,
                &range,
            )?;
            let compact: Vec<u8> = range.hashes().iter().flatten().copied().collect();
            tx.execute_typed(
                "UPDATE log_head SET size = $1, compact = $2, note = $3,
                        generation = generation + 1, keys_version = keys_version + $4
                 WHERE id = 1",
                &[
                    (&(range.size() as i64), Type::INT8),
                    (&compact, Type::BYTEA),
                    (&note, Type::TEXT),
                    (&keys_bump, Type::INT8),
                ],
            )
            .await?;
        } else {
            tx.execute_typed(
                "UPDATE log_head SET generation = generation + 1,
                        keys_version = keys_version + $1 WHERE id = 1",
                &[(&keys_bump, Type::INT8)],
            )
            .await?;
        }
        Ok::<(), TxError>(())
    };
    let notify = async {
        tx.execute_typed("SELECT pg_notify('trustmark', '')", &[])
            .await?;
        Ok::<(), TxError>(())
    };
    try_join!(head_update, notify)?;
    tx.commit().await?;
    Ok(())
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, TxError> {
    serde_json::to_string(value).map_err(|_| TxError::Corrupt("record"))
}

async fn write_records(
    tx: &Transaction<'_>,
    changes: &Changes,
    origins: &(Vec<String>, Vec<String>),
) -> Result<(), TxError> {
    let auditors = async {
        if !changes.auditors.is_empty() {
            let ids: Vec<&str> = changes.auditors.keys().map(String::as_str).collect();
            let recs = changes
                .auditors
                .values()
                .map(encode)
                .collect::<Result<Vec<_>, _>>()?;
            tx.execute_typed(
                "INSERT INTO auditors (id, record) SELECT * FROM unnest($1::text[], $2::text[])
                 ON CONFLICT (id) DO UPDATE SET record = excluded.record",
                &[(&ids, Type::TEXT_ARRAY), (&recs, Type::TEXT_ARRAY)],
            )
            .await?;
        }
        Ok::<(), TxError>(())
    };
    let badges = async {
        if !changes.badges.is_empty() {
            let badges = || changes.badges.values();
            let ids: Vec<&str> = badges().map(|b| b.id.as_str()).collect();
            let lists: Vec<i64> = badges().map(|b| i64::from(b.list)).collect();
            let idxs: Vec<i64> = badges().map(|b| b.idx as i64).collect();
            let statuses: Vec<i16> = badges().map(|b| i16::from(b.status.list_value())).collect();
            let recs = badges().map(encode).collect::<Result<Vec<_>, _>>()?;
            tx.execute_typed(
                "INSERT INTO badges (id, list, idx, status, record)
                 SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int2[], $5::text[])
                 ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record",
                &[
                    (&ids, Type::TEXT_ARRAY),
                    (&lists, Type::INT8_ARRAY),
                    (&idxs, Type::INT8_ARRAY),
                    (&statuses, Type::INT2_ARRAY),
                    (&recs, Type::TEXT_ARRAY),
                ],
            )
            .await?;
        }
        Ok::<(), TxError>(())
    };
    // After the badges in the pipeline: an origin refers to its badge.
    let origins =
        async {
            if !origins.0.is_empty() {
                tx.execute_typed(
                "INSERT INTO origins (origin, badge) SELECT * FROM unnest($1::text[], $2::text[])
                 ON CONFLICT DO NOTHING",
                &[(&origins.0, Type::TEXT_ARRAY), (&origins.1, Type::TEXT_ARRAY)],
            )
            .await?;
            }
            Ok::<(), TxError>(())
        };
    let jtis = async {
        if !changes.remembered.is_empty() {
            let a: Vec<&str> = changes.remembered.iter().map(|r| r.0.as_str()).collect();
            let j: Vec<&str> = changes.remembered.iter().map(|r| r.1.as_str()).collect();
            let i: Vec<i64> = changes.remembered.iter().map(|r| r.2).collect();
            tx.execute_typed(
                "INSERT INTO jtis (auditor, jti, iat)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::int8[])
                 ON CONFLICT DO NOTHING",
                &[
                    (&a, Type::TEXT_ARRAY),
                    (&j, Type::TEXT_ARRAY),
                    (&i, Type::INT8_ARRAY),
                ],
            )
            .await?;
        }
        Ok::<(), TxError>(())
    };
    try_join!(auditors, badges, origins, jtis)?;
    Ok(())
}

/// Every list's number, last `iat`, and whether it was ever signed.
async fn list_states(tx: &Transaction<'_>) -> Result<Vec<(u32, Option<i64>, bool)>, TxError> {
    tx.query_typed("SELECT n, iat, token IS NULL FROM lists ORDER BY n", &[])
        .await?
        .iter()
        .map(|row| {
            let n: i64 = row.try_get(0)?;
            let n = u32::try_from(n).map_err(|_| TxError::Corrupt("list number"))?;
            Ok((n, row.try_get(1)?, row.try_get(2)?))
        })
        .collect()
}

/// Re-signs the lists `changes` touched, every list after a key change, and any list
/// never signed (a list's first badge), each dated per the shared `iat` rule.
async fn sign_lists(
    tx: &Transaction<'_>,
    ctx: &WriterCtx,
    key: &SigningKey,
    changes: &Changes,
    lists: Vec<(u32, Option<i64>, bool)>,
    now: i64,
) -> Result<(), TxError> {
    for (n, last, unsigned) in lists {
        if changes.all_lists || unsigned || changes.lists.contains(&n) {
            resign_list(tx, &ctx.issuer, key, n, last, now).await?;
        }
    }
    Ok(())
}

/// Rebuilds list `n` from the badges' statuses and signs it.
pub(super) async fn resign_list(
    tx: &Transaction<'_>,
    issuer: &str,
    key: &SigningKey,
    n: u32,
    last: Option<i64>,
    now: i64,
) -> Result<(), TxError> {
    let mut list = StatusList::new(2, LIST_SIZE)?;
    for row in tx
        .query_typed(
            "SELECT idx, status FROM badges WHERE list = $1 AND status <> 0",
            &[(&i64::from(n), Type::INT8)],
        )
        .await?
    {
        let idx: i64 = row.try_get(0)?;
        let status: i16 = row.try_get(1)?;
        let value = u8::try_from(status).map_err(|_| TxError::Corrupt("badge status"))?;
        list.set(idx as usize, value)?;
    }
    let when = list_iat(last, now);
    if when.wait > 0 {
        // A burst of changes ran this list's date ahead; the write lock is held
        // meanwhile, which is what keeps every process's signatures ordered.
        tokio::time::sleep(Duration::from_secs(when.wait)).await;
    }
    let signed = sign_list_token(issuer, n, &list, key, when.iat)?;
    tx.execute_typed(
        "UPDATE lists SET iat = $2, token = $3, etag = $4 WHERE n = $1",
        &[
            (&i64::from(n), Type::INT8),
            (&signed.iat, Type::INT8),
            (&signed.token, Type::TEXT),
            (&signed.etag, Type::TEXT),
        ],
    )
    .await?;
    Ok(())
}

/// The list value of a stored status.
pub(super) fn revoked_value() -> i16 {
    i16::from(BadgeStatus::Revoked.list_value())
}
