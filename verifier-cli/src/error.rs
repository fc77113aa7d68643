//! CLI errors: what went wrong (`error:`) and what to do about it (`hint:`). Every one
//! of them means "could not check" (exit code 2).

use std::path::PathBuf;

/// A failure that stops a command before any verdict.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Flags are missing or inconsistent.
    #[error("{0}")]
    Usage(&'static str),
    /// A file or standard input could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What was being read.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The JWKS file is not an acceptable key set.
    #[error("the key set {} is not usable: {source}", path.display())]
    Jwks {
        /// The file.
        path: PathBuf,
        /// Why.
        source: trustmark_core::KeyError,
    },
    /// Standard output could not be written (other than a closed pipe).
    #[error("cannot write the output: {0}")]
    Write(std::io::Error),
    /// `--origin` is not an origin.
    #[error("--origin is not a site origin: {0}")]
    Origin(trustmark_core::origin::OriginError),
    /// `--at` is neither RFC 3339 nor unix seconds.
    #[error("--at is neither an RFC 3339 time nor unix seconds")]
    Time,
    /// Site lookups need the network, which this build's offline mode does not use.
    #[error("'{0}' looks like a site, and looking up a site's badge needs the network")]
    SiteInput(String),
    /// A status list file does not decode.
    #[error("{} is not a status list token: {detail}", path.display())]
    StatusList {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The built-in catalogue failed to load (a build defect).
    #[error("the built-in indicator catalogue is invalid")]
    Catalogue,
    /// The key file could not be created.
    #[error("cannot create {}: {source}", path.display())]
    WriteKey {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The operating system gave no randomness.
    #[error("the operating system's random number generator failed")]
    Random,
    /// No trust source: no --registry, --bundle or --jwks, and no default registry.
    #[error(
        "no trusted registry: give --registry URL, --bundle FILE, or --jwks FILE with --issuer URL"
    )]
    NoTrust,
    /// `bundle fetch` without --registry and with no default registry.
    #[error("no registry to fetch from: give --registry URL")]
    NoRegistry,
    /// `--registry` is not an issuer URL.
    #[error("'{0}' is not a registry URL")]
    RegistryUrl(String),
    /// A bundle file is not usable.
    #[error("{}: {detail}", path.display())]
    Bundle {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The network request failed.
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    /// The registry answered with an error status.
    #[error("{url} answered {status}")]
    RegistryAnswer {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The registry served a document that is not what it should be.
    #[error("the registry served an unusable document: {0}")]
    RegistryDocument(&'static str),
    /// The registry's key set is refused.
    #[error("the registry's key set is not usable: {0}")]
    RegistryKeys(trustmark_core::KeyError),
    /// The config file does not parse.
    #[error("config file {}: {detail}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// Why.
        detail: String,
    },
    /// The async runtime could not start.
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),

    // The auditor's client (audit sign|submit, badge revoke|suspend|reinstate).
    /// An auditor command stopped before the registry decided anything.
    #[error(transparent)]
    Auditor(#[from] crate::auditor::AuditorError),

    // Site discovery, the cache, bundle writing and status inspect over the network.
    /// A site input that is not an https (or loopback http) URL.
    #[error(
        "'{0}' is not a site to fetch (https://…, http:// only for loopback, or a bare domain)"
    )]
    SiteUrl(String),
    /// The site answered an error status for a page or a badge's src.
    #[error("{url} answered {status}")]
    SiteAnswer {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// A `<trustmark-badge src>` that is not an https (or loopback http) URL.
    #[error("the badge src '{src}' on {page} is not an https URL")]
    BadgeSrc {
        /// The page carrying the element.
        page: String,
        /// The attribute as written.
        src: String,
    },
    /// A file (the bundle) could not be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },

    // The evidence log (cmd/log).
    /// The log state on this machine could not be used.
    #[error(transparent)]
    State(#[from] crate::witness::StateError),
    /// `--log-key` is not a verifier key.
    #[error("'{0}' is not a log verifier key")]
    LogKey(String),

    // trustmark scan: the site could not be scanned at all.
    /// The scan stopped before measuring anything.
    #[error(transparent)]
    Scan(#[from] crate::scan::ScanError),

    // verify-bulk (cmd/bulk): failures of the run as a whole; a bad line is a record.
    /// The input held no line to check (empty, or only blank lines and a CSV header).
    #[error("{0} has no line to check")]
    BulkEmpty(String),
    /// A verification worker ended without an answer (a defect, never an input problem).
    #[error("a verification worker stopped without an answer")]
    BulkWorker,
}

impl CliError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            CliError::Usage(_) => "see `trustmark verify --help`",
            CliError::Read { .. } => "check the path; use - to read standard input",
            CliError::Jwks { .. } => "use the registry's /.well-known/jwks.json as published",
            CliError::Origin(_) => "give the site as https://host[:port] or a bare domain",
            CliError::Time => "for example --at 2027-01-01T00:00:00Z or --at 1798761600",
            CliError::SiteInput(_) => {
                "pass the badge token itself (or @FILE) with --origin set to the site"
            }
            CliError::StatusList { .. } => "pass the file served at the badge's status list URL",
            CliError::WriteKey { .. } => "choose a path that does not exist yet",
            CliError::NoTrust | CliError::NoRegistry => {
                "e.g. --registry https://registry.example, or set TRUSTMARK_REGISTRY, or `registry` in the config file"
            }
            CliError::RegistryUrl(_) => {
                "give the registry's issuer URL, e.g. https://registry.example (http only for loopback)"
            }
            CliError::Config { .. } => "the config file takes `registry = \"https://…\"`",
            CliError::Bundle { .. } => "make a bundle with `trustmark bundle fetch --registry URL -o FILE`",
            CliError::Fetch(_) | CliError::RegistryAnswer { .. } => {
                "check the address and the network; --timeout SECS allows slower answers"
            }
            CliError::RegistryDocument(_) | CliError::RegistryKeys(_) => {
                "is this URL a TrustMark registry? Its /.well-known/trustmark-registry should answer"
            }
            CliError::Auditor(e) => return e.hint(),
            CliError::Scan(e) => return e.hint(),

            CliError::SiteUrl(_) => "give the site as https://host[/page] or a bare domain",
            CliError::SiteAnswer { .. } => {
                "check the address; the site must answer the page (or /) with 200"
            }
            CliError::BadgeSrc { .. } => {
                "the site's badge markup is broken; its owner should fix the src"
            }
            CliError::WriteFile { .. } => "check that the directory exists and is writable",
            CliError::State(_) => {
                "TRUSTMARK_STATE_DIR chooses where the log state is kept"
            }
            CliError::LogKey(_) => {
                "give the key as the registry metadata's log.vkey: <origin>+<key id>+<base64 key>"
            }
            CliError::BulkEmpty(_) => {
                "give one token, site or domain per line, or CSV with an origin,token header"
            }
            CliError::Catalogue
            | CliError::Random
            | CliError::Write(_)
            | CliError::Runtime(_)
            | CliError::BulkWorker => return None,
        })
    }
}
