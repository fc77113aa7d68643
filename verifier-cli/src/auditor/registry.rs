//! Signed requests to the registry and its answers: the success body, or an RFC 9457
//! problem document with a hint per problem type (docs/api.md).

use super::AuditorError;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::Status;
use serde_json::Value;

/// Largest answer read: a badge (8 KiB at most) in a small JSON object.
const MAX_ANSWER: usize = 256 * 1024;

/// The media type of an audit statement (SPEC 3.3).
pub const AUDIT_MEDIA: &str = "application/trustmark-audit+jwt";
/// The media type of a status change request (SPEC 3.4).
pub const STATUS_MEDIA: &str = "application/trustmark-status+jwt";

/// An RFC 9457 problem document from the registry.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// The problem type without its `/problems/` prefix, e.g. `replay`.
    pub kind: String,
    /// The short summary.
    pub title: String,
    /// What was wrong with this request.
    pub detail: String,
    /// The document as received, for `--json`.
    pub document: Value,
}

/// What the registry did with a request.
#[derive(Debug)]
pub enum Answer {
    /// Done: the success body (201 for an issuance, 200 for a status change).
    Done(Value),
    /// Not done, with the registry's reason.
    Problem(Problem),
}

impl Problem {
    /// Whether the registry judged the request (exit 1) rather than failing to decide
    /// (exit 2): server errors, timeouts and paths it does not have are "could not
    /// submit", since trying again or elsewhere may succeed.
    pub fn status(&self) -> Status {
        let undecided = self.status >= 500
            || self.status == 408
            || matches!(self.kind.as_str(), "not-found" | "method-not-allowed");
        if undecided {
            Status::Unknown
        } else {
            Status::Invalid
        }
    }

    /// The indicator lists of a `/problems/indicators` answer, as (list name, ids).
    pub fn indicator_lists(&self) -> Vec<(&str, Vec<&str>)> {
        let Some(lists) = self.document.get("indicators").and_then(Value::as_object) else {
            return Vec::new();
        };
        ["failing", "out_of_range", "missing", "unknown"]
            .into_iter()
            .filter_map(|name| {
                let ids: Vec<&str> = lists
                    .get(name)?
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .collect();
                (!ids.is_empty()).then_some((name, ids))
            })
            .collect()
    }

    /// What the auditor can do about it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.kind.as_str() {
            "indicators" => {
                "the registry issues badges only for passing audits: the site must fix what fails, then audit again"
            }
            "audit-expired" => {
                "audited_at + valid_days is already past: audit again, or ask for a longer valid_days (at most 400)"
            }
            "future-dated" => {
                "check this machine's clock (the registry allows 60 s) and that audited_at is not in the future"
            }
            "stale" => {
                "the request is more than 10 minutes old: sign it again (check this machine's clock if it was just signed)"
            }
            "replay" => {
                "sign again: every run of trustmark signs with a fresh jti, so a repeat means the same signed request was sent twice"
            }
            "unknown-auditor" => {
                "ask the registry operator to accredit you (give them your auditor id and the public JWK `trustmark keygen` printed), and check --auditor"
            }
            "auditor-suspended" => "your accreditation is suspended; contact the registry operator",
            "bad-signature" => {
                "sign with the key accredited for this auditor id (--key); a new key must first be given to the registry operator"
            }
            "invalid-claims" => {
                "the statement breaks a rule the registry checks (the detail says which); fix the audit file and submit again"
            }
            "not-issuing-auditor" => {
                "only the auditor who issued a badge can change it; the registry operator can act on any badge"
            }
            "operator-suspension" => {
                "the registry operator suspended this badge and only the operator can reinstate it; contact them"
            }
            "stale-request" => {
                "the badge changed in the second this request was signed or later; wait a second and run the command again"
            }
            "revoked-is-final" => "a revoked badge never changes again; a new audit gets a new badge",
            "no-change" => "the badge already has that status",
            "unknown-badge" => {
                "check the badge id: the last part of its page URL, .../b/<id>, and the id `audit submit` printed"
            }
            "badge-too-large" => "use fewer or shorter aliases",
            "unavailable" | "internal" | "timeout" => {
                "nothing was changed; try again later, or tell the registry operator if it persists"
            }
            "not-found" | "method-not-allowed" => {
                "is --registry the registry's issuer URL (as in its badges' iss), without /api/...?"
            }
            "media-type" | "malformed" | "wrong-type" | "bad-body" | "too-large"
            | "badge-mismatch" => {
                "the registry did not understand the request; check that --registry is a TrustMark registry this trustmark version speaks to"
            }
            _ => return None,
        })
    }
}

