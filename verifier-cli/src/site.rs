//! Finding a site's badges (SPEC 5): `/.well-known/trustmark.jwt` (one token per line),
//! else the page's `<trustmark-badge>` elements or `<meta name="trustmark">`.
//!
//! Every badge found is checked against the origin the user asked for, never against
//! where redirects led.

use crate::error::CliError;
use crate::fetch::Fetcher;

/// Largest `/.well-known/trustmark.jwt` read: a few badges.
pub const MAX_WELL_KNOWN: usize = 64 * 1024;

/// A badge token found on a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The token text (not yet verified).
    pub token: String,
    /// The URL it was found at.
    pub at: String,
}

/// A site input resolved: the origin to check badges against, and what was found there.
#[derive(Debug, Clone)]
pub struct Site {
    /// The canonical origin the user asked for.
    pub origin: String,
    /// The badges found, in discovery order; empty when the site carries none.
    pub found: Vec<Found>,
}

/// Looks up the badges of `input` (a URL or a bare domain).
pub async fn discover(fetcher: &Fetcher, input: &str) -> Result<Site, CliError> {
    let origin = trustmark_core::origin::canonicalize(input).map_err(CliError::Origin)?;
    let url = format!("{origin}/.well-known/trustmark.jwt");
    let answer = fetcher.get(&url, MAX_WELL_KNOWN, None).await?;
    let found = if answer.ok() {
        answer
            .text()
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|token| Found {
                token: token.to_owned(),
                at: url.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Site { origin, found })
}
