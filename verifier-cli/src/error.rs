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
            CliError::Catalogue | CliError::Random | CliError::Write(_) => return None,
        })
    }
}
