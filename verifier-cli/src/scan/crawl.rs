//! The polite crawl: from the start page, breadth first, over the start origin and the
//! origins of the start origin's `hreflang` language versions; each origin's robots.txt
//! read before any of its pages; at most `--max-pages` pages, `--concurrency` at a time,
//! each under the timeout, body cap and redirect cap of [`crate::fetch`].
//!
//! Language versions are fetched before ordinary links, so a small page cap still sees
//! every version of the pages it reaches.

use super::markup::{self, Facts};
use super::robots::Robots;
use super::ScanError;
use crate::fetch::{Body, FetchError, Fetcher, Traced};
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use url::Url;

/// Largest page read: a page past it is refused after the first chunk beyond, never
/// loaded whole.
pub const MAX_SCAN_PAGE: usize = 5 * 1024 * 1024;
/// Largest robots.txt read; RFC 9309 asks crawlers to parse at least 500 KiB.
const MAX_ROBOTS: usize = 512 * 1024;

/// Links whose file name says they are not pages: not fetched at all.
const NOT_PAGES: &[&str] = &[
    ".pdf", ".jpg", ".jpeg", ".png", ".gif", ".svg", ".webp", ".ico", ".css", ".js", ".zip", ".gz",
    ".mp4", ".mp3", ".woff", ".woff2", ".xml", ".json", ".txt", ".doc", ".docx", ".xls", ".xlsx",
];

/// The crawl's limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Pages fetched at most.
    pub max_pages: usize,
    /// Pages fetched at once at most.
    pub concurrency: usize,
}

/// One page fetched.
#[derive(Debug, Clone)]
pub struct Page {
    /// Where its final answer came from.
    pub final_url: String,
    /// The final status.
    pub status: u16,
    /// Its `Strict-Transport-Security` header.
    pub hsts: Option<String>,
    /// What it says, for a 2xx HTML answer from one of the crawled origins.
    pub facts: Option<Facts>,
}

/// What the crawl saw.
#[derive(Debug, Default)]
pub struct Crawl {
    /// The start page, as fetched (fragment removed).
    pub start: String,
    /// The start page's origin.
    pub origin: String,
    /// The origins crawled: the start origin, then those of its language versions.
    pub origins: Vec<String>,
    /// Pages fetched, by the URL asked.
    pub pages: BTreeMap<String, Page>,
    /// URLs whose fetch failed, with why.
    pub failed: BTreeMap<String, String>,
    /// URLs left out because robots.txt disallows them.
    pub excluded: Vec<String>,
    /// Origins whose robots.txt could not be read, so none of their pages were fetched.
    pub robots_unavailable: Vec<(String, String)>,
    /// URLs found but not fetched because the page cap was reached.
    pub unvisited: usize,
}

impl Crawl {
    /// The pages read (2xx HTML on a crawled origin), by URL asked.
    pub fn scanned(&self) -> impl Iterator<Item = (&String, &Page, &Facts)> {
        self.pages
            .iter()
            .filter_map(|(url, p)| p.facts.as_ref().map(|f| (url, p, f)))
    }
}

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// A robots.txt, by the rules of RFC 9309 section 2.3.1: 2xx parsed, 4xx (and a
/// redirect chain that cannot be followed) allow all, 5xx and no answer disallow all.
async fn robots(fetcher: &Fetcher, origin: &str) -> Result<Robots, (String, RobotsFailure)> {
    let url = format!("{origin}/robots.txt");
    match fetcher.trace(&url, MAX_ROBOTS, Body::Prefix).await {
        Ok(t) if t.ok() => Ok(Robots::parse(&t.body)),
        Ok(t) if t.status >= 500 => Err((url, RobotsFailure::Status(t.status))),
        Ok(_) | Err(FetchError::Redirect { .. }) => Ok(Robots::AllowAll),
        Err(e) => Err((url, RobotsFailure::Fetch(e))),
    }
}

