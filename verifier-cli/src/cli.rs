//! Command-line interface definition. The long help of each flag is its documentation;
//! `docs/cli.md` follows it, and the man page and shell completions are generated from it.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Verify TrustMark website badges, inspect status lists, and sign auditors' statements.
///
/// Exit codes: 0 valid, 1 checked and not valid, 2 could not check (usage, unreadable
/// input, network, missing or stale status list). Auditor commands (audit, badge): 0
/// done, 1 refused by the registry, 2 could not sign or submit.
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
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Verify many badges or sites, one per input line.
    #[command(after_help = BULK_EXAMPLES)]
    VerifyBulk(BulkArgs),
    /// Offline bundles of a registry's keys and status lists.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Status list tools.
    #[command(subcommand)]
    Status(StatusCommand),
    /// Generate an auditor key: private JWK to FILE (mode 0600), public JWK to standard
    /// output for the registry operator.
    #[command(after_help = KEYGEN_EXAMPLES)]
    Keygen(KeygenArgs),
    /// Scan a supplier's site against the indicators its markup shows (the baseline
    /// pre-scan before an audit).
    #[command(after_help = SCAN_EXAMPLES)]
    Scan(ScanArgs),
    /// Sign and submit audit statements (auditors).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Revoke, suspend or reinstate a badge with a signed request (the issuing auditor).
    #[command(subcommand, after_help = BADGE_EXAMPLES)]
    Badge(BadgeCommand),
    /// Check a registry's evidence log: its signed checkpoint, that it only ever grew,
    /// and that a badge's every entry is in it; or list every event about a site.
    #[command(subcommand)]
    Log(LogCommand),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  trustmark man > trustmark.1 && man ./trustmark.1")]
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

    /// Check tokens that name no origin (plain token lines, CSV rows with an empty
    /// origin) without an origin check. Without this flag each such line is reported as
    /// not checked (`"error": "origin_required"`, exit 2), as `verify` refuses a token
    /// without --origin.
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
    #[command(after_help = BUNDLE_EXAMPLES)]
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
    #[command(after_help = INSPECT_EXAMPLES)]
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

const VERIFY_EXAMPLES: &str = "\
Examples:
  trustmark verify https://www.supplier.example --registry https://registry.example
  trustmark verify supplier.example --json               # registry from TRUSTMARK_REGISTRY
  trustmark verify @badge.jwt --origin https://www.supplier.example --bundle registry.bundle
  trustmark verify @badge.jwt --origin supplier.example \\
    --jwks jwks.json --issuer https://registry.example --status-list list.jwt
Exit codes: 0 valid; 1 checked and not valid; 2 could not check (network, stale or missing
status list, unreadable input, usage).";

const BULK_EXAMPLES: &str = "\
Examples:
  trustmark verify-bulk suppliers.csv --bundle registry.bundle > results.ndjson   # origin,token CSV
  trustmark verify-bulk sites.txt --registry https://registry.example --format csv > results.csv
  trustmark verify-bulk tokens.txt --bundle registry.bundle --ignore-origin     # tokens alone
  export-suppliers | trustmark verify-bulk - --bundle registry.bundle            # standard input
One record per non-blank input line, in input order; a summary on standard error.
Exit code: the worst verdict (2 if any line could not be checked, else 1 if any is not
valid, else 0).";

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The site: its start page (https://…, http:// only for loopback) or a bare domain.
    pub url: String,

    /// Pages fetched at most (language versions first, then links, breadth first).
    #[arg(long, value_name = "N", default_value_t = 200,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_pages: u32,

    /// Requests in flight at once at most, pages and link tries alike.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,

    /// How often each certificate and payment link is fetched (timings, timeouts).
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u16).range(1..=100))]
    pub tries: u16,

    /// Also trust the CA certificates in this PEM file (a site on a private CA).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,

    /// Print one JSON object (schemas/scan-report.schema.json) instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Also write an audit file for `trustmark audit sign`: the measured values filled
    /// in, null for what an auditor must measure.
    #[arg(long, value_name = "FILE")]
    pub audit_draft: Option<PathBuf>,
}

