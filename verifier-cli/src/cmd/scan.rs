//! `trustmark scan URL`: the baseline pre-scan (SPEC 8). Crawls, measures, prints the
//! table (or `--json`), writes `--audit-draft`, and returns 0 when every measured
//! indicator passes, 1 when one fails.

use crate::cli::ScanArgs;
use crate::error::CliError;
use crate::fetch::{Fetcher, Options};
use crate::scan::{self, report, Event, ScanError, Settings};
use crate::Status;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use trustmark_core::Catalogue;

/// A progress bar on standard error when it is a terminal; hidden otherwise.
fn progress(max_pages: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(max_pages), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed_precise}]") {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

pub fn run(
    args: &ScanArgs,
    timeout: u64,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<Status, CliError> {
    let start = scan::start_url(&args.url)?;
    let extra_roots = match &args.ca_file {
        Some(path) => Some(std::fs::read(path).map_err(|source| ScanError::CaFile {
            path: path.clone(),
            source,
        })?),
        None => None,
    };
    let fetcher = Fetcher::with(Options {
        timeout: Duration::from_secs(timeout),
        user_agent: scan::USER_AGENT.to_owned(),
        extra_roots,
    })
    .map_err(|e| match (&args.ca_file, e) {
        (Some(path), crate::fetch::FetchError::Roots) => ScanError::CaPem(path.clone()),
        (_, e) => ScanError::Client(e),
    })?;
    let settings = Settings {
        max_pages: args.max_pages as usize,
        concurrency: usize::from(args.concurrency),
        tries: usize::from(args.tries),
        timeout: Duration::from_secs(timeout),
    };
    let catalogue = Catalogue::rcep_b2b_web_1().map_err(|_| CliError::Catalogue)?;
    // Parsing pages is CPU work: worker threads keep it from holding up the fetches.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)?;
    let bar = progress(u64::from(args.max_pages));
    let on_event = |event: Event| match event {
        Event::Pages(done, started) => {
            bar.set_message(format!("{done} of {started} pages read"));
        }
        Event::Links(links, tries) => {
            bar.set_message(format!(
                "trying {links} certificate and payment links {tries} times each"
            ));
        }
    };
    let result = runtime.block_on(scan::scan(
        &fetcher, &start, settings, &catalogue, &on_event,
    ));
    bar.finish_and_clear();
    let found = result?;
    let scanned_at = crate::time::rfc3339(crate::time::now());
    let scored = report::score(&found, &catalogue);
    if let Some(path) = &args.audit_draft {
        std::fs::write(path, report::draft(&found, &scored, &scanned_at)).map_err(|source| {
            ScanError::Draft {
                path: path.clone(),
                source,
            }
        })?;
    }
    let text = if args.json {
        report::json(&found, &scored, &scanned_at, &settings)
    } else {
        report::human(&found, &scored, &scanned_at)
    };
    crate::print_line(out, &text)?;
    if let Some(path) = &args.audit_draft {
        let _ = writeln!(
            err,
            "audit draft written to {}: an auditor fills in each null, then `trustmark audit sign`",
            path.display()
        );
    }
    Ok(if scored.failing.is_empty() {
        Status::Valid
    } else {
        Status::Invalid
    })
}
