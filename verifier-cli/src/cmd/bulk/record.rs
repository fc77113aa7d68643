//! One verify-bulk record per input line (`schemas/verify-bulk-record.schema.json`), as
//! an NDJSON object or a CSV row, and the tally the summary is made from.

use crate::cli::BulkFormat;
use crate::error::CliError;
use crate::{time, Status};
use serde::Serialize;
use trustmark_core::{BadgeClaims, Reason, Verdict};

/// What an input line was taken to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A badge token (a plain line, or a CSV row's token); garbage lines are tokens too.
    Token,
    /// A site URL or bare domain whose badges were looked up.
    Site,
}

/// Why a line could not be checked at all (its verdict is then `unknown`, its reason
/// null). These are not SPEC 5 reason codes: no badge was examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineError {
    /// A plain token line, and no `--ignore-origin`; or a CSV row with an empty origin.
    OriginRequired,
    /// The site or the CSV row's origin is not an origin.
    BadOrigin,
    /// A CSV row without the columns the header names.
    BadCsv,
    /// The site could not be fetched or read (network, timeout, redirects, a size cap,
    /// an error status for its page, a broken badge `src`).
    FetchFailed,
}

impl LineError {
    /// Every error, in the order the summary lists them.
    pub const ALL: [LineError; 4] = [
        LineError::OriginRequired,
        LineError::BadOrigin,
        LineError::BadCsv,
        LineError::FetchFailed,
    ];

    /// The code as written in records and the summary.
    pub const fn code(self) -> &'static str {
        match self {
            LineError::OriginRequired => "origin_required",
            LineError::BadOrigin => "bad_origin",
            LineError::BadCsv => "bad_csv",
            LineError::FetchFailed => "fetch_failed",
        }
    }

    /// What to do about it, for the summary.
    pub const fn hint(self) -> &'static str {
        match self {
            LineError::OriginRequired => {
                "plain token lines need --ignore-origin; to check origins, give CSV with an origin,token header"
            }
            LineError::BadOrigin => "give sites and origins as https://host[:port] or a bare domain",
            LineError::BadCsv => "every CSV row needs the columns its header names",
            LineError::FetchFailed => {
                "check the sites and the network; --timeout SECS allows slower answers"
            }
        }
    }
}

/// What checking one line established.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    /// A badge was examined (or looked for, on a site): the SPEC 5 reason.
    Reason(Reason),
    /// The line could not be checked.
    Error(LineError),
}

impl Finding {
    /// The verdict: the reason's, or `unknown` for a line that could not be checked.
    pub fn verdict(self) -> Verdict {
        match self {
            Finding::Reason(r) => r.verdict(),
            Finding::Error(_) => Verdict::Unknown,
        }
    }
}

/// One record, members in the documented order. The NDJSON encoding is written by hand
/// ([`Encoder::push`]) and checked against this derive in the tests.
#[derive(Debug)]
#[cfg_attr(test, derive(Serialize))]
pub struct Record<'a> {
    /// 1-based input line number (blank lines and a CSV header count).
    pub line: u64,
    pub kind: Kind,
    /// The line as given (trimmed; an oversize line's first bytes and `…`).
    pub input: &'a str,
    pub verdict: Verdict,
    /// SPEC 5 reason code; null when `error` is set.
    pub reason: Option<&'static str>,
    /// The canonical origin checked against; null for a token checked without one.
    pub origin: Option<&'a str>,
    /// Badges examined: 1 for a token, the number found for a site; null when the line
    /// could not be checked.
    pub badges_found: Option<usize>,
    /// Why the line could not be checked; null when `reason` is set.
    pub error: Option<&'static str>,
    /// More about a failure, when there is more to say.
    pub detail: Option<&'a str>,
    /// The badge's claims when its payload parsed (for a site, the badge reported).
    pub badge: Option<&'a BadgeClaims>,
}

impl<'a> Record<'a> {
    /// A record from what was found.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        line: u64,
        kind: Kind,
        input: &'a str,
        finding: Finding,
        origin: Option<&'a str>,
        badges_found: Option<usize>,
        detail: Option<&'a str>,
        badge: Option<&'a BadgeClaims>,
    ) -> Self {
        let (reason, error) = match finding {
            Finding::Reason(r) => (Some(r.code()), None),
            Finding::Error(e) => (None, Some(e.code())),
        };
        Record {
            line,
            kind,
            input,
            verdict: finding.verdict(),
            reason,
            origin,
            badges_found,
            error,
            detail,
            badge,
        }
    }
}

