//! String catalogues of the public pages, one per RCEP language (`registry/i18n/*.json`,
//! checked by `registry/i18n/check.py`), and language negotiation.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Supported languages (BCP 47), English first: it is the fallback.
pub const LANGUAGES: [&str; 14] = [
    "en", "zh-Hans", "zh-Hant", "ja", "ko", "id", "ms", "th", "vi", "fil", "km", "lo", "my", "ta",
];

const SOURCES: [(&str, &str); 14] = [
    ("en", include_str!("../i18n/en.json")),
    ("zh-Hans", include_str!("../i18n/zh-Hans.json")),
    ("zh-Hant", include_str!("../i18n/zh-Hant.json")),
    ("ja", include_str!("../i18n/ja.json")),
    ("ko", include_str!("../i18n/ko.json")),
    ("id", include_str!("../i18n/id.json")),
    ("ms", include_str!("../i18n/ms.json")),
    ("th", include_str!("../i18n/th.json")),
    ("vi", include_str!("../i18n/vi.json")),
    ("fil", include_str!("../i18n/fil.json")),
    ("km", include_str!("../i18n/km.json")),
    ("lo", include_str!("../i18n/lo.json")),
    ("my", include_str!("../i18n/my.json")),
    ("ta", include_str!("../i18n/ta.json")),
];

type Catalogue = HashMap<String, String>;

fn catalogues() -> &'static HashMap<&'static str, Catalogue> {
    static ALL: OnceLock<HashMap<&'static str, Catalogue>> = OnceLock::new();
    ALL.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(lang, text)| (*lang, serde_json::from_str(text).unwrap_or_default()))
            .collect()
    })
}

/// Strings of one language, falling back to English per key.
#[derive(Clone, Copy)]
pub struct Strings {
    /// The language in use.
    pub lang: &'static str,
}

impl Strings {
    /// The string for `key` (English if this language lacks it; the key itself if both do).
    pub fn get(&self, key: &str) -> String {
        let all = catalogues();
        all.get(self.lang)
            .and_then(|c| c.get(key))
            .or_else(|| all.get("en").and_then(|c| c.get(key)))
            .cloned()
            .unwrap_or_else(|| key.to_owned())
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn fill(&self, key: &str, args: &[(&str, &str)]) -> String {
        substitute(&self.get(key), args)
    }
}

/// Replaces each `{name}` of `template` named in `args` in one pass over the template.
/// Inserted values are never rescanned, so a value that itself contains `{origins}`
/// (a `?from=` chosen by whoever wrote the link) stays literal text. Braces around
/// anything not in `args` are kept as written.
fn substitute(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let value = after.split_once('}').and_then(|(name, tail)| {
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, tail))
        });
        match value {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn canonical(tag: &str) -> Option<&'static str> {
    let lower = tag.trim().to_ascii_lowercase();
    let lower = lower.as_str();
    if let Some(l) = LANGUAGES.iter().find(|l| l.to_ascii_lowercase() == lower) {
        return Some(l);
    }
    let primary = lower.split(['-', '_']).next().unwrap_or("");
    Some(match primary {
        "zh" if ["-hant", "-tw", "-hk", "-mo"]
            .iter()
            .any(|t| lower.contains(t)) =>
        {
            "zh-Hant"
        }
        "zh" => "zh-Hans",
        "tl" | "fil" => "fil",
        "in" => "id",
        p => LANGUAGES.iter().find(|l| **l == p)?,
    })
}

/// Picks the language: `?lang=` if supported, else the best match of Accept-Language
/// (by q-value, order breaking ties), else English.
pub fn negotiate(query: Option<&str>, accept_language: Option<&str>) -> Strings {
    if let Some(lang) = query.and_then(canonical) {
        return Strings { lang };
    }
    let mut best: Option<(f32, &'static str)> = None;
    for part in accept_language.unwrap_or("").split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("");
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(lang) = canonical(tag) {
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
    }
    Strings {
        lang: best.map_or("en", |(_, l)| l),
    }
}

#[cfg(test)]
mod tests {
    // Negotiation rules and catalogue completeness.
    use super::*;

    #[test]
    fn negotiates_query_then_header_then_english() {
        assert_eq!(negotiate(Some("ja"), Some("ko")).lang, "ja");
        assert_eq!(negotiate(Some("xx"), Some("ko-KR,ko;q=0.9")).lang, "ko");
        assert_eq!(negotiate(None, Some("zh-TW,zh;q=0.8")).lang, "zh-Hant");
        assert_eq!(negotiate(None, Some("zh-CN")).lang, "zh-Hans");
        assert_eq!(negotiate(None, Some("de-DE,vi;q=0.5,th;q=0.7")).lang, "th");
        assert_eq!(negotiate(None, Some("fr")).lang, "en");
        assert_eq!(negotiate(None, None).lang, "en");
    }

    #[test]
    fn fill_substitutes_in_one_pass() {
        let t = "You arrived from {from}. Valid for {origins}.";
        assert_eq!(
            substitute(
                t,
                &[("from", "{origins}"), ("origins", "https://a.example")]
            ),
            "You arrived from {origins}. Valid for https://a.example."
        );
        // Order of the arguments does not matter either way round.
        assert_eq!(
            substitute(t, &[("origins", "{from}"), ("from", "x")]),
            "You arrived from x. Valid for {from}."
        );
        assert_eq!(
            substitute("{a}{b} {unknown} {a", &[("a", "1"), ("b", "{a}")]),
            "1{a} {unknown} {a"
        );
        assert_eq!(substitute("{}{{a}}", &[("a", "1")]), "{}{1}");
        let en = Strings { lang: "en" };
        let filled = en.fill(
            "warning.wrong_site.body",
            &[("from", "x {origins} y"), ("origins", "https://a.example")],
        );
        assert!(filled.contains("x {origins} y"), "{filled}");
        assert_eq!(filled.matches("https://a.example").count(), 1, "{filled}");
    }

    #[test]
    fn every_language_is_translated() {
        // A copied English file would pass the key check; the heading must differ.
        let all = catalogues();
        for lang in LANGUAGES.iter().skip(1) {
            assert_ne!(
                all[lang]["page.heading"], all["en"]["page.heading"],
                "{lang} is not translated"
            );
            assert_ne!(all[lang]["lang.name"], "English", "{lang}");
        }
    }

    #[test]
    fn every_language_has_every_english_key() {
        let all = catalogues();
        let en = &all["en"];
        for lang in LANGUAGES {
            let c = &all[lang];
            for key in en.keys() {
                assert!(
                    c.get(key).is_some_and(|v| !v.is_empty()),
                    "{lang} lacks {key}"
                );
            }
        }
    }
}
