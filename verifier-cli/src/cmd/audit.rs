//! `trustmark audit sign` and `trustmark audit submit`: an audit file in, a signed audit
//! statement out, and for `submit` the registry's badge or its reason for refusing one.
//!
//! A refusal is this command's answer, not a failure to run it, so it is printed here
//! (`error:`, the registry's reasons, `hint:`) and returned as exit status 1.

use crate::auditor::file::{self, Prepared};
use crate::auditor::registry::{self as api, Answer};
use crate::auditor::{self, key, AuditorError};
use crate::cli::{AuditCommand, AuditSignArgs, AuditSubmitArgs, AuditorArgs};
use crate::error::CliError;
use crate::{input, time, Status};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;
use trustmark_core::claims::{is_issuer_url, is_url_safe_id};
use trustmark_core::Catalogue;

pub fn run(
    command: &AuditCommand,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    match command {
        AuditCommand::Sign(args) => sign(args, out, err),
        AuditCommand::Submit(args) => submit(args, timeout, out, err),
    }
}

fn sign(
    args: &AuditSignArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let (token, _) = signed_statement(&args.auditor, &args.audit, err)?;
    crate::print_line(out, &token)?;
    Ok(Status::Valid)
}

/// Reads, checks and signs the audit file; warnings and notes go to `err`. Returns the
/// token and the site it is for.
fn signed_statement(
    who: &AuditorArgs,
    path: &Path,
    err: &mut impl Write,
) -> Result<(String, String), CliError> {
    let iss = auditor::auditor_id(&who.auditor)?;
    let shown_path = if path == Path::new("-") {
        Path::new("standard input")
    } else {
        path
    };
    let bytes = input::read_file(&path.to_string_lossy(), file::MAX_FILE)?.ok_or_else(|| {
        AuditorError::AuditFileTooLarge {
            path: shown_path.to_owned(),
        }
    })?;
    let catalogue = Catalogue::rcep_b2b_web_1().map_err(|_| CliError::Catalogue)?;
    // The file before the key: its problems are the likelier ones and need no secret.
    let prepared = file::prepare(&bytes, iss, auditor::fresh_jti()?, time::now(), &catalogue)
        .map_err(|source| AuditorError::AuditFile {
            path: shown_path.to_owned(),
            source,
        })?;
    let key = key::load(&who.key)?;
    tell(&prepared, err);
    let token = trustmark_core::sign::sign_audit_statement(&prepared.claims, &key)
        .map_err(AuditorError::from)?;
    Ok((token, prepared.claims.sub))
}

/// Normalised inputs and what the registry will refuse, before anything is signed.
fn tell(prepared: &Prepared, err: &mut impl Write) {
    use crate::report::shown;
    for (pointer, given, signed) in &prepared.normalised {
        let _ = writeln!(
            err,
            "note: {pointer} {} is signed as {signed}",
            shown(given)
        );
    }
    if !prepared.failing.is_empty() {
        let _ = writeln!(
            err,
            "warning: the registry will refuse this audit (/problems/indicators); required indicators fail:"
        );
        for shortfall in &prepared.failing {
            let _ = writeln!(err, "  {shortfall}");
        }
    }
    if let Some(end) = prepared.ended {
        let _ = writeln!(
            err,
            "warning: the registry will refuse this audit (/problems/audit-expired): audited_at + valid_days ended {}",
            time::rfc3339(end)
        );
    }
}

/// Characters that would break out of an HTML attribute; a URL from the registry is
/// pasted into the site's HTML, so it must hold none of them.
fn html_safe(url: &str) -> bool {
    !url.contains(['"', '\'', '<', '>', '&'])
}

/// The parts of a 201 answer that are printed, checked before they are.
struct Issued {
    id: String,
    page: String,
    base: String,
}

fn issued(body: &Value, url: &str) -> Result<Issued, AuditorError> {
    let unexpected = |what| AuditorError::Unexpected {
        url: url.to_owned(),
        status: 201,
        what,
    };
    let id = body["id"]
        .as_str()
        .filter(|id| is_url_safe_id(id, 40))
        .ok_or_else(|| unexpected("no usable badge id"))?;
    let page = body["ref"]
        .as_str()
        .ok_or_else(|| unexpected("no verification page"))?;
    // The page sits under the registry's public URL (the badges' iss), which may differ
    // from the address submitted to; the embed code must use the public one.
    let base = page
        .strip_suffix(&format!("/b/{id}"))
        .filter(|b| is_issuer_url(b) && html_safe(b))
        .ok_or_else(|| unexpected("a verification page that is not <registry>/b/<id>"))?;
    Ok(Issued {
        id: id.to_owned(),
        page: page.to_owned(),
        base: base.to_owned(),
    })
}