/// The CSV columns, in order; the claims are flattened to the facts a spreadsheet needs.
pub const CSV_HEADER: [&str; 17] = [
    "line",
    "kind",
    "input",
    "verdict",
    "reason",
    "origin",
    "badges_found",
    "error",
    "detail",
    "badge_id",
    "badge_site",
    "badge_org",
    "badge_country",
    "badge_score",
    "badge_auditor",
    "badge_expires",
    "badge_page",
];

/// A cell of text that came from the input or a token, made inert for spreadsheets: a
/// leading `=`, `+`, `-`, `@`, tab or carriage return would start a formula, so such a
/// cell gets a leading `'` (OWASP's advice against CSV injection).
fn inert(text: &str) -> std::borrow::Cow<'_, str> {
    match text.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{text}").into(),
        _ => text.into(),
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "invalid",
        Verdict::Unknown => "unknown",
    }
}

/// Appends `s` as a JSON string, byte for byte as serde_json writes it. What is echoed is
/// mostly tokens (base64url and dots), which need no escaping: a branch-free scan that
/// the compiler vectorises finds that out several times faster than serde_json's escaper,
/// which stays the path for anything else. On a badge record this is a visible share of
/// the work that is not the signature check.
fn json_str(buf: &mut Vec<u8>, s: &str) -> Result<(), CliError> {
    let plain = s.as_bytes().chunks(64).all(|chunk| {
        chunk
            .iter()
            .fold(true, |ok, &b| ok & (b >= 0x20) & (b != b'"') & (b != b'\\'))
    });
    if plain {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(&mut *buf, s).map_err(encode_error)
    }
}

