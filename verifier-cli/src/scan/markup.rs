//! What a page says in standard markup, read with the same HTML parser as badge
//! discovery (html5ever through `scraper`): its title, description and `<html lang>`,
//! its `hreflang` alternates, the links to follow, `rel="payment"` and
//! `rel="privacy-policy"` links, and from its JSON-LD blocks every schema.org `Product`
//! (with its `additionalProperty` parameters) and every `hasCertification`.

use serde_json::Value;
use url::Url;

/// One `<link rel="alternate" hreflang>` of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alternate {
    /// The `hreflang` value as written (trimmed).
    pub lang: String,
    /// The URL it points at, resolved, without fragment.
    pub url: String,
}

/// A parameter value: numbers compare as numbers, anything else as trimmed text.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    /// A JSON number, or text that reads as one.
    Number(f64),
    /// Other text (booleans as `true`/`false`).
    Text(String),
}

impl ParamValue {
    fn from_json(v: &Value) -> Option<ParamValue> {
        match v {
            Value::Number(n) => n.as_f64().map(ParamValue::Number),
            Value::String(s) => {
                let s = s.trim();
                Some(match s.parse::<f64>() {
                    Ok(n) if n.is_finite() => ParamValue::Number(n),
                    _ => ParamValue::Text(s.to_owned()),
                })
            }
            Value::Bool(b) => Some(ParamValue::Text(b.to_string())),
            _ => None,
        }
    }

    /// Whether two values are the same parameter value.
    pub fn same(&self, other: &ParamValue) -> bool {
        match (self, other) {
            (ParamValue::Number(a), ParamValue::Number(b)) => {
                (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
            }
            (ParamValue::Text(a), ParamValue::Text(b)) => a == b,
            _ => false,
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Number(n) => write!(f, "{n}"),
            ParamValue::Text(t) => write!(f, "{t}"),
        }
    }
}

/// One schema.org `PropertyValue` of a product's `additionalProperty`.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// `propertyID`, if any.
    pub id: Option<String>,
    /// `name`, if any.
    pub name: Option<String>,
    /// `value`, if any.
    pub value: Option<ParamValue>,
    /// `unitCode` (UN/CEFACT Common Code), compared.
    pub unit_code: Option<String>,
    /// `unitText`, only shown (it may be translated).
    pub unit_text: Option<String>,
}

impl Param {
    /// The value with its unit, as a person reads it: `35 µm`.
    pub fn shown(&self) -> String {
        let value = self
            .value
            .as_ref()
            .map_or_else(|| "(no value)".to_owned(), ToString::to_string);
        match self.unit_text.as_deref().or(self.unit_code.as_deref()) {
            Some(unit) => format!("{value} {unit}"),
            None => value,
        }
    }
}

/// One schema.org `Product` in a page's JSON-LD.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// `sku`, else `productID`: what identifies the product across language versions.
    pub key: Option<String>,
    /// `name`, if any.
    pub name: Option<String>,
    /// Its `additionalProperty` parameters, in order.
    pub params: Vec<Param>,
}

/// One schema.org `Certification` named by `hasCertification`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Certification {
    /// `name`, if any (what evidence calls it, e.g. `ISO 9001`).
    pub name: Option<String>,
    /// `url`: the issuer's verification page.
    pub url: Option<String>,
    /// `issuedBy.url`: the issuer's site.
    pub issuer_url: Option<String>,
    /// `certificationIdentification`: the certificate number.
    pub identification: Option<String>,
}

impl Certification {
    /// How evidence names it: its name, else its number, else its URL.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.identification.clone())
            .or_else(|| self.url.clone())
            .unwrap_or_else(|| "(unnamed)".to_owned())
    }
}

