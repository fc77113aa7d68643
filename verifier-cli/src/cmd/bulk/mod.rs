//! `trustmark verify-bulk FILE|-`: one record per input line, in input order.
//!
//! The pipeline, with memory bounded whatever the input size:
//! 1. a reader thread splits the input into lines (capped at 64 KiB each) and groups
//!    them into units — a batch of up to 128 offline lines (tokens, CSV rows), or one
//!    site line — sent over a bounded channel;
//! 2. units are checked with at most [`window`] in flight, and their results taken in
//!    input order (`StreamExt::buffered`): offline batches on the rayon pool, one
//!    thread per core; sites on this thread's async runtime, at most `--concurrency`
//!    fetched at once;
//! 3. this thread writes each unit's encoded records as soon as every unit before it
//!    is written, adds its counts to the summary and moves the progress bar.

mod check;
mod lines;
mod record;

use crate::cli::BulkArgs;
use crate::error::CliError;
use crate::{trust, Status};
use check::{Context, Done};
use futures_util::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use record::{Encoder, Tally};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Units waiting for the checkers beyond those in flight.
const QUEUE: usize = 4;

/// Units in flight: every allowed site fetch, plus two batches per worker so no core
/// waits for the next batch while the writer catches up.
fn window(concurrency: usize) -> usize {
    concurrency + 2 * rayon::current_num_threads()
}

/// The input to read.
struct Input {
    reader: Box<dyn Read + Send>,
    /// A regular file's size: the progress bar's length.
    size: Option<u64>,
    /// What to call it in messages.
    path: PathBuf,
}

fn open(arg: &str) -> Result<Input, CliError> {
    if arg == "-" {
        return Ok(Input {
            reader: Box::new(std::io::stdin()),
            size: None,
            path: PathBuf::from("standard input"),
        });
    }
    let path = PathBuf::from(arg);
    let file = std::fs::File::open(&path).map_err(|source| CliError::Read {
        path: path.clone(),
        source,
    })?;
    let size = file
        .metadata()
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    Ok(Input {
        reader: Box::new(file),
        size,
        path,
    })
}

/// A progress bar on standard error only when it is a terminal; hidden otherwise, so
/// logs and pipes get nothing but the summary.
fn progress(size: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match size {
        Some(len) => (
            ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr()),
            "{wide_bar} {percent:>3}% {msg} [{elapsed_precise}, eta {eta}]",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{spinner} {msg} [{elapsed_precise}]",
        ),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// Writes bytes; `Ok(false)` when the reader of standard output has gone away, which
/// ends the run quietly.
fn write(out: &mut impl Write, bytes: &[u8]) -> Result<bool, CliError> {
    match out.write_all(bytes) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(CliError::Write(e)),
    }
}

/// Runs the pipeline over `input`, writing records to `out`.
async fn pipeline(
    ctx: Arc<Context>,
    concurrency: usize,
    input: Input,
    out: &mut impl Write,
    bar: &ProgressBar,
) -> Result<Tally, CliError> {
    let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
    // Blocking reads stay off the runtime, so a slow producer on stdin never stalls the
    // sites being fetched. When the run stops early the channel closes and the reader
    // ends at its next line (or with the process, if it waits on a silent stdin).
    std::thread::spawn(move || {
        lines::read(input.reader, input.path, |unit| {
            tx.blocking_send(unit).is_ok()
        })
    });
    let units = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|unit| (unit, rx))
    });
    let done = units
        .map(|unit| {
            let ctx = Arc::clone(&ctx);
            async move { check::unit(ctx, unit?).await }
        })
        .buffered(window(concurrency));
    let mut done = std::pin::pin!(done);
    let mut tally = Tally::default();
    // The CSV header goes out with the first records, so a run that checks nothing
    // writes nothing on standard output.
    let mut header = Some(Encoder::header(ctx.format)?);
    while let Some(unit) = done.next().await {
        let Done {
            output,
            tally: counts,
            bytes,
        } = unit?;
        let open = match header.take() {
            Some(header) => write(out, &header)? && write(out, &output)?,
            None => write(out, &output)?,
        };
        tally.merge(&counts);
        bar.inc(bytes);
        bar.set_message(format!("{} lines", tally.items));
        if !open {
            break;
        }
    }
    Ok(tally)
}

pub fn run(
    args: &BulkArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let started = Instant::now();
    let source =
        trust::source(&args.trust, crate::config::default_registry()?)?.ok_or(CliError::NoTrust)?;
    let at = match &args.at {
        Some(t) => crate::time::parse_at(t)?,
        None => crate::time::now(),
    };
    let input = open(&args.file)?;
    let verifier = crate::cmd::verify::verifier(&source, timeout, crate::time::now(), err)?;
    let concurrency = usize::from(args.concurrency);
    let ctx = Arc::new(Context {
        verifier,
        at,
        ignore_origin: args.ignore_origin,
        format: args.format,
        fetcher: crate::fetch::Fetcher::new(Duration::from_secs(timeout))?,
        sites: tokio::sync::Semaphore::new(concurrency),
    });
    let runtime = crate::cmd::verify::runtime()?;
    let bar = progress(input.size);
    let what = input.path.display().to_string();
    let tally = runtime.block_on(pipeline(ctx, concurrency, input, out, &bar));
    bar.finish_and_clear();
    let tally = tally?;
    if tally.items == 0 {
        return Err(CliError::BulkEmpty(what));
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(CliError::Write(e)),
        _ => {}
    }
    let _ = writeln!(err, "{}", tally.summary(started.elapsed()));
    Ok(tally.worst())
}
