//! Reading tokens and files with size caps, so a 10 MB paste or a huge file is refused
//! after reading one byte more than the cap, never loaded whole.

use crate::error::CliError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where a token came from and what it says; `None` text means it was over the cap or
/// not UTF-8, which verification reports as malformed.
pub struct Token {
    pub text: Option<String>,
}

fn read_capped(mut reader: impl Read, cap: usize, path: &Path) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    reader
        .by_ref()
        .take(cap as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|source| CliError::Read {
            path: path.to_owned(),
            source,
        })?;
    Ok(buf)
}

/// Reads a file (or `-` for stdin) up to `cap` bytes; `Ok(None)` if it is larger.
pub fn read_file(arg: &str, cap: usize) -> Result<Option<Vec<u8>>, CliError> {
    let path = PathBuf::from(arg);
    let bytes = if arg == "-" {
        read_capped(std::io::stdin().lock(), cap, Path::new("standard input"))?
    } else {
        let file = std::fs::File::open(&path).map_err(|source| CliError::Read {
            path: path.clone(),
            source,
        })?;
        read_capped(file, cap, &path)?
    };
    Ok((bytes.len() <= cap).then_some(bytes))
}

/// Whether `input` names a site (URL or bare domain) rather than a token. Every JWS
/// header starts with `eyJ` (base64url of `{"`), which no host name does.
pub fn looks_like_site(input: &str) -> bool {
    if input.starts_with("eyJ") {
        return false;
    }
    input.starts_with("http://")
        || input.starts_with("https://")
        || (input.contains('.')
            && input.len() <= 253
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b':'))
}

/// Resolves the verify INPUT into token text, reading at most `cap` bytes.
pub fn token(input: &str, cap: usize) -> Result<Token, CliError> {
    let bytes = if input == "-" {
        read_file("-", cap)?
    } else if let Some(path) = input.strip_prefix('@') {
        read_file(path, cap)?
    } else if looks_like_site(input) {
        return Err(CliError::SiteInput(input.to_owned()));
    } else {
        Some(input.as_bytes().to_vec())
    };
    let text = bytes
        .and_then(|b| String::from_utf8(b).ok())
        .map(|s| s.trim().to_owned());
    Ok(Token { text })
}
