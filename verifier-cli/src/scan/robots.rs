//! robots.txt as RFC 9309 reads it: the group for our product token (matched without
//! regard to case), else the `*` group, else no rule; within it the longest matching
//! rule wins, `allow` over `disallow` on equal length; `*` matches any run of octets and
//! a final `$` anchors the end. Groups naming the same agent are merged, rules before any
//! `user-agent` line and unknown lines are ignored, and `/robots.txt` itself is always
//! allowed. What the status of the file means (4xx allow all, 5xx disallow all) is
//! decided by the caller, which knows the answer.
//!
//! A small parser rather than a crate: the published ones were unmaintained or pulled in
//! regex engines, and these few rules are easier to test than to audit.

/// The product token the scan announces (`TrustMark-Scan/<version>`) and obeys.
pub const PRODUCT: &str = "TrustMark-Scan";

/// One `allow` or `disallow` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    allow: bool,
    /// The path pattern, percent-encoding normalised.
    pattern: String,
}

/// The rules that apply to us on one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Robots {
    /// Everything may be fetched (no robots.txt, a 4xx answer, or no group for us).
    AllowAll,
    /// Nothing may be fetched (the file could not be fetched: a 5xx answer or no
    /// answer, which RFC 9309 reads as complete disallow).
    DisallowAll,
    /// The rules of our group.
    Rules(Vec<Rule>),
}

/// Upper-cases the hex digits of `%xx` escapes and escapes every octet outside
/// printable ASCII, so a pattern and a URL path compare octet for octet.
fn normalise(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = |j: usize| bytes.get(j).filter(|c| c.is_ascii_hexdigit());
        if let (b'%', Some(h), Some(l)) = (b, hex(i + 1), hex(i + 2)) {
            out.push('%');
            out.push(char::from(h.to_ascii_uppercase()));
            out.push(char::from(l.to_ascii_uppercase()));
            i += 3;
            continue;
        }
        if b.is_ascii_graphic() {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

/// Whether `pattern` (with `*` and a final `$`) matches the start of `path`.
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    let p = pattern.as_bytes();
    let s = path.as_bytes();
    // Iterative wildcard matching with one backtrack point (the last `*`).
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi == p.len() && (!anchored || si == s.len()) {
            return true;
        }
        match (p.get(pi), s.get(si)) {
            (Some(b'*'), _) => {
                star = Some((pi, si));
                pi += 1;
            }
            (Some(pc), Some(sc)) if pc == sc => {
                pi += 1;
                si += 1;
            }
            _ => match star {
                Some((sp, ss)) if ss < s.len() => {
                    star = Some((sp, ss + 1));
                    pi = sp + 1;
                    si = ss + 1;
                }
                _ => return false,
            },
        }
    }
}

/// Whether a `user-agent` value names us: its product token, without any version,
/// equals ours regardless of case.
fn names_us(value: &str) -> bool {
    let token = value
        .split(|c: char| c == '/' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    token.eq_ignore_ascii_case(PRODUCT)
}

impl Robots {
    /// Parses a robots.txt body (read as UTF-8, invalid octets replaced).
    pub fn parse(body: &[u8]) -> Robots {
        let text = String::from_utf8_lossy(body);
        let (mut ours, mut star) = (Vec::new(), Vec::new());
        let (mut found_ours, mut found_star) = (false, false);
        // The agents of the group being read, and whether its rules have started.
        let (mut for_us, mut for_star, mut in_rules) = (false, false, false);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or_default().trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            match key.as_str() {
                "user-agent" => {
                    if in_rules {
                        (for_us, for_star, in_rules) = (false, false, false);
                    }
                    if value == "*" {
                        for_star = true;
                        found_star = true;
                    } else if names_us(value) {
                        for_us = true;
                        found_ours = true;
                    }
                }
                "allow" | "disallow" => {
                    in_rules = true;
                    // An empty disallow allows everything: it adds no rule.
                    if value.is_empty() {
                        continue;
                    }
                    let rule = Rule {
                        allow: key == "allow",
                        pattern: normalise(value),
                    };
                    if for_us {
                        ours.push(rule.clone());
                    }
                    if for_star {
                        star.push(rule);
                    }
                }
                _ => {}
            }
        }
        match (found_ours, found_star) {
            (true, _) => Robots::Rules(ours),
            (false, true) => Robots::Rules(star),
            (false, false) => Robots::AllowAll,
        }
    }

    /// Whether `path` (the URL's path and query, as sent) may be fetched.
    pub fn allows(&self, path: &str) -> bool {
        let rules = match self {
            Robots::AllowAll => return true,
            Robots::DisallowAll => return path == "/robots.txt",
            Robots::Rules(rules) => rules,
        };
        if path == "/robots.txt" {
            return true;
        }
        let path = normalise(path);
        let best = rules
            .iter()
            .filter(|r| matches(&r.pattern, &path))
            .max_by_key(|r| (r.pattern.len(), r.allow));
        best.is_none_or(|r| r.allow)
    }
}

