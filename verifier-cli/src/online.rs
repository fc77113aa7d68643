//! Verifying against a registry over the network: its JWKS and the status lists the
//! badges point to, fetched when needed and kept in the on-disk [`Cache`].
//!
//! A status list is fetched only for a badge that passed every check before the status
//! one (so a forged or copied token cannot make the tool fetch anything), and only from
//! the registry's own URLs. A key the cached JWKS does not know makes it ask the
//! registry again once, so a key rotation does not turn new badges into `unknown_key`
//! until the cached set runs out.

use crate::cache::{self, Cache, Entry, Kind, Reuse};
use crate::error::CliError;
use crate::fetch::Fetcher;
use crate::time;
use crate::trust::{catalogue, MAX_JWKS, MAX_LIST};
use std::collections::HashSet;
use std::io::Write;
use trustmark_core::verify::{verify_status_list, StatusListProblem};
use trustmark_core::{Jwks, OriginPolicy, Outcome, Reason, Verifier};

/// A registry's keys and the status lists fetched so far in this run.
pub struct Online<'a> {
    fetcher: &'a Fetcher,
    cache: Option<Cache>,
    issuer: String,
    keys: Jwks,
    /// Whether `keys` came from (or were confirmed by) the registry in this run.
    keys_confirmed: bool,
    verifier: Verifier,
    /// The list tokens added, to rebuild the verifier after the keys change.
    lists: Vec<String>,
    /// List URLs already fetched (or refused) in this run.
    tried: HashSet<String>,
}

/// What [`Online::keys`] got.
struct Keys {
    keys: Jwks,
    confirmed: bool,
}

fn warn_line(warn: &mut dyn Write, text: &str) {
    let _ = writeln!(warn, "warning: {text}");
}

fn store(cache: &Option<Cache>, kind: Kind, entry: &Entry, warn: &mut dyn Write) {
    if let Some(cache) = cache {
        if let Err(e) = cache.store(kind, entry) {
            warn_line(
                warn,
                &format!("cannot write the cache in {}: {e}", cache.dir().display()),
            );
        }
    }
}