const SCAN_EXAMPLES: &str = "\
Examples:
  trustmark scan https://www.supplier.example
  trustmark scan supplier.example --max-pages 500 --concurrency 8 --json > scan.json
  trustmark scan https://www.supplier.example/en/ --tries 10 --timeout 5
  trustmark scan https://staging.supplier.internal --ca-file staging-ca.pem
  trustmark scan https://www.supplier.example --audit-draft audit.json
It reads robots.txt (user agent TrustMark-Scan), stays on the site and its hreflang
language versions, and prints each indicator's value, threshold and result, the evidence
for every failure, and the projected overall score.
Exit codes: 0 every measured indicator passes; 1 one or more fail; 2 could not scan.";

const BUNDLE_EXAMPLES: &str = "\
Examples:
  trustmark bundle fetch --registry https://registry.example -o registry.bundle
  trustmark verify-bulk suppliers.txt --bundle registry.bundle > results.ndjson
Refresh it more often than the status lists' ttl (10 minutes at the reference registry):
  */5 * * * * trustmark bundle fetch --registry https://registry.example -o /var/lib/trustmark/registry.bundle";

const INSPECT_EXAMPLES: &str = "\
Examples:
  trustmark status inspect https://registry.example/statuslists/1 --index 48213
  trustmark status inspect list.jwt --jwks jwks.json --issuer https://registry.example --json";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  trustmark completions bash > /etc/bash_completion.d/trustmark
  trustmark completions zsh > \"${fpath[1]}/_trustmark\"
  trustmark completions fish > ~/.config/fish/completions/trustmark.fish";

const KEYGEN_EXAMPLES: &str = "\
The auditor's workflow:
  1. trustmark keygen -o auditor.jwk > auditor.pub.jwk
  2. Give auditor.pub.jwk (never auditor.jwk) to the registry operator, who accredits it:
       trustmark-registry auditor add --id YOUR-ID --name 'Your Lab' --key auditor.pub.jwk
  3. trustmark audit submit --registry https://registry.example --key auditor.jwk \\
       --auditor YOUR-ID audit.json";

const AUDIT_EXAMPLES: &str = "\
Examples:
  trustmark audit sign --key auditor.jwk --auditor apac-trust-audit docs/examples/audit-pass.json
  trustmark audit submit --registry https://registry.example --key auditor.jwk \\
    --auditor apac-trust-audit docs/examples/audit-pass.json

The audit file is JSON (schemas/audit-input.schema.json; docs/cli.md describes it): site,
optional aliases, organisation {name, country, registration}, audited_at (RFC 3339 or unix
seconds), valid_days, optional report_uri and languages, and the 12 indicator values by id.
Exit codes: 0 done; 1 refused by the registry; 2 could not sign or submit (usage, invalid
audit file, key, network).";

const BADGE_EXAMPLES: &str = "\
Examples:
  trustmark badge suspend b_q3Xo0kM9Vd2mTj0PZ1y7Aw --reason 'Payment redirects failing' \\
    --registry https://registry.example --key auditor.jwk --auditor apac-trust-audit
  trustmark badge reinstate b_q3Xo0kM9Vd2mTj0PZ1y7Aw --reason 'Re-tested: fixed' ...
Changes to one badge need a later second each: a request signed in the same second as the
badge's last change is refused (stale-request). Revoked is final.
Exit codes: 0 changed; 1 refused by the registry; 2 could not sign or submit.";

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private JWK (created with mode 0600; never overwritten). This
    /// is the --key of `audit sign`, `audit submit` and `badge`; keep it secret.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
}

/// The auditor's identity for signed requests.
#[derive(Debug, Args, Clone)]
pub struct AuditorArgs {
    /// The auditor's private key file (from `trustmark keygen -o FILE`); refused unless
    /// only its owner can read it (mode 0600 or 0400).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    /// The auditor id as accredited at the registry.
    #[arg(long, value_name = "ID")]
    pub auditor: String,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Validate an audit file and print the signed audit statement (one line).
    #[command(after_help = AUDIT_EXAMPLES)]
    Sign(AuditSignArgs),
    /// Sign an audit file and submit it; prints the badge id, its page and the embed code.
    #[command(after_help = AUDIT_EXAMPLES)]
    Submit(AuditSubmitArgs),
}

#[derive(Debug, Args)]
pub struct AuditSignArgs {
    #[command(flatten)]
    pub auditor: AuditorArgs,

