//! Journal events: every change to the registry's state is one of these.

use serde::{Deserialize, Serialize};

/// A badge's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BadgeStatus {
    /// Valid.
    Valid,
    /// Revoked (final).
    Revoked,
    /// Suspended (may be reinstated).
    Suspended,
}

impl BadgeStatus {
    /// The status list value (SPEC 3.2).
    pub fn list_value(self) -> u8 {
        match self {
            BadgeStatus::Valid => trustmark_core::status::value::VALID,
            BadgeStatus::Revoked => trustmark_core::status::value::REVOKED,
            BadgeStatus::Suspended => trustmark_core::status::value::SUSPENDED,
        }
    }

    /// The word used in JSON and pages.
    pub fn as_str(self) -> &'static str {
        match self {
            BadgeStatus::Valid => "valid",
            BadgeStatus::Revoked => "revoked",
            BadgeStatus::Suspended => "suspended",
        }
    }
}

/// Who made a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "lowercase")]
pub enum Actor {
    /// An accredited auditor, by id, through a signed request.
    Auditor(String),
    /// The registry operator, through a local command.
    Operator,
}

/// One journal record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// An auditor was accredited.
    AuditorAdded {
        /// Auditor id.
        id: String,
        /// Display name.
        name: String,
        /// Public JWK.
        jwk: serde_json::Value,
        /// When.
        at: i64,
    },
    /// An auditor was suspended: it can no longer issue or change badges.
    AuditorSuspended {
        /// Auditor id.
        id: String,
        /// When.
        at: i64,
    },
    /// A badge was issued.
    BadgeIssued {
        /// Badge id (`jti`).
        id: String,
        /// The badge token.
        token: String,
        /// The auditor's signed audit statement, byte for byte.
        statement: String,
        /// Issuing auditor.
        auditor: String,
        /// The statement's `jti` (replay protection).
        statement_jti: String,
        /// Canonical origins: `sub` first, then aliases.
        origins: Vec<String>,
        /// Status list number.
        list: u32,
        /// Index in that list.
        idx: u64,
        /// When.
        at: i64,
    },
    /// A badge's status changed.
    StatusChanged {
        /// Badge id.
        badge: String,
        /// New status.
        status: BadgeStatus,
        /// Why.
        reason: String,
        /// Who.
        by: Actor,
        /// The signed request's `jti`, for auditor changes.
        request_jti: Option<String>,
        /// When.
        at: i64,
    },
    /// A registry key was withdrawn (compromised): no verifier may trust it any more.
    KeyWithdrawn {
        /// The withdrawn key's id.
        kid: String,
        /// When.
        at: i64,
    },
    /// A badge signed by a withdrawn key was signed again under the current key, with
    /// the same id, claims and status index (only `iat` is new).
    BadgeResigned {
        /// Badge id.
        id: String,
        /// The new token.
        token: String,
        /// When.
        at: i64,
    },
    /// The evidence log's checkpoint after every event before it: a C2SP signed note,
    /// written in the same journal frame (one `fdatasync`) as the events it covers.
    LogCheckpoint {
        /// The signed note.
        note: String,
    },
    /// The registry's signing keys were rotated.
    KeysRotated {
        /// The new badge key id.
        badge_kid: String,
        /// The new status list key id.
        status_kid: String,
        /// When.
        at: i64,
    },
}
