//! The network, and the only module that touches it: HTTPS with rustls, a timeout per
//! request, a redirect cap that never downgrades https to http, a body size cap read
//! incrementally (a huge page is refused after one chunk past the cap, never loaded), and
//! a user agent that names the tool.
//!
//! The scan (`trustmark scan`) needs more of each answer than the verifier does, so it
//! follows redirects itself ([`Fetcher::trace`]): every hop is seen (an `http://` page
//! that redirects to `https://`), a loop is told from a long chain, the whole chain runs
//! under one deadline, and the time from the request to the end of the final body is
//! taken on the monotonic clock.

use std::time::{Duration, Instant};

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
    /// The server's certificate does not verify against the trusted roots.
    #[error("{url}: the certificate does not verify: {why}")]
    Certificate {
        /// The URL.
        url: String,
        /// Why, in rustls's words ("invalid peer certificate: UnknownIssuer").
        why: String,
    },
    /// The HTTP client could not be built (TLS setup).
    #[error("the HTTP client could not be set up: {0}")]
    Client(reqwest::Error),
    /// Extra trusted roots (`--ca-file`) that are not PEM certificates.
    #[error("no PEM certificate could be read from the extra roots")]
    Roots,
}

/// How a [`Fetcher`] is set up beyond its timeout.
#[derive(Debug, Clone)]
pub struct Options {
    /// Give up on a request (for [`Fetcher::trace`]: on a whole redirect chain) after this.
    pub timeout: Duration,
    /// The `User-Agent` sent.
    pub user_agent: String,
    /// PEM certificates trusted as roots beside the built-in ones (`--ca-file`).
    pub extra_roots: Option<Vec<u8>>,
}

/// The verifier's user agent.
pub const USER_AGENT: &str = concat!("trustmark/", env!("CARGO_PKG_VERSION"));

/// What [`Fetcher::trace`] does with the final answer's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Read it; past the cap the fetch fails with [`FetchError::TooLarge`].
    Read,
    /// Read it only when it is HTML (`text/html`, `application/xhtml+xml`); any other
    /// answer is left unread, so a crawler never downloads images or archives.
    HtmlOnly,
    /// Read the first `cap` bytes and drop the rest (RFC 9309 lets a crawler parse a
    /// robots.txt up to a limit of its choosing, at least 500 KiB).
    Prefix,
}

/// One redirect on the way to the final answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// The URL asked.
    pub url: String,
    /// Its 3xx status.
    pub status: u16,
}

/// A fetch with its redirect chain, its timing and the headers the scan reads.
#[derive(Debug, Clone)]
pub struct Traced {
    /// The redirects followed, in order (empty when the first answer was final).
    pub redirects: Vec<Hop>,
    /// The URL of the final answer.
    pub url: String,
    /// Its status.
    pub status: u16,
    /// Its `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Its `Strict-Transport-Security`, if any.
    pub hsts: Option<String>,
    /// The body (empty when it was left unread).
    pub body: Vec<u8>,
    /// Whether the body was read.
    pub read: bool,
    /// Monotonic time from the first request to the end of the final body.
    pub elapsed: Duration,
}

impl Traced {
    /// Whether the final status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Whether a `Content-Type` is HTML.
pub fn is_html_type(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| {
        let t = t.trim_start().to_ascii_lowercase();
        t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
    })
}

/// An HTTP client with the tool's limits. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    /// The same client without automatic redirects, for [`Fetcher::trace`].
    manual: reqwest::Client,
    timeout: Duration,
}

