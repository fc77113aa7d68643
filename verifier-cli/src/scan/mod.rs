//! The baseline scan (SPEC 8): a supplier's site measured from outside against the
//! indicators that standard markup shows, before the paid audit.
//!
//! [`crawl`] fetches the pages politely, [`markup`] reads each one, [`probe`] tries the
//! certificate, payment and privacy links, [`measure`] turns what was seen into values
//! with evidence, and [`report`] scores them with the catalogue of `trustmark-core`
//! (the registry's own scoring) and writes the table, the JSON and the audit draft.

pub mod crawl;
pub mod markup;
pub mod measure;
pub mod probe;
pub mod report;
pub mod robots;

use crate::fetch::{FetchError, Fetcher};
use measure::Finding;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;
use trustmark_core::catalogue::{Catalogue, Indicator};
use url::Url;

/// The user agent of the scan; robots.txt groups for `TrustMark-Scan` apply to it.
pub const USER_AGENT: &str = concat!("TrustMark-Scan/", env!("CARGO_PKG_VERSION"));

/// Why a site could not be scanned at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The argument is not a site.
    #[error(
        "'{0}' is not a site to scan (https://…, http:// only for loopback, or a bare domain)"
    )]
    Url(String),
    /// The start origin did not answer (robots.txt or the start page).
    #[error("the site could not be reached: {0}")]
    Unreachable(FetchError),
    /// The start origin's robots.txt answered 5xx: RFC 9309 reads that as "disallow all".
    #[error("{url} answers {status}, which RFC 9309 reads as \"disallow everything\": nothing was scanned")]
    RobotsUnavailable {
        /// The robots.txt URL.
        url: String,
        /// Its status.
        status: u16,
    },
    /// robots.txt disallows the start page for us.
    #[error("robots.txt disallows {0} for {ua}", ua = robots::PRODUCT)]
    RobotsForbid(String),
    /// The start page answered a status other than 2xx.
    #[error("the start page {url} answers {status}")]
    StartAnswer {
        /// Its final URL.
        url: String,
        /// Its status.
        status: u16,
    },
    /// The start page is not HTML.
    #[error("the start page {url} is not an HTML page (Content-Type: {content_type})")]
    StartNotHtml {
        /// Its final URL.
        url: String,
        /// What it is.
        content_type: String,
    },
    /// The start page's certificate does not verify.
    #[error("{url}: the certificate does not verify ({why}), so the site was not scanned")]
    Certificate {
        /// The URL.
        url: String,
        /// rustls's words.
        why: String,
    },
    /// `--ca-file` cannot be read.
    #[error("cannot read --ca-file {}: {source}", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `--ca-file` holds no PEM certificate.
    #[error("--ca-file {}: no PEM certificate could be read from it", .0.display())]
    CaPem(PathBuf),
    /// The HTTP client could not be set up.
    #[error(transparent)]
    Client(FetchError),
    /// The audit draft could not be written.
    #[error("cannot write the audit draft {}: {source}", path.display())]
    Draft {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl ScanError {
    /// What to do about it.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            ScanError::Url(_) => "give the site as https://host[/page] or a bare domain",
            ScanError::Unreachable(_) => {
                "check the address and that the site is up; --timeout SECS allows slower answers"
            }
            ScanError::RobotsUnavailable { .. } => {
                "the site must answer /robots.txt: 200 with its rules, or 404 when it has none"
            }
            ScanError::RobotsForbid(_) => {
                "allow `User-agent: TrustMark-Scan` in robots.txt, or start from a page it allows"
            }
            ScanError::StartAnswer { .. } | ScanError::StartNotHtml { .. } => {
                "start from a page that answers 200 with HTML: the home page or a language version"
            }
            ScanError::Certificate { .. } => {
                "a certificate from a private CA is trusted with --ca-file PEM; a public site needs a certificate that verifies (tls_configuration fails without one)"
            }
            ScanError::CaFile { .. } | ScanError::CaPem(_) => {
                "give a PEM file holding the CA certificate(s) (-----BEGIN CERTIFICATE-----)"
            }
            ScanError::Draft { .. } => "check that the directory exists and is writable",
            ScanError::Client(_) => return None,
        })
    }
}

/// How the scan runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Pages fetched at most.
    pub max_pages: usize,
    /// Requests in flight at most.
    pub concurrency: usize,
    /// Tries of each certificate and payment link.
    pub tries: usize,
    /// The per-request timeout (also what a timed-out try counts as).
    pub timeout: Duration,
}

/// What the scan is doing, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Event {
    /// Pages: finished, started so far.
    Pages(usize, usize),
    /// Links being tried, and how many tries each.
    Links(usize, usize),
}

/// Everything a scan found.
#[derive(Debug)]
pub struct Scan {
    /// What the crawl saw.
    pub crawl: crawl::Crawl,
    /// The site's languages (BCP 47, from `hreflang`), sorted.
    pub languages: Vec<String>,
    /// Each catalogue indicator with what the scan found, in catalogue order.
    pub findings: Vec<(Indicator, Finding)>,
    /// The organisation in the start page's JSON-LD, if any.
    pub organisation: Option<markup::Organisation>,
}

/// The start URL of `input`: a URL as given (without its fragment), or `/` of a bare
/// domain; https anywhere, http only on loopback.
pub fn start_url(input: &str) -> Result<Url, ScanError> {
    let input = input.trim();
    let text = if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}/")
    };
    let mut url = Url::parse(&text)
        .ok()
        .filter(crate::fetch::is_fetchable)
        .ok_or_else(|| ScanError::Url(input.to_owned()))?;
    url.set_fragment(None);
    Ok(url)
}

