//! Checking units of verify-bulk input: offline batches on the worker threads, sites on
//! the network runtime. Each unit comes back as encoded records plus its tally, so the
//! writer only copies bytes and adds counts.

use super::lines::{self, Columns, Line, Mode, Text, Unit};
use super::record::{Encoder, Finding, Kind, LineError, Record, Tally};
use crate::cli::BulkFormat;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::site;
use std::sync::Arc;
use trustmark_core::{origin, OriginPolicy, Outcome, Reason, Verdict, Verifier};

/// What every check needs, shared by the workers and the site tasks.
pub struct Context {
    pub verifier: Verifier,
    /// Verification time (unix seconds).
    pub at: i64,
    pub ignore_origin: bool,
    pub format: BulkFormat,
    pub fetcher: Fetcher,
    /// Bounds the sites fetched at once (`--concurrency`).
    pub sites: tokio::sync::Semaphore,
}

/// A checked unit: its records, encoded, and their counts.
pub struct Done {
    pub output: Vec<u8>,
    pub tally: Tally,
    /// Input bytes the unit accounts for (for the progress bar).
    pub bytes: u64,
}

/// Collects the records of one unit.
struct Sink {
    encoder: Encoder,
    tally: Tally,
}

impl Sink {
    fn new(format: BulkFormat, capacity: usize) -> Self {
        Sink {
            encoder: Encoder::new(format, capacity),
            tally: Tally::default(),
        }
    }

    fn push(&mut self, record: &Record<'_>, finding: Finding) -> Result<(), CliError> {
        self.tally.add(finding);
        self.encoder.push(record)
    }

    fn outcome(
        &mut self,
        line: u64,
        kind: Kind,
        input: &str,
        outcome: &Outcome,
        origin: Option<&str>,
        badges_found: usize,
    ) -> Result<(), CliError> {
        let finding = Finding::Reason(outcome.reason);
        let record = Record::new(
            line,
            kind,
            input,
            finding,
            origin,
            Some(badges_found),
            outcome.detail.as_deref(),
            outcome.claims.as_ref(),
        );
        self.push(&record, finding)
    }

    fn error(
        &mut self,
        line: u64,
        kind: Kind,
        input: &str,
        error: LineError,
        origin: Option<&str>,
        detail: &str,
    ) -> Result<(), CliError> {
        let finding = Finding::Error(error);
        let record = Record::new(line, kind, input, finding, origin, None, Some(detail), None);
        self.push(&record, finding)
    }

    fn done(self, bytes: u64) -> Result<Done, CliError> {
        Ok(Done {
            output: self.encoder.finish()?,
            tally: self.tally,
            bytes,
        })
    }
}

fn malformed(detail: String) -> Outcome {
    Outcome {
        reason: Reason::Malformed,
        claims: None,
        detail: Some(detail),
    }
}

/// Checks a token against `origin` (canonical) or without one.
fn token(ctx: &Context, token: &str, origin: Option<&str>) -> Outcome {
    let policy = origin.map_or(OriginPolicy::Ignore, OriginPolicy::Require);
    ctx.verifier.verify(token, policy, ctx.at)
}

/// One offline line: a plain token line or a CSV row.
fn offline_line(ctx: &Context, mode: Mode, line: &Line, sink: &mut Sink) -> Result<(), CliError> {
    let n = line.number;
    let text = match &line.text {
        Text::Line(text) => text,
        Text::Oversize(head) => {
            let why = format!(
                "the line is longer than {} bytes (a badge is at most {})",
                lines::MAX_LINE,
                trustmark_core::jws::MAX_TOKEN_LEN
            );
            return sink.outcome(n, Kind::Token, head, &malformed(why), None, 1);
        }
        Text::NotUtf8(lossy) => {
            let why = "the line is not UTF-8 text".to_owned();
            return sink.outcome(n, Kind::Token, lossy, &malformed(why), None, 1);
        }
    };
    match mode {
        Mode::Plain if ctx.ignore_origin => {
            sink.outcome(n, Kind::Token, text, &token(ctx, text, None), None, 1)
        }
        Mode::Plain => sink.error(
            n,
            Kind::Token,
            text,
            LineError::OriginRequired,
            None,
            "a token line names no origin to check it against",
        ),
        Mode::Csv(columns) => csv_row(ctx, columns, n, text, sink),
    }
}

