//! Finding a site's badges (SPEC 5): `/.well-known/trustmark.jwt` (one token per line);
//! when that names none, the page the user named (`/` for a bare domain) and its
//! `<trustmark-badge token="…">`, `<trustmark-badge src="URL">` and
//! `<meta name="trustmark" content="…">`, read with an HTML parser.
//!
//! Every badge found is checked against the origin the user asked for, never against
//! where redirects led: a site that redirects elsewhere does not lend its name to the
//! badges found there.

use crate::error::CliError;
use crate::fetch::{self, Fetched, Fetcher, MAX_BADGE_SRC, MAX_PAGE};
use url::Url;

pub use crate::fetch::MAX_WELL_KNOWN;

/// Badges looked at per site at most (and so `src` fetches); more are counted in
/// [`Site::ignored`] and left out.
pub const MAX_BADGES: usize = 16;

/// The path of the well-known badge file.
pub const WELL_KNOWN_PATH: &str = "/.well-known/trustmark.jwt";

/// Where on the site a badge was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discovery {
    /// A line of `/.well-known/trustmark.jwt`.
    WellKnown,
    /// A `<trustmark-badge token="…">` element on the page `Found::at`.
    Element,
    /// A `<trustmark-badge src="…">` element on `page`; `Found::at` is the src URL.
    ElementSrc {
        /// The page carrying the element.
        page: String,
    },
    /// A `<meta name="trustmark" content="…">` on the page `Found::at`.
    Meta,
}

/// A badge token found on a site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The token text (not yet verified).
    pub token: String,
    /// The URL it was read from (after redirects).
    pub at: String,
    /// How it was found.
    pub how: Discovery,
}

impl Found {
    /// Where it was found, for people: the form and the URL.
    pub fn describe(&self) -> String {
        match &self.how {
            Discovery::WellKnown => format!("in {}", self.at),
            Discovery::Element => format!("<trustmark-badge token> on {}", self.at),
            Discovery::ElementSrc { page } => {
                format!("<trustmark-badge src> on {page}, token from {}", self.at)
            }
            Discovery::Meta => format!("<meta name=\"trustmark\"> on {}", self.at),
        }
    }
}

/// A site input resolved: the origin to check badges against, and what was found there.
#[derive(Debug, Clone)]
pub struct Site {
    /// The canonical origin the user asked for.
    pub origin: String,
    /// The badges found, in discovery order, each token once; empty when the site
    /// carries none.
    pub found: Vec<Found>,
    /// The URLs looked at, in order (for a "no badge found" explanation).
    pub looked: Vec<String>,
    /// Badges beyond [`MAX_BADGES`] that were left out.
    pub ignored: usize,
}

/// A badge in a page's markup, before any `src` is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Markup {
    /// A token written in the page.
    Token { token: String, how: Discovery },
    /// A `src` attribute as written.
    Src(String),
}

/// The page to read for `input`: the URL as given (without its fragment), or `/` of a
/// bare domain.
fn page_url(input: &str) -> Result<Url, CliError> {
    let input = input.trim();
    let text = if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{input}/")
    };
    let mut url = Url::parse(&text)
        .ok()
        .filter(fetch::is_fetchable)
        .ok_or_else(|| CliError::SiteUrl(input.to_owned()))?;
    url.set_fragment(None);
    Ok(url)
}