/// The languages named by `hreflang` on the scanned pages (else the start page's
/// `<html lang>`), each once, sorted.
fn languages(c: &crawl::Crawl) -> Vec<String> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (_, _, f) in c.scanned() {
        for a in &f.alternates {
            if !a.lang.eq_ignore_ascii_case("x-default") {
                seen.entry(a.lang.to_ascii_lowercase())
                    .or_insert_with(|| a.lang.clone());
            }
        }
    }
    if seen.is_empty() {
        if let Some(l) = c
            .pages
            .get(&c.start)
            .and_then(|p| p.facts.as_ref()?.lang.clone())
        {
            seen.insert(l.to_ascii_lowercase(), l);
        }
    }
    seen.into_values().collect()
}

/// Scans the site at `start`.
pub async fn scan(
    fetcher: &Fetcher,
    start: &Url,
    settings: Settings,
    catalogue: &Catalogue,
    progress: &(dyn Fn(Event) + Sync),
) -> Result<Scan, ScanError> {
    let limits = crawl::Limits {
        max_pages: settings.max_pages,
        concurrency: settings.concurrency,
    };
    let c = crawl::crawl(fetcher, start, limits, &|done, started| {
        progress(Event::Pages(done, started))
    })
    .await?;
    let start_facts = c.pages.get(&c.start).and_then(|p| p.facts.as_ref());
    let versions = measure::versions(&c);
    let start_lang = versions
        .groups
        .iter()
        .find_map(|g| g.get(&c.start).cloned().flatten())
        .or_else(|| start_facts.and_then(|f| f.lang.clone()));

    // Certificate links: tried `--tries` times, each page searched for its number.
    let certs = measure::certifications(&c);
    let mut cert_links: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut cert_names: BTreeMap<String, String> = BTreeMap::new();
    for cert in &certs {
        if let Some(url) = cert.url.as_ref().filter(|u| fetchable(u)) {
            cert_links
                .entry(url.clone())
                .or_insert_with(|| cert.identification.clone());
            cert_names
                .entry(url.clone())
                .or_insert_with(|| cert.label());
        }
    }
    let payment = measure::payment_links(&c);
    let (pay_links, refused): (Vec<String>, Vec<String>) =
        payment.into_iter().partition(|u| fetchable(u));
    let start_versions = measure::start_versions(&c);
    let privacy_links: std::collections::BTreeSet<String> = start_versions
        .iter()
        .filter_map(|u| c.pages.get(u).and_then(|p| p.facts.as_ref()))
        .flat_map(|f| f.privacy.iter().cloned())
        .collect();

    progress(Event::Links(
        cert_links.len() + pay_links.len(),
        settings.tries,
    ));
    // One queue for every link, so `--concurrency` bounds them all together.
    let job = |url: String, look_for: Option<String>, tries: usize| probe::Job {
        url,
        look_for,
        tries,
    };
    let n_certs = cert_links.len();
    let n_pay = pay_links.len();
    let jobs: Vec<probe::Job> = cert_links
        .into_iter()
        .map(|(u, id)| job(u, id, settings.tries))
        .chain(pay_links.into_iter().map(|u| job(u, None, settings.tries)))
        .chain(
            privacy_links
                .into_iter()
                .filter(|u| fetchable(u))
                .map(|u| job(u, None, 1)),
        )
        .collect();
    let mut done = probe::tries(fetcher, jobs, settings.concurrency).await;
    let privacy_tries = done.split_off(n_certs + n_pay);
    let pay_tries = done.split_off(n_certs);
    let cert_tries = done;
    let upgrade = match start.scheme() {
        "https" => Some(probe::upgrade(fetcher, start).await),
        _ => None,
    };
    let privacy_checked: BTreeMap<String, probe::Outcome> = privacy_tries
        .into_iter()
        .filter_map(|t| Some((t.url, t.tries.into_iter().next()?)))
        .collect();

    let threshold_of = |id: &str| {
        catalogue
            .indicators
            .iter()
            .find(|i| i.id == id)
            .map_or(0.0, |i| i.threshold)
    };
    let (pay_success, pay_timeouts) = measure::payments(&c, &pay_tries, &refused, settings.tries);
    let mut by_id: BTreeMap<&str, Finding> = BTreeMap::from([
        (
            "multilingual_parameter_deviation",
            measure::parameter_deviation(&c, &versions, start_lang.as_deref()),
        ),
        (
            "multilingual_metadata_consistency",
            measure::metadata_consistency(&c, &versions),
        ),
        (
            "certificate_chain_validity",
            measure::certificate_validity(&c, &certs, &cert_tries),
        ),
        (
            "certificate_link_response_time",
            measure::certificate_time(
                &cert_tries,
                &cert_names,
                settings.timeout,
                threshold_of("certificate_link_response_time"),
            ),
        ),
        ("local_payment_redirect_success", pay_success),
        ("local_payment_redirect_timeouts", pay_timeouts),
        ("tls_configuration", measure::tls(&c, upgrade.as_ref())),
        (
            "data_protection_notice",
            measure::privacy(&c, &start_versions, &privacy_checked),
        ),
    ]);
    let findings = catalogue
        .indicators
        .iter()
        .map(|ind| {
            let finding = by_id.remove(ind.id.as_str()).unwrap_or_else(|| {
                Finding::NotMeasured(
                    measure::unmeasurable(&ind.id)
                        .unwrap_or("not measurable from a website's markup")
                        .to_owned(),
                )
            });
            (ind.clone(), finding)
        })
        .collect();
    let organisation = start_facts.and_then(|f| f.organisation.clone());
    Ok(Scan {
        languages: languages(&c),
        crawl: c,
        findings,
        organisation,
    })
}

fn fetchable(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| crate::fetch::is_fetchable(&u))
}
