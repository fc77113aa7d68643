//! The committed state one batch is planned against: the auditors, badges and `jti`s its
//! commands name, prefetched inside the batch's transaction (under the write lock, so
//! nothing changes them meanwhile) with one query each, and the status slots reserved
//! for its issuances.

use super::batch::TxError;
use crate::engine::plan::PlanView;
use crate::engine::{random_u64, Command, CommandError, RequestId, LIST_FILL, LIST_SIZE};
use crate::event::Actor;
use crate::records::{AuditorRecord, BadgeRecord};
use std::collections::{HashMap, HashSet};
use tokio_postgres::types::Type;
use tokio_postgres::Transaction;

/// A batch's view of the committed state.
#[derive(Default)]
pub struct Snapshot {
    pub(super) auditors: HashMap<String, AuditorRecord>,
    pub(super) badges: HashMap<String, BadgeRecord>,
    jtis: HashSet<(String, String)>,
    /// Request ids claimed while planning, accepted or refused: all are recorded.
    pub(super) remembered: Vec<(String, String, i64)>,
    /// Reserved slots not yet handed out: (list, index).
    reserved: Vec<(u32, u64)>,
}

fn decode<T: serde::de::DeserializeOwned>(text: &str, what: &'static str) -> Result<T, TxError> {
    serde_json::from_str(text).map_err(|_| TxError::Corrupt(what))
}

impl Snapshot {
    /// Prefetches what `commands` name.
    pub async fn load(tx: &Transaction<'_>, commands: &[Command]) -> Result<Snapshot, TxError> {
        let mut auditor_ids = Vec::new();
        let mut badge_ids = Vec::new();
        let (mut jti_auditors, mut jti_values) = (Vec::new(), Vec::new());
        for c in commands {
            match c {
                Command::Issue { claims, .. } => {
                    auditor_ids.push(claims.iss.clone());
                    jti_auditors.push(claims.iss.clone());
                    jti_values.push(claims.jti.clone());
                }
                Command::ChangeStatus {
                    badge, by, request, ..
                } => {
                    badge_ids.push(badge.clone());
                    if let (Actor::Auditor(a), Some(r)) = (by, request) {
                        auditor_ids.push(a.clone());
                        jti_auditors.push(a.clone());
                        jti_values.push(r.jti.clone());
                    }
                }
                Command::AddAuditor { id, .. } | Command::SuspendAuditor { id } => {
                    auditor_ids.push(id.clone())
                }
                Command::RotateKeys | Command::WithdrawKey { .. } => {}
            }
        }
        let issuances = commands
            .iter()
            .filter(|c| matches!(c, Command::Issue { .. }))
            .count();
        // One query each, pipelined.
        let auditors = async {
            if auditor_ids.is_empty() {
                return Ok(Vec::new());
            }
            tx.query_typed(
                "SELECT record FROM auditors WHERE id = ANY($1)",
                &[(&auditor_ids, Type::TEXT_ARRAY)],
            )
            .await
            .map_err(TxError::from)
        };
        let badges = async {
            if badge_ids.is_empty() {
                return Ok(Vec::new());
            }
            tx.query_typed(
                "SELECT record FROM badges WHERE id = ANY($1)",
                &[(&badge_ids, Type::TEXT_ARRAY)],
            )
            .await
            .map_err(TxError::from)
        };
        let jtis = async {
            if jti_values.is_empty() {
                return Ok(Vec::new());
            }
            tx.query_typed(
                "SELECT j.auditor, j.jti FROM jtis j
                 JOIN unnest($1::text[], $2::text[]) AS q(auditor, jti)
                   ON j.auditor = q.auditor AND j.jti = q.jti",
                &[
                    (&jti_auditors, Type::TEXT_ARRAY),
                    (&jti_values, Type::TEXT_ARRAY),
                ],
            )
            .await
            .map_err(TxError::from)
        };
        let slots = async {
            if issuances == 0 {
                return Ok(Vec::new());
            }
            reserve(tx, issuances).await
        };
        let (auditors, badges, jtis, reserved) = tokio::try_join!(auditors, badges, jtis, slots)?;
        let mut snapshot = Snapshot {
            reserved,
            ..Snapshot::default()
        };
        for row in auditors {
            let a: AuditorRecord = decode(row.try_get(0)?, "auditor")?;
            snapshot.auditors.insert(a.id.clone(), a);
        }
        for row in badges {
            let b: BadgeRecord = decode(row.try_get(0)?, "badge")?;
            snapshot.badges.insert(b.id.clone(), b);
        }
        for row in jtis {
            snapshot.jtis.insert((row.try_get(0)?, row.try_get(1)?));
        }
        Ok(snapshot)
    }

