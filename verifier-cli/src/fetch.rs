//! The network, and the only module that touches it: HTTPS with rustls, a timeout per
//! request, a redirect cap that never downgrades https to http, a body size cap read
//! incrementally (a huge page is refused after one chunk past the cap, never loaded), and
//! a user agent that names the tool.

use std::time::Duration;

/// Redirects followed at most; more is an error.
pub const MAX_REDIRECTS: usize = 5;
/// Seconds to establish a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest `/.well-known/trustmark.jwt` read: room for a few dozen badges.
pub const MAX_WELL_KNOWN: usize = 64 * 1024;
/// Largest page read when looking for badge markup. Supplier home pages with inlined
/// assets run to a few hundred KiB; a page past this is refused rather than parsed.
pub const MAX_PAGE: usize = 2 * 1024 * 1024;
/// Largest answer read from a `<trustmark-badge src>` URL: one token (at most 8 KiB)
/// and some whitespace.
pub const MAX_BADGE_SRC: usize = trustmark_core::jws::MAX_TOKEN_LEN + 1024;

/// What a fetch returned.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// HTTP status.
    pub status: u16,
    /// The URL after redirects.
    pub url: String,
    /// `Content-Type`, if any.
    pub content_type: Option<String>,
    /// `ETag`, if any.
    pub etag: Option<String>,
    /// `Cache-Control: max-age`, if any; `no-cache` and `no-store` read as 0.
    pub max_age: Option<u64>,
    /// `Cache-Control: no-store`: the answer must not be written to a cache.
    pub no_store: bool,
    /// The body (empty for 304).
    pub body: Vec<u8>,
}

impl Fetched {
    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as UTF-8 text, if it is.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Not an http(s) URL.
    #[error("{0} is not an http(s) URL")]
    Url(String),
    /// The request took longer than the timeout.
    #[error("{url}: no answer within {secs} s")]
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        secs: u64,
    },
    /// More redirects than allowed, or a redirect from https to http.
    #[error("{url}: {why}")]
    Redirect {
        /// The URL.
        url: String,
        /// What was wrong.
        why: &'static str,
    },
    /// The body is larger than the cap.
    #[error("{url}: the answer is larger than {cap} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The cap.
        cap: usize,
    },
    /// Connecting, TLS or reading failed.
    #[error("{url}: {why}")]
    Http {
        /// The URL.
        url: String,
        /// Why, from the innermost cause (reqwest's own text names only the URL).
        why: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("the HTTP client could not be set up: {0}")]
    Client(reqwest::Error),
}

/// An HTTP client with the tool's limits. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
}

const DOWNGRADE: &str = "redirected from https to http";
const TOO_MANY: &str = "too many redirects";

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether the tool fetches from `url` at all: https anywhere, http only on a loopback
/// host (the same rule as for origins), so markup cannot make it fetch in clear text.
pub fn is_fetchable(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => is_loopback(url),
        _ => false,
    }
}

/// What went wrong, in the words of the innermost error ("Connection refused", "invalid
/// peer certificate: UnknownIssuer"): that is what a user can act on.
fn cause(e: &reqwest::Error) -> String {
    let mut inner: &dyn std::error::Error = e;
    while let Some(next) = inner.source() {
        inner = next;
    }
    let inner = inner.to_string();
    if e.is_connect() {
        format!("could not connect: {inner}")
    } else if e.is_body() || e.is_decode() {
        format!("the answer broke off: {inner}")
    } else {
        inner
    }
}

