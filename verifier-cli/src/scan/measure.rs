//! The measurements of SPEC 8, from what the crawl and the link checks saw. No I/O:
//! every function here takes the observations and returns a value with its evidence,
//! so each rule is tested on hand-made observations.

use super::crawl::Crawl;
use super::markup::{Certification, Facts, Param, Product};
use super::probe::{Outcome, Tries, Upgrade};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One failed page, parameter or link, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Evidence {
    /// The page or link.
    pub url: String,
    /// What is wrong with it.
    pub problem: String,
}

fn evidence(url: &str, problem: impl Into<String>) -> Evidence {
    Evidence {
        url: url.to_owned(),
        problem: problem.into(),
    }
}

/// What the scan found for one indicator.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Measured: the value (before rounding) and what failed.
    Measured {
        /// The value in the indicator's unit.
        value: f64,
        /// Every page, parameter or link that failed, and why.
        evidence: Vec<Evidence>,
    },
    /// Not measured, and why.
    NotMeasured(String),
}

/// HSTS `max-age` of at least a year (SPEC 8).
pub const HSTS_MIN: u64 = 31_536_000;

/// The indicators a scan cannot measure, and why.
pub fn unmeasurable(id: &str) -> Option<&'static str> {
    Some(match id {
        "product_parameter_authenticity" => {
            "needs the manufacturer's system of record: an auditor compares sampled parameters with records exported during the audit"
        }
        "business_identity_match" => {
            "needs the public business register: an auditor compares the legal name and registration number shown on the site with it"
        }
        "contact_reachability" => {
            "needs people to answer: an auditor sends a test enquiry to each published contact channel"
        }
        "site_availability" => {
            "needs an audit window: uptime is measured by external monitoring over weeks, not by one scan"
        }
        _ => return None,
    })
}

fn percent(part: usize, whole: usize) -> f64 {
    part as f64 * 100.0 / whole as f64
}

/// A URL with its fragment removed and nothing else changed, for comparing `href`s.
fn same_url(a: &str, b: &str) -> bool {
    a == b
}

/// The language versions of the pages scanned: groups of pages joined by `hreflang`
/// alternates (`x-default` names a default, not a language).
#[derive(Debug, Default)]
pub struct Versions {
    /// Each group: page URL (as asked) → its language.
    pub groups: Vec<BTreeMap<String, Option<String>>>,
    /// Pages named by an `x-default` alternate.
    pub defaults: BTreeSet<String>,
}

fn is_default(lang: &str) -> bool {
    lang.eq_ignore_ascii_case("x-default")
}

/// The page a URL leads to among the scanned ones: asked for directly, or the final URL
/// of a page asked for under another URL.
fn scanned<'a>(crawl: &'a Crawl, url: &str) -> Option<(&'a String, &'a Facts)> {
    if let Some((k, p)) = crawl.pages.get_key_value(url) {
        return p.facts.as_ref().map(|f| (k, f));
    }
    crawl
        .pages
        .iter()
        .find(|(_, p)| p.final_url == url)
        .and_then(|(k, p)| p.facts.as_ref().map(|f| (k, f)))
}

