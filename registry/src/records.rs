//! What the stores keep about auditors and badges, and how each event changes it: one
//! derivation shared by the sled indexes and the PostgreSQL tables, so both stores show
//! the same records for the same events.

use crate::event::{Actor, BadgeStatus, Event};
use serde::{Deserialize, Serialize};

/// An accredited auditor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditorRecord {
    /// Id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Public JWK.
    pub jwk: serde_json::Value,
    /// Whether it may issue and change badges.
    pub active: bool,
    /// Accredited at.
    pub added_at: i64,
}

/// One status change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// New status.
    pub status: BadgeStatus,
    /// When.
    pub at: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: Actor,
    /// Position of the event in the store's order (journal position, or evidence log
    /// index), so replaying an event twice never records it twice.
    pub seq: u64,
}

/// A badge and its state.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadgeRecord {
    /// Badge id.
    pub id: String,
    /// The badge token.
    pub token: String,
    /// The auditor's signed audit statement.
    pub statement: String,
    /// Issuing auditor.
    pub auditor: String,
    /// Canonical origins (`sub` first).
    pub origins: Vec<String>,
    /// Status list number.
    pub list: u32,
    /// Index in the list.
    pub idx: u64,
    /// Current status.
    pub status: BadgeStatus,
    /// Every change, oldest first (issuance included).
    pub history: Vec<HistoryEntry>,
    /// The badge's entries in the evidence log, oldest first.
    #[serde(default)]
    pub log: Vec<LogRef>,
}

/// Where an event about a badge sits in the evidence log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRef {
    /// Entry index.
    pub index: u64,
    /// Entry type (`issued`, `status_changed`, `reissued`).
    #[serde(rename = "type")]
    pub kind: String,
    /// When.
    pub at: i64,
    /// The status it set, for status changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<BadgeStatus>,
}

impl BadgeRecord {
    /// The latest status change after issuance, if any.
    pub fn last_change(&self) -> Option<&HistoryEntry> {
        self.history.get(1..).and_then(<[HistoryEntry]>::last)
    }

    /// Who put the badge in its current suspension, if it is suspended.
    pub fn suspended_by(&self) -> Option<&Actor> {
        (self.status == BadgeStatus::Suspended)
            .then(|| self.last_change().map(|h| &h.by))
            .flatten()
    }
}

fn log_ref(leaf: Option<u64>, kind: &str, at: i64, status: Option<BadgeStatus>) -> Option<LogRef> {
    leaf.map(|index| LogRef {
        index,
        kind: kind.to_owned(),
        at,
        status,
    })
}

/// The record of an auditor an `AuditorAdded` event accredits.
pub fn added_auditor(event: &Event) -> Option<AuditorRecord> {
    let Event::AuditorAdded { id, name, jwk, at } = event else {
        return None;
    };
    Some(AuditorRecord {
        id: id.clone(),
        name: name.clone(),
        jwk: jwk.clone(),
        active: true,
        added_at: *at,
    })
}

/// The record of the badge a `BadgeIssued` event (at position `seq`, with its log entry
/// index `leaf`) creates.
pub fn issued_badge(seq: u64, event: &Event, leaf: Option<u64>) -> Option<BadgeRecord> {
    let Event::BadgeIssued {
        id,
        token,
        statement,
        auditor,
        origins,
        list,
        idx,
        at,
        ..
    } = event
    else {
        return None;
    };
    Some(BadgeRecord {
        id: id.clone(),
        token: token.clone(),
        statement: statement.clone(),
        auditor: auditor.clone(),
        origins: origins.clone(),
        list: *list,
        idx: *idx,
        status: BadgeStatus::Valid,
        history: vec![HistoryEntry {
            status: BadgeStatus::Valid,
            at: *at,
            reason: "issued".into(),
            by: Actor::Auditor(auditor.clone()),
            seq,
        }],
        log: log_ref(leaf, "issued", *at, None).into_iter().collect(),
    })
}

/// Applies a `StatusChanged` or `BadgeResigned` event about `badge`; returns whether the
/// record changed (an event seen before changes nothing).
pub fn apply_to_badge(badge: &mut BadgeRecord, seq: u64, event: &Event, leaf: Option<u64>) -> bool {
    match event {
        Event::StatusChanged {
            status,
            reason,
            by,
            at,
            ..
        } => {
            if badge.history.last().is_some_and(|h| h.seq >= seq) {
                return false;
            }
            badge.status = *status;
            badge.history.push(HistoryEntry {
                status: *status,
                at: *at,
                reason: reason.clone(),
                by: by.clone(),
                seq,
            });
            badge
                .log
                .extend(log_ref(leaf, "status_changed", *at, Some(*status)));
            true
        }
        Event::BadgeResigned { token, at, .. } => {
            badge.token = token.clone();
            if let Some(r) = log_ref(leaf, "reissued", *at, None) {
                if badge.log.last().is_none_or(|l| l.index < r.index) {
                    badge.log.push(r);
                }
            }
            true
        }
        _ => false,
    }
}

/// The badge an event changes, if it changes one that exists before it.
pub fn badge_changed_by(event: &Event) -> Option<&str> {
    match event {
        Event::StatusChanged { badge, .. } => Some(badge),
        Event::BadgeResigned { id, .. } => Some(id),
        _ => None,
    }
}