/// The embed code for a badge: the script and element, and the no-JavaScript fallback.
fn embed(base: &str, id: &str) -> (String, String, String) {
    (
        format!(r#"<script async src="{base}/badge.js"></script>"#),
        format!(r#"<trustmark-badge src="{base}/b/{id}/badge.jwt"></trustmark-badge>"#),
        format!(
            r#"<a href="{base}/b/{id}"><img src="{base}/b/{id}/badge.svg" alt="TrustMark"></a>"#
        ),
    )
}

fn submit(
    args: &AuditSubmitArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let registry = auditor::registry(args.registry.as_deref())?;
    let (token, site) = signed_statement(&args.auditor, &args.audit, err)?;
    let url = format!("{registry}/api/v1/badges");
    match api::post(timeout, &url, api::AUDIT_MEDIA, token)? {
        Answer::Done(mut body) => {
            let badge = issued(&body, &url)?;
            let (script, element, fallback) = embed(&badge.base, &badge.id);
            let text = if args.json {
                if let Some(members) = body.as_object_mut() {
                    members.insert(
                        "embed".into(),
                        json!({"script": script, "element": element, "fallback": fallback}),
                    );
                }
                body.to_string()
            } else {
                let score = body["score"]
                    .as_u64()
                    .map_or(String::new(), |s| format!(" (score {s}/100)"));
                format!(
                    "issued badge {id} for {site}{score}\nverification page: {page}\n\nEmbed it in the site's pages:\n{script}\n{element}\n\nWithout JavaScript:\n{fallback}",
                    id = badge.id,
                    page = badge.page,
                )
            };
            crate::print_line(out, &text)?;
            Ok(Status::Valid)
        }
        Answer::Problem(problem) => {
            if args.json {
                crate::print_line(out, &problem.document.to_string())?;
            }
            let _ = writeln!(err, "{}", api::describe(&problem, "audit statement"));
            Ok(problem.status())
        }
    }
}

#[cfg(test)]
mod tests {
    // What is pasted into a supplier's HTML comes only from a checked answer.
    use super::*;

    #[test]
    fn the_embed_code_uses_the_public_url_of_the_answer() {
        let body = json!({"id": "b_q3Xo0kM9Vd2mTj0PZ1y7Aw", "ref": "https://registry.example/b/b_q3Xo0kM9Vd2mTj0PZ1y7Aw"});
        let badge = issued(&body, "http://127.0.0.1:8700/api/v1/badges").unwrap();
        assert_eq!(badge.base, "https://registry.example");
        let (script, element, fallback) = embed(&badge.base, &badge.id);
        assert_eq!(
            script,
            r#"<script async src="https://registry.example/badge.js"></script>"#
        );
        assert_eq!(
            element,
            r#"<trustmark-badge src="https://registry.example/b/b_q3Xo0kM9Vd2mTj0PZ1y7Aw/badge.jwt"></trustmark-badge>"#
        );
        assert_eq!(
            fallback,
            r#"<a href="https://registry.example/b/b_q3Xo0kM9Vd2mTj0PZ1y7Aw"><img src="https://registry.example/b/b_q3Xo0kM9Vd2mTj0PZ1y7Aw/badge.svg" alt="TrustMark"></a>"#
        );
    }

    #[test]
    fn an_answer_that_could_inject_html_is_refused() {
        for body in [
            json!({"id": "b_1", "ref": "https://registry.example/x\"><script>/b/b_1"}),
            json!({"id": "b_1", "ref": "https://registry.example/b/b_2"}),
            json!({"id": "b 1", "ref": "https://registry.example/b/b 1"}),
            json!({"id": "b_1", "ref": "javascript:alert(1)/b/b_1"}),
            json!({"ref": "https://registry.example/b/b_1"}),
        ] {
            assert!(issued(&body, "u").is_err(), "{body}");
        }
    }
}
