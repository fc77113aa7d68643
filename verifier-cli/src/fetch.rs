//! The network, and the only module that touches it: HTTPS with rustls, a timeout per
//! request, a redirect cap that never downgrades https to http, a body size cap read
//! incrementally (a huge page is refused after one chunk past the cap, never loaded), and
//! a user agent that names the tool.

use std::time::Duration;

/// Redirects followed at most; more is an error.
pub const MAX_REDIRECTS: usize = 5;
/// Seconds to establish a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

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
    /// `Cache-Control: max-age`, if any.
    pub max_age: Option<u64>,
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
    #[error("{url}: {source}")]
    Http {
        /// The URL.
        url: String,
        /// Why.
        source: reqwest::Error,
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
                source: e,
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
        let max_age = header(&response, reqwest::header::CACHE_CONTROL).and_then(|v| {
            v.split(',')
                .find_map(|d| d.trim().strip_prefix("max-age="))
                .and_then(|n| n.parse().ok())
        });
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
            body,
        })
    }
}

fn parse(url: &str) -> Result<reqwest::Url, FetchError> {
    reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| FetchError::Url(url.to_owned()))
}
