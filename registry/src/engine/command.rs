//! What the writer is asked to do, what it did, and why it refused.

use crate::event::{Actor, BadgeStatus};
use crate::keys::KeyRingError;
use crate::store::StoreError;
use trustmark_core::claims::{Action, AuditStatementClaims};
use trustmark_core::{sign, Evaluation};

/// The identity of a signed auditor request, for replay protection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestId {
    /// Its `jti`.
    pub jti: String,
    /// Its `iat`, on the auditor's clock.
    pub iat: i64,
}

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
        /// The signed request (auditors only; the operator acts locally).
        request: Option<RequestId>,
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
    /// Withdraw a compromised registry key: rotate it out if it is current, publish it
    /// as withdrawn, re-sign every current badge it signed under the current key.
    WithdrawKey {
        /// The key's id.
        kid: String,
    },
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
    /// A key was withdrawn.
    KeyWithdrawn {
        /// Whether it was a current key, rotated out first.
        rotated: bool,
        /// Badges re-signed under the current key.
        resigned: usize,
    },
}

/// Why a command was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The statement's or request's `jti` was used before by this auditor.
    #[error("this jti was already used by the auditor")]
    Replay,
    /// The request was signed before the badge's latest status change, so it was not
    /// made knowing the badge's current state.
    #[error("the request was signed (iat {iat}) before the badge's last status change (at {changed_at}); sign a new request")]
    StaleRequest {
        /// The request's `iat`.
        iat: i64,
        /// When the badge last changed.
        changed_at: i64,
    },
    /// No such auditor.
    #[error("no auditor with this id is accredited")]
    UnknownAuditor,
    /// The auditor is suspended.
    #[error("the auditor is suspended")]
    AuditorSuspended,
    /// The auditor id is taken.
    #[error("an auditor with this id already exists")]
    AuditorExists,
    /// One of the published example keys, outside demo mode.
    #[error("this is a published example key (keys-example/); anyone can sign with it, so it is accepted only in demo mode")]
    ExampleKey,
    /// The auditor id is not 1 to 64 URL-safe characters (badges could not name it).
    #[error("an auditor id is 1 to 64 characters of A-Z, a-z, 0-9, - and _")]
    AuditorId,
    /// The key is not an acceptable Ed25519 public JWK.
    #[error("the auditor key is not usable: {0}")]
    AuditorKey(trustmark_core::KeyError),
    /// Text shown to buyers holds control or format characters, or is blank or long.
    #[error("{0} must be 1 to 200 characters of visible text (no control or format characters such as bidi overrides)")]
    Text(&'static str),
    /// No such badge.
    #[error("no badge with this id")]
    UnknownBadge,
    /// Only the issuing auditor may change a badge.
    #[error("only the auditor who issued the badge may change its status")]
    NotIssuingAuditor,
    /// The operator suspended the badge; only the operator lifts that.
    #[error("the registry operator suspended this badge; only the operator can reinstate it")]
    OperatorSuspension,
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
    /// Key files could not be changed (or the key is unknown or already withdrawn).
    #[error(transparent)]
    Keys(#[from] KeyRingError),
    /// The journal could not be written (the cause is logged); the engine refuses every
    /// further change until restarted.
    #[error(
        "the journal could not be written; the registry refuses changes until it is restarted"
    )]
    Journal,
    /// The writer thread is gone (the registry is stopping).
    #[error("the registry's writer has stopped")]
    WriterStopped,
    /// The database could not be reached, or the connection was lost before its commit
    /// was confirmed: the change may or may not have been made (see "Retrying after a
    /// 503" in docs/registry.md).
    #[error("the registry's database is unavailable; the change may not have been made, retry it")]
    Unavailable,
    /// A database query failed (the cause is logged).
    #[error("the registry's database refused the change")]
    Database,
}