/// Appends `"member":` and the value, or `null`.
fn member<T>(
    buf: &mut Vec<u8>,
    key: &str,
    value: Option<T>,
    write: impl FnOnce(&mut Vec<u8>, T) -> Result<(), CliError>,
) -> Result<(), CliError> {
    buf.push(b',');
    buf.push(b'"');
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
    match value {
        Some(v) => write(buf, v),
        None => {
            buf.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// A code (reason, error, kind, verdict): plain ASCII that needs no escaping.
fn code(buf: &mut Vec<u8>, code: &str) -> Result<(), CliError> {
    buf.push(b'"');
    buf.extend_from_slice(code.as_bytes());
    buf.push(b'"');
    Ok(())
}

fn number(buf: &mut Vec<u8>, n: u64) -> Result<(), CliError> {
    use std::io::Write;
    write!(buf, "{n}").map_err(CliError::Write)
}

fn kind_word(k: Kind) -> &'static str {
    match k {
        Kind::Token => "token",
        Kind::Site => "site",
    }
}

/// Encodes records into one buffer, in the chosen format.
pub enum Encoder {
    Ndjson(Vec<u8>),
    Csv(Box<csv::Writer<Vec<u8>>>),
}

fn encode_error(e: impl std::fmt::Display) -> CliError {
    CliError::Write(std::io::Error::other(e.to_string()))
}

impl Encoder {
    /// An encoder whose buffer starts at `capacity` bytes: sized from the input, so a
    /// batch's records are not copied again and again as the buffer grows.
    pub fn new(format: BulkFormat, capacity: usize) -> Self {
        match format {
            BulkFormat::Ndjson => Encoder::Ndjson(Vec::with_capacity(capacity)),
            BulkFormat::Csv => Encoder::Csv(Box::new(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::with_capacity(capacity)),
            )),
        }
    }

    /// The header line of the output, written once before any record.
    pub fn header(format: BulkFormat) -> Result<Vec<u8>, CliError> {
        match format {
            BulkFormat::Ndjson => Ok(Vec::new()),
            BulkFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                w.write_record(CSV_HEADER).map_err(encode_error)?;
                w.into_inner().map_err(encode_error)
            }
        }
    }

    pub fn push(&mut self, r: &Record<'_>) -> Result<(), CliError> {
        match self {
            Encoder::Ndjson(buf) => {
                buf.extend_from_slice(b"{\"line\":");
                number(buf, r.line)?;
                member(buf, "kind", Some(kind_word(r.kind)), code)?;
                member(buf, "input", Some(r.input), json_str)?;
                member(buf, "verdict", Some(verdict_word(r.verdict)), code)?;
                member(buf, "reason", r.reason, code)?;
                member(buf, "origin", r.origin, json_str)?;
                member(buf, "badges_found", r.badges_found, |b, n| {
                    number(b, n as u64)
                })?;
                member(buf, "error", r.error, code)?;
                member(buf, "detail", r.detail, json_str)?;
                member(buf, "badge", r.badge, |b, claims| {
                    serde_json::to_writer(&mut *b, claims).map_err(encode_error)
                })?;
                buf.extend_from_slice(b"}\n");
                Ok(())
            }
            Encoder::Csv(w) => {
                let b = r.badge;
                let text = |f: fn(&BadgeClaims) -> &str| b.map(|b| inert(f(b)).into_owned());
                let row: [Option<String>; 17] = [
                    Some(r.line.to_string()),
                    Some(kind_word(r.kind).into()),
                    Some(inert(r.input).into_owned()),
                    Some(verdict_word(r.verdict).into()),
                    r.reason.map(str::to_owned),
                    r.origin.map(|o| inert(o).into_owned()),
                    r.badges_found.map(|n| n.to_string()),
                    r.error.map(str::to_owned),
                    r.detail.map(|d| inert(d).into_owned()),
                    text(|b| &b.jti),
                    text(|b| &b.sub),
                    text(|b| &b.org.name),
                    text(|b| &b.org.country),
                    b.map(|b| b.audit.score.to_string()),
                    text(|b| &b.auditor),
                    b.map(|b| time::rfc3339(b.exp)),
                    text(|b| &b.reference),
                ];
                w.write_record(row.iter().map(|c| c.as_deref().unwrap_or("")))
                    .map_err(encode_error)
            }
        }
    }

    pub fn finish(self) -> Result<Vec<u8>, CliError> {
        match self {
            Encoder::Ndjson(buf) => Ok(buf),
            Encoder::Csv(w) => w.into_inner().map_err(encode_error),
        }
    }
}

/// Counts per verdict, reason and line error.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub items: u64,
    pub verdicts: [u64; 3],
    pub reasons: [u64; Reason::ALL.len()],
    pub errors: [u64; LineError::ALL.len()],
}