    /// The audit file (JSON, schemas/audit-input.schema.json; see docs/examples/), or -
    /// for standard input. Checked before anything is signed; failing indicators are
    /// warned about, not refused (the registry refuses them).
    pub audit: PathBuf,
}

#[derive(Debug, Args)]
pub struct AuditSubmitArgs {
    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    #[command(flatten)]
    pub auditor: AuditorArgs,

    /// The audit file (JSON, schemas/audit-input.schema.json; see docs/examples/), or -
    /// for standard input.
    pub audit: PathBuf,

    /// Print the registry's answer as one JSON object: on success its badge (id, token,
    /// ref, status, score) and the embed code; on a refusal its problem document.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BadgeCommand {
    /// Revoke a badge (final).
    #[command(after_help = BADGE_EXAMPLES)]
    Revoke(BadgeChangeArgs),
    /// Suspend a badge.
    #[command(after_help = BADGE_EXAMPLES)]
    Suspend(BadgeChangeArgs),
    /// Reinstate a suspended badge.
    #[command(after_help = BADGE_EXAMPLES)]
    Reinstate(BadgeChangeArgs),
}

#[derive(Debug, Args)]
pub struct BadgeChangeArgs {
    /// The badge id (the last part of its page URL, .../b/<id>).
    #[arg(value_name = "BADGE_ID")]
    pub id: String,

    /// Why (shown on the badge's public page; one line, at most 200 characters).
    #[arg(long)]
    pub reason: String,

    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    #[command(flatten)]
    pub auditor: AuditorArgs,

    /// Print the registry's answer as one JSON object (`{"id","status"}`, or its problem
    /// document on a refusal).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Verify the log's checkpoint with the pinned key, its consistency with the last
    /// checkpoint verified on this machine (and a bundle's), and with --badge that the
    /// badge's issuance and every status change are in it.
    #[command(after_help = LOG_VERIFY_EXAMPLES)]
    Verify(LogVerifyArgs),
    /// List every log event concerning a site: badges issued for it and their status
    /// changes (what a site owner runs to spot badges they never asked for).
    #[command(after_help = LOG_MONITOR_EXAMPLES)]
    Monitor(LogMonitorArgs),
}

#[derive(Debug, Args)]
pub struct LogVerifyArgs {
    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// Also prove this badge's log entries: its id (b_…) or its token.
    #[arg(long, value_name = "ID|TOKEN")]
    pub badge: Option<String>,

    /// Also check the log is consistent with the checkpoint in this bundle (from
    /// `trustmark bundle fetch`).
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,

    /// The log's verifier key (`<origin>+<key id>+<key>`), pinned from now on. Default:
    /// the key pinned by an earlier run, else the registry metadata's (pinned on first
    /// use).
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct LogMonitorArgs {
    /// The registry. Default: TRUSTMARK_REGISTRY, then the config file.
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,

    /// The site (https://host[:port] or a bare domain).
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,

    /// The log's verifier key, as for `log verify`.
    #[arg(long, value_name = "VKEY")]
    pub log_key: Option<String>,

    /// Scan the whole log again instead of only the entries since the last run.
    #[arg(long)]
    pub from_start: bool,

    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

const LOG_VERIFY_EXAMPLES: &str = "\
Examples:
  trustmark log verify --registry https://registry.example
  trustmark log verify --registry https://registry.example --badge b_q3Xo0kM9Vd2mTj0PZ1y7Aw
  trustmark log verify --registry https://registry.example --bundle registry.bundle --json
The first run pins the log key the registry names; every later run is held to it and to
the last checkpoint verified (TRUSTMARK_STATE_DIR, else the platform's state directory).
Exit codes: 0 verified; 1 wrong key, forked or rolled-back log, tampered data, or a badge
history the log does not hold; 2 could not check.";

const LOG_MONITOR_EXAMPLES: &str = "\
Examples:
  trustmark log monitor --registry https://registry.example --origin www.supplier.example
  # daily, mailing anything new:
  0 6 * * * trustmark log monitor --registry https://registry.example --origin supplier.example | grep '^new'
Later runs read only the entries added since the last one.
Exit codes: 0 scanned; 1 the log does not match its checkpoint; 2 could not check.";

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
