//! Where the trusted keys and status lists come from, and the verifier built from them:
//! files given one by one, an offline bundle, or a registry over the network.

use crate::cli::TrustArgs;
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::input;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::PathBuf;
use trustmark_core::jws::MAX_STATUS_LIST_TOKEN_LEN;
use trustmark_core::{Catalogue, Jwks, Verifier};

/// The bundle format written by `trustmark bundle fetch`.
pub const BUNDLE_FORMAT: &str = "trustmark-bundle/1";
/// Largest JWKS read (a registry publishes a handful of keys).
pub const MAX_JWKS: usize = 1024 * 1024;
/// Largest status list token read, with room for surrounding whitespace.
pub const MAX_LIST: usize = MAX_STATUS_LIST_TOKEN_LEN + 1024;
/// Largest `/statuslists` aggregation read.
const MAX_AGGREGATION: usize = 256 * 1024;
/// Largest bundle read: a key set and up to a few hundred lists.
pub const MAX_BUNDLE: usize = 64 * 1024 * 1024;

/// A registry's keys and status lists in one file, for offline verification.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bundle {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The registry's issuer URL.
    pub issuer: String,
    /// When the bundle was made (unix seconds).
    pub fetched_at: i64,
    /// The registry's JWKS, as served.
    pub jwks: serde_json::Value,
    /// Every status list token, as served.
    pub status_lists: Vec<String>,
    /// The evidence log's checkpoint when the bundle was made (a signed note, checked
    /// with `log_vkey`): `trustmark log verify --bundle` later proves the live log
    /// extends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The log's verifier key, as the registry's metadata named it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_vkey: Option<String>,
}

/// A trust source, resolved from the flags, the environment and the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Separate files.
    Files {
        /// The JWKS file.
        jwks: PathBuf,
        /// The trusted issuer.
        issuer: String,
        /// Status list files.
        lists: Vec<PathBuf>,
    },
    /// An offline bundle.
    Bundle(PathBuf),
    /// A registry over the network (its issuer URL).
    Registry(String),
}

/// Picks the source: --jwks, --bundle, --registry, then `default_registry` (the
/// environment, then the config file). `None` when nothing names one.
pub fn source(
    args: &TrustArgs,
    default_registry: Option<String>,
) -> Result<Option<Source>, CliError> {
    if let (Some(jwks), Some(issuer)) = (&args.jwks, &args.issuer) {
        return Ok(Some(Source::Files {
            jwks: jwks.clone(),
            issuer: issuer.clone(),
            lists: args.status_lists.clone(),
        }));
    }
    if let Some(bundle) = &args.bundle {
        return Ok(Some(Source::Bundle(bundle.clone())));
    }
    match args.registry.clone().or(default_registry) {
        Some(url) => Ok(Some(Source::Registry(registry_url(&url)?))),
        None => Ok(None),
    }
}

/// The registry's issuer URL as given: a canonical http(s) URL without a trailing slash
/// (one trailing slash is forgiven).
pub fn registry_url(given: &str) -> Result<String, CliError> {
    let url = given.strip_suffix('/').unwrap_or(given);
    if trustmark_core::claims::is_issuer_url(url) {
        Ok(url.to_owned())
    } else {
        Err(CliError::RegistryUrl(given.to_owned()))
    }
}

/// The scheme's indicator catalogue, built in.
pub fn catalogue() -> Result<Catalogue, CliError> {
    Catalogue::rcep_b2b_web_1().map_err(|_| CliError::Catalogue)
}

/// Adds a status list; a list that fails is reported on `warn` and kept out (badges
/// pointing at it are then `status_invalid`).
fn add_list(verifier: &mut Verifier, token: &str, from: &str, warn: &mut impl Write) {
    if let Err(problem) = verifier.add_status_list(token.trim()) {
        let _ = writeln!(warn, "warning: status list {from}: {problem}");
    }
}

/// Reads a JWKS file.
pub fn load_jwks(path: &std::path::Path) -> Result<Jwks, CliError> {
    let text =
        input::read_file(&path.to_string_lossy(), MAX_JWKS)?.ok_or_else(|| CliError::Read {
            path: path.to_owned(),
            source: std::io::Error::other("larger than 1 MiB"),
        })?;
    Jwks::parse(&text).map_err(|source| CliError::Jwks {
        path: path.to_owned(),
        source,
    })
}