    /// Gives back the slots no issuance took (a refused command): never handed out, so
    /// they stay free.
    pub async fn release_unused(&mut self, tx: &Transaction<'_>) -> Result<(), TxError> {
        let mut by_list: HashMap<u32, Vec<i64>> = HashMap::new();
        for (list, idx) in self.reserved.drain(..) {
            by_list.entry(list).or_default().push(idx as i64);
        }
        for (list, idxs) in by_list {
            tx.execute(
                "DELETE FROM slots WHERE list = $1 AND idx = ANY($2)",
                &[&i64::from(list), &idxs],
            )
            .await?;
            tx.execute(
                "UPDATE lists SET allocated = allocated - $2 WHERE n = $1",
                &[&i64::from(list), &(idxs.len() as i64)],
            )
            .await?;
        }
        Ok(())
    }
}

/// Reserves `count` random, never used slots in the newest list (opening the next list
/// once the newest has [`LIST_FILL`] slots taken, as the embedded allocator does): each
/// candidate is inserted under the `(list, idx)` primary key, and a taken one is
/// replaced by another random draw.
async fn reserve(tx: &Transaction<'_>, count: usize) -> Result<Vec<(u32, u64)>, TxError> {
    let row = tx
        .query_typed_opt(
            "SELECT n, allocated FROM lists ORDER BY n DESC LIMIT 1",
            &[],
        )
        .await?;
    let (mut list, allocated): (i64, i64) = match row {
        Some(r) => (r.try_get(0)?, r.try_get(1)?),
        None => (0, LIST_FILL as i64),
    };
    if allocated >= LIST_FILL as i64 {
        list += 1;
        tx.execute("INSERT INTO lists (n, allocated) VALUES ($1, 0)", &[&list])
            .await?;
    }
    let mut got: Vec<i64> = Vec::with_capacity(count);
    // Collisions are rare below LIST_FILL (at most 3 in 4 draws miss); the bound only
    // stops a defect from looping forever.
    for _ in 0..64 {
        if got.len() >= count {
            break;
        }
        let candidates: Vec<i64> = (got.len()..count)
            .map(|_| (random_u64() % LIST_SIZE as u64) as i64)
            .collect();
        for row in tx
            .query_typed(
                "INSERT INTO slots (list, idx) SELECT $1, unnest($2::int8[])
                 ON CONFLICT DO NOTHING RETURNING idx",
                &[(&list, Type::INT8), (&candidates, Type::INT8_ARRAY)],
            )
            .await?
        {
            got.push(row.try_get(0)?);
        }
    }
    if got.len() < count {
        return Err(TxError::Corrupt("status slots"));
    }
    got.truncate(count);
    tx.execute_typed(
        "UPDATE lists SET allocated = allocated + $2 WHERE n = $1",
        &[(&list, Type::INT8), (&(got.len() as i64), Type::INT8)],
    )
    .await?;
    let list = u32::try_from(list).map_err(|_| TxError::Corrupt("list number"))?;
    Ok(got.into_iter().map(|i| (list, i as u64)).collect())
}

impl PlanView for Snapshot {
    fn auditor(&mut self, id: &str) -> Result<Option<AuditorRecord>, CommandError> {
        Ok(self.auditors.get(id).cloned())
    }

    fn badge(&mut self, id: &str) -> Result<Option<BadgeRecord>, CommandError> {
        Ok(self.badges.get(id).cloned())
    }

    fn jti_used(&mut self, auditor: &str, jti: &str) -> Result<bool, CommandError> {
        Ok(self.jtis.contains(&(auditor.to_owned(), jti.to_owned())))
    }

    fn remember_jti(&mut self, auditor: &str, request: &RequestId) {
        self.remembered
            .push((auditor.to_owned(), request.jti.clone(), request.iat));
    }

    fn allocate(&mut self) -> Result<(u32, u64), CommandError> {
        self.reserved.pop().ok_or(CommandError::Database)
    }
}
