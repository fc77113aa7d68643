//! Command-line interface definition. The long help of each flag is its documentation;
//! `docs/cli.md` follows it, and the man page and shell completions are generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Verify TrustMark website badges, inspect status lists, and sign auditors' statements.
///
/// Exit codes: 0 valid, 1 checked and not valid, 2 could not check (usage, unreadable
/// input, network, missing or stale status list).
#[derive(Debug, Parser)]
#[command(name = "trustmark", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Give up on any one network request after this many seconds.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: u64,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify one badge, or every badge a website carries.
    Verify(VerifyArgs),
    /// Verify many badges or sites, one per input line.
    VerifyBulk(BulkArgs),
    /// Offline bundles of a registry's keys and status lists.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Status list tools.
    #[command(subcommand)]
    Status(StatusCommand),
    /// Generate an Ed25519 key pair (an auditor key): private JWK to FILE (mode 0600),
    /// public JWK to standard output.
    Keygen(KeygenArgs),
    /// Sign and submit audit statements (auditors).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Revoke, suspend or reinstate a badge with a signed request (the issuing auditor).
    #[command(subcommand)]
    Badge(BadgeCommand),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// Where trusted keys and status lists come from: a registry over the network, a bundle
/// file, or separate files. At most one of --registry, --bundle and --jwks.
#[derive(Debug, Args, Clone, Default)]
pub struct TrustArgs {
    /// The trusted registry (its issuer URL); keys and status lists are fetched from it
    /// and cached. Default: TRUSTMARK_REGISTRY, then the config file's `registry`.
    #[arg(long, value_name = "URL", conflicts_with_all = ["bundle", "jwks"])]
    pub registry: Option<String>,

    /// An offline bundle made by `trustmark bundle fetch`: keys and every status list.
    #[arg(long, value_name = "FILE", conflicts_with = "jwks")]
    pub bundle: Option<PathBuf>,

    /// Trusted keys: a JWKS file (the registry's /.well-known/jwks.json). Needs --issuer.
    #[arg(long, value_name = "FILE", requires = "issuer")]
    pub jwks: Option<PathBuf>,

    /// The trusted issuer URL, with --jwks; the badge's iss must equal it.
    #[arg(long, value_name = "URL", requires = "jwks")]
    pub issuer: Option<String>,

    /// A status list token file, with --jwks; repeat for several. Matched to the badge
    /// by the list's sub.
    #[arg(long = "status-list", value_name = "FILE", requires = "jwks")]
    pub status_lists: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The badge: a token, @FILE to read it from a file, - for standard input, or a
    /// site (https://… or a bare domain) whose badges are looked up and checked against
    /// that site's origin.
    pub input: String,

    #[command(flatten)]
    pub trust: TrustArgs,

    /// The site a token is checked against (e.g. https://www.supplier.example or a bare
    /// domain). Required for token input unless --ignore-origin; a site input is always
    /// checked against its own origin.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: Option<String>,

    /// Do not check the badge against a site origin (token input only).
    #[arg(long, conflicts_with = "origin")]
    pub ignore_origin: bool,

    /// Verify as of this time: RFC 3339 (2027-01-01T00:00:00Z) or unix seconds. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,

    /// Print one JSON object per badge instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Output formats of verify-bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BulkFormat {
    /// One JSON object per input line.
    Ndjson,
    /// A header and one CSV row per input line.
    Csv,
}

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// The input file, or - for standard input: one token, site URL or bare domain per
    /// line, or CSV with an `origin,token` header.
    pub file: String,

    #[command(flatten)]
    pub trust: TrustArgs,

    /// Tokens without an origin (plain token lines) are checked without one. Without
    /// this flag such lines are refused, as `verify` refuses a token without --origin.
    #[arg(long)]
    pub ignore_origin: bool,

    /// How many sites are fetched at once (site lines); offline tokens use every core.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,

    /// Output format.
    #[arg(long, value_enum, default_value_t = BulkFormat::Ndjson)]
    pub format: BulkFormat,

    /// Verify as of this time: RFC 3339 or unix seconds. Default: now.
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Fetch a registry's keys and every status list into one file for offline use.
    Fetch(BundleFetchArgs),
}

#[derive(Debug, Args)]
pub struct BundleFetchArgs {
    /// The registry (its issuer URL). Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Where to write the bundle (replaced atomically).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum StatusCommand {
    /// Decode a status list token (a file, - or a URL) and print its facts.
    Inspect(InspectArgs),
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The status list: a token file, - for standard input, or its URL.
    pub file: String,

    /// Print the value at this index.
    #[arg(long, value_name = "N")]
    pub index: Option<u64>,

    /// Also verify the signature with these trusted keys (with --issuer).
    #[arg(
        long,
        value_name = "FILE",
        requires = "issuer",
        conflicts_with = "registry"
    )]
    pub jwks: Option<PathBuf>,

    /// The trusted issuer (with --jwks).
    #[arg(long, value_name = "URL", requires = "jwks")]
    pub issuer: Option<String>,

    /// Verify against this registry's published keys (fetched). Default for a URL:
    /// TRUSTMARK_REGISTRY, then the config file; with none, a URL is checked against
    /// the keys of the issuer the list names, and the output says so.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

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

/// The auditor's identity for signed requests.
#[derive(Debug, Args, Clone)]
pub struct AuditorArgs {
    /// The auditor's private key file (from `trustmark keygen`; mode 0600).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// The auditor id as accredited at the registry.
    #[arg(long, value_name = "ID")]
    pub auditor: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Validate an audit file and print the signed audit statement.
    Sign(AuditSignArgs),
    /// Sign an audit file and submit it; prints the badge id, its page and the embed code.
    Submit(AuditSubmitArgs),
}

#[derive(Debug, Args)]
pub struct AuditSignArgs {
    #[command(flatten)]
    pub auditor: AuditorArgs,

    /// The audit file (JSON; see docs/examples/).
    pub audit: PathBuf,
}

#[derive(Debug, Args)]
pub struct AuditSubmitArgs {
    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    #[command(flatten)]
    pub auditor: AuditorArgs,

    /// The audit file (JSON; see docs/examples/).
    pub audit: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BadgeCommand {
    /// Revoke a badge (final).
    Revoke(BadgeChangeArgs),
    /// Suspend a badge.
    Suspend(BadgeChangeArgs),
    /// Reinstate a suspended badge.
    Reinstate(BadgeChangeArgs),
}

#[derive(Debug, Args)]
pub struct BadgeChangeArgs {
    /// The badge id.
    pub id: String,

    /// Why (shown on the badge's public page; one line, at most 200 characters).
    #[arg(long)]
    pub reason: String,

    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    #[command(flatten)]
    pub auditor: AuditorArgs,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
