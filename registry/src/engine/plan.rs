//! Planning: each command is checked against the committed state plus what the commands
//! before it in the same batch will change (so a suspension queued first stops an
//! issuance queued after it), and turned into the events that make it so.
//!
//! These are the registry's business rules, shared by both stores: the planner reads the
//! committed state through [`PlanView`] (the sled indexes for the embedded store, a
//! snapshot prefetched inside the batch's transaction for PostgreSQL).

use super::command::{Command, CommandError, Done, RequestId};
use crate::event::{Actor, BadgeStatus, Event};
use crate::records::{AuditorRecord, BadgeRecord};
use std::collections::{HashMap, HashSet};
use trustmark_core::claims::{
    is_display_text, is_url_safe_id, Action, AuditStatementClaims, AuditSummary, BadgeClaims,
    StatusListRef, StatusRef,
};
use trustmark_core::sign::SigningKey;
use trustmark_core::{sign, Evaluation};

/// Longest reason or auditor name, in characters.
const MAX_TEXT: usize = 200;

/// A badge's state as this batch leaves it.
#[derive(Clone)]
pub struct PendingBadge {
    pub(crate) status: BadgeStatus,
    /// Who made the latest change; `None` if it was never changed after issuance.
    last_by: Option<Actor>,
    /// When it last changed after issuance.
    changed_at: Option<i64>,
    pub(crate) list: u32,
    pub(crate) idx: u64,
}

impl PendingBadge {
    fn suspended_by_operator(&self) -> bool {
        self.status == BadgeStatus::Suspended && self.last_by == Some(Actor::Operator)
    }
}

/// Changes planned earlier in the batch that the store does not show yet.
#[derive(Default)]
pub struct Batch {
    jtis: HashSet<(String, String)>,
    /// Auditors accredited (`true`) or suspended (`false`) in this batch.
    auditors: HashMap<String, bool>,
    pub(crate) badges: HashMap<String, PendingBadge>,
}

/// The committed state a batch is planned against, and the status slots it may hand out.
pub trait PlanView {
    /// An auditor as committed.
    fn auditor(&mut self, id: &str) -> Result<Option<AuditorRecord>, CommandError>;
    /// A badge as committed.
    fn badge(&mut self, id: &str) -> Result<Option<BadgeRecord>, CommandError>;
    /// Whether the auditor used this `jti` before, in a committed change or in a request
    /// the store remembers as refused.
    fn jti_used(&mut self, auditor: &str, jti: &str) -> Result<bool, CommandError>;
    /// Remembers an authenticated request's `jti`, whether the command then succeeds or
    /// is refused, so a refused request cannot succeed when replayed later.
    fn remember_jti(&mut self, auditor: &str, request: &RequestId);
    /// A fresh random status slot: (list number, index), never handed out before.
    fn allocate(&mut self) -> Result<(u32, u64), CommandError>;
}

/// What planning needs besides the state: who signs and under which name.
pub struct Signer<'a> {
    /// The issuer URL.
    pub issuer: &'a str,
    /// The current badge key.
    pub badge_key: &'a SigningKey,
    /// Demo mode (the example auditor key is accepted).
    pub demo: bool,
}

impl Signer<'_> {
    /// The URL of status list `n`.
    pub fn list_uri(&self, n: u32) -> String {
        format!("{}/statuslists/{n}", self.issuer)
    }
}

/// Plans one command against `view` and what `batch` already changes.
pub fn plan<V: PlanView + ?Sized>(
    view: &mut V,
    signer: &Signer<'_>,
    command: Command,
    now: i64,
    batch: &mut Batch,
) -> Result<(Vec<Event>, Done), CommandError> {
    Planner { view, signer }.plan(command, now, batch)
}

struct Planner<'a, 'b, V: PlanView + ?Sized> {
    view: &'a mut V,
    signer: &'a Signer<'b>,
}