#[cfg(test)]
mod tests {
    // RFC 9309's rules, including the examples of its section 5.
    use super::*;

    fn robots(text: &str) -> Robots {
        Robots::parse(text.as_bytes())
    }

    #[test]
    fn our_group_wins_over_the_star_group_and_groups_merge() {
        let r = robots(
            "User-agent: *\nDisallow: /\n\n\
             User-agent: other\nUser-Agent: trustmark-scan/9.9\nDisallow: /private/\n\
             user-agent: TRUSTMARK-SCAN\nDisallow: /drafts/\n",
        );
        assert!(r.allows("/"));
        assert!(r.allows("/en/products"));
        assert!(!r.allows("/private/x"));
        assert!(!r.allows("/drafts/"), "the second group for us is merged");
    }

    #[test]
    fn the_star_group_applies_when_none_names_us() {
        let r = robots("# comment\nuser-agent: googlebot\ndisallow: /\nuser-agent: *\ndisallow: /cgi-bin/ # x\n");
        assert!(r.allows("/"));
        assert!(!r.allows("/cgi-bin/a"));
        assert_eq!(
            robots("user-agent: googlebot\ndisallow: /\n"),
            Robots::AllowAll
        );
        assert_eq!(robots(""), Robots::AllowAll);
    }

    #[test]
    fn longest_match_wins_and_allow_wins_a_tie() {
        let r = robots("user-agent: *\nallow: /p\ndisallow: /\n");
        assert!(r.allows("/page"));
        assert!(!r.allows("/x"));
        let r = robots("user-agent: *\nallow: /folder\ndisallow: /folder\n");
        assert!(r.allows("/folder/page"), "equal length: allow");
        let r = robots("user-agent: *\nallow: /page\ndisallow: /*.htm\n");
        assert!(!r.allows("/page.htm"), "/*.htm is longer than /page");
        let r = robots("user-agent: *\ndisallow: /shop/\nallow: /shop/public/\n");
        assert!(r.allows("/shop/public/item"));
        assert!(!r.allows("/shop/cart"));
    }

    #[test]
    fn wildcards_and_end_anchors() {
        let r = robots(
            "user-agent: *\ndisallow: /*.pdf$\ndisallow: /*?session=\nallow: /$\ndisallow: /\n",
        );
        assert!(r.allows("/"));
        assert!(!r.allows("/a"));
        let r = robots("user-agent: *\ndisallow: /*.pdf$\ndisallow: /*?session=\n");
        assert!(!r.allows("/files/manual.pdf"));
        assert!(r.allows("/files/manual.pdf.html"));
        assert!(!r.allows("/cart?session=1"));
        assert!(r.allows("/cart?lang=vi"));
        assert!(matches("/a*b*c", "/axxbyyc/z"));
        assert!(!matches("/a*b*c$", "/axxbyycz"));
        assert!(matches("*", ""));
    }

    #[test]
    fn an_empty_disallow_adds_no_rule_and_robots_txt_is_always_allowed() {
        let r = robots("user-agent: *\ndisallow:\n");
        assert!(r.allows("/anything"));
        assert!(Robots::DisallowAll.allows("/robots.txt"));
        assert!(!Robots::DisallowAll.allows("/"));
        assert!(robots("user-agent: *\ndisallow: /\n").allows("/robots.txt"));
    }

    #[test]
    fn percent_encoding_compares_octet_for_octet() {
        let r = robots("user-agent: *\ndisallow: /%e4%b8%ad/\ndisallow: /ファ\n");
        assert!(!r.allows("/%E4%B8%AD/page"));
        assert!(!r.allows("/%E3%83%95%E3%82%A1"));
        assert!(r.allows("/%E4%B8%AE/"));
    }

    #[test]
    fn rules_before_any_agent_and_unknown_lines_are_ignored() {
        let r = robots("disallow: /\nsitemap: https://x.example/s.xml\ncrawl-delay: 10\nuser-agent: *\nallow: /\n");
        assert!(r.allows("/a"));
        // A user-agent line after rules starts a new group.
        let r = robots("user-agent: trustmark-scan\ndisallow: /a\nuser-agent: *\ndisallow: /b\n");
        assert!(!r.allows("/a"));
        assert!(r.allows("/b"));
    }
}
