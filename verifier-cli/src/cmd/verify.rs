//! `trustmark verify`: one badge, offline.

use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::{input, report, time, Status};
use std::io::Write;
use trustmark_core::jws::{MAX_STATUS_LIST_TOKEN_LEN, MAX_TOKEN_LEN};
use trustmark_core::{origin, Catalogue, Jwks, OriginPolicy, Outcome, Reason, Verdict, Verifier};

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

pub fn load_jwks(path: &std::path::Path) -> Result<Jwks, CliError> {
    let text =
        input::read_file(&path.to_string_lossy(), 1024 * 1024)?.ok_or_else(|| CliError::Read {
            path: path.to_owned(),
            source: std::io::Error::other("larger than 1 MiB"),
        })?;
    Jwks::parse(&text).map_err(|source| CliError::Jwks {
        path: path.to_owned(),
        source,
    })
}

pub fn run(
    args: &VerifyArgs,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let (Some(jwks_path), Some(issuer)) = (&args.jwks, &args.issuer) else {
        return Err(CliError::Usage(
            "offline verification needs --jwks FILE and --issuer URL",
        ));
    };
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
    let catalogue = Catalogue::rcep_b2b_web_1().map_err(|_| CliError::Catalogue)?;
    let mut verifier = Verifier::new(issuer.clone(), load_jwks(jwks_path)?, catalogue);
    for path in &args.status_lists {
        let text = input::read_file(&path.to_string_lossy(), MAX_STATUS_LIST_TOKEN_LEN + 1024)?;
        let text = text
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        if let Err(problem) = verifier.add_status_list(text.trim()) {
            // The verdict reflects it; the warning says which file was at fault.
            let _ = writeln!(err, "warning: status list {}: {problem}", path.display());
        }
    }

    let outcome = match &token.text {
        Some(t) => {
            let policy = origin.as_deref().map_or(OriginPolicy::Ignore, OriginPolicy::Require);
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