/// Groups the scanned pages into language versions of one another.
pub fn versions(crawl: &Crawl) -> Versions {
    let urls: Vec<&String> = crawl.scanned().map(|(u, _, _)| u).collect();
    let index: BTreeMap<&String, usize> = urls.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let mut parent: Vec<usize> = (0..urls.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while let Some(&p) = parent.get(i) {
            if p == i {
                break;
            }
            i = p;
        }
        i
    }
    let mut out = Versions::default();
    // The language each page is listed under: its own self-reference first.
    let mut lang: BTreeMap<String, String> = BTreeMap::new();
    for (url, _, facts) in crawl.scanned() {
        for alt in &facts.alternates {
            let Some((target, _)) = scanned(crawl, &alt.url) else {
                continue;
            };
            if is_default(&alt.lang) {
                out.defaults.insert(target.clone());
                continue;
            }
            if target == url {
                lang.insert(target.clone(), alt.lang.clone());
            }
            if let (Some(&a), Some(&b)) = (index.get(url), index.get(target)) {
                let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
                if let Some(p) = parent.get_mut(ra.max(rb)) {
                    *p = ra.min(rb);
                }
            }
        }
    }
    for (url, _, facts) in crawl.scanned() {
        for alt in facts.alternates.iter().filter(|a| !is_default(&a.lang)) {
            if let Some((target, _)) = scanned(crawl, &alt.url) {
                if target != url {
                    lang.entry(target.clone())
                        .or_insert_with(|| alt.lang.clone());
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, BTreeMap<String, Option<String>>> = BTreeMap::new();
    for (i, url) in urls.iter().enumerate() {
        let r = root(&mut parent, i);
        groups
            .entry(r)
            .or_default()
            .insert((*url).clone(), lang.get(*url).cloned());
    }
    out.groups = groups.into_values().collect();
    out
}

/// The default version of a group: the `x-default` page, else the page in the start
/// page's language, else the first by URL.
fn default_of<'a>(
    group: &'a BTreeMap<String, Option<String>>,
    versions: &Versions,
    start_lang: Option<&str>,
) -> Option<&'a String> {
    group
        .keys()
        .find(|u| versions.defaults.contains(*u))
        .or_else(|| {
            group.iter().find_map(|(u, l)| {
                (l.as_deref().zip(start_lang))
                    .and_then(|(l, s)| l.eq_ignore_ascii_case(s).then_some(u))
            })
        })
        .or_else(|| group.keys().next())
}

/// How a parameter is named in evidence: its `propertyID`, else its name, else its
/// place.
fn label(p: &Param, i: usize) -> String {
    p.id.clone()
        .or_else(|| p.name.clone())
        .unwrap_or_else(|| format!("parameter {}", i + 1))
}

/// The parameter of `other` matching `wanted` (the `i`th of the default version): by
/// `propertyID`, else by the default version's `name`, else by position.
fn matching<'a>(wanted: &Param, i: usize, other: &'a [Param]) -> Option<&'a Param> {
    if let Some(id) = &wanted.id {
        if let Some(p) = other.iter().find(|p| p.id.as_ref() == Some(id)) {
            return Some(p);
        }
    }
    if let Some(name) = &wanted.name {
        if let Some(p) = other.iter().find(|p| p.name.as_ref() == Some(name)) {
            return Some(p);
        }
    }
    other.get(i).filter(|p| p.id.is_none() || p.id == wanted.id)
}

/// The product of `others` that is the same product as the `i`th `wanted`: same `sku`
/// (or `productID`), else the same position.
fn same_product<'a>(wanted: &Product, i: usize, others: &'a [Product]) -> Option<&'a Product> {
    match &wanted.key {
        Some(key) => others
            .iter()
            .find(|p| p.key.as_ref() == Some(key))
            .or_else(|| others.get(i).filter(|p| p.key.is_none())),
        None => others.get(i),
    }
}

fn lang_name(lang: &Option<String>) -> String {
    lang.clone().unwrap_or_else(|| "unlabelled".to_owned())
}

/// Multilingual parameter deviation (SPEC 8): % of the default version's parameters
/// that differ (value or `unitCode`, or absent) in any other version.
pub fn parameter_deviation(
    crawl: &Crawl,
    versions: &Versions,
    start_lang: Option<&str>,
) -> Finding {
    let (mut compared, mut differing) = (0usize, 0usize);
    let mut found = Vec::new();
    for group in &versions.groups {
        let Some(default_url) = default_of(group, versions, start_lang) else {
            continue;
        };
        let Some((_, default)) = scanned(crawl, default_url) else {
            continue;
        };
        let default_lang = lang_name(group.get(default_url).unwrap_or(&None));
        for (pi, product) in default.products.iter().enumerate() {
            let others: Vec<(&String, &Option<String>, &Product)> = group
                .iter()
                .filter(|(u, _)| *u != default_url)
                .filter_map(|(u, l)| {
                    let (_, f) = scanned(crawl, u)?;
                    Some((u, l, same_product(product, pi, &f.products)?))
                })
                .collect();
            if others.is_empty() {
                continue;
            }
            for (i, param) in product.params.iter().enumerate() {
                compared += 1;
                let name = label(param, i);
                let mut differs = false;
                for (url, lang, other) in &others {
                    let problem = match matching(param, i, &other.params) {
                        None => Some(format!(
                            "{} version: no `{name}` ({default_lang}: {})",
                            lang_name(lang),
                            param.shown()
                        )),
                        Some(p) => {
                            let same_value = match (&p.value, &param.value) {
                                (Some(a), Some(b)) => a.same(b),
                                (None, None) => true,
                                _ => false,
                            };
                            (!same_value || p.unit_code != param.unit_code).then(|| {
                                format!(
                                    "{} version: `{name}` {}, {default_lang}: {}",
                                    lang_name(lang),
                                    p.shown(),
                                    param.shown()
                                )
                            })
                        }
                    };
                    if let Some(problem) = problem {
                        differs = true;
                        found.push(evidence(url, problem));
                    }
                }
                if differs {
                    differing += 1;
                }
            }
        }
    }
    if compared == 0 {
        return Finding::NotMeasured(
            "no schema.org Product with additionalProperty parameters was found in two language versions of a page".to_owned(),
        );
    }
    found.sort();
    Finding::Measured {
        value: percent(differing, compared),
        evidence: found,
    }
}

