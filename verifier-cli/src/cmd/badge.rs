//! `trustmark badge revoke|suspend|reinstate ID`: a status change request (SPEC 3.4)
//! signed by the issuing auditor and sent to the registry.
//!
//! As for `audit submit`, a refusal is the command's answer: printed here, exit status 1.

use crate::auditor::registry::{self as api, Answer};
use crate::auditor::{self, key, AuditorError};
use crate::cli::{BadgeChangeArgs, BadgeCommand};
use crate::error::CliError;
use crate::{time, Status};
use std::io::Write;
use trustmark_core::claims::{is_display_text, is_url_safe_id, Action};
use trustmark_core::StatusChangeClaims;

/// The words the registry answers with (docs/api.md).
const STATUSES: [&str; 3] = ["valid", "suspended", "revoked"];

pub fn run(
    command: &BadgeCommand,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let (action, args) = match command {
        BadgeCommand::Revoke(a) => (Action::Revoke, a),
        BadgeCommand::Suspend(a) => (Action::Suspend, a),
        BadgeCommand::Reinstate(a) => (Action::Reinstate, a),
    };
    change(action, args, timeout, out, err)
}

fn change(
    action: Action,
    args: &BadgeChangeArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let registry = auditor::registry(args.registry.as_deref())?;
    let iss = auditor::auditor_id(&args.auditor.auditor)?;
    if !is_url_safe_id(&args.id, 40) {
        return Err(AuditorError::BadgeId(args.id.clone()).into());
    }
    // The reason is public on the badge's page; the registry refuses what core refuses.
    if !is_display_text(&args.reason, 200) {
        return Err(AuditorError::Reason.into());
    }
    let key = key::load(&args.auditor.key)?;
    let claims = StatusChangeClaims {
        iss: iss.to_owned(),
        iat: time::now(),
        jti: auditor::fresh_jti()?,
        badge: args.id.clone(),
        action,
        reason: args.reason.clone(),
    };
    let token =
        trustmark_core::sign::sign_status_change(&claims, &key).map_err(AuditorError::from)?;
    let url = format!("{registry}/api/v1/badges/{}/status", args.id);
    match api::post(timeout, &url, api::STATUS_MEDIA, token)? {
        Answer::Done(body) => {
            let status = body["status"]
                .as_str()
                .filter(|s| STATUSES.contains(s) && body["id"] == args.id.as_str())
                .ok_or_else(|| AuditorError::Unexpected {
                    url: url.clone(),
                    status: 200,
                    what: "an answer without the badge's new status",
                })?;
            let text = if args.json {
                body.to_string()
            } else {
                format!("{} is now {status}", args.id)
            };
            crate::print_line(out, &text)?;
            Ok(Status::Valid)
        }
        Answer::Problem(problem) => {
            if args.json {
                crate::print_line(out, &problem.document.to_string())?;
            }
            let _ = writeln!(err, "{}", api::describe(&problem, "status change"));
            Ok(problem.status())
        }
    }
}