impl<V: PlanView + ?Sized> Planner<'_, '_, V> {
    fn plan(
        &mut self,
        command: Command,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(Vec<Event>, Done), CommandError> {
        match command {
            Command::Issue {
                statement,
                claims,
                evaluation,
            } => self.plan_issue(statement, &claims, &evaluation, now, batch),
            Command::ChangeStatus {
                badge,
                action,
                reason,
                by,
                request,
            } => self.plan_status(badge, action, reason, by, request, now, batch),
            Command::AddAuditor { id, name, jwk } => {
                self.plan_add_auditor(id, name, jwk, now, batch)
            }
            Command::SuspendAuditor { id } => {
                if !batch.auditors.contains_key(&id) && self.view.auditor(&id)?.is_none() {
                    return Err(CommandError::UnknownAuditor);
                }
                batch.auditors.insert(id.clone(), false);
                Ok((
                    vec![Event::AuditorSuspended { id, at: now }],
                    Done::AuditorSuspended,
                ))
            }
            // `execute` runs key changes alone and never hands them here; refusing keeps
            // a key change from ever acting on a half-planned batch.
            Command::RotateKeys | Command::WithdrawKey { .. } => Err(CommandError::WriterStopped),
        }
    }

    /// Whether the auditor may act now, as of this batch.
    fn require_active(&mut self, batch: &Batch, id: &str) -> Result<(), CommandError> {
        let active = match batch.auditors.get(id) {
            Some(active) => *active,
            None => {
                self.view
                    .auditor(id)?
                    .ok_or(CommandError::UnknownAuditor)?
                    .active
            }
        };
        if active {
            Ok(())
        } else {
            Err(CommandError::AuditorSuspended)
        }
    }

    /// Claims an authenticated request's `jti`, refusing one used before: durably (by
    /// an accepted statement or change), earlier in this batch, or by any request seen
    /// within the freshness window, accepted or refused.
    fn claim_jti(
        &mut self,
        batch: &mut Batch,
        auditor: &str,
        request: &RequestId,
    ) -> Result<(), CommandError> {
        let key = (auditor.to_owned(), request.jti.clone());
        if batch.jtis.contains(&key) || self.view.jti_used(auditor, &request.jti)? {
            return Err(CommandError::Replay);
        }
        batch.jtis.insert(key);
        self.view.remember_jti(auditor, request);
        Ok(())
    }

    fn plan_issue(
        &mut self,
        statement: String,
        claims: &AuditStatementClaims,
        evaluation: &Evaluation,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(Vec<Event>, Done), CommandError> {
        let request = RequestId {
            jti: claims.jti.clone(),
            iat: claims.iat,
        };
        self.claim_jti(batch, &claims.iss, &request)?;
        self.require_active(batch, &claims.iss)?;
        let exp = claims
            .audited_at
            .saturating_add(i64::from(claims.valid_days) * 86_400);
        if exp <= now {
            return Err(CommandError::AuditExpired);
        }
        let (list, idx) = self.view.allocate()?;
        let id = super::alloc::badge_id();
        let issuer = self.signer.issuer;
        let badge = BadgeClaims {
            iss: issuer.to_owned(),
            sub: claims.sub.clone(),
            aliases: claims.aliases.clone(),
            iat: now,
            exp,
            nbf: None,
            jti: id.clone(),
            trust_mark_type: BadgeClaims::trust_mark_type_for(issuer),
            org: claims.org.clone(),
            auditor: claims.iss.clone(),
            audit: AuditSummary {
                at: claims.audited_at,
                score: evaluation.score,
                ind: evaluation.normalized(),
                digest: trustmark_core::statement::digest(&statement),
            },
            reference: format!("{issuer}/b/{id}"),
            status: StatusRef {
                status_list: StatusListRef {
                    idx,
                    uri: self.signer.list_uri(list),
                },
            },
        };
        let token = sign::sign_badge(&badge, self.signer.badge_key)?;
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
            vec![event],
            Done::Issued {
                id,
                token,
                list,
                idx,
                score: evaluation.score,
            },
        ))
    }