/// Multilingual metadata consistency (SPEC 8): % of scanned pages with a title, a
/// description, `<html lang>` equal to their `hreflang`, and reciprocal alternates.
pub fn metadata_consistency(crawl: &Crawl, versions: &Versions) -> Finding {
    let lang_of: BTreeMap<&String, &Option<String>> =
        versions.groups.iter().flat_map(|g| g.iter()).collect();
    let mut found = Vec::new();
    let (mut pages, mut good) = (0usize, 0usize);
    for (url, page, facts) in crawl.scanned() {
        pages += 1;
        let mut problems: Vec<String> = Vec::new();
        if facts.title.is_none() {
            problems.push("no <title>".to_owned());
        }
        if facts.description.is_none() {
            problems.push("no <meta name=\"description\">".to_owned());
        }
        let languages: Vec<_> = facts
            .alternates
            .iter()
            .filter(|a| !is_default(&a.lang))
            .collect();
        let listed = lang_of.get(url).and_then(|l| l.as_ref());
        let in_versions = !languages.is_empty() || listed.is_some();
        if in_versions {
            match (listed, &facts.lang) {
                (None, _) => problems.push("no hreflang alternate names this page".to_owned()),
                (Some(h), None) => problems.push(format!("no <html lang> (hreflang \"{h}\")")),
                (Some(h), Some(l)) if !h.eq_ignore_ascii_case(l) => {
                    problems.push(format!("<html lang> \"{l}\" but hreflang \"{h}\""))
                }
                _ => {}
            }
        }
        for alt in languages {
            if same_url(&alt.url, url) || same_url(&alt.url, &page.final_url) {
                continue;
            }
            let back = |f: &Facts| {
                f.alternates
                    .iter()
                    .any(|a| same_url(&a.url, url) || same_url(&a.url, &page.final_url))
            };
            if let Some((_, f)) = scanned(crawl, &alt.url) {
                if !back(f) {
                    problems.push(format!(
                        "hreflang \"{}\" alternate {} does not link back",
                        alt.lang, alt.url
                    ));
                }
            } else if let Some(p) = crawl.pages.get(&alt.url) {
                problems.push(format!(
                    "hreflang \"{}\" alternate {} answers {}",
                    alt.lang, alt.url, p.status
                ));
            } else if let Some(why) = crawl.failed.get(&alt.url) {
                problems.push(format!(
                    "hreflang \"{}\" alternate {}: {why}",
                    alt.lang, alt.url
                ));
            }
        }
        if problems.is_empty() {
            good += 1;
        }
        found.extend(problems.into_iter().map(|p| evidence(url, p)));
    }
    if pages == 0 {
        return Finding::NotMeasured("no page could be read".to_owned());
    }
    found.sort();
    Finding::Measured {
        value: percent(good, pages),
        evidence: found,
    }
}