/// Everything the scan reads from one HTML page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    /// `<title>` text, trimmed; `None` when missing or blank.
    pub title: Option<String>,
    /// `<meta name="description">` content, trimmed; `None` when missing or blank.
    pub description: Option<String>,
    /// `<html lang>`, trimmed; `None` when missing or blank.
    pub lang: Option<String>,
    /// `hreflang` alternates, in document order.
    pub alternates: Vec<Alternate>,
    /// `<a href>` targets, resolved, without fragment (http and https only).
    pub links: Vec<String>,
    /// `rel="payment"` targets (`<a>` or `<link>`), resolved.
    pub payment: Vec<String>,
    /// `rel="privacy-policy"` targets (`<a>` or `<link>`), resolved.
    pub privacy: Vec<String>,
    /// schema.org Products from JSON-LD, in document order.
    pub products: Vec<Product>,
    /// schema.org Certifications from JSON-LD, in document order.
    pub certifications: Vec<Certification>,
    /// JSON-LD blocks that are not JSON.
    pub broken_json_ld: usize,
    /// The page's `Organization` (legal name, country, registration), for the draft.
    pub organisation: Option<Organisation>,
}

/// What a page's JSON-LD says of the organisation behind it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Organisation {
    /// `legalName`, else `name`.
    pub name: Option<String>,
    /// `address.addressCountry` when it is an ISO 3166-1 alpha-2 code.
    pub country: Option<String>,
    /// `taxID`, else `vatID`, else `leiCode`.
    pub registration: Option<String>,
}

fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether a JSON-LD node's `@type` includes `name` (`Product`, `schema:Product`,
/// `https://schema.org/Product`).
fn has_type(node: &serde_json::Map<String, Value>, name: &str) -> bool {
    let is = |t: &Value| {
        t.as_str().is_some_and(|t| {
            let local = t.rsplit(['/', ':', '#']).next().unwrap_or(t);
            local == name
        })
    };
    match node.get("@type") {
        Some(Value::Array(types)) => types.iter().any(is),
        Some(t) => is(t),
        None => false,
    }
}

/// One or many: a JSON-LD value that may be a single node or an array of them.
fn each(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => vec![],
    }
}

fn url_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Object(o) => text_of(o.get("url").or_else(|| o.get("@id"))),
        other => text_of(Some(other)),
    }
}

fn param(v: &Value) -> Option<Param> {
    let o = v.as_object()?;
    if o.contains_key("@type") && !has_type(o, "PropertyValue") {
        return None;
    }
    Some(Param {
        id: text_of(o.get("propertyID")),
        name: text_of(o.get("name")),
        value: o.get("value").and_then(ParamValue::from_json),
        unit_code: text_of(o.get("unitCode")),
        unit_text: text_of(o.get("unitText")),
    })
}

fn certification(v: &Value) -> Certification {
    let o = v.as_object();
    let get = |k: &str| o.and_then(|o| o.get(k));
    Certification {
        name: text_of(get("name")),
        url: url_of(get("url")),
        issuer_url: get("issuedBy").and_then(|i| match i {
            Value::Object(org) => text_of(org.get("url")),
            _ => None,
        }),
        identification: text_of(get("certificationIdentification")),
    }
}

fn organisation(o: &serde_json::Map<String, Value>) -> Organisation {
    let country = o
        .get("address")
        .and_then(|a| match a {
            Value::Object(a) => match a.get("addressCountry") {
                Some(Value::Object(c)) => text_of(c.get("identifier").or_else(|| c.get("name"))),
                other => text_of(other),
            },
            _ => None,
        })
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase());
    Organisation {
        name: text_of(o.get("legalName")).or_else(|| text_of(o.get("name"))),
        country,
        registration: text_of(o.get("taxID"))
            .or_else(|| text_of(o.get("vatID")))
            .or_else(|| text_of(o.get("leiCode"))),
    }
}