fn is_html(answer: &Fetched) -> bool {
    answer
        .content_type
        .as_deref()
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

/// The tokens of a well-known file: every non-empty line.
fn well_known_tokens(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The badges in `html`, in document order, and the base URL relative `src` values
/// resolve against (`<base href>` if the page sets one, else `page`).
fn markup(html: &str, page: &Url) -> (Vec<Markup>, Url) {
    let document = scraper::Html::parse_document(html);
    let mut base = None;
    let mut found = Vec::new();
    let attr = |e: &scraper::node::Element, name: &str| {
        e.attr(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    for node in document.tree.root().descendants() {
        let Some(element) = node.value().as_element() else {
            continue;
        };
        match element.name() {
            "base" if base.is_none() => {
                base = element.attr("href").and_then(|h| page.join(h.trim()).ok());
            }
            // A token written in the element wins over its src, as the badge script does.
            "trustmark-badge" => {
                if let Some(token) = attr(element, "token") {
                    found.push(Markup::Token {
                        token,
                        how: Discovery::Element,
                    });
                } else if let Some(src) = attr(element, "src") {
                    found.push(Markup::Src(src));
                }
            }
            "meta" => {
                let named = element
                    .attr("name")
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case("trustmark"));
                if let (true, Some(token)) = (named, attr(element, "content")) {
                    found.push(Markup::Token {
                        token,
                        how: Discovery::Meta,
                    });
                }
            }
            _ => {}
        }
    }
    (found, base.unwrap_or_else(|| page.clone()))
}

/// Looks up the badges of `input` (a URL or a bare domain).
pub async fn discover(fetcher: &Fetcher, input: &str) -> Result<Site, CliError> {
    let origin = trustmark_core::origin::canonicalize(input).map_err(CliError::Origin)?;
    let page = page_url(input)?;
    let mut site = Site {
        origin: origin.clone(),
        found: Vec::new(),
        looked: Vec::new(),
        ignored: 0,
    };

    let well_known = format!("{origin}{WELL_KNOWN_PATH}");
    site.looked.push(well_known.clone());
    let answer = fetcher.get(&well_known, MAX_WELL_KNOWN, None).await?;
    // A site that answers every path with its HTML app shell has no well-known file.
    if answer.ok() && !is_html(&answer) {
        for token in well_known_tokens(&String::from_utf8_lossy(&answer.body)) {
            site.add(Found {
                token,
                at: answer.url.clone(),
                how: Discovery::WellKnown,
            });
        }
    }
    if !site.found.is_empty() {
        return Ok(site);
    }

    site.looked.push(page.to_string());
    let answer = fetcher.get(page.as_str(), MAX_PAGE, None).await?;
    if !answer.ok() {
        return Err(CliError::SiteAnswer {
            url: answer.url,
            status: answer.status,
        });
    }
    // Relative src values resolve against where the page really was, after redirects.
    let at = Url::parse(&answer.url).unwrap_or(page);
    let (items, base) = markup(&String::from_utf8_lossy(&answer.body), &at);
    for item in items {
        if site.found.len() >= MAX_BADGES {
            site.ignored += 1;
            continue;
        }
        match item {
            Markup::Token { token, how } => site.add(Found {
                token,
                at: answer.url.clone(),
                how,
            }),
            Markup::Src(src) => {
                let found = fetch_src(fetcher, &base, &src, &answer.url).await?;
                site.add(found);
            }
        }
    }
    Ok(site)
}

impl Site {
    /// Adds a badge unless the same token was already found (a page that shows its
    /// badge in an element and a meta tag carries one badge, not two).
    fn add(&mut self, found: Found) {
        if self.found.iter().any(|f| f.token == found.token) {
            return;
        }
        if self.found.len() >= MAX_BADGES {
            self.ignored += 1;
        } else {
            self.found.push(found);
        }
    }
}

/// Fetches the token a `<trustmark-badge src>` names.
async fn fetch_src(
    fetcher: &Fetcher,
    base: &Url,
    src: &str,
    page: &str,
) -> Result<Found, CliError> {
    let bad_src = || CliError::BadgeSrc {
        page: page.to_owned(),
        src: src.to_owned(),
    };
    let mut url = base
        .join(src)
        .ok()
        .filter(fetch::is_fetchable)
        .ok_or_else(bad_src)?;
    url.set_fragment(None);
    let answer = fetcher.get(url.as_str(), MAX_BADGE_SRC, None).await?;
    if !answer.ok() {
        return Err(CliError::SiteAnswer {
            url: answer.url,
            status: answer.status,
        });
    }
    Ok(Found {
        token: String::from_utf8_lossy(&answer.body).trim().to_owned(),
        at: answer.url,
        how: Discovery::ElementSrc {
            page: page.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    // HTML discovery: every form SPEC 5 names, in document order, and nothing else.
    use super::*;

    fn page() -> Url {
        Url::parse("https://supplier.example/en/products").unwrap()
    }

    fn token(t: &str, how: Discovery) -> Markup {
        Markup::Token {
            token: t.into(),
            how,
        }
    }

    #[test]
    fn finds_each_form_in_document_order() {
        let html = r#"<!doctype html><html><head>
            <meta name="description" content="not a badge">
            <meta name="TrustMark" content=" eyJmeta ">
            </head><body>
            <trustmark-badge token="eyJelement"></trustmark-badge>
            <p><trustmark-badge src="badge.jwt"></trustmark-badge></p>
            <trustmark-badge token="eyJboth" src="ignored.jwt"></trustmark-badge>
            <trustmark-badge></trustmark-badge>
            <trustmark-badge token="  "></trustmark-badge>
            <div data-token="eyJnot"></div>
            <!-- <trustmark-badge token="eyJcomment"></trustmark-badge> -->
            <script>document.write('<trustmark-badge token="eyJscript">')</script>
            </body></html>"#;
        let (found, base) = markup(html, &page());
        assert_eq!(
            found,
            vec![
                token("eyJmeta", Discovery::Meta),
                token("eyJelement", Discovery::Element),
                Markup::Src("badge.jwt".into()),
                token("eyJboth", Discovery::Element),
            ]
        );
        assert_eq!(base, page());
        assert_eq!(
            base.join("badge.jwt").unwrap().as_str(),
            "https://supplier.example/en/badge.jwt"
        );
    }

    #[test]
    fn attribute_values_are_decoded_and_base_href_is_honoured() {
        let html = r#"<html><head><base href="https://cdn.supplier.example/assets/">
            </head><body><trustmark-badge token="a&#46;b&period;c">
            <TRUSTMARK-BADGE SRC="/b/x/badge.jwt"></TRUSTMARK-BADGE>
            <trustmark-badge token=unquoted.token.here>"#;
        let (found, base) = markup(html, &page());
        assert_eq!(
            found,
            vec![
                token("a.b.c", Discovery::Element),
                Markup::Src("/b/x/badge.jwt".into()),
                token("unquoted.token.here", Discovery::Element),
            ]
        );
        assert_eq!(
            base.join("/b/x/badge.jwt").unwrap().as_str(),
            "https://cdn.supplier.example/b/x/badge.jwt"
        );
    }

    #[test]
    fn broken_and_empty_markup_finds_nothing() {
        for html in [
            "",
            "not html at all",
            "<meta content=\"eyJx\">",
            "<trustmark-badge",
            "\u{0}<<>>",
        ] {
            assert_eq!(markup(html, &page()).0, vec![], "{html:?}");
        }
    }

    #[test]
    fn well_known_lines_and_page_urls() {
        assert_eq!(
            well_known_tokens("eyJa.b.c\r\n\n  eyJd.e.f  \n"),
            vec!["eyJa.b.c".to_owned(), "eyJd.e.f".to_owned()]
        );
        assert_eq!(
            page_url("supplier.example").unwrap().as_str(),
            "https://supplier.example/"
        );
        assert_eq!(
            page_url("https://Supplier.example/en/?q=1#top")
                .unwrap()
                .as_str(),
            "https://supplier.example/en/?q=1"
        );
        assert_eq!(
            page_url("http://127.0.0.1:8080/x").unwrap().as_str(),
            "http://127.0.0.1:8080/x"
        );
        assert!(
            page_url("http://supplier.example/").is_err(),
            "http only for loopback"
        );
        assert!(page_url("ftp://supplier.example/").is_err());
    }

    #[test]
    fn one_badge_found_twice_is_reported_once_and_the_count_is_capped() {
        let mut site = Site {
            origin: "https://supplier.example".into(),
            found: vec![],
            looked: vec![],
            ignored: 0,
        };
        let found = |t: &str| Found {
            token: t.into(),
            at: "https://supplier.example/".into(),
            how: Discovery::Meta,
        };
        site.add(found("eyJa"));
        site.add(found("eyJa"));
        assert_eq!(site.found.len(), 1);
        for i in 0..MAX_BADGES + 3 {
            site.add(found(&format!("eyJ{i}")));
        }
        assert_eq!(site.found.len(), MAX_BADGES);
        assert_eq!(site.ignored, 4);
    }
}
