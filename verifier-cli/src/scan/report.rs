//! The scan's results: scored with the catalogue of `trustmark-core` (the same
//! `passes` and normalisation the registry uses), printed as a table like the
//! verification page's, as the JSON object of SPEC 8
//! (`schemas/scan-report.schema.json`), and as an audit draft for `audit sign`.

use super::measure::{Evidence, Finding};
use super::Scan;
use crate::report::shown;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use trustmark_core::catalogue::{Catalogue, Direction, Indicator};

/// Evidence lines shown per indicator in the human output; `--json` has them all.
const SHOWN_EVIDENCE: usize = 12;

/// A value as reported and judged: percentages to 0.01, seconds to 0.001, rates per
/// 1,000 to 0.1; pass and fail are decided on the reported value, so the draft, the
/// JSON and the table never disagree.
pub fn rounded(ind: &Indicator, v: f64) -> f64 {
    let step = match ind.unit.as_str() {
        "percent" => 100.0,
        "seconds" => 1000.0,
        "per_1000" => 10.0,
        _ => 1.0,
    };
    ((v * step).round() / step).clamp(ind.min, ind.max)
}

/// One indicator's line of the report.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    /// The catalogue entry.
    pub indicator: &'a Indicator,
    /// The reported value and whether it passes, when measured.
    pub measured: Option<(f64, bool)>,
    /// What the scan found.
    pub finding: &'a Finding,
}

/// The scored scan.
#[derive(Debug)]
pub struct Scored<'a> {
    /// Per indicator, in catalogue order.
    pub lines: Vec<Line<'a>>,
    /// Measured indicators.
    pub measured: usize,
    /// Measured indicators that fail, by id.
    pub failing: Vec<&'a str>,
    /// The overall score range with the unmeasured indicators anywhere from 0 to 100.
    pub projected: Option<(u8, u8)>,
}

/// Scores `scan` with `catalogue`.
pub fn score<'a>(scan: &'a Scan, catalogue: &Catalogue) -> Scored<'a> {
    let lines: Vec<Line> = scan
        .findings
        .iter()
        .map(|(ind, finding)| Line {
            indicator: ind,
            measured: match finding {
                Finding::Measured { value, .. } => {
                    let v = rounded(ind, *value);
                    Some((v, ind.passes(v)))
                }
                Finding::NotMeasured(_) => None,
            },
            finding,
        })
        .collect();
    let values: BTreeMap<String, f64> = lines
        .iter()
        .filter_map(|l| Some((l.indicator.id.clone(), l.measured?.0)))
        .collect();
    Scored {
        measured: values.len(),
        failing: lines
            .iter()
            .filter(|l| l.measured.is_some_and(|(_, pass)| !pass))
            .map(|l| l.indicator.id.as_str())
            .collect(),
        projected: catalogue.projected(&values),
        lines,
    }
}

/// One catalogue id's member of the JSON `indicators` object.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Measured {
        measured: bool,
        value: f64,
        threshold: f64,
        pass: bool,
        evidence: &'a [Evidence],
    },
    NotMeasured {
        measured: bool,
        why: &'a str,
    },
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Evidence", 2)?;
        st.serialize_field("url", &self.url)?;
        st.serialize_field("problem", &self.problem)?;
        st.end()
    }
}

/// The `indicators` object, in catalogue order.
struct Indicators<'a>(&'a [Line<'a>]);

impl Serialize for Indicators<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for line in self.0 {
            let entry = match (line.measured, line.finding) {
                (Some((value, pass)), Finding::Measured { evidence, .. }) => Entry::Measured {
                    measured: true,
                    value,
                    threshold: line.indicator.threshold,
                    pass,
                    evidence,
                },
                (_, Finding::NotMeasured(why)) => Entry::NotMeasured {
                    measured: false,
                    why,
                },
                (None, Finding::Measured { .. }) => Entry::NotMeasured {
                    measured: false,
                    why: "",
                },
            };
            map.serialize_entry(&line.indicator.id, &entry)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    url: &'a str,
    problem: &'a str,
}

#[derive(Serialize)]
struct Json<'a> {
    origin: &'a str,
    scanned_at: &'a str,
    pages: usize,
    languages: &'a [String],
    indicators: Indicators<'a>,
    summary: Value,
    crawl: Value,
}

