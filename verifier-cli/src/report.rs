//! Output: one human line per badge with its key facts, or one JSON object per badge
//! (`{"verdict","reason","badge","origin"}`, SPEC 5).

use crate::time;
use serde::Serialize;
use std::borrow::Cow;
use trustmark_core::claims::is_deceptive;
use trustmark_core::{BadgeClaims, Outcome, Reason, Verdict};

/// One `--json` object; a struct so the members come out in the documented order.
#[derive(Serialize)]
struct Report<'a> {
    verdict: Verdict,
    reason: &'static str,
    badge: Option<&'a BadgeClaims>,
    origin: Option<&'a str>,
}

/// The JSON text for one badge.
pub fn json(outcome: &Outcome, origin: Option<&str>) -> String {
    let report = Report {
        verdict: outcome.verdict(),
        reason: outcome.reason.code(),
        badge: outcome.claims.as_ref(),
        origin,
    };
    serde_json::to_string(&report).unwrap_or_default()
}

/// Whether human output may be coloured: set once by `main` (standard output is a
/// terminal and `NO_COLOR` is not set).
static COLOUR: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns colour on or off for [`human`] output.
pub fn set_colour(on: bool) {
    COLOUR.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// The verdict line in its colour (green valid, red not valid, yellow could not check),
/// or plain when colour is off. The words carry the verdict either way.
fn paint(line: &str, verdict: Verdict) -> String {
    if !COLOUR.load(std::sync::atomic::Ordering::Relaxed) {
        return line.to_owned();
    }
    let colour = match verdict {
        Verdict::Valid => anstyle::AnsiColor::Green,
        Verdict::Invalid => anstyle::AnsiColor::Red,
        Verdict::Unknown => anstyle::AnsiColor::Yellow,
    };
    let style = anstyle::Style::new().bold().fg_color(Some(colour.into()));
    format!("{}{line}{}", style.render(), style.render_reset())
}

/// Whether a stream may carry colour: a terminal, and `NO_COLOR` unset or empty.
pub fn colour_for(terminal: bool) -> bool {
    terminal
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

fn headline(reason: Reason) -> &'static str {
    match reason {
        Reason::Valid => "VALID",
        Reason::Expired => "NOT VALID: expired",
        Reason::NotYetValid => "NOT VALID: not yet valid",
        Reason::Revoked => "NOT VALID: revoked",
        Reason::Suspended => "NOT VALID: suspended",
        Reason::OriginMismatch => "NOT VALID: issued for another site",
        Reason::BadSignature => "NOT VALID: signature does not verify",
        Reason::UnknownKey => "NOT VALID: not signed by a trusted key",
        Reason::UntrustedIssuer => "NOT VALID: issued by an untrusted registry",
        Reason::WrongType => "NOT VALID: not a badge token",
        Reason::Malformed => "NOT VALID: malformed",
        Reason::StatusUnavailable => "COULD NOT CHECK: status list unavailable",
        Reason::StatusInvalid => "COULD NOT CHECK: status list failed verification",
        Reason::StatusOutOfRange => "NOT VALID: status index out of range",
        Reason::NoBadgeFound => "NOT VALID: no badge found",
    }
}

/// The status as far as it was established.
fn status_word(reason: Reason) -> &'static str {
    match reason {
        Reason::Valid => "valid",
        Reason::Revoked => "revoked",
        Reason::Suspended => "suspended",
        Reason::StatusUnavailable | Reason::StatusInvalid | Reason::StatusOutOfRange => "unknown",
        _ => "not checked",
    }
}

/// Claim text made safe for a terminal: every control, format (bidi, zero-width) and
/// line-separator character is written as `\u{XXXX}`, so a token cannot move the
/// cursor, recolour or reorder the verdict line it is printed under.
pub fn shown(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_deceptive) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_deceptive(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Human text: the verdict line, the key facts, and the detail if any.
pub fn human(outcome: &Outcome, origin: Option<&str>) -> String {
    human_found(outcome, origin, None)
}

/// Whether the checks failed before the token's text was shown to come from a trusted
/// registry (key, signature and issuer come first in SPEC 5's order).
fn unvouched(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::Malformed
            | Reason::WrongType
            | Reason::UnknownKey
            | Reason::BadSignature
            | Reason::UntrustedIssuer
    )
}

/// Human text for a badge found on a site: as [`human`], with where it was found.
pub fn human_found(outcome: &Outcome, origin: Option<&str>, found: Option<&str>) -> String {
    let verdict_line = format!("{} ({})", headline(outcome.reason), outcome.reason.code());
    let mut out = paint(&verdict_line, outcome.verdict());
    if let Some(c) = &outcome.claims {
        // A forged token can name any company: say so before its text is shown.
        if unvouched(outcome.reason) {
            out.push_str("\n  note:     not vouched for by a trusted registry; the details below are only what the token claims");
        }
        out.push_str(&format!("\n  site:     {}", shown(&c.sub)));
        if !c.aliases.is_empty() {
            out.push_str(&format!(" (also {})", shown(&c.aliases.join(", "))));
        }
        out.push_str(&format!(
            "\n  org:      {} ({})",
            shown(&c.org.name),
            shown(&c.org.country)
        ));
        out.push_str(&format!(
            "\n  score:    {}/100, audited {} by {}",
            c.audit.score,
            time::date(c.audit.at),
            shown(&c.auditor)
        ));
        out.push_str(&format!(
            "\n  valid:    {} to {}",
            time::date(c.iat),
            time::date(c.exp)
        ));
        out.push_str(&format!("\n  status:   {}", status_word(outcome.reason)));
        out.push_str(&format!(
            "\n  badge:    {} ({})",
            shown(&c.jti),
            shown(&c.reference)
        ));
    }
    if let Some(o) = origin {
        out.push_str(&format!("\n  checked:  for {}", shown(o)));
    }
    if let Some(f) = found {
        out.push_str(&format!("\n  found:    {}", shown(f)));
    }
    if let Some(d) = &outcome.detail {
        out.push_str(&format!("\n  detail:   {}", shown(d)));
    }
    debug_assert!(outcome.verdict() != Verdict::Valid || outcome.detail.is_none());
    out
}

#[cfg(test)]
mod tests {
    // Text from a token never reaches the terminal raw.
    use super::*;

    #[test]
    fn control_and_format_characters_are_escaped() {
        assert_eq!(shown("Example Co."), "Example Co.");
        assert_eq!(shown("Tōkyō 株式会社"), "Tōkyō 株式会社");
        assert_eq!(
            shown("a\u{1b}[2Kb\u{202e}c\u{200b}d\nе\u{2028}"),
            "a\\u{001b}[2Kb\\u{202e}c\\u{200b}d\\u{000a}е\\u{2028}"
        );
    }
}
