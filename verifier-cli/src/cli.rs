//! Command-line interface definition. The long help of each flag is its documentation;
//! `docs/cli.md` follows it.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Verify TrustMark website badges, inspect status lists and make auditor keys.
///
/// Exit codes: 0 valid, 1 checked and not valid, 2 could not check (usage, unreadable
/// input, missing or stale status list).
#[derive(Debug, Parser)]
#[command(name = "trustmark", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify one badge offline against trusted keys and status lists.
    Verify(VerifyArgs),
    /// Status list tools.
    #[command(subcommand)]
    Status(StatusCommand),
    /// Generate an Ed25519 key pair (an auditor key): private JWK to FILE (mode 0600),
    /// public JWK to standard output.
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The badge: a token, @FILE to read it from a file, or - for standard input.
    pub input: String,

    /// Trusted keys: a JWKS file (the registry's /.well-known/jwks.json).
    #[arg(long, value_name = "FILE")]
    pub jwks: Option<PathBuf>,

    /// The trusted issuer URL; the badge's iss must equal it.
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,

    /// A status list token file; repeat for several. Matched to the badge by the list's sub.
    #[arg(long = "status-list", value_name = "FILE")]
    pub status_lists: Vec<PathBuf>,

    /// The site the badge is checked against (e.g. https://www.supplier.example or a bare domain).
    #[arg(long, value_name = "ORIGIN", required_unless_present = "ignore_origin")]
    pub origin: Option<String>,

    /// Do not check the badge against a site origin.
    #[arg(long, conflicts_with = "origin")]
    pub ignore_origin: bool,

    /// Verify as of this time: RFC 3339 (2027-01-01T00:00:00Z) or unix seconds. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Print one JSON object per badge instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Decode a status list token and print its facts.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The status list token file (or - for standard input).
    pub file: String,

    /// Print the value at this index.
    #[arg(long, value_name = "N")]
    pub index: Option<u64>,

    /// Also verify the signature with these trusted keys.
    #[arg(long, value_name = "FILE", requires = "issuer")]
    pub jwks: Option<PathBuf>,

    /// The trusted issuer (with --jwks).
    #[arg(long, value_name = "URL", requires = "jwks")]
    pub issuer: Option<String>,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private JWK (created with mode 0600; never overwritten).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}