/// The `--json` object (one line).
pub fn json(scan: &Scan, scored: &Scored, scanned_at: &str, settings: &super::Settings) -> String {
    let c = &scan.crawl;
    let failed: Vec<Problem> = c
        .failed
        .iter()
        .map(|(url, problem)| Problem { url, problem })
        .collect();
    let robots: Vec<Problem> = c
        .robots_unavailable
        .iter()
        .map(|(url, problem)| Problem { url, problem })
        .collect();
    let not_read: Vec<Value> = c
        .pages
        .iter()
        .filter(|(_, p)| p.facts.is_none())
        .map(|(url, p)| json!({"url": url, "status": p.status}))
        .collect();
    let report = Json {
        origin: &c.origin,
        scanned_at,
        pages: c.scanned().count(),
        languages: &scan.languages,
        indicators: Indicators(&scored.lines),
        summary: json!({
            "measured": scored.measured,
            "failing": scored.failing.len(),
            "failing_ids": scored.failing,
            "score": scored.projected.map(|(low, high)| json!({"low": low, "high": high})),
        }),
        crawl: json!({
            "start": c.start,
            "origins": c.origins,
            "fetched": c.pages.len(),
            "not_pages": not_read,
            "failed": failed,
            "excluded_by_robots": c.excluded,
            "robots_unavailable": robots,
            "unvisited": c.unvisited,
            "max_pages": settings.max_pages,
            "concurrency": settings.concurrency,
            "tries": settings.tries,
            "timeout_secs": settings.timeout.as_secs(),
        }),
    };
    serde_json::to_string(&report).unwrap_or_default()
}

