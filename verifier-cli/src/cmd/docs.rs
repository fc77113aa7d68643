//! `trustmark completions SHELL` and `trustmark man`: generated from the clap definition,
//! so they never drift from the flags.

use crate::cli::{Cli, CompletionsArgs};
use crate::error::CliError;
use crate::Status;
use clap::CommandFactory;
use std::io::Write;

/// Writes generated text; a closed pipe (`trustmark man | head`) is not an error.
fn emit(out: &mut impl Write, bytes: &[u8]) -> Result<Status, CliError> {
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CliError::Write(e)),
        _ => Ok(Status::Valid),
    }
}

pub fn completions(args: &CompletionsArgs, out: &mut impl Write) -> Result<Status, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "trustmark", &mut script);
    emit(out, &script)
}

pub fn man(out: &mut impl Write) -> Result<Status, CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(CliError::Write)?;
    emit(out, &page)
}
