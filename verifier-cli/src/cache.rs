//! The on-disk cache of what a registry publishes (its JWKS and status lists), so that
//! repeated verifications do not fetch them again while they are fresh.
//!
//! Location: `TRUSTMARK_CACHE_DIR` if set, else `<platform cache dir>/trustmark`
//! (e.g. `~/.cache/trustmark`). One JSON file per URL, named after the kind and a
//! digest of the URL, holding the URL, when it was fetched, the HTTP `max-age` and
//! `ETag`, and the body as served. Entries are written atomically. An entry that does
//! not parse, names another URL, or whose body no longer verifies is ignored and
//! fetched again: nothing read from here is trusted without the checks a fresh copy
//! gets.

use crate::files::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use trustmark_core::claims::MAX_FUTURE_SKEW;
use trustmark_core::verify::VerifiedStatusList;

/// The entry format; an entry of another format is ignored.
pub const CACHE_FORMAT: &str = "trustmark-cache/1";
/// Longest a JWKS is reused without asking the registry, whatever its `max-age` says:
/// a key the registry withdraws (compromised) must stop being trusted soon.
pub const MAX_JWKS_AGE: u64 = 3600;
/// Largest entry read: a status list token at its cap, with its bookkeeping.
const MAX_ENTRY: u64 = 8 * 1024 * 1024;

/// What an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A registry's `/.well-known/jwks.json`.
    Jwks,
    /// A status list token.
    StatusList,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Jwks => "jwks",
            Kind::StatusList => "statuslist",
        }
    }
}

/// One cached answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Always [`CACHE_FORMAT`].
    pub format: String,
    /// The URL it was fetched from.
    pub url: String,
    /// When it was fetched or last revalidated (unix seconds).
    pub fetched_at: i64,
    /// The answer's `Cache-Control: max-age`, if any.
    pub max_age: Option<u64>,
    /// The answer's `ETag`, for a conditional request.
    pub etag: Option<String>,
    /// The body as served.
    pub body: String,
}

impl Entry {
    /// A new entry for `url` fetched at `now`.
    pub fn new(
        url: &str,
        now: i64,
        max_age: Option<u64>,
        etag: Option<String>,
        body: String,
    ) -> Self {
        Entry {
            format: CACHE_FORMAT.into(),
            url: url.to_owned(),
            fetched_at: now,
            max_age,
            etag,
            body,
        }
    }

    /// Whether HTTP caching lets the entry be used at `now` without asking: its age is
    /// under its `max-age` (`default` when the answer had none), and under `cap`. An
    /// entry from the future (the clock went back) is never fresh.
    pub fn within_max_age(&self, now: i64, default: u64, cap: u64) -> bool {
        let Ok(age) = u64::try_from(now.saturating_sub(self.fetched_at)) else {
            return false;
        };
        age < self.max_age.unwrap_or(default).min(cap)
    }
}

/// The cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    /// The cache in `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Cache { dir: dir.into() }
    }

    /// The user's cache: `TRUSTMARK_CACHE_DIR`, else the platform's cache directory;
    /// `None` where there is neither (verification then simply fetches every time).
    pub fn from_env() -> Option<Self> {
        std::env::var_os("TRUSTMARK_CACHE_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::cache_dir().map(|d| d.join("trustmark")))
            .map(Cache::at)
    }

    /// Where the entry for `url` lives. The name is derived from the URL so no URL
    /// text reaches the file system; the URL inside the entry is checked on reading.
    pub fn path(&self, kind: Kind, url: &str) -> PathBuf {
        let digest = trustmark_core::statement::digest(url);
        let short = digest.get(..32).unwrap_or(&digest);
        self.dir.join(format!("{}-{short}.json", kind.prefix()))
    }

    /// The entry for `url`, if there is a readable one of this format for this URL.
    pub fn load(&self, kind: Kind, url: &str) -> Option<Entry> {
        let entry = read_entry(&self.path(kind, url))?;
        (entry.format == CACHE_FORMAT && entry.url == url).then_some(entry)
    }

    /// Writes `entry`, replacing the old one atomically.
    pub fn store(&self, kind: Kind, entry: &Entry) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let text = serde_json::to_vec(entry).map_err(std::io::Error::other)?;
        write_atomic(&self.path(kind, &entry.url), &text, 0o644)
    }

    /// The directory, for messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What to do with a cached entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// Use it without asking.
    Use,
    /// Ask with `If-None-Match`; a 304 keeps it.
    Revalidate,
    /// Fetch it whole.
    Refetch,
}