const DOWNGRADE: &str = "redirected from https to http";
const TOO_MANY: &str = "too many redirects";
const LOOP: &str = "redirect loop";
const NOT_FETCHABLE: &str = "redirected to a URL that is neither https nor loopback http";

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
        Fetcher::with(Options {
            timeout,
            user_agent: USER_AGENT.to_owned(),
            extra_roots: None,
        })
    }

    /// A client set up as `options` say.
    pub fn with(options: Options) -> Result<Fetcher, FetchError> {
        let Options {
            timeout,
            user_agent,
            extra_roots,
        } = options;
        let roots = match extra_roots {
            Some(pem) => {
                let roots =
                    reqwest::Certificate::from_pem_bundle(&pem).map_err(|_| FetchError::Roots)?;
                if roots.is_empty() {
                    return Err(FetchError::Roots);
                }
                roots
            }
            None => Vec::new(),
        };
        let builder = |policy| {
            roots.iter().cloned().fold(
                reqwest::Client::builder()
                    .user_agent(user_agent.clone())
                    .connect_timeout(CONNECT_TIMEOUT.min(timeout))
                    .timeout(timeout)
                    .redirect(policy),
                |b, root| b.add_root_certificate(root),
            )
        };
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
        let client = builder(policy).build().map_err(FetchError::Client)?;
        let manual = builder(reqwest::redirect::Policy::none())
            .build()
            .map_err(FetchError::Client)?;
        Ok(Fetcher {
            client,
            manual,
            timeout,
        })
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

    /// GETs `url` following at most [`MAX_REDIRECTS`] redirects itself, each hop
    /// recorded; a loop, a longer chain, a downgrade from https to http (but on
    /// loopback) or a hop that is not fetchable fails. The whole chain, body included,
    /// runs under the fetcher's timeout; `elapsed` is measured on the monotonic clock.
    pub async fn trace(&self, url: &str, cap: usize, body: Body) -> Result<Traced, FetchError> {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.follow(url, cap, body, started)).await {
            Ok(done) => done,
            Err(_) => Err(FetchError::Timeout {
                url: url.to_owned(),
                secs: self.timeout.as_secs(),
            }),
        }
    }

    async fn follow(
        &self,
        url: &str,
        cap: usize,
        body: Body,
        started: Instant,
    ) -> Result<Traced, FetchError> {
        let mut current = parse(url)?;
        current.set_fragment(None);
        let mut redirects: Vec<Hop> = Vec::new();
        loop {
            let shown = current.to_string();
            let mut response = self
                .manual
                .get(current.clone())
                .send()
                .await
                .map_err(|e| self.trace_error(&shown, e))?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            if let (true, Some(location)) = (response.status().is_redirection(), location) {
                let redirect = |why| FetchError::Redirect {
                    url: url.to_owned(),
                    why,
                };
                let mut next = current
                    .join(&location)
                    .map_err(|_| redirect(NOT_FETCHABLE))?;
                next.set_fragment(None);
                redirects.push(Hop { url: shown, status });
                if !is_fetchable(&next) {
                    return Err(redirect(NOT_FETCHABLE));
                }
                if current.scheme() == "https" && next.scheme() == "http" && !is_loopback(&next) {
                    return Err(redirect(DOWNGRADE));
                }
                if next == current || redirects.iter().any(|h| h.url == next.as_str()) {
                    return Err(redirect(LOOP));
                }
                // `redirects` counts the redirects answered so far: the fifth is still
                // followed, a sixth is one too many.
                if redirects.len() > MAX_REDIRECTS {
                    return Err(redirect(TOO_MANY));
                }
                current = next;
                continue;
            }
            let header = |name: reqwest::header::HeaderName| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let content_type = header(reqwest::header::CONTENT_TYPE);
            let hsts = header(reqwest::header::STRICT_TRANSPORT_SECURITY);
            let wanted = match body {
                Body::Read | Body::Prefix => true,
                Body::HtmlOnly => is_html_type(content_type.as_deref()),
            };
            let mut bytes = Vec::new();
            if wanted {
                if body != Body::Prefix && response.content_length().is_some_and(|n| n > cap as u64)
                {
                    return Err(FetchError::TooLarge { url: shown, cap });
                }
                while let Some(chunk) = response
                    .chunk()
                    .await
                    .map_err(|e| self.trace_error(&shown, e))?
                {
                    if bytes.len() + chunk.len() > cap {
                        if body == Body::Prefix {
                            let room = cap - bytes.len();
                            bytes.extend_from_slice(chunk.get(..room).unwrap_or_default());
                            break;
                        }
                        return Err(FetchError::TooLarge { url: shown, cap });
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
            return Ok(Traced {
                redirects,
                url: shown,
                status,
                content_type,
                hsts,
                body: bytes,
                read: wanted,
                elapsed: started.elapsed(),
            });
        }
    }

    /// As [`Fetcher::error`], with a certificate that does not verify told apart: the
    /// scan reports it as a TLS finding. rustls's errors reach here only as text.
    fn trace_error(&self, url: &str, e: reqwest::Error) -> FetchError {
        match self.error(url, e) {
            FetchError::Http { url, why } if why.contains("invalid peer certificate") => {
                FetchError::Certificate { url, why }
            }
            other => other,
        }
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