/// Why a robots.txt could not be read.
#[derive(Debug)]
pub enum RobotsFailure {
    /// It answered this 5xx status.
    Status(u16),
    /// It did not answer.
    Fetch(FetchError),
}

impl std::fmt::Display for RobotsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RobotsFailure::Status(s) => write!(f, "answers {s}"),
            RobotsFailure::Fetch(e) => write!(f, "{}", super::probe::short(e)),
        }
    }
}

fn path_of(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

fn is_page_link(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    !NOT_PAGES.iter().any(|ext| path.ends_with(ext))
}

/// What a page task brings back.
type Fetched = (String, Result<(Traced, Option<Facts>), FetchError>);

async fn fetch_page(fetcher: Fetcher, url: String) -> Fetched {
    let result = fetcher
        .trace(&url, MAX_SCAN_PAGE, Body::HtmlOnly)
        .await
        .map(|traced| {
            let facts = (traced.ok() && traced.read)
                .then(|| Url::parse(&traced.url).ok())
                .flatten()
                .map(|at| markup::read(&String::from_utf8_lossy(&traced.body), &at));
            (traced, facts)
        });
    (url, result)
}

/// The crawl's moving parts.
struct State {
    crawl: Crawl,
    allowed: HashSet<String>,
    robots: HashMap<String, Robots>,
    /// Language versions first, then ordinary links.
    versions: VecDeque<String>,
    links: VecDeque<String>,
    seen: HashSet<String>,
}

impl State {
    fn enqueue(&mut self, url: &str, version: bool) {
        let Ok(parsed) = Url::parse(url) else {
            return;
        };
        if !crate::fetch::is_fetchable(&parsed)
            || !self.allowed.contains(&origin_of(&parsed))
            || !is_page_link(&parsed)
            || !self.seen.insert(parsed.to_string())
        {
            return;
        }
        if version {
            self.versions.push_back(parsed.to_string());
        } else {
            self.links.push_back(parsed.to_string());
        }
    }

    /// Files a finished page: its facts, the origins of its language versions (start
    /// origin only), and its links.
    fn file(&mut self, url: String, traced: Traced, facts: Option<Facts>) {
        let final_origin = Url::parse(&traced.url).ok().map(|u| origin_of(&u));
        let on_site = final_origin
            .as_ref()
            .is_some_and(|o| self.allowed.contains(o));
        let facts = facts.filter(|_| on_site);
        if let Some(f) = &facts {
            if final_origin.as_deref() == Some(self.crawl.origin.as_str()) {
                for alt in &f.alternates {
                    if let Ok(u) = Url::parse(&alt.url) {
                        let o = origin_of(&u);
                        if crate::fetch::is_fetchable(&u) && self.allowed.insert(o.clone()) {
                            self.crawl.origins.push(o);
                        }
                    }
                }
            }
            for alt in &f.alternates {
                self.enqueue(&alt.url, true);
            }
            for link in &f.links {
                self.enqueue(link, false);
            }
        }
        self.crawl.pages.insert(
            url,
            Page {
                final_url: traced.url,
                status: traced.status,
                hsts: traced.hsts,
                facts,
            },
        );
    }
}

/// Crawls from `start`. Fails only when nothing can be scanned: the start origin does
/// not answer, its robots.txt forbids the start page, or the start page is not a page.
/// `progress(done, started)` is called as pages finish.
pub async fn crawl(
    fetcher: &Fetcher,
    start: &Url,
    limits: Limits,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Crawl, ScanError> {
    let first_origin = origin_of(start);
    let first_robots = start_robots(fetcher, &first_origin, start).await?;
    // The start page, followed to where it ends: a bare domain that redirects to
    // https://www.…/en/ is the site at www.…, and that is the origin crawled.
    let first = match fetcher
        .trace(start.as_str(), MAX_SCAN_PAGE, Body::HtmlOnly)
        .await
    {
        Ok(t) => t,
        Err(FetchError::Certificate { url, why }) => {
            return Err(ScanError::Certificate { url, why })
        }
        Err(e) => return Err(ScanError::Unreachable(e)),
    };
    start_page(&first)?;
    let landed = Url::parse(&first.url).map_err(|_| ScanError::Url(first.url.clone()))?;
    let origin = origin_of(&landed);
    let mut robots_by_origin = HashMap::from([(first_origin.clone(), first_robots)]);
    if origin != first_origin {
        let rules = start_robots(fetcher, &origin, &landed).await?;
        robots_by_origin.insert(origin.clone(), rules);
    }
    let mut state = State {
        crawl: Crawl {
            start: landed.to_string(),
            origin: origin.clone(),
            origins: vec![origin.clone()],
            ..Crawl::default()
        },
        allowed: HashSet::from([origin]),
        robots: robots_by_origin,
        versions: VecDeque::new(),
        links: VecDeque::new(),
        seen: HashSet::from([start.to_string(), landed.to_string()]),
    };
    let facts = first
        .read
        .then(|| markup::read(&String::from_utf8_lossy(&first.body), &landed));
    state.file(landed.to_string(), first, facts);
    progress(1, 1);
    let mut pending = FuturesUnordered::new();
    let (mut started, mut done) = (1usize, 1usize);
    loop {
        while pending.len() < limits.concurrency && started < limits.max_pages {
            let Some(url) = state
                .versions
                .pop_front()
                .or_else(|| state.links.pop_front())
            else {
                break;
            };
            let Ok(parsed) = Url::parse(&url) else {
                continue;
            };
            let o = origin_of(&parsed);
            if !state.robots.contains_key(&o) {
                let rules = match robots(fetcher, &o).await {
                    Ok(r) => r,
                    Err((url, why)) => {
                        state.crawl.robots_unavailable.push((url, why.to_string()));
                        Robots::DisallowAll
                    }
                };
                state.robots.insert(o.clone(), rules);
            }
            if !state
                .robots
                .get(&o)
                .is_some_and(|r| r.allows(&path_of(&parsed)))
            {
                state.crawl.excluded.push(url);
                continue;
            }
            started += 1;
            pending.push(tokio::spawn(fetch_page(fetcher.clone(), url)));
        }
        let Some(joined) = pending.next().await else {
            break;
        };
        done += 1;
        progress(done, started);
        // A page task only ends by returning; a panic in the parser is a defect.
        let Ok((url, result)) = joined else {
            continue;
        };
        match result {
            Ok((traced, facts)) => state.file(url, traced, facts),
            Err(e) => {
                state.crawl.failed.insert(url, super::probe::short(&e));
            }
        }
    }
    state.crawl.unvisited = state.versions.len() + state.links.len();
    state.crawl.excluded.sort();
    Ok(state.crawl)
}

/// The robots.txt of the start page's origin, which must let us read the start page.
async fn start_robots(fetcher: &Fetcher, origin: &str, page: &Url) -> Result<Robots, ScanError> {
    let rules = match robots(fetcher, origin).await {
        Ok(r) => r,
        Err((url, RobotsFailure::Status(status))) => {
            return Err(ScanError::RobotsUnavailable { url, status })
        }
        Err((_, RobotsFailure::Fetch(FetchError::Certificate { url, why }))) => {
            return Err(ScanError::Certificate { url, why })
        }
        Err((_, RobotsFailure::Fetch(e))) => return Err(ScanError::Unreachable(e)),
    };
    if !rules.allows(&path_of(page)) {
        return Err(ScanError::RobotsForbid(page.to_string()));
    }
    Ok(rules)
}

/// The start page must be a page: 2xx and HTML.
fn start_page(traced: &Traced) -> Result<(), ScanError> {
    if !traced.ok() {
        return Err(ScanError::StartAnswer {
            url: traced.url.clone(),
            status: traced.status,
        });
    }
    if !traced.read {
        return Err(ScanError::StartNotHtml {
            url: traced.url.clone(),
            content_type: traced.content_type.clone().unwrap_or_default(),
        });
    }
    Ok(())
}