/// The rule for a cached status list that verified: used while its own claims say it
/// is fresh (before `exp`, within `iat + ttl`, not dated in the future) and its HTTP
/// `max-age` (if it had one) has not run out; revalidated while the claims are fresh
/// but `max-age` ran out; refetched whole once the claims say it is stale, since a 304
/// would only hand back a list that is never used.
pub fn list_reuse(list: &VerifiedStatusList, entry: &Entry, now: i64) -> Reuse {
    let in_future = list.claims.iat > now.saturating_add(MAX_FUTURE_SKEW);
    if in_future || !list.is_fresh(now) {
        Reuse::Refetch
    } else if entry.within_max_age(now, u64::MAX, u64::MAX) {
        Reuse::Use
    } else if entry.etag.is_some() {
        Reuse::Revalidate
    } else {
        Reuse::Refetch
    }
}

/// The rule for a cached JWKS that parsed: used while within its `max-age` (none means
/// revalidate every time), at most [`MAX_JWKS_AGE`]; else revalidated when it has an
/// ETag. `force` (a key the cached set does not know) always asks.
pub fn jwks_reuse(entry: &Entry, now: i64, force: bool) -> Reuse {
    if !force && entry.within_max_age(now, 0, MAX_JWKS_AGE) {
        Reuse::Use
    } else if entry.etag.is_some() {
        Reuse::Revalidate
    } else {
        Reuse::Refetch
    }
}

