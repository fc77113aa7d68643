//! `trustmark bundle fetch`: a registry's keys and every status list in one file, for
//! verification without the network.

use crate::cli::BundleFetchArgs;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::trust;
use crate::{time, Status};
use std::io::Write;

pub fn run(args: &BundleFetchArgs, timeout: u64, out: &mut impl Write) -> Result<Status, CliError> {
    let registry = args
        .registry
        .clone()
        .or(crate::config::default_registry()?)
        .ok_or(CliError::NoRegistry)?;
    let issuer = trust::registry_url(&registry)?;
    let fetcher = Fetcher::new(std::time::Duration::from_secs(timeout))?;
    let now = time::now();
    let bundle =
        crate::cmd::verify::runtime()?.block_on(trust::fetch_registry(&fetcher, &issuer, now))?;
    // Refuse to write a bundle that could not verify anything.
    let mut warnings = Vec::new();
    trust::verifier_of(&bundle, &mut warnings)?;
    let text =
        serde_json::to_string(&bundle).map_err(|_| CliError::RegistryDocument("its key set"))?;
    // Readable by the services that verify from it; replaced whole, so a verifier
    // reading it while a cron job refreshes it sees the old bundle or the new one.
    crate::files::write_atomic(&args.output, text.as_bytes(), 0o644).map_err(|source| {
        CliError::WriteFile {
            path: args.output.clone(),
            source,
        }
    })?;
    crate::print_line(
        out,
        &format!(
            "bundle of {} with {} status list(s), made {}, written to {}",
            bundle.issuer,
            bundle.status_lists.len(),
            time::rfc3339(now),
            args.output.display()
        ),
    )?;
    Ok(Status::Valid)
}