impl<'a> Online<'a> {
    /// Gets the registry's keys (from the cache while fresh). `issuer` is a checked
    /// registry URL (see [`crate::trust::registry_url`]).
    pub async fn connect(
        fetcher: &'a Fetcher,
        issuer: &str,
        cache: Option<Cache>,
        warn: &mut dyn Write,
    ) -> Result<Online<'a>, CliError> {
        let got = keys(fetcher, &cache, issuer, false, warn).await?;
        let verifier = Verifier::new(issuer, got.keys.clone(), catalogue()?);
        Ok(Online {
            fetcher,
            cache,
            issuer: issuer.to_owned(),
            keys: got.keys,
            keys_confirmed: got.confirmed,
            verifier,
            lists: Vec::new(),
            tried: HashSet::new(),
        })
    }

    /// The trusted keys, for callers that verify other tokens (status lists).
    pub fn jwks(&self) -> &Jwks {
        &self.keys
    }

    /// Asks the registry for its keys again (once per run) and rebuilds the verifier.
    /// Returns whether the keys were refreshed.
    async fn refresh_keys(&mut self, warn: &mut dyn Write) -> bool {
        if self.keys_confirmed {
            return false;
        }
        self.keys_confirmed = true;
        let got = match keys(self.fetcher, &self.cache, &self.issuer, true, warn).await {
            Ok(got) => got,
            Err(e) => {
                warn_line(warn, &format!("could not refresh the registry's keys: {e}"));
                return false;
            }
        };
        let Ok(catalogue) = catalogue() else {
            return false;
        };
        self.keys = got.keys;
        self.verifier = Verifier::new(self.issuer.clone(), self.keys.clone(), catalogue);
        for token in &self.lists {
            // Already reported when first added.
            let _ = self.verifier.add_status_list(token);
        }
        true
    }

    /// Verifies one badge, fetching its status list if it gets that far.
    pub async fn verify(
        &mut self,
        token: &str,
        origin: OriginPolicy<'_>,
        at: i64,
        warn: &mut dyn Write,
    ) -> Outcome {
        let mut outcome = self.verifier.verify(token, origin, at);
        if outcome.reason == Reason::UnknownKey && self.refresh_keys(warn).await {
            outcome = self.verifier.verify(token, origin, at);
        }
        if outcome.reason != Reason::StatusUnavailable {
            return outcome;
        }
        let Some(uri) = outcome
            .claims
            .as_ref()
            .map(|c| c.status.status_list.uri.clone())
        else {
            return outcome;
        };
        if !self.tried.insert(uri.clone()) {
            return outcome;
        }
        self.load_list(&uri, warn).await;
        self.verifier.verify(token, origin, at)
    }

    async fn load_list(&mut self, uri: &str, warn: &mut dyn Write) {
        // Only the registry's own lists: a badge naming a list elsewhere gets none.
        if !uri.starts_with(&format!("{}/", self.issuer)) {
            warn_line(
                warn,
                &format!("status list {uri} is outside the registry and was not fetched"),
            );
            return;
        }
        let token = match self.list_token(uri, warn).await {
            Ok(token) => token,
            Err(e) => {
                warn_line(warn, &format!("status list {uri}: {e}"));
                return;
            }
        };
        let mut added = self.verifier.add_status_list(&token);
        if matches!(added, Err(StatusListProblem::UnknownKey)) && self.refresh_keys(warn).await {
            added = self.verifier.add_status_list(&token);
        }
        if let Err(problem) = added {
            warn_line(warn, &format!("status list {uri}: {problem}"));
        }
        self.lists.push(token);
    }

    /// The token of the list at `uri`: from the cache while fresh, revalidated with its
    /// ETag once `max-age` ran out, fetched whole otherwise.
    async fn list_token(&self, uri: &str, warn: &mut dyn Write) -> Result<String, CliError> {
        let now = time::now();
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(Kind::StatusList, uri))
            .and_then(|entry| {
                // Re-verified like a fresh copy; one that fails is not ours to trust.
                let list = verify_status_list(entry.body.trim(), &self.keys, &self.issuer).ok()?;
                (list.claims.sub == uri).then(|| {
                    let reuse = cache::list_reuse(&list, &entry, now);
                    (entry, reuse)
                })
            });
        let etag = match &cached {
            Some((entry, Reuse::Use)) => return Ok(entry.body.clone()),
            Some((entry, Reuse::Revalidate)) => entry.etag.as_deref(),
            _ => None,
        };
        let answer = self.fetcher.get(uri, MAX_LIST, etag).await?;
        let body = match (&cached, answer.status) {
            (Some((entry, Reuse::Revalidate)), 304) => entry.body.clone(),
            _ if answer.ok() => answer
                .text()
                .ok_or(CliError::RegistryDocument("a status list that is not text"))?
                .trim()
                .to_owned(),
            _ => {
                return Err(CliError::RegistryAnswer {
                    url: answer.url,
                    status: answer.status,
                })
            }
        };
        // Only a list that verifies is worth keeping.
        let verifies = verify_status_list(&body, &self.keys, &self.issuer).is_ok();
        if verifies && !answer.no_store {
            let etag = answer
                .etag
                .clone()
                .or_else(|| cached.and_then(|(e, _)| e.etag));
            let entry = Entry::new(uri, now, answer.max_age, etag, body.clone());
            store(&self.cache, Kind::StatusList, &entry, warn);
        }
        Ok(body)
    }
}

/// The registry's JWKS: from the cache within its `max-age`, revalidated with its ETag,
/// or fetched. `force` asks the registry even when the cached set is fresh.
async fn keys(
    fetcher: &Fetcher,
    cache: &Option<Cache>,
    issuer: &str,
    force: bool,
    warn: &mut dyn Write,
) -> Result<Keys, CliError> {
    let url = format!("{issuer}/.well-known/jwks.json");
    let now = time::now();
    let cached = cache
        .as_ref()
        .and_then(|c| c.load(Kind::Jwks, &url))
        .and_then(|entry| {
            let keys = Jwks::parse(entry.body.as_bytes()).ok()?;
            let reuse = cache::jwks_reuse(&entry, now, force);
            Some((entry, keys, reuse))
        });
    let etag = match &cached {
        Some((_, keys, Reuse::Use)) => {
            return Ok(Keys {
                keys: keys.clone(),
                confirmed: false,
            })
        }
        Some((entry, _, Reuse::Revalidate)) => entry.etag.as_deref(),
        _ => None,
    };
    let answer = fetcher.get(&url, MAX_JWKS, etag).await?;
    let old_etag = etag.map(str::to_owned);
    let (keys, body) = match (cached, answer.status) {
        (Some((entry, keys, Reuse::Revalidate)), 304) => (keys, entry.body),
        _ if answer.ok() => {
            let keys = Jwks::parse(&answer.body).map_err(CliError::RegistryKeys)?;
            let body = answer
                .text()
                .ok_or(CliError::RegistryDocument("its JWKS"))?
                .to_owned();
            (keys, body)
        }
        _ => {
            return Err(CliError::RegistryAnswer {
                url: answer.url,
                status: answer.status,
            })
        }
    };
    if !answer.no_store {
        let etag = answer.etag.clone().or(old_etag);
        let entry = Entry::new(&url, now, answer.max_age, etag, body);
        store(cache, Kind::Jwks, &entry, warn);
    }
    Ok(Keys {
        keys,
        confirmed: true,
    })
}