fn csv_row(
    ctx: &Context,
    columns: Columns,
    n: u64,
    text: &str,
    sink: &mut Sink,
) -> Result<(), CliError> {
    let fields = lines::csv_fields(text);
    let field = |i: usize| fields.as_ref().and_then(|f| f.get(i)).map(str::trim);
    let (Some(given_origin), Some(tok)) = (field(columns.origin), field(columns.token)) else {
        let why = "the row lacks the origin or the token column of the header";
        return sink.error(n, Kind::Token, text, LineError::BadCsv, None, why);
    };
    if given_origin.is_empty() {
        if ctx.ignore_origin {
            return sink.outcome(n, Kind::Token, text, &token(ctx, tok, None), None, 1);
        }
        let why = "the row's origin is empty";
        return sink.error(n, Kind::Token, text, LineError::OriginRequired, None, why);
    }
    match origin::canonicalize(given_origin) {
        Ok(o) => sink.outcome(
            n,
            Kind::Token,
            text,
            &token(ctx, tok, Some(&o)),
            Some(&o),
            1,
        ),
        Err(e) => {
            let why = format!("'{given_origin}' is not a site origin: {e}");
            sink.error(n, Kind::Token, text, LineError::BadOrigin, None, &why)
        }
    }
}

/// Checks a batch of offline lines (on a worker thread).
fn offline(ctx: &Context, mode: Mode, lines: &[Line], bytes: u64) -> Result<Done, CliError> {
    // A record echoes its line and adds the claims: about twice the line, plus a little.
    let capacity = lines
        .iter()
        .map(|l| match &l.text {
            Text::Line(t) | Text::Oversize(t) | Text::NotUtf8(t) => 2 * t.len() + 1024,
        })
        .sum();
    let mut sink = Sink::new(ctx.format, capacity);
    for line in lines {
        offline_line(ctx, mode, line, &mut sink)?;
    }
    sink.done(bytes)
}

/// How good a verdict is for the site: valid first; then unknown, which a fresh status
/// list may still turn valid; invalid last.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Valid => 0,
        Verdict::Unknown => 1,
        Verdict::Invalid => 2,
    }
}

/// Looks a site up and checks every badge it carries; the record reports the best one
/// (the first in discovery order among equals) and how many were found.
async fn site(ctx: &Context, line: &Line, text: &str, bytes: u64) -> Result<Done, CliError> {
    let mut sink = Sink::new(ctx.format, 4096);
    let n = line.number;
    let found = {
        // A closed semaphore cannot happen (it is never closed); then fetch unbounded.
        let _permit = ctx.sites.acquire().await.ok();
        site::discover(&ctx.fetcher, text).await
    };
    match found {
        Ok(found) => {
            let origin = found.origin.as_str();
            let outcomes: Vec<Outcome> = found
                .found
                .iter()
                .map(|f| token(ctx, &f.token, Some(origin)))
                .collect();
            let none = Outcome {
                reason: Reason::NoBadgeFound,
                claims: None,
                detail: Some(format!("looked at {}", found.looked.join(", "))),
            };
            let mut best = outcomes
                .iter()
                .min_by_key(|o| rank(o.verdict()))
                .unwrap_or(&none)
                .clone();
            if found.ignored > 0 {
                // Said in the record, as `verify` warns: the verdict rests on the first ones.
                let more = format!(
                    "{} more badge(s) on the site were not checked (at most {} are)",
                    found.ignored,
                    site::MAX_BADGES
                );
                best.detail = Some(match best.detail {
                    Some(d) => format!("{d}; {more}"),
                    None => more,
                });
            }
            sink.outcome(n, Kind::Site, text, &best, Some(origin), outcomes.len())?;
        }
        Err(CliError::Origin(e)) => {
            let why = format!("'{text}' is not a site origin: {e}");
            sink.error(n, Kind::Site, text, LineError::BadOrigin, None, &why)?;
        }
        Err(e @ CliError::SiteUrl(_)) => {
            sink.error(
                n,
                Kind::Site,
                text,
                LineError::BadOrigin,
                None,
                &e.to_string(),
            )?;
        }
        Err(e) => {
            let origin = origin::canonicalize(text).ok();
            let why = e.to_string();
            sink.error(
                n,
                Kind::Site,
                text,
                LineError::FetchFailed,
                origin.as_deref(),
                &why,
            )?;
        }
    }
    sink.done(bytes)
}

/// Checks one unit: an offline batch on the worker pool (every core), a site here.
pub async fn unit(ctx: Arc<Context>, unit: Unit) -> Result<Done, CliError> {
    match unit {
        Unit::Offline { mode, lines, bytes } => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            rayon::spawn(move || {
                // The receiver is gone only when the run already stopped.
                let _ = tx.send(offline(&ctx, mode, &lines, bytes));
            });
            rx.await.map_err(|_| CliError::BulkWorker)?
        }
        Unit::Site { line, text, bytes } => site(&ctx, &line, &text, bytes).await,
    }
}