/// A number as the verification page writes it: no trailing zeros.
fn number(v: f64) -> String {
    let text = format!("{v:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_owned()
}

fn with_unit(v: f64, unit: &str) -> String {
    match unit {
        "percent" => format!("{} %", number(v)),
        "seconds" => format!("{} s", number(v)),
        "per_1000" => format!("{} / 1000", number(v)),
        _ => number(v),
    }
}

/// The requirement as the verification page writes it: `≤ 2 %`, `= 1`.
fn requirement(ind: &Indicator) -> String {
    let op = match ind.direction {
        _ if ind.threshold == ind.best => "=",
        Direction::HigherIsBetter => "≥",
        Direction::LowerIsBetter => "≤",
    };
    format!("{op} {}", with_unit(ind.threshold, &ind.unit))
}

/// The summary line: how many measured indicators fail, and the projected score.
pub fn summary(scored: &Scored) -> String {
    let score = match scored.projected {
        Some((low, high)) if low == high => format!("projected overall score {low}"),
        Some((low, high)) => format!("projected overall score {low}–{high}"),
        None => "no projected score".to_owned(),
    };
    format!(
        "{} of {} measured indicators fail; {score}",
        scored.failing.len(),
        scored.measured
    )
}

/// The human report: what was scanned, the table, the evidence, what was not
/// measured, and the summary line.
pub fn human(scan: &Scan, scored: &Scored, scanned_at: &str) -> String {
    let c = &scan.crawl;
    let mut out = format!("Baseline scan of {} ({scanned_at})\n", shown(&c.origin));
    let langs = if scan.languages.is_empty() {
        "no hreflang language versions".to_owned()
    } else {
        format!(
            "{} language versions ({})",
            scan.languages.len(),
            shown(&scan.languages.join(", "))
        )
    };
    out.push_str(&format!("{} pages read, {langs}", c.scanned().count()));
    let mut notes = Vec::new();
    if !c.excluded.is_empty() {
        notes.push(format!("{} excluded by robots.txt", c.excluded.len()));
    }
    if !c.failed.is_empty() {
        notes.push(format!("{} could not be fetched", c.failed.len()));
    }
    if c.unvisited > 0 {
        notes.push(format!("{} left unvisited by --max-pages", c.unvisited));
    }
    if !notes.is_empty() {
        out.push_str(&format!("; {}", notes.join(", ")));
    }
    out.push_str("\n\n");
    let width = scored
        .lines
        .iter()
        .map(|l| l.indicator.name.chars().count())
        .max()
        .unwrap_or(0);
    out.push_str(&format!(
        "{:width$}  {:>12}  {:>12}  result\n",
        "indicator", "value", "threshold"
    ));
    for l in &scored.lines {
        let (value, result) = match l.measured {
            Some((v, pass)) => (
                with_unit(v, &l.indicator.unit),
                if pass { "PASS" } else { "FAIL" },
            ),
            None => ("—".to_owned(), "not measured"),
        };
        out.push_str(&format!(
            "{:width$}  {:>12}  {:>12}  {result}\n",
            l.indicator.name,
            value,
            requirement(l.indicator)
        ));
    }
    let with_evidence: Vec<&Line> = scored
        .lines
        .iter()
        .filter(|l| matches!(l.finding, Finding::Measured { evidence, .. } if !evidence.is_empty()))
        .collect();
    if !with_evidence.is_empty() {
        out.push_str("\nEvidence\n");
        for l in with_evidence {
            let Finding::Measured { evidence, .. } = l.finding else {
                continue;
            };
            let verdict = match l.measured {
                Some((_, true)) => "passes",
                _ => "fails",
            };
            out.push_str(&format!("  {} ({verdict}):\n", l.indicator.name));
            for e in evidence.iter().take(SHOWN_EVIDENCE) {
                out.push_str(&format!("    {}: {}\n", shown(&e.url), shown(&e.problem)));
            }
            if evidence.len() > SHOWN_EVIDENCE {
                out.push_str(&format!(
                    "    … and {} more (--json lists them all)\n",
                    evidence.len() - SHOWN_EVIDENCE
                ));
            }
        }
    }
    out.push_str("\nNot measured\n");
    for l in &scored.lines {
        if let Finding::NotMeasured(why) = l.finding {
            out.push_str(&format!("  {}: {why}\n", l.indicator.name));
        }
    }
    out.push('\n');
    out.push_str(&summary(scored));
    out
}

/// Whether a language tag fits the audit file's (approximate) BCP 47 pattern.
fn is_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let first = parts.next().unwrap_or_default();
    let first_ok = (first.len() >= 2 && first.len() <= 3 || (5..=8).contains(&first.len()))
        && first.bytes().all(|b| b.is_ascii_alphabetic());
    tag.len() <= 35
        && first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The audit draft: the audit file of `audit sign` (`schemas/audit-input.schema.json`)
/// with the measured values filled in and `null` for the rest, and for the
/// organisation whatever the start page's JSON-LD does not say.
pub fn draft(scan: &Scan, scored: &Scored, scanned_at: &str) -> String {
    let org = scan.organisation.clone().unwrap_or_default();
    let mut organisation = serde_json::Map::new();
    organisation.insert("name".into(), json!(org.name));
    organisation.insert("country".into(), json!(org.country));
    if let Some(reg) = org.registration {
        organisation.insert("registration".into(), json!(reg));
    }
    let mut indicators = serde_json::Map::new();
    for l in &scored.lines {
        indicators.insert(l.indicator.id.clone(), json!(l.measured.map(|(v, _)| v)));
    }
    let languages: Vec<&String> = scan
        .languages
        .iter()
        .filter(|l| is_tag(l))
        .take(30)
        .collect();
    let mut file = serde_json::Map::new();
    file.insert("site".into(), json!(scan.crawl.origin));
    file.insert("organisation".into(), Value::Object(organisation));
    file.insert("audited_at".into(), json!(scanned_at));
    file.insert("valid_days".into(), json!(365));
    if !languages.is_empty() {
        file.insert("languages".into(), json!(languages));
    }
    file.insert("indicators".into(), Value::Object(indicators));
    // serde_json's map keeps keys sorted; the order of the audit file does not matter.
    serde_json::to_string_pretty(&Value::Object(file)).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    // Reported values are rounded before they are judged, and the draft fits the
    // audit file format.
    use super::*;

    fn ind(id: &str) -> Indicator {
        Catalogue::rcep_b2b_web_1()
            .unwrap()
            .indicators
            .into_iter()
            .find(|i| i.id == id)
            .unwrap()
    }

    #[test]
    fn values_round_by_unit_and_judge_the_rounded_value() {
        let meta = ind("multilingual_metadata_consistency");
        assert_eq!(rounded(&meta, 200.0 / 3.0), 66.67);
        assert_eq!(rounded(&meta, 94.996), 95.0);
        assert!(meta.passes(rounded(&meta, 94.996)));
        let time = ind("certificate_link_response_time");
        assert_eq!(rounded(&time, 1.20049), 1.2);
        assert_eq!(
            rounded(&ind("local_payment_redirect_timeouts"), 1000.0 / 3.0),
            333.3
        );
        assert_eq!(requirement(&time), "≤ 1.2 s");
        assert_eq!(requirement(&ind("tls_configuration")), "= 1");
        assert_eq!(with_unit(100.0, "percent"), "100 %");
    }

    #[test]
    fn language_tags_for_the_draft() {
        for good in ["en", "zh-Hans", "vi-VN", "fil"] {
            assert!(is_tag(good), "{good}");
        }
        for bad in ["", "e", "english!", "zh_Hans", "toolongtag1"] {
            assert!(!is_tag(bad), "{bad}");
        }
    }
}
