//! `trustmark`: the only place that prints a fatal error or picks an exit code.

mod auditor;
mod cache;
mod cli;
mod cmd;
mod config;
mod error;
mod evidence;
mod fetch;
mod files;
mod input;
mod online;
mod report;
mod scan;
mod site;
mod time;
mod trust;
mod witness;

use clap::Parser;
use error::CliError;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

/// Exit statuses (SPEC 5): 0 valid, 1 checked and not valid, 2 could not check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Valid = 0,
    Invalid = 1,
    Unknown = 2,
}

/// Writes one line; a closed pipe (`trustmark ... | head`) is not an error.
pub fn print_line(out: &mut impl Write, text: &str) -> Result<(), CliError> {
    match writeln!(out, "{text}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write(e)),
        _ => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are successes; every other parse failure is a usage error.
            return ExitCode::from(if e.use_stderr() {
                Status::Unknown as u8
            } else {
                0
            });
        }
    };
    let stdout = std::io::stdout();
    report::set_colour(report::colour_for(stdout.is_terminal()));
    let stderr_colour = report::colour_for(std::io::stderr().is_terminal());
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    let timeout = cli.timeout;
    let result = match &cli.command {
        cli::Command::Verify(args) => cmd::verify::run(args, timeout, &mut out, &mut err),
        cli::Command::VerifyBulk(args) => cmd::bulk::run(args, timeout, &mut out, &mut err),
        cli::Command::Bundle(cli::BundleCommand::Fetch(args)) => {
            cmd::bundle::run(args, timeout, &mut out)
        }
        cli::Command::Status(cli::StatusCommand::Inspect(args)) => {
            cmd::status::run(args, timeout, &mut out, &mut err)
        }
        cli::Command::Keygen(args) => cmd::keygen::run(args, &mut out),
        cli::Command::Scan(args) => cmd::scan::run(args, timeout, &mut out, &mut err),
        cli::Command::Audit(c) => cmd::audit::run(c, timeout, &mut out, &mut err),
        cli::Command::Badge(c) => cmd::badge::run(c, timeout, &mut out, &mut err),
        cli::Command::Log(c) => cmd::log::run(c, timeout, &mut out, &mut err),
        cli::Command::Completions(args) => cmd::docs::completions(args, &mut out),
        cli::Command::Man => cmd::docs::man(&mut out),
    };
    match result {
        Ok(status) => ExitCode::from(status as u8),
        Err(e) => {
            let (error, hint) = if stderr_colour {
                let red = anstyle::Style::new()
                    .bold()
                    .fg_color(Some(anstyle::AnsiColor::Red.into()));
                let bold = anstyle::Style::new().bold();
                (
                    format!("{}error:{}", red.render(), red.render_reset()),
                    format!("{}hint:{}", bold.render(), bold.render_reset()),
                )
            } else {
                ("error:".to_owned(), "hint:".to_owned())
            };
            let _ = writeln!(err, "{error} {e}");
            if let Some(text) = e.hint() {
                let _ = writeln!(err, "{hint} {text}");
            }
            ExitCode::from(Status::Unknown as u8)
        }
    }
}