/// Walks a JSON-LD value, collecting Products, Certifications and the Organization.
fn walk(v: &Value, facts: &mut Facts, depth: usize) {
    // JSON-LD nests a few levels; a deeper document is not markup worth following.
    if depth > 32 {
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| walk(i, facts, depth + 1)),
        Value::Object(o) => {
            if has_type(o, "Product") {
                facts.products.push(Product {
                    key: text_of(o.get("sku")).or_else(|| text_of(o.get("productID"))),
                    name: text_of(o.get("name")),
                    params: each(o.get("additionalProperty"))
                        .into_iter()
                        .filter_map(param)
                        .collect(),
                });
            }
            if facts.organisation.is_none()
                && (has_type(o, "Organization") || has_type(o, "Corporation"))
            {
                facts.organisation = Some(organisation(o));
            }
            for c in each(o.get("hasCertification")) {
                let c = certification(c);
                if !facts.certifications.contains(&c) {
                    facts.certifications.push(c);
                }
            }
            for (k, child) in o {
                if k != "hasCertification" && k != "additionalProperty" {
                    walk(child, facts, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Whether a `rel` attribute holds `token` (space-separated, any case).
fn rel_has(rel: Option<&str>, token: &str) -> bool {
    rel.is_some_and(|r| {
        r.split_ascii_whitespace()
            .any(|t| t.eq_ignore_ascii_case(token))
    })
}

/// Reads `html`, served at `page`.
pub fn read(html: &str, page: &Url) -> Facts {
    let document = scraper::Html::parse_document(html);
    let mut facts = Facts::default();
    let mut base: Option<Url> = None;
    let mut blocks: Vec<String> = Vec::new();
    let resolve = |base: &Option<Url>, href: &str| -> Option<String> {
        let mut url = base.as_ref().unwrap_or(page).join(href.trim()).ok()?;
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        url.set_fragment(None);
        Some(url.to_string())
    };
    for node in document.tree.root().descendants() {
        let Some(e) = node.value().as_element() else {
            continue;
        };
        let rel = e.attr("rel");
        match e.name() {
            "html" if facts.lang.is_none() => {
                facts.lang = e
                    .attr("lang")
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned);
            }
            "base" if base.is_none() => {
                base = e.attr("href").and_then(|h| page.join(h.trim()).ok());
            }
            "title" if facts.title.is_none() => {
                let text: String = scraper::ElementRef::wrap(node)
                    .map(|r| r.text().collect())
                    .unwrap_or_default();
                facts.title = Some(text.trim().to_owned()).filter(|t| !t.is_empty());
            }
            "meta"
                if facts.description.is_none()
                    && e.attr("name")
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case("description")) =>
            {
                facts.description = e
                    .attr("content")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned);
            }
            "script" => {
                let json_ld = e
                    .attr("type")
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
                if json_ld {
                    if let Some(r) = scraper::ElementRef::wrap(node) {
                        blocks.push(r.text().collect());
                    }
                }
            }
            name @ ("a" | "link" | "area") => {
                let Some(target) = e.attr("href").and_then(|h| resolve(&base, h)) else {
                    continue;
                };
                if name == "link" && rel_has(rel, "alternate") {
                    if let Some(lang) = e.attr("hreflang").map(str::trim).filter(|l| !l.is_empty())
                    {
                        facts.alternates.push(Alternate {
                            lang: lang.to_owned(),
                            url: target.clone(),
                        });
                    }
                }
                if rel_has(rel, "payment") && !facts.payment.contains(&target) {
                    facts.payment.push(target.clone());
                }
                if rel_has(rel, "privacy-policy") && !facts.privacy.contains(&target) {
                    facts.privacy.push(target.clone());
                }
                if name != "link" && !facts.links.contains(&target) {
                    facts.links.push(target);
                }
            }
            _ => {}
        }
    }
    for block in blocks {
        match serde_json::from_str::<Value>(&block) {
            Ok(v) => walk(&v, &mut facts, 0),
            Err(_) => facts.broken_json_ld += 1,
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    // Markup as suppliers write it, and as they get it wrong.
    use super::*;

    fn page() -> Url {
        Url::parse("https://supplier.example/en/products/panel").unwrap()
    }

    #[test]
    fn metadata_alternates_and_rel_links() {
        let html = r#"<!doctype html><html lang=" en "><head>
            <title> Solar panel  </title>
            <meta name="Description" content="A 400 W panel">
            <link rel="alternate" hreflang="vi" href="https://vi.supplier.example/products/panel#top">
            <link rel="Alternate" hreflang="en" href="/en/products/panel">
            <link rel="alternate" href="/feed.xml">
            <link rel="privacy-policy" href="/en/privacy">
            </head><body>
            <a href="/en/about">About</a><a href="mailto:x@y.example">mail</a>
            <a rel="noopener Payment" href="https://pay.example/checkout?o=1">Pay</a>
            <a href="/en/about#team">Team</a>
            </body></html>"#;
        let f = read(html, &page());
        assert_eq!(f.title.as_deref(), Some("Solar panel"));
        assert_eq!(f.description.as_deref(), Some("A 400 W panel"));
        assert_eq!(f.lang.as_deref(), Some("en"));
        assert_eq!(
            f.alternates,
            vec![
                Alternate {
                    lang: "vi".into(),
                    url: "https://vi.supplier.example/products/panel".into()
                },
                Alternate {
                    lang: "en".into(),
                    url: "https://supplier.example/en/products/panel".into()
                },
            ]
        );
        assert_eq!(f.privacy, ["https://supplier.example/en/privacy"]);
        assert_eq!(f.payment, ["https://pay.example/checkout?o=1"]);
        assert_eq!(
            f.links,
            [
                "https://supplier.example/en/about",
                "https://pay.example/checkout?o=1"
            ]
        );
    }

    #[test]
    fn blank_metadata_reads_as_missing() {
        let f = read(
            "<html lang=''><title> </title><meta name=description content=''>",
            &page(),
        );
        assert_eq!((f.title, f.description, f.lang), (None, None, None));
    }

    #[test]
    fn json_ld_products_certifications_and_organisation() {
        let html = r#"<script type="application/ld+json">
            {"@context": "https://schema.org", "@graph": [
              {"@type": "Organization", "legalName": "Example Solar Co., Ltd.",
               "address": {"@type": "PostalAddress", "addressCountry": "vn"}, "taxID": "0312345678",
               "hasCertification": {"@type": "Certification", "name": "ISO 9001",
                 "url": "https://cert.example/verify/Q-1", "certificationIdentification": "Q-1",
                 "issuedBy": {"@type": "Organization", "url": "https://cert.example"}}},
              {"@type": ["Product"], "sku": "P-400", "name": "Panel",
               "additionalProperty": [
                 {"@type": "PropertyValue", "propertyID": "thickness", "name": "Thickness", "value": "35", "unitCode": "4H", "unitText": "µm"},
                 {"@type": "PropertyValue", "name": "Colour", "value": "black"},
                 {"@type": "QuantitativeValue", "value": 1}]}
            ]}</script>
            <script type="application/ld+json">{not json</script>"#;
        let f = read(html, &page());
        assert_eq!(f.broken_json_ld, 1);
        assert_eq!(f.products.len(), 1);
        let p = &f.products[0];
        assert_eq!(p.key.as_deref(), Some("P-400"));
        assert_eq!(p.params.len(), 2);
        assert_eq!(p.params[0].value, Some(ParamValue::Number(35.0)));
        assert_eq!(p.params[0].shown(), "35 µm");
        assert_eq!(p.params[1].shown(), "black");
        assert_eq!(
            f.certifications,
            vec![Certification {
                name: Some("ISO 9001".into()),
                url: Some("https://cert.example/verify/Q-1".into()),
                issuer_url: Some("https://cert.example".into()),
                identification: Some("Q-1".into()),
            }]
        );
        let o = f.organisation.unwrap();
        assert_eq!(o.name.as_deref(), Some("Example Solar Co., Ltd."));
        assert_eq!(o.country.as_deref(), Some("VN"));
        assert_eq!(o.registration.as_deref(), Some("0312345678"));
    }

    #[test]
    fn values_compare_as_numbers_or_text() {
        let n = |v: Value| ParamValue::from_json(&v).unwrap();
        assert!(n("35".into()).same(&n(35.0.into())));
        assert!(n(" 35.0 ".into()).same(&n(35.into())));
        assert!(!n("35".into()).same(&n(18.into())));
        assert!(n("black".into()).same(&n("black".into())));
        assert!(!n("black".into()).same(&n("Black".into())));
    }
}