/// The verifier of a local source (files or bundle).
pub fn load_offline(source: &Source, warn: &mut impl Write) -> Result<Verifier, CliError> {
    match source {
        Source::Files {
            jwks,
            issuer,
            lists,
        } => {
            let mut verifier = Verifier::new(issuer.clone(), load_jwks(jwks)?, catalogue()?);
            for path in lists {
                let text = input::read_file(&path.to_string_lossy(), MAX_LIST)?
                    .and_then(|b| String::from_utf8(b).ok())
                    .unwrap_or_default();
                add_list(&mut verifier, &text, &path.display().to_string(), warn);
            }
            Ok(verifier)
        }
        Source::Bundle(path) => {
            let bundle = read_bundle(path)?;
            let jwks = Jwks::parse(bundle.jwks.to_string().as_bytes()).map_err(|source| {
                CliError::Jwks {
                    path: path.clone(),
                    source,
                }
            })?;
            let mut verifier = Verifier::new(bundle.issuer.clone(), jwks, catalogue()?);
            for (i, token) in bundle.status_lists.iter().enumerate() {
                add_list(
                    &mut verifier,
                    token,
                    &format!("{} #{}", path.display(), i + 1),
                    warn,
                );
            }
            Ok(verifier)
        }
        Source::Registry(_) => Err(CliError::Usage("a registry source needs the network")),
    }
}

/// Reads and checks a bundle file.
pub fn read_bundle(path: &std::path::Path) -> Result<Bundle, CliError> {
    let bad = |detail: &str| CliError::Bundle {
        path: path.to_owned(),
        detail: detail.to_owned(),
    };
    let bytes = input::read_file(&path.to_string_lossy(), MAX_BUNDLE)?
        .ok_or_else(|| bad("larger than 64 MiB"))?;
    let bundle: Bundle =
        serde_json::from_slice(&bytes).map_err(|_| bad("not a TrustMark bundle"))?;
    if bundle.format != BUNDLE_FORMAT {
        return Err(bad("an unknown bundle format"));
    }
    Ok(bundle)
}

/// Fetches what a registry publishes: its JWKS and every status list it lists.
pub async fn fetch_registry(fetcher: &Fetcher, issuer: &str, now: i64) -> Result<Bundle, CliError> {
    let jwks = fetcher
        .get(&format!("{issuer}/.well-known/jwks.json"), MAX_JWKS, None)
        .await?;
    if !jwks.ok() {
        return Err(CliError::RegistryAnswer {
            url: jwks.url,
            status: jwks.status,
        });
    }
    let jwks: serde_json::Value =
        serde_json::from_slice(&jwks.body).map_err(|_| CliError::RegistryDocument("its JWKS"))?;
    let aggregation = fetcher
        .get(&format!("{issuer}/statuslists"), MAX_AGGREGATION, None)
        .await?;
    if !aggregation.ok() {
        return Err(CliError::RegistryAnswer {
            url: aggregation.url,
            status: aggregation.status,
        });
    }
    #[derive(Deserialize)]
    struct Aggregation {
        status_lists: Vec<String>,
    }
    let aggregation: Aggregation = serde_json::from_slice(&aggregation.body)
        .map_err(|_| CliError::RegistryDocument("its status list aggregation"))?;
    let mut status_lists = Vec::with_capacity(aggregation.status_lists.len());
    let prefix = format!("{issuer}/");
    for url in aggregation.status_lists {
        // Only the registry's own lists: a listed URL elsewhere is never fetched.
        if !url.starts_with(&prefix) {
            return Err(CliError::RegistryDocument(
                "a status list outside the registry",
            ));
        }
        let list = fetcher.get(&url, MAX_LIST, None).await?;
        if !list.ok() {
            return Err(CliError::RegistryAnswer {
                url: list.url,
                status: list.status,
            });
        }
        let token = list
            .text()
            .ok_or(CliError::RegistryDocument("a status list that is not text"))?;
        status_lists.push(token.trim().to_owned());
    }
    let info = crate::evidence::log_info(fetcher, issuer).await?;
    let note = crate::evidence::fetch_note(fetcher, issuer).await?;
    let key = trustmark_core::log::note::VerifierKey::parse(&info.vkey)
        .map_err(|_| CliError::RegistryDocument("a log key that does not parse"))?;
    crate::evidence::open(&note, &key)
        .map_err(|_| CliError::RegistryDocument("a checkpoint its log key did not sign"))?;
    Ok(Bundle {
        format: BUNDLE_FORMAT.into(),
        issuer: issuer.to_owned(),
        fetched_at: now,
        jwks,
        status_lists,
        checkpoint: Some(note),
        log_vkey: Some(info.vkey),
    })
}

/// The verifier of a bundle held in memory (fetched just now).
pub fn verifier_of(bundle: &Bundle, warn: &mut impl Write) -> Result<Verifier, CliError> {
    let jwks = Jwks::parse(bundle.jwks.to_string().as_bytes()).map_err(CliError::RegistryKeys)?;
    let mut verifier = Verifier::new(bundle.issuer.clone(), jwks, catalogue()?);
    for token in &bundle.status_lists {
        add_list(&mut verifier, token, &bundle.issuer, warn);
    }
    Ok(verifier)
}
