//! `trustmark verify`: one badge token, or every badge a site carries, against files, a
//! bundle or a registry.

use crate::cache::Cache;
use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::online::Online;
use crate::site::{self, MAX_BADGES};
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

/// What checks the badges: a verifier built from local files, or a registry over the
/// network with its cache.
enum Checker<'a> {
    Offline(Verifier),
    Online(Online<'a>),
}

impl Checker<'_> {
    async fn verify(
        &mut self,
        token: &str,
        origin: OriginPolicy<'_>,
        at: i64,
        warn: &mut dyn Write,
    ) -> Outcome {
        match self {
            Checker::Offline(verifier) => verifier.verify(token, origin, at),
            Checker::Online(online) => online.verify(token, origin, at, warn).await,
        }
    }
}

/// How good a verdict is for a site carrying several badges: valid beats could not
/// check, which beats checked and not valid (a badge that could not be checked may
/// still turn out valid; one found invalid will not).
fn rank(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Valid => 0,
        Verdict::Unknown => 1,
        Verdict::Invalid => 2,
    }
}

fn fetcher(timeout: u64) -> Result<Fetcher, CliError> {
    Ok(Fetcher::new(std::time::Duration::from_secs(timeout))?)
}

/// The checker of `source`; a registry's keys are fetched (or read from the cache) now.
async fn checker<'a>(
    source: &Source,
    fetcher: Option<&'a Fetcher>,
    mut err: &mut dyn Write,
) -> Result<Checker<'a>, CliError> {
    match (source, fetcher) {
        (Source::Registry(issuer), Some(fetcher)) => Ok(Checker::Online(
            Online::connect(fetcher, issuer, Cache::from_env(), err).await?,
        )),
        // Never reached (callers pass a fetcher for a registry); an error, not a nested
        // runtime.
        (Source::Registry(_), None) => Err(CliError::Usage("a registry source needs the network")),
        (local, _) => Ok(Checker::Offline(verifier(local, 0, 0, &mut err)?)),
    }
}

fn print_outcome(
    out: &mut impl Write,
    json: bool,
    outcome: &Outcome,
    origin: Option<&str>,
    found: Option<&str>,
) -> Result<(), CliError> {
    let text = match (json, found) {
        (true, _) => report::json(outcome, origin),
        (false, None) => report::human(outcome, origin),
        (false, Some(found)) => report::human_found(outcome, origin, Some(found)),
    };
    crate::print_line(out, &text)
}

pub fn run(
    args: &VerifyArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let source =
        trust::source(&args.trust, crate::config::default_registry()?)?.ok_or(CliError::NoTrust)?;
    let at = match &args.at {
        Some(t) => time::parse_at(t)?,
        None => time::now(),
    };
    if input::looks_like_site(&args.input) {
        if args.origin.is_some() || args.ignore_origin {
            return Err(CliError::Usage(
                "a site is checked against its own origin: drop --origin and --ignore-origin",
            ));
        }
        return run_site(args, &source, timeout, at, out, err);
    }
    let origin = match (&args.origin, args.ignore_origin) {
        (Some(o), false) => Some(origin::canonicalize(o).map_err(CliError::Origin)?),
        (None, true) => None,
        _ => {
            return Err(CliError::Usage(
                "give exactly one of --origin ORIGIN and --ignore-origin",
            ))
        }
    };
    let token = input::token(&args.input, READ_CAP)?;
    let fetcher = match source {
        Source::Registry(_) => Some(fetcher(timeout)?),
        _ => None,
    };
    let outcome = runtime()?.block_on(async {
        let mut checker = checker(&source, fetcher.as_ref(), err).await?;
        Ok::<_, CliError>(match &token.text {
            Some(t) => {
                let policy = origin
                    .as_deref()
                    .map_or(OriginPolicy::Ignore, OriginPolicy::Require);
                checker.verify(t, policy, at, err).await
            }
            None => Outcome {
                reason: Reason::Malformed,
                claims: None,
                detail: Some(format!("the input is larger than {READ_CAP} bytes or not UTF-8 text (a badge is at most {MAX_TOKEN_LEN})")),
            },
        })
    })?;
    print_outcome(out, args.json, &outcome, origin.as_deref(), None)?;
    Ok(status_for(outcome.verdict()))
}

/// A site: every badge found is checked against the site's own origin and reported;
/// the exit status is the best verdict's, `no_badge_found` when there is none.
fn run_site(
    args: &VerifyArgs,
    source: &Source,
    timeout: u64,
    at: i64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let fetcher = fetcher(timeout)?;
    runtime()?.block_on(async {
        // Local trust sources are read first: a broken bundle is reported before the
        // site is fetched at all.
        let mut offline = match source {
            Source::Registry(_) => None,
            local => Some(checker(local, None, err).await?),
        };
        let site = site::discover(&fetcher, &args.input).await?;
        let origin = site.origin.as_str();
        if site.ignored > 0 {
            let _ = writeln!(
                err,
                "warning: {} more badge(s) on the site were not checked (at most {MAX_BADGES} are)",
                site.ignored
            );
        }
        if site.found.is_empty() {
            let outcome = Outcome {
                reason: Reason::NoBadgeFound,
                claims: None,
                detail: Some(format!("looked at {}", site.looked.join(", "))),
            };
            print_outcome(out, args.json, &outcome, Some(origin), None)?;
            return Ok(status_for(outcome.verdict()));
        }
        let mut checker = match offline.take() {
            Some(c) => c,
            None => checker(source, Some(&fetcher), err).await?,
        };
        let mut best = Verdict::Invalid;
        for found in &site.found {
            let outcome = checker
                .verify(&found.token, OriginPolicy::Require(origin), at, err)
                .await;
            print_outcome(
                out,
                args.json,
                &outcome,
                Some(origin),
                Some(&found.describe()),
            )?;
            if rank(outcome.verdict()) < rank(best) {
                best = outcome.verdict();
            }
        }
        Ok(status_for(best))
    })
}