    /// The badge as this batch leaves it so far.
    fn pending_badge(
        &mut self,
        batch: &Batch,
        id: &str,
    ) -> Result<(String, PendingBadge), CommandError> {
        let record = self.view.badge(id)?.ok_or(CommandError::UnknownBadge)?;
        let pending = match batch.badges.get(id) {
            Some(p) => p.clone(),
            None => PendingBadge {
                status: record.status,
                last_by: record.last_change().map(|h| h.by.clone()),
                changed_at: record.last_change().map(|h| h.at),
                list: record.list,
                idx: record.idx,
            },
        };
        Ok((record.auditor, pending))
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_status(
        &mut self,
        badge: String,
        action: Action,
        reason: String,
        by: Actor,
        request: Option<RequestId>,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(Vec<Event>, Done), CommandError> {
        if !is_display_text(&reason, MAX_TEXT) {
            return Err(CommandError::Text("the reason"));
        }
        let (issuer, current) = self.pending_badge(batch, &badge)?;
        if let Actor::Auditor(a) = &by {
            // An auditor's change is always a signed request.
            let request = request.as_ref().ok_or(CommandError::UnknownAuditor)?;
            self.claim_jti(batch, a, request)?;
            if *a != issuer {
                return Err(CommandError::NotIssuingAuditor);
            }
            self.require_active(batch, a)?;
            if current.status == BadgeStatus::Revoked {
                return Err(CommandError::RevokedIsFinal);
            }
            if let Some(changed_at) = current.changed_at {
                // Signed before the latest change: not made knowing the current state.
                if request.iat <= changed_at {
                    return Err(CommandError::StaleRequest {
                        iat: request.iat,
                        changed_at,
                    });
                }
            }
            if action == Action::Reinstate && current.suspended_by_operator() {
                return Err(CommandError::OperatorSuspension);
            }
        }
        let next = match (current.status, action) {
            (BadgeStatus::Revoked, _) => return Err(CommandError::RevokedIsFinal),
            (_, Action::Revoke) => BadgeStatus::Revoked,
            (BadgeStatus::Valid, Action::Suspend) => BadgeStatus::Suspended,
            (BadgeStatus::Suspended, Action::Reinstate) => BadgeStatus::Valid,
            (s, _) => return Err(CommandError::NoChange(s.as_str())),
        };
        batch.badges.insert(
            badge.clone(),
            PendingBadge {
                status: next,
                last_by: Some(by.clone()),
                changed_at: Some(now),
                ..current
            },
        );
        Ok((
            vec![Event::StatusChanged {
                badge,
                status: next,
                reason,
                by,
                request_jti: request.map(|r| r.jti),
                at: now,
            }],
            Done::StatusChanged { status: next },
        ))
    }

    fn plan_add_auditor(
        &mut self,
        id: String,
        name: String,
        jwk: serde_json::Value,
        now: i64,
        batch: &mut Batch,
    ) -> Result<(Vec<Event>, Done), CommandError> {
        if !is_url_safe_id(&id, 64) {
            return Err(CommandError::AuditorId);
        }
        if !is_display_text(&name, MAX_TEXT) {
            return Err(CommandError::Text("the auditor's name"));
        }
        trustmark_core::PublicKey::from_jwk_json(jwk.to_string().as_bytes())
            .map_err(CommandError::AuditorKey)?;
        if !self.signer.demo && crate::keys::is_example_jwk(&jwk) {
            return Err(CommandError::ExampleKey);
        }
        if batch.auditors.contains_key(&id) || self.view.auditor(&id)?.is_some() {
            return Err(CommandError::AuditorExists);
        }
        batch.auditors.insert(id.clone(), true);
        Ok((
            vec![Event::AuditorAdded {
                id,
                name,
                jwk,
                at: now,
            }],
            Done::AuditorAdded,
        ))
    }
}