/// A current-thread runtime for one command's requests.
fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Reads a problem document; `None` when the answer is not one.
fn problem_of(status: u16, content_type: Option<&str>, body: &[u8]) -> Option<Problem> {
    let media = content_type?.split(';').next()?.trim();
    if !media.eq_ignore_ascii_case("application/problem+json") {
        return None;
    }
    let document: Value = serde_json::from_slice(body).ok()?;
    let text = |name: &str| {
        document
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let kind = text("type").strip_prefix("/problems/")?.to_owned();
    Some(Problem {
        status,
        kind,
        title: text("title"),
        detail: text("detail"),
        document,
    })
}

/// POSTs a signed request (`media` is its content type) to `url` and reads the answer.
pub fn post(timeout: u64, url: &str, media: &str, token: String) -> Result<Answer, CliError> {
    let fetcher = Fetcher::new(std::time::Duration::from_secs(timeout))?;
    let answer = runtime()?.block_on(fetcher.post(url, media, token, MAX_ANSWER))?;
    if answer.ok() {
        let body: Value =
            serde_json::from_slice(&answer.body).map_err(|_| AuditorError::Unexpected {
                url: url.to_owned(),
                status: answer.status,
                what: "a body that is not JSON",
            })?;
        return Ok(Answer::Done(body));
    }
    problem_of(answer.status, answer.content_type.as_deref(), &answer.body)
        .map(Answer::Problem)
        .ok_or_else(|| {
            AuditorError::Unexpected {
                url: url.to_owned(),
                status: answer.status,
                what: "something other than a problem document",
            }
            .into()
        })
}

/// The refusal as shown on standard error: `error:` with the title and detail, the
/// indicator lists of an indicators problem, and a `hint:`.
pub fn describe(problem: &Problem, what: &str) -> String {
    use crate::report::shown;
    let mut text = format!(
        "error: the registry refused the {what}: {} ({} /problems/{})",
        shown(&problem.title),
        problem.status,
        shown(&problem.kind)
    );
    if !problem.detail.is_empty() {
        text.push_str(&format!("\n  {}", shown(&problem.detail)));
    }
    for (name, ids) in problem.indicator_lists() {
        text.push_str(&format!(
            "\n  {}: {}",
            name.replace('_', " "),
            shown(&ids.join(", "))
        ));
    }
    if let Some(hint) = problem.hint() {
        text.push_str(&format!("\nhint: {hint}"));
    }
    text
}

#[cfg(test)]
mod tests {
    // Problem documents are read, classified for the exit code and explained.
    use super::*;
    use serde_json::json;

    fn problem(status: u16, kind: &str, extra: Value) -> Problem {
        let mut doc = json!({"type": format!("/problems/{kind}"), "title": "T", "status": status, "detail": "D"});
        if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        problem_of(
            status,
            Some("application/problem+json; charset=utf-8"),
            doc.to_string().as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn refusals_exit_1_and_undecided_answers_exit_2() {
        for (status, kind) in [
            (422, "indicators"),
            (403, "unknown-auditor"),
            (409, "replay"),
            (409, "stale-request"),
            (403, "operator-suspension"),
            (404, "unknown-badge"),
        ] {
            assert_eq!(
                problem(status, kind, json!({})).status(),
                Status::Invalid,
                "{kind}"
            );
        }
        for (status, kind) in [
            (503, "unavailable"),
            (500, "internal"),
            (408, "timeout"),
            (404, "not-found"),
            (405, "method-not-allowed"),
        ] {
            assert_eq!(
                problem(status, kind, json!({})).status(),
                Status::Unknown,
                "{kind}"
            );
        }
    }

    #[test]
    fn every_documented_auditor_problem_has_a_hint() {
        for kind in [
            "indicators",
            "audit-expired",
            "future-dated",
            "stale",
            "replay",
            "unknown-auditor",
            "auditor-suspended",
            "bad-signature",
            "invalid-claims",
            "not-issuing-auditor",
            "operator-suspension",
            "stale-request",
            "revoked-is-final",
            "no-change",
            "unknown-badge",
            "badge-too-large",
            "unavailable",
            "internal",
            "timeout",
            "not-found",
            "media-type",
            "malformed",
        ] {
            assert!(problem(400, kind, json!({})).hint().is_some(), "{kind}");
        }
        let hint = |k| problem(400, k, json!({})).hint().unwrap();
        assert!(hint("future-dated").contains("clock"));
        assert!(hint("replay").contains("sign again"));
        assert!(hint("unknown-auditor").contains("accredit"));
        assert!(hint("stale-request").contains("wait a second"));
        assert!(hint("operator-suspension").contains("only the operator"));
    }

    #[test]
    fn an_indicators_problem_lists_each_failing_id() {
        let p = problem(
            422,
            "indicators",
            json!({"indicators": {"missing": [], "unknown": [], "out_of_range": ["site_availability"],
                   "failing": ["multilingual_parameter_deviation", "tls_configuration"]}}),
        );
        let text = describe(&p, "audit statement");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "error: the registry refused the audit statement: T (422 /problems/indicators)"
        );
        assert_eq!(lines[1], "  D");
        assert_eq!(
            lines[2],
            "  failing: multilingual_parameter_deviation, tls_configuration"
        );
        assert_eq!(lines[3], "  out of range: site_availability");
        assert!(lines[4].starts_with("hint: "));
    }

    #[test]
    fn registry_text_cannot_drive_the_terminal() {
        let doc =
            json!({"type": "/problems/replay", "title": "a\u{1b}[2Kb", "detail": "\u{202e}x"});
        let p = problem_of(
            409,
            Some("application/problem+json"),
            doc.to_string().as_bytes(),
        )
        .unwrap();
        let text = describe(&p, "request");
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text}"
        );
    }

    #[test]
    fn only_problem_documents_are_problems() {
        assert!(problem_of(400, Some("text/html"), b"{}").is_none());
        assert!(problem_of(400, None, b"{}").is_none());
        assert!(problem_of(
            400,
            Some("application/problem+json"),
            b"{\"type\":\"about:blank\"}"
        )
        .is_none());
        assert!(problem_of(400, Some("application/problem+json"), b"not json").is_none());
    }
}
