//! Link checks after the crawl: certificate verification pages and payment links fetched
//! `--tries` times each (one link's tries one after another, links `--concurrency` at a
//! time), privacy notices once, and the `http://` twin of the start page. These are
//! single requests for URLs the site publishes, not crawling, so they do not consult
//! robots.txt.

use crate::fetch::{Body, FetchError, Fetcher};
use futures_util::stream::{self, StreamExt};
use std::time::Duration;

/// Largest certificate verification page read (it is searched for the certificate's
/// number).
const MAX_CERT_PAGE: usize = 2 * 1024 * 1024;
/// What is read of a payment or privacy page: only its status matters.
const MAX_STATUS_ONLY: usize = 64 * 1024;

/// How one try ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A 2xx answer, after `elapsed` (monotonic, request to end of body).
    Reached {
        /// Time taken.
        elapsed: Duration,
        /// Where the redirects ended.
        final_url: String,
        /// For a certificate: whether the page shows its number.
        shows: Option<bool>,
    },
    /// A final answer that is not 2xx.
    Answered {
        /// Its status.
        status: u16,
    },
    /// No answer within the timeout.
    TimedOut,
    /// Any other failure (connection, TLS, redirects, size), in words.
    Failed(String),
}

/// The tries of one link.
#[derive(Debug, Clone)]
pub struct Tries {
    /// The link.
    pub url: String,
    /// Each try, in order.
    pub tries: Vec<Outcome>,
}

/// A fetch error in a few words, without the URL (evidence names it already).
pub fn short(e: &FetchError) -> String {
    match e {
        FetchError::Url(_) => "not an http(s) URL".to_owned(),
        FetchError::Timeout { secs, .. } => format!("no answer within {secs} s"),
        FetchError::Redirect { why, .. } => (*why).to_owned(),
        FetchError::TooLarge { cap, .. } => {
            format!("larger than {} MiB; not read", cap / (1024 * 1024))
        }
        FetchError::Http { why, .. } => why.clone(),
        FetchError::Certificate { why, .. } => format!("the certificate does not verify: {why}"),
        FetchError::Client(e) => e.to_string(),
        FetchError::Roots => "no usable extra roots".to_owned(),
    }
}

/// Whether `text` (a page) shows `needle`, as markup or as text.
fn shows(body: &[u8], needle: &str) -> bool {
    let raw = String::from_utf8_lossy(body);
    if raw.contains(needle) {
        return true;
    }
    let text: String = scraper::Html::parse_document(&raw)
        .root_element()
        .text()
        .collect();
    text.contains(needle)
}

async fn one_try(fetcher: &Fetcher, url: &str, look_for: Option<&str>) -> Outcome {
    let (cap, body) = match look_for {
        Some(_) => (MAX_CERT_PAGE, Body::Read),
        None => (MAX_STATUS_ONLY, Body::Prefix),
    };
    match fetcher.trace(url, cap, body).await {
        Ok(t) if t.ok() => Outcome::Reached {
            elapsed: t.elapsed,
            shows: look_for.map(|n| shows(&t.body, n)),
            final_url: t.url,
        },
        Ok(t) => Outcome::Answered { status: t.status },
        Err(FetchError::Timeout { .. }) => Outcome::TimedOut,
        Err(e) => Outcome::Failed(short(&e)),
    }
}

/// One link to try.
#[derive(Debug, Clone)]
pub struct Job {
    /// The link.
    pub url: String,
    /// Text its page must show (a certificate's number), if any.
    pub look_for: Option<String>,
    /// How many tries.
    pub tries: usize,
}

/// Tries each link, at most `concurrency` links at a time; the results come back in the
/// order of `jobs`.
pub async fn tries(fetcher: &Fetcher, jobs: Vec<Job>, concurrency: usize) -> Vec<Tries> {
    stream::iter(jobs)
        .map(
            |Job {
                 url,
                 look_for,
                 tries,
             }| async move {
                let mut outcomes = Vec::with_capacity(tries);
                for _ in 0..tries {
                    outcomes.push(one_try(fetcher, &url, look_for.as_deref()).await);
                }
                Tries {
                    url,
                    tries: outcomes,
                }
            },
        )
        .buffered(concurrency)
        .collect()
        .await
}

/// How the `http://` twin of an https start page answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Upgrade {
    /// Its redirects end on https.
    ToHttps,
    /// It answered this status over http, without redirecting to https.
    StaysHttp(u16),
    /// It could not be fetched.
    Failed(String),
}

/// Fetches the `http://` twin of `https_url` (same host; port 80 for the default
/// port, else the same port) and follows its redirects.
pub async fn upgrade(fetcher: &Fetcher, https_url: &url::Url) -> (String, Upgrade) {
    let mut http = https_url.clone();
    let port = https_url.port();
    let _ = http.set_scheme("http");
    let _ = http.set_port(port);
    let shown = http.to_string();
    let outcome = match fetcher.trace(&shown, MAX_STATUS_ONLY, Body::Prefix).await {
        Ok(t) if t.url.starts_with("https://") && !t.redirects.is_empty() => Upgrade::ToHttps,
        Ok(t) => Upgrade::StaysHttp(t.status),
        Err(e) => Upgrade::Failed(short(&e)),
    };
    (shown, outcome)
}