impl Fetcher {
    /// A client giving up on a request after `timeout`.
    pub fn new(timeout: Duration) -> Result<Fetcher, FetchError> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let downgrade = attempt.url().scheme() == "http"
                && !is_loopback(attempt.url())
                && attempt.previous().iter().any(|u| u.scheme() == "https");
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(TOO_MANY)
            } else if downgrade {
                attempt.error(DOWNGRADE)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("trustmark/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(timeout)
            .redirect(policy)
            .build()
            .map_err(FetchError::Client)?;
        Ok(Fetcher { client, timeout })
    }

    fn error(&self, url: &str, e: reqwest::Error) -> FetchError {
        let text = format!("{e:?}");
        if e.is_timeout() {
            FetchError::Timeout {
                url: url.to_owned(),
                secs: self.timeout.as_secs(),
            }
        } else if e.is_redirect() {
            let why = if text.contains(DOWNGRADE) {
                DOWNGRADE
            } else {
                TOO_MANY
            };
            FetchError::Redirect {
                url: url.to_owned(),
                why,
            }
        } else {
            FetchError::Http {
                url: url.to_owned(),
                why: cause(&e),
            }
        }
    }

    /// GETs `url`, reading at most `cap` bytes of body; `if_none_match` makes it
    /// conditional (a 304 has an empty body).
    pub async fn get(
        &self,
        url: &str,
        cap: usize,
        if_none_match: Option<&str>,
    ) -> Result<Fetched, FetchError> {
        let parsed = parse(url)?;
        let mut request = self.client.get(parsed);
        if let Some(etag) = if_none_match {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(|e| self.error(url, e))?;
        self.read(url, response, cap).await
    }

    /// POSTs `body` as `content_type`, reading at most `cap` bytes of the answer.
    pub async fn post(
        &self,
        url: &str,
        content_type: &str,
        body: String,
        cap: usize,
    ) -> Result<Fetched, FetchError> {
        let parsed = parse(url)?;
        let response = self
            .client
            .post(parsed)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .map_err(|e| self.error(url, e))?;
        self.read(url, response, cap).await
    }

    async fn read(
        &self,
        url: &str,
        mut response: reqwest::Response,
        cap: usize,
    ) -> Result<Fetched, FetchError> {
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            cap,
        };
        if response.content_length().is_some_and(|n| n > cap as u64) {
            return Err(too_large());
        }
        let header = |r: &reqwest::Response, name: reqwest::header::HeaderName| {
            r.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(&response, reqwest::header::CONTENT_TYPE);
        let etag = header(&response, reqwest::header::ETAG);
        let cache_control = header(&response, reqwest::header::CACHE_CONTROL);
        let (max_age, no_store) = cache_control
            .as_deref()
            .map_or((None, false), parse_cache_control);
        let status = response.status().as_u16();
        let final_url = response.url().to_string();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.error(url, e))? {
            if body.len() + chunk.len() > cap {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            url: final_url,
            content_type,
            etag,
            max_age,
            no_store,
            body,
        })
    }
}

/// `max-age` and `no-store` of a `Cache-Control` value. `no-cache` and `no-store` mean
/// "revalidate every time", so they read as a max-age of 0 whatever else is listed.
fn parse_cache_control(value: &str) -> (Option<u64>, bool) {
    let mut max_age = None;
    let (mut no_cache, mut no_store) = (false, false);
    for directive in value.split(',').map(str::trim) {
        let lower = directive.to_ascii_lowercase();
        if let Some(n) = lower.strip_prefix("max-age=") {
            max_age = n.trim_matches('"').parse().ok();
        } else if lower == "no-cache" {
            no_cache = true;
        } else if lower == "no-store" {
            no_store = true;
        }
    }
    if no_cache || no_store {
        max_age = Some(0);
    }
    (max_age, no_store)
}

fn parse(url: &str) -> Result<reqwest::Url, FetchError> {
    reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| FetchError::Url(url.to_owned()))
}

#[cfg(test)]
mod tests {
    // Cache-Control as registries and CDNs write it.
    use super::*;

    #[test]
    fn cache_control_directives() {
        assert_eq!(
            parse_cache_control("public, max-age=300"),
            (Some(300), false)
        );
        assert_eq!(parse_cache_control("Max-Age=\"60\""), (Some(60), false));
        assert_eq!(
            parse_cache_control("max-age=300, no-cache"),
            (Some(0), false)
        );
        assert_eq!(parse_cache_control("no-store"), (Some(0), true));
        assert_eq!(parse_cache_control("public"), (None, false));
        assert_eq!(parse_cache_control("max-age=-1"), (None, false));
    }
}
