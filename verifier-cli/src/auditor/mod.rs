//! The auditor's client: the audit file, the auditor's key, and signed requests to the
//! registry. `cmd::audit` and `cmd::badge` are thin layers over these modules.
//!
//! Exit codes of these commands: 0 done; 1 the registry refused the request (a problem
//! document that judged it); 2 could not sign or submit (usage, unreadable or invalid
//! input, the key, the network, or a registry that could not decide).

pub mod file;
pub mod key;
pub mod registry;

use std::path::PathBuf;

/// Why an auditor command stopped before the registry decided anything (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum AuditorError {
    /// The audit file cannot be turned into a statement.
    #[error("{}: {source}", path.display())]
    AuditFile {
        /// The file (`-` for standard input).
        path: PathBuf,
        /// What is wrong, field by field.
        source: file::AuditFileError,
    },
    /// The audit file is larger than any audit file could be.
    #[error("{} is larger than {} bytes; an audit file is a few KiB", path.display(), file::MAX_FILE)]
    AuditFileTooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The key file cannot be used.
    #[error("the key file {}: {source}", path.display())]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        source: key::KeyFileError,
    },
    /// `--auditor` is not an auditor id.
    #[error("--auditor '{0}' is not an auditor id (1-64 of A-Z a-z 0-9 _ -)")]
    AuditorId(String),
    /// The badge id argument is not a badge id.
    #[error("'{0}' is not a badge id (1-40 of A-Z a-z 0-9 _ -, e.g. b_q3Xo0kM9Vd2mTj0PZ1y7Aw)")]
    BadgeId(String),
    /// `--reason` is not short single-line text.
    #[error("--reason must be 1-200 characters of one line, without control, format (bidi, zero-width) or separator characters")]
    Reason,
    /// No registry given and none configured.
    #[error("no registry: give --registry URL")]
    NoRegistry,
    /// The statement would exceed the token size cap.
    #[error("the signed statement would be larger than {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
    /// The statement's claims could not be serialised (a build defect).
    #[error("the statement could not be serialised")]
    Serialize,
    /// The registry answered with something that is neither its success answer nor a
    /// problem document, so nothing can be said about what it did.
    #[error("{url} answered {status} with {what}")]
    Unexpected {
        /// The URL posted to.
        url: String,
        /// The HTTP status.
        status: u16,
        /// What was wrong with the answer.
        what: &'static str,
    },
}

impl AuditorError {
    /// What the user can do next.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            AuditorError::AuditFile { source, .. } => source.hint(),
            AuditorError::AuditFileTooLarge { .. } => {
                "pass the audit file (JSON, see docs/examples/audit-pass.json)"
            }
            AuditorError::Key { source, .. } => source.hint(),
            AuditorError::AuditorId(_) => {
                "use the id the registry operator accredited you under (`trustmark-registry auditor list` shows it)"
            }
            AuditorError::BadgeId(_) => {
                "the badge id is the last part of its page URL, .../b/<id>, and the `id` `audit submit` printed"
            }
            AuditorError::Reason => "say why in one short line; it is shown on the badge's public page",
            AuditorError::NoRegistry => {
                "e.g. --registry https://registry.example, or set TRUSTMARK_REGISTRY, or `registry` in the config file"
            }
            AuditorError::TooLarge { .. } => "use fewer or shorter aliases and languages",
            AuditorError::Unexpected { .. } => {
                "is --registry the registry's issuer URL (as in its badges' iss), without /api/...?"
            }
            AuditorError::Serialize => return None,
        })
    }
}

/// A fresh random request id: 16 bytes of OS randomness, base64url (22 characters), so
/// every signing gives a new `jti` and a statement can never be replayed by re-running.
pub fn fresh_jti() -> Result<String, crate::error::CliError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| crate::error::CliError::Random)?;
    Ok(trustmark_core::b64::encode(bytes))
}

/// Checks `--auditor`: the id the registry knows the auditor by.
pub fn auditor_id(id: &str) -> Result<&str, AuditorError> {
    if trustmark_core::claims::is_url_safe_id(id, 64) {
        Ok(id)
    } else {
        Err(AuditorError::AuditorId(id.to_owned()))
    }
}

/// The registry to submit to: `--registry`, else the environment or the config file.
pub fn registry(given: Option<&str>) -> Result<String, crate::error::CliError> {
    let url = match given {
        Some(url) => url.to_owned(),
        None => crate::config::default_registry()?.ok_or(AuditorError::NoRegistry)?,
    };
    crate::trust::registry_url(&url)
}

impl From<trustmark_core::sign::SignError> for AuditorError {
    fn from(e: trustmark_core::sign::SignError) -> Self {
        match e {
            trustmark_core::sign::SignError::TooLarge { max } => AuditorError::TooLarge { max },
            _ => AuditorError::Serialize,
        }
    }
}