fn read_entry(path: &Path) -> Option<Entry> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_ENTRY + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_ENTRY {
        return None;
    }
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    // Freshness rules and the handling of damaged or foreign entries.
    use super::*;

    fn entry(fetched_at: i64, max_age: Option<u64>) -> Entry {
        Entry::new(
            "https://registry.example/statuslists/1",
            fetched_at,
            max_age,
            Some("\"abc\"".into()),
            "token".into(),
        )
    }

    #[test]
    fn max_age_rules() {
        let e = entry(1000, Some(300));
        assert!(e.within_max_age(1000, 0, u64::MAX));
        assert!(e.within_max_age(1299, 0, u64::MAX));
        assert!(!e.within_max_age(1300, 0, u64::MAX), "max-age is exclusive");
        assert!(
            !e.within_max_age(999, 0, u64::MAX),
            "an entry from the future"
        );
        assert!(!e.within_max_age(1100, 0, 100), "the cap bounds max-age");
        // Without max-age the caller's default applies: 0 means always revalidate.
        let none = entry(1000, None);
        assert!(!none.within_max_age(1000, 0, u64::MAX));
        assert!(none.within_max_age(5000, u64::MAX, u64::MAX));
        assert!(!entry(1000, Some(0)).within_max_age(1000, u64::MAX, u64::MAX));
        assert!(!entry(i64::MAX, Some(10)).within_max_age(i64::MIN, 0, u64::MAX));
    }

    fn list(iat: i64, exp: i64, ttl: u64) -> VerifiedStatusList {
        let list = trustmark_core::StatusList::new(2, 16).unwrap();
        VerifiedStatusList {
            claims: trustmark_core::StatusListClaims {
                iss: "https://registry.example".into(),
                sub: "https://registry.example/statuslists/1".into(),
                iat,
                exp,
                ttl,
                status_list: list.encode(),
            },
            list,
        }
    }

    #[test]
    fn a_list_is_reused_only_while_its_claims_and_max_age_allow() {
        let l = list(1000, 2200, 600);
        let e = entry(1000, Some(300));
        assert_eq!(list_reuse(&l, &e, 1100), Reuse::Use);
        // max-age ran out, the list itself is still fresh: ask with the ETag.
        assert_eq!(list_reuse(&l, &e, 1300), Reuse::Revalidate);
        let mut no_etag = e.clone();
        no_etag.etag = None;
        assert_eq!(list_reuse(&l, &no_etag, 1300), Reuse::Refetch);
        // Past iat + ttl, or past exp: never used, and not revalidated either.
        let long = entry(1000, Some(100_000));
        assert_eq!(list_reuse(&l, &long, 1600), Reuse::Use);
        assert_eq!(list_reuse(&l, &long, 1601), Reuse::Refetch);
        assert_eq!(list_reuse(&list(1000, 1500, 600), &long, 1499), Reuse::Use);
        assert_eq!(
            list_reuse(&list(1000, 1500, 600), &long, 1500),
            Reuse::Refetch
        );
        // Without max-age, the list's own ttl governs.
        assert_eq!(list_reuse(&l, &entry(1000, None), 1600), Reuse::Use);
        // A list dated in the future (beyond the skew) is not believed.
        assert_eq!(
            list_reuse(&list(2000, 3000, 600), &long, 1900),
            Reuse::Refetch
        );
        // The clock went back behind the fetch: ask again.
        assert_eq!(list_reuse(&l, &e, 999), Reuse::Revalidate);
    }

    #[test]
    fn a_jwks_is_reused_within_max_age_capped_and_forcing_asks() {
        let e = Entry::new(
            "https://r.example/.well-known/jwks.json",
            1000,
            Some(300),
            None,
            "{}".into(),
        );
        assert_eq!(jwks_reuse(&e, 1299, false), Reuse::Use);
        assert_eq!(jwks_reuse(&e, 1300, false), Reuse::Refetch);
        assert_eq!(jwks_reuse(&e, 1000, true), Reuse::Refetch);
        let mut tagged = e.clone();
        tagged.etag = Some("\"k1\"".into());
        assert_eq!(jwks_reuse(&tagged, 1000, true), Reuse::Revalidate);
        assert_eq!(jwks_reuse(&tagged, 1300, false), Reuse::Revalidate);
        let year = Entry::new(&e.url, 1000, Some(31_536_000), None, "{}".into());
        assert_eq!(
            jwks_reuse(&year, 1000 + MAX_JWKS_AGE as i64 - 1, false),
            Reuse::Use
        );
        assert_eq!(
            jwks_reuse(&year, 1000 + MAX_JWKS_AGE as i64, false),
            Reuse::Refetch
        );
        let none = Entry::new(&e.url, 1000, None, None, "{}".into());
        assert_eq!(jwks_reuse(&none, 1000, false), Reuse::Refetch);
    }

    #[test]
    fn store_load_and_refuse_what_is_not_ours() {
        let dir = std::env::temp_dir().join(format!("tm-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache::at(dir.join("nested"));
        let e = entry(1000, Some(300));
        assert_eq!(cache.load(Kind::StatusList, &e.url), None);
        cache.store(Kind::StatusList, &e).unwrap();
        assert_eq!(cache.load(Kind::StatusList, &e.url), Some(e.clone()));
        // Another kind or URL is another file.
        assert_eq!(cache.load(Kind::Jwks, &e.url), None);
        assert_eq!(
            cache.load(Kind::StatusList, "https://registry.example/statuslists/2"),
            None
        );
        let path = cache.path(Kind::StatusList, &e.url);
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with("statuslist-") && name.ends_with(".json"),
            "{name}"
        );

        // Damaged, foreign-format and misfiled entries are ignored, not trusted.
        std::fs::write(&path, b"{\"format\":\"trustmark-cache/1\",\"url\":").unwrap();
        assert_eq!(cache.load(Kind::StatusList, &e.url), None);
        let mut other = e.clone();
        other.format = "trustmark-cache/0".into();
        std::fs::write(&path, serde_json::to_vec(&other).unwrap()).unwrap();
        assert_eq!(cache.load(Kind::StatusList, &e.url), None);
        let mut misfiled = e.clone();
        misfiled.url = "https://elsewhere.example/statuslists/1".into();
        std::fs::write(&path, serde_json::to_vec(&misfiled).unwrap()).unwrap();
        assert_eq!(cache.load(Kind::StatusList, &e.url), None);
        std::fs::write(&path, vec![b' '; MAX_ENTRY as usize + 1]).unwrap();
        assert_eq!(cache.load(Kind::StatusList, &e.url), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
