//! `trustmark verify`: one badge token, or every badge a site carries, against files, a
//! bundle or a registry.

use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::trust::{self, Source};
use crate::{input, report, time, Status};
use std::io::Write;
use trustmark_core::jws::MAX_TOKEN_LEN;
use trustmark_core::{origin, OriginPolicy, Outcome, Reason, Verdict, Verifier};

/// Reading stops here; anything longer than a token's cap is malformed either way.
const READ_CAP: usize = 64 * 1024;

/// The exit status for a verdict (SPEC 5).
pub fn status_for(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Valid => Status::Valid,
        Verdict::Invalid => Status::Invalid,
        Verdict::Unknown => Status::Unknown,
    }
}

/// A current-thread runtime for the network calls of one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// The verifier of any source; a registry is fetched now.
pub fn verifier(
    source: &Source,
    timeout: u64,
    now: i64,
    err: &mut impl Write,
) -> Result<Verifier, CliError> {
    match source {
        Source::Registry(issuer) => {
            let fetcher = crate::fetch::Fetcher::new(std::time::Duration::from_secs(timeout))?;
            let bundle = runtime()?.block_on(trust::fetch_registry(&fetcher, issuer, now))?;
            trust::verifier_of(&bundle, err)
        }
        local => trust::load_offline(local, err),
    }
}

pub fn run(
    args: &VerifyArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let source =
        trust::source(&args.trust, crate::config::default_registry()?)?.ok_or(CliError::NoTrust)?;
    let origin = match (&args.origin, args.ignore_origin) {
        (Some(o), false) => Some(origin::canonicalize(o).map_err(CliError::Origin)?),
        (None, true) => None,
        _ => {
            return Err(CliError::Usage(
                "give exactly one of --origin ORIGIN and --ignore-origin",
            ))
        }
    };
    let at = match &args.at {
        Some(t) => time::parse_at(t)?,
        None => time::now(),
    };
    let token = input::token(&args.input, READ_CAP)?;
    let verifier = verifier(&source, timeout, time::now(), err)?;

    let outcome = match &token.text {
        Some(t) => {
            let policy = origin
                .as_deref()
                .map_or(OriginPolicy::Ignore, OriginPolicy::Require);
            verifier.verify(t, policy, at)
        }
        None => Outcome {
            reason: Reason::Malformed,
            claims: None,
            detail: Some(format!("the input is larger than {READ_CAP} bytes or not UTF-8 text (a badge is at most {MAX_TOKEN_LEN})")),
        },
    };
    let text = if args.json {
        report::json(&outcome, origin.as_deref())
    } else {
        report::human(&outcome, origin.as_deref())
    };
    crate::print_line(out, &text)?;
    Ok(status_for(outcome.verdict()))
}