impl Tally {
    pub fn add(&mut self, finding: Finding) {
        self.items += 1;
        self.verdicts[finding.verdict() as usize] += 1;
        match finding {
            Finding::Reason(r) => {
                if let Some(i) = Reason::ALL.iter().position(|x| *x == r) {
                    self.reasons[i] += 1;
                }
            }
            Finding::Error(e) => {
                if let Some(i) = LineError::ALL.iter().position(|x| *x == e) {
                    self.errors[i] += 1;
                }
            }
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.items += other.items;
        let pairs = self
            .verdicts
            .iter_mut()
            .zip(other.verdicts)
            .chain(self.reasons.iter_mut().zip(other.reasons))
            .chain(self.errors.iter_mut().zip(other.errors));
        for (mine, theirs) in pairs {
            *mine += theirs;
        }
    }

    /// The exit status: the worst verdict seen (SPEC 5: 2 > 1 > 0).
    pub fn worst(&self) -> Status {
        if self.verdicts[Verdict::Unknown as usize] > 0 {
            Status::Unknown
        } else if self.verdicts[Verdict::Invalid as usize] > 0 {
            Status::Invalid
        } else {
            Status::Valid
        }
    }

    /// The summary for standard error: totals, time and rate, counts per verdict, per
    /// reason and per line error (the last two only where not zero), and a hint for each
    /// line error seen.
    pub fn summary(&self, elapsed: std::time::Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.items as f64 / secs
        } else {
            0.0
        };
        let mut s = format!(
            "summary: {} lines checked in {secs:.2} s ({rate:.0} lines/s)\n  verdict: valid {}, invalid {}, unknown {}",
            self.items,
            self.verdicts[Verdict::Valid as usize],
            self.verdicts[Verdict::Invalid as usize],
            self.verdicts[Verdict::Unknown as usize],
        );
        let reasons: Vec<String> = Reason::ALL
            .iter()
            .zip(self.reasons)
            .filter(|(_, n)| *n > 0)
            .map(|(r, n)| format!("{} {n}", r.code()))
            .collect();
        if !reasons.is_empty() {
            s.push_str(&format!("\n  reason:  {}", reasons.join(", ")));
        }
        let errors: Vec<(LineError, u64)> = LineError::ALL
            .into_iter()
            .zip(self.errors)
            .filter(|(_, n)| *n > 0)
            .collect();
        if !errors.is_empty() {
            let list: Vec<String> = errors
                .iter()
                .map(|(e, n)| format!("{} {n}", e.code()))
                .collect();
            s.push_str(&format!("\n  error:   {}", list.join(", ")));
            for (e, _) in &errors {
                s.push_str(&format!("\nhint: {}", e.hint()));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    // Record encoding, CSV injection guard, and the tally's worst code.
    use super::*;

    #[test]
    fn worst_is_unknown_then_invalid_then_valid() {
        let mut t = Tally::default();
        assert_eq!(t.worst(), Status::Valid);
        t.add(Finding::Reason(Reason::Valid));
        assert_eq!(t.worst(), Status::Valid);
        t.add(Finding::Reason(Reason::Revoked));
        assert_eq!(t.worst(), Status::Invalid);
        let mut u = Tally::default();
        u.add(Finding::Error(LineError::FetchFailed));
        t.merge(&u);
        assert_eq!(t.worst(), Status::Unknown);
        assert_eq!(t.items, 3);
        assert!(t.summary(std::time::Duration::from_secs(1)).contains(
            "verdict: valid 1, invalid 1, unknown 1\n  reason:  valid 1, revoked 1\n  error:   fetch_failed 1"
        ));
    }

    #[test]
    fn json_strings_are_written_as_serde_json_writes_them() {
        let long = "eyJhbGciOiJFZERTQSJ9.".repeat(40);
        for s in [
            "",
            "plain",
            long.as_str(),
            "quote \" in",
            "back\\slash",
            "tab\there",
            "\u{1}\u{1f}\u{7f}",
            "Tōkyō 株式会社 \u{202e}",
        ] {
            let mut buf = Vec::new();
            json_str(&mut buf, s).unwrap();
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                serde_json::to_string(s).unwrap()
            );
        }
    }

    #[test]
    fn ndjson_records_are_what_the_derive_would_write() {
        let claims: BadgeClaims = serde_json::from_str(
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../schemas/examples/badge-claims.example.json"
            ))
            .unwrap(),
        )
        .unwrap();
        let records = [
            Record::new(
                1,
                Kind::Token,
                "eyJ\"x",
                Finding::Reason(Reason::Valid),
                Some("https://www.supplier.example"),
                Some(1),
                None,
                Some(&claims),
            ),
            Record::new(
                12,
                Kind::Site,
                "copycat.example",
                Finding::Error(LineError::FetchFailed),
                Some("https://copycat.example"),
                None,
                Some("no answer\n"),
                None,
            ),
        ];
        let mut e = Encoder::new(BulkFormat::Ndjson, 0);
        let mut want = String::new();
        for r in &records {
            e.push(r).unwrap();
            want.push_str(&serde_json::to_string(r).unwrap());
            want.push('\n');
        }
        assert_eq!(String::from_utf8(e.finish().unwrap()).unwrap(), want);
    }

    #[test]
    fn csv_cells_from_input_cannot_start_a_formula() {
        let mut e = Encoder::new(BulkFormat::Csv, 0);
        let r = Record::new(
            7,
            Kind::Token,
            "=HYPERLINK(\"x\")",
            Finding::Reason(Reason::Malformed),
            None,
            Some(1),
            Some("-bad"),
            None,
        );
        e.push(&r).unwrap();
        let text = String::from_utf8(e.finish().unwrap()).unwrap();
        assert_eq!(
            text,
            "7,token,\"'=HYPERLINK(\"\"x\"\")\",invalid,malformed,,1,,'-bad,,,,,,,,\n"
        );
    }
}