/// Whether `host` is `issuer` or one of its subdomains.
fn on_host(host: &str, issuer: &str) -> bool {
    let (host, issuer) = (host.to_ascii_lowercase(), issuer.to_ascii_lowercase());
    host == issuer || host.ends_with(&format!(".{issuer}"))
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok()?.host_str().map(str::to_owned)
}

/// The certifications listed on the scanned pages, each once.
pub fn certifications(crawl: &Crawl) -> Vec<Certification> {
    let set: BTreeSet<Certification> = crawl
        .scanned()
        .flat_map(|(_, _, f)| f.certifications.iter().cloned())
        .collect();
    set.into_iter().collect()
}

/// "timed out 2 of 5 tries", "answers 404", "failed 3 of 5 tries: …".
fn describe_failures(tries: &[Outcome], ok: impl Fn(&Outcome) -> bool) -> Option<String> {
    let n = tries.len();
    let failed: Vec<&Outcome> = tries.iter().filter(|t| !ok(t)).collect();
    if failed.is_empty() {
        return None;
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for t in &failed {
        let kind = match t {
            Outcome::TimedOut => "timed out".to_owned(),
            Outcome::Answered { status } => format!("answers {status}"),
            Outcome::Failed(why) => why.clone(),
            Outcome::Reached { .. } => "reached the page".to_owned(),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    Some(
        kinds
            .into_iter()
            .map(|(kind, k)| {
                if k == n && !kind.starts_with("timed out") {
                    kind
                } else {
                    format!("{kind} {k} of {n} tries")
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// Certificate chain validity (SPEC 8): % of listed certificates whose `url` answers
/// 2xx (within the redirect cap) on the issuer's host or a subdomain of it and shows the
/// certificate's number, on every try.
pub fn certificate_validity(crawl: &Crawl, certs: &[Certification], tries: &[Tries]) -> Finding {
    if certs.is_empty() {
        return Finding::NotMeasured(format!(
            "no certificate is listed (JSON-LD hasCertification) on the {} pages scanned",
            crawl.scanned().count()
        ));
    }
    let mut found = Vec::new();
    let mut traceable = 0;
    for cert in certs {
        let name = cert.label();
        let at = cert.url.clone().unwrap_or_else(|| crawl.start.clone());
        let problem = match (&cert.url, &cert.issuer_url, &cert.identification) {
            (None, _, _) => Some(format!("certificate {name} lists no verification url")),
            (_, None, _) => Some(format!(
                "certificate {name} names no issuer (issuedBy with a url)"
            )),
            (_, _, None) => Some(format!(
                "certificate {name} has no certificationIdentification"
            )),
            (Some(url), Some(issuer), Some(id)) => {
                let issuer_host = host_of(issuer).unwrap_or_default();
                match tries.iter().find(|t| &t.url == url) {
                    None => Some(format!("certificate {name} link is not an https URL")),
                    Some(t) => describe_failures(&t.tries, |o| matches!(o, Outcome::Reached { .. }))
                        .map(|f| format!("certificate {name} link {f}"))
                        .or_else(|| {
                            t.tries.iter().find_map(|o| match o {
                                Outcome::Reached { final_url, shows, .. } => {
                                    let host = host_of(final_url).unwrap_or_default();
                                    if !on_host(&host, &issuer_host) {
                                        Some(format!("certificate {name} link ends on {host}, not on the issuer's host {issuer_host}"))
                                    } else if *shows != Some(true) {
                                        Some(format!("certificate {name}: the verification page does not show {id}"))
                                    } else {
                                        None
                                    }
                                }
                                _ => None,
                            })
                        }),
                }
            }
        };
        match problem {
            Some(p) => found.push(evidence(&at, p)),
            None => traceable += 1,
        }
    }
    found.sort();
    Finding::Measured {
        value: percent(traceable, certs.len()),
        evidence: found,
    }
}

/// The nearest-rank percentile `p` (0-100) of `samples`.
pub fn nearest_rank(samples: &[f64], p: f64) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank - 1).copied()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Certificate link response time (SPEC 8): p95 (nearest rank) of the seconds from
/// request to the final 2xx over every try of every certificate link; a try that timed
/// out counts as the timeout (it took at least that), other failures are left to
/// certificate chain validity.
pub fn certificate_time(
    tries: &[Tries],
    names: &BTreeMap<String, String>,
    timeout: Duration,
    threshold: f64,
) -> Finding {
    let mut samples = Vec::new();
    let mut found = Vec::new();
    for link in tries {
        let mut slowest: Option<f64> = None;
        for t in &link.tries {
            let s = match t {
                Outcome::Reached { elapsed, .. } => secs(*elapsed),
                Outcome::TimedOut => secs(timeout),
                _ => continue,
            };
            samples.push(s);
            slowest = Some(slowest.map_or(s, |m: f64| m.max(s)));
        }
        if let Some(s) = slowest.filter(|s| *s > threshold) {
            let name = names.get(&link.url).cloned().unwrap_or_default();
            let timed_out = link
                .tries
                .iter()
                .filter(|t| **t == Outcome::TimedOut)
                .count();
            let problem = if timed_out > 0 {
                format!(
                    "certificate {name} link timed out {timed_out} of {} tries (counted as {} s each)",
                    link.tries.len(),
                    timeout.as_secs()
                )
            } else {
                format!(
                    "certificate {name} link took {s:.3} s (slowest of {} tries)",
                    link.tries.len()
                )
            };
            found.push(evidence(&link.url, problem));
        }
    }
    match nearest_rank(&samples, 95.0) {
        None => Finding::NotMeasured(if tries.is_empty() {
            "no certificate lists an https verification url".to_owned()
        } else {
            "no certificate link reached a 2xx answer or timed out".to_owned()
        }),
        Some(p95) => {
            found.sort();
            Finding::Measured {
                value: p95,
                evidence: found,
            }
        }
    }
}

/// The payment links of the scanned pages, each once.
pub fn payment_links(crawl: &Crawl) -> Vec<String> {
    let set: BTreeSet<String> = crawl
        .scanned()
        .flat_map(|(_, _, f)| f.payment.iter().cloned())
        .collect();
    set.into_iter().collect()
}

/// Local payment redirect success and timeouts (SPEC 8): % of tries reaching a 2xx,
/// and timeouts per 1,000 tries.
pub fn payments(
    crawl: &Crawl,
    tries: &[Tries],
    refused: &[String],
    per_link: usize,
) -> (Finding, Finding) {
    let total: usize = tries.iter().map(|t| t.tries.len()).sum();
    if total == 0 && refused.is_empty() {
        let why = format!(
            "no rel=\"payment\" link on the {} pages scanned",
            crawl.scanned().count()
        );
        return (Finding::NotMeasured(why.clone()), Finding::NotMeasured(why));
    }
    let reached = tries
        .iter()
        .flat_map(|t| &t.tries)
        .filter(|t| matches!(t, Outcome::Reached { .. }))
        .count();
    let timeouts = tries
        .iter()
        .flat_map(|t| &t.tries)
        .filter(|t| **t == Outcome::TimedOut)
        .count();
    let (mut success, mut slow) = (Vec::new(), Vec::new());
    for t in tries {
        if let Some(f) = describe_failures(&t.tries, |o| matches!(o, Outcome::Reached { .. })) {
            success.push(evidence(&t.url, format!("payment link {f}")));
        }
        let n = t.tries.iter().filter(|o| **o == Outcome::TimedOut).count();
        if n > 0 {
            slow.push(evidence(
                &t.url,
                format!("payment link timed out {n} of {} tries", t.tries.len()),
            ));
        }
    }
    for url in refused {
        success.push(evidence(
            url,
            "payment link is not an https URL; not followed",
        ));
    }
    success.sort();
    slow.sort();
    // A link that is not followed counts as `per_link` failed tries, none of them
    // timeouts.
    let all = total + refused.len() * per_link;
    (
        Finding::Measured {
            value: percent(reached, all),
            evidence: success,
        },
        Finding::Measured {
            value: timeouts as f64 * 1000.0 / all as f64,
            evidence: slow,
        },
    )
}

/// `max-age` of a `Strict-Transport-Security` value.
pub fn hsts_max_age(value: &str) -> Option<u64> {
    value.split(';').find_map(|d| {
        let (k, v) = d.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("max-age")
            .then(|| v.trim().trim_matches('"').parse().ok())
            .flatten()
    })
}

/// TLS configuration (SPEC 8): 1 when the site is https, its `http://` twin redirects
/// to https, every page sends HSTS with `max-age` ≥ a year, and every certificate
/// verifies; else 0.
pub fn tls(crawl: &Crawl, upgrade: Option<&(String, Upgrade)>) -> Finding {
    let mut found = Vec::new();
    if !crawl.start.starts_with("https://") {
        found.push(evidence(
            &crawl.start,
            "the site is served over http, not https",
        ));
    }
    match upgrade {
        Some((url, Upgrade::StaysHttp(status))) => found.push(evidence(
            url,
            format!("answers {status} over http without redirecting to https"),
        )),
        Some((url, Upgrade::Failed(why))) => {
            found.push(evidence(url, format!("does not redirect to https: {why}")))
        }
        _ => {}
    }
    for (url, page, _) in crawl.scanned() {
        if !page.final_url.starts_with("https://") {
            if crawl.start.starts_with("https://") {
                found.push(evidence(url, "served over http"));
            }
            continue;
        }
        match page.hsts.as_deref().map(|h| (h, hsts_max_age(h))) {
            None => found.push(evidence(url, "no Strict-Transport-Security header")),
            Some((h, age)) if age.is_none_or(|a| a < HSTS_MIN) => found.push(evidence(
                url,
                format!("Strict-Transport-Security \"{h}\": max-age under {HSTS_MIN} s (a year)"),
            )),
            _ => {}
        }
    }
    for (url, why) in &crawl.failed {
        if why.starts_with("the certificate does not verify") {
            found.push(evidence(url, why.clone()));
        }
    }
    found.sort();
    Finding::Measured {
        value: if found.is_empty() { 1.0 } else { 0.0 },
        evidence: found,
    }
}

/// Data protection notice (SPEC 8): % of the start page's language versions linking
/// with `rel="privacy-policy"` to a page answering 2xx. Versions that could not be
/// fetched count as failing; those never fetched (robots.txt, page cap) are left out.
pub fn privacy(
    crawl: &Crawl,
    start_versions: &[String],
    checked: &BTreeMap<String, Outcome>,
) -> Finding {
    let mut found = Vec::new();
    let (mut counted, mut good) = (0usize, 0usize);
    for url in start_versions {
        let problem = if let Some((_, facts)) = scanned(crawl, url) {
            if facts.privacy.is_empty() {
                Some("no rel=\"privacy-policy\" link".to_owned())
            } else if facts
                .privacy
                .iter()
                .any(|p| matches!(checked.get(p), Some(Outcome::Reached { .. })))
            {
                None
            } else {
                let why: Vec<String> = facts
                    .privacy
                    .iter()
                    .map(|p| match checked.get(p) {
                        Some(Outcome::Answered { status }) => format!("{p} answers {status}"),
                        Some(Outcome::TimedOut) => format!("{p} timed out"),
                        Some(Outcome::Failed(why)) => format!("{p}: {why}"),
                        _ => format!("{p} is not an https URL; not followed"),
                    })
                    .collect();
                Some(format!("privacy-policy link {}", why.join("; ")))
            }
        } else if let Some(p) = crawl.pages.get(url) {
            Some(format!("this language version answers {}", p.status))
        } else if let Some(why) = crawl.failed.get(url) {
            Some(format!("this language version could not be read: {why}"))
        } else {
            continue;
        };
        counted += 1;
        match problem {
            Some(p) => found.push(evidence(url, p)),
            None => good += 1,
        }
    }
    if counted == 0 {
        return Finding::NotMeasured("the start page could not be read".to_owned());
    }
    found.sort();
    Finding::Measured {
        value: percent(good, counted),
        evidence: found,
    }
}

/// The start page and its `hreflang` alternates (not `x-default`), each once.
pub fn start_versions(crawl: &Crawl) -> Vec<String> {
    let mut out = vec![crawl.start.clone()];
    if let Some(facts) = crawl.pages.get(&crawl.start).and_then(|p| p.facts.as_ref()) {
        for alt in facts.alternates.iter().filter(|a| !is_default(&a.lang)) {
            let same_as_start = alt.url == crawl.start
                || crawl
                    .pages
                    .get(&crawl.start)
                    .is_some_and(|p| p.final_url == alt.url);
            if !same_as_start && !out.contains(&alt.url) {
                out.push(alt.url.clone());
            }
        }
    }
    out
}

/// Page of the crawl, for tests.
#[cfg(test)]
pub fn page(final_url: &str, facts: Facts, hsts: Option<&str>) -> super::crawl::Page {
    super::crawl::Page {
        final_url: final_url.to_owned(),
        status: 200,
        hsts: hsts.map(str::to_owned),
        facts: Some(facts),
    }
}

#[cfg(test)]
mod tests {
    // Each SPEC 8 rule on hand-made observations.
    use super::*;
    use crate::scan::markup::{Alternate, ParamValue};

    fn alt(lang: &str, url: &str) -> Alternate {
        Alternate {
            lang: lang.into(),
            url: url.into(),
        }
    }

    fn param(id: Option<&str>, name: &str, value: f64, unit: &str) -> Param {
        Param {
            id: id.map(str::to_owned),
            name: Some(name.into()),
            value: Some(ParamValue::Number(value)),
            unit_code: Some(unit.into()),
            unit_text: None,
        }
    }

    fn site(pages: Vec<(&str, Facts)>) -> Crawl {
        let mut crawl = Crawl {
            start: pages[0].0.to_owned(),
            origin: "https://s.example".into(),
            ..Crawl::default()
        };
        for (url, facts) in pages {
            crawl.pages.insert(
                url.to_owned(),
                page(url, facts, Some("max-age=31536000; includeSubDomains")),
            );
        }
        crawl
    }

    fn versioned(lang: &str, alts: &[(&str, &str)], params: Vec<Param>) -> Facts {
        Facts {
            title: Some("t".into()),
            description: Some("d".into()),
            lang: Some(lang.into()),
            alternates: alts.iter().map(|(l, u)| alt(l, u)).collect(),
            products: vec![Product {
                key: Some("P-1".into()),
                name: None,
                params,
            }],
            ..Facts::default()
        }
    }

    const EN: &str = "https://s.example/en/p";
    const VI: &str = "https://s.example/vi/p";
    const ALTS: &[(&str, &str)] = &[("en", EN), ("vi", VI), ("x-default", EN)];

    #[test]
    fn parameters_match_by_id_then_name_then_position() {
        let en = versioned(
            "en",
            ALTS,
            vec![
                param(Some("thickness"), "Thickness", 18.0, "4H"),
                param(None, "Weight", 2.0, "KGM"),
                param(None, "Width", 1.0, "MTR"),
                param(None, "Colour", 1.0, "C62"),
            ],
        );
        let vi = versioned(
            "vi",
            ALTS,
            vec![
                // Different order: found by propertyID and by name, the rest by position.
                param(None, "Weight", 2.0, "KGM"),
                param(Some("thickness"), "Độ dày", 35.0, "4H"),
                param(None, "Chiều rộng", 1.0, "CMT"),
            ],
        );
        let crawl = site(vec![(EN, en), (VI, vi)]);
        let v = versions(&crawl);
        assert_eq!(v.groups.len(), 1);
        let Finding::Measured { value, evidence } = parameter_deviation(&crawl, &v, Some("en"))
        else {
            panic!()
        };
        // thickness differs, Width's unit differs, Colour is missing: 3 of 4.
        assert_eq!(value, 75.0);
        let problems: Vec<&str> = evidence.iter().map(|e| e.problem.as_str()).collect();
        assert_eq!(
            problems,
            [
                "vi version: `Width` 1 CMT, en: 1 MTR",
                "vi version: `thickness` 35 4H, en: 18 4H",
                "vi version: no `Colour` (en: 1 C62)",
            ]
        );
        assert!(evidence.iter().all(|e| e.url == VI));
    }

    #[test]
    fn metadata_needs_title_description_lang_and_reciprocity() {
        let mut en = versioned("en", ALTS, vec![]);
        en.description = None;
        let vi = versioned("vi", &[("vi", VI)], vec![]);
        let mut th = versioned("en", &[("th", "https://s.example/th/p")], vec![]);
        th.alternates.push(alt("en", EN));
        let lonely = Facts {
            title: Some("About".into()),
            description: Some("d".into()),
            ..Facts::default()
        };
        let crawl = site(vec![
            (EN, en),
            (VI, vi),
            ("https://s.example/th/p", th),
            ("https://s.example/about", lonely),
        ]);
        let v = versions(&crawl);
        let Finding::Measured { value, evidence } = metadata_consistency(&crawl, &v) else {
            panic!()
        };
        // vi and the lone about page pass; en lacks a description and vi does not
        // link back to it; th says it is English and en does not link back to it.
        assert_eq!(value, 50.0, "{evidence:#?}");
        let got: Vec<(&str, &str)> = evidence
            .iter()
            .map(|e| (e.url.as_str(), e.problem.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    EN,
                    "hreflang \"vi\" alternate https://s.example/vi/p does not link back"
                ),
                (EN, "no <meta name=\"description\">"),
                (
                    "https://s.example/th/p",
                    "<html lang> \"en\" but hreflang \"th\""
                ),
                (
                    "https://s.example/th/p",
                    "hreflang \"en\" alternate https://s.example/en/p does not link back"
                ),
            ]
        );
    }

    #[test]
    fn nearest_rank_percentile() {
        let s: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(nearest_rank(&s, 95.0), Some(19.0));
        assert_eq!(nearest_rank(&[0.4, 0.1, 2.0, 0.3, 0.2], 95.0), Some(2.0));
        assert_eq!(nearest_rank(&[0.5], 95.0), Some(0.5));
        assert_eq!(nearest_rank(&[], 95.0), None);
    }

    #[test]
    fn payment_tries_count_successes_and_timeouts() {
        let crawl = site(vec![(EN, versioned("en", ALTS, vec![]))]);
        let ok = Outcome::Reached {
            elapsed: Duration::from_millis(5),
            final_url: "https://pay.example/".into(),
            shows: None,
        };
        let tries = vec![
            Tries {
                url: "https://pay.example/a".into(),
                tries: vec![ok.clone(); 4],
            },
            Tries {
                url: "https://pay.example/b".into(),
                tries: vec![ok.clone(), Outcome::TimedOut, Outcome::TimedOut, ok.clone()],
            },
        ];
        let (success, timeouts) = payments(&crawl, &tries, &[], 4);
        assert_eq!(
            success,
            Finding::Measured {
                value: 75.0,
                evidence: vec![evidence(
                    "https://pay.example/b",
                    "payment link timed out 2 of 4 tries"
                )]
            }
        );
        assert_eq!(
            timeouts,
            Finding::Measured {
                value: 250.0,
                evidence: vec![evidence(
                    "https://pay.example/b",
                    "payment link timed out 2 of 4 tries"
                )]
            }
        );
    }

    #[test]
    fn hsts_needs_a_year() {
        assert_eq!(
            hsts_max_age("max-age=31536000; includeSubDomains"),
            Some(31_536_000)
        );
        assert_eq!(
            hsts_max_age("includeSubDomains; Max-Age=\"600\""),
            Some(600)
        );
        assert_eq!(hsts_max_age("preload"), None);
        let mut crawl = site(vec![(EN, versioned("en", ALTS, vec![]))]);
        assert_eq!(
            tls(
                &crawl,
                Some(&("http://s.example/en/p".into(), Upgrade::ToHttps))
            ),
            Finding::Measured {
                value: 1.0,
                evidence: vec![]
            }
        );
        crawl.pages.get_mut(EN).unwrap().hsts = Some("max-age=86400".into());
        let Finding::Measured { value, evidence } = tls(&crawl, None) else {
            panic!()
        };
        assert_eq!(value, 0.0);
        assert_eq!(
            evidence[0].problem,
            "Strict-Transport-Security \"max-age=86400\": max-age under 31536000 s (a year)"
        );
    }

    #[test]
    fn certificate_hosts_include_subdomains() {
        assert!(on_host("verify.cert.example", "cert.example"));
        assert!(on_host("CERT.example", "cert.example"));
        assert!(!on_host("evilcert.example", "cert.example"));
    }
}
