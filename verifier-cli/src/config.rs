//! The user's defaults: the registry to trust when a command names none. From
//! `TRUSTMARK_REGISTRY`, else the config file (`TRUSTMARK_CONFIG`, else
//! `<config dir>/trustmark/config.toml`, e.g. `~/.config/trustmark/config.toml`).

use crate::error::CliError;
use serde::Deserialize;
use std::path::PathBuf;

/// The config file's members.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The default registry (issuer URL).
    pub registry: Option<String>,
}

/// Where the config file is looked for.
pub fn path() -> Option<PathBuf> {
    std::env::var_os("TRUSTMARK_CONFIG")
        .map(PathBuf::from)
        .or_else(|| dirs::config_dir().map(|d| d.join("trustmark").join("config.toml")))
}

/// Reads the config file; a missing file is an empty config, a broken one an error.
pub fn load() -> Result<Config, CliError> {
    let Some(path) = path() else {
        return Ok(Config::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text).map_err(|e| CliError::Config {
            path,
            detail: e.message().to_owned(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(source) => Err(CliError::Read { path, source }),
    }
}

/// The registry to use when a command names none: the environment, then the file.
pub fn default_registry() -> Result<Option<String>, CliError> {
    if let Some(url) = std::env::var("TRUSTMARK_REGISTRY")
        .ok()
        .filter(|u| !u.is_empty())
    {
        return Ok(Some(url));
    }
    Ok(load()?.registry)
}
