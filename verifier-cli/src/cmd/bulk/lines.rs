//! Reading verify-bulk input as a stream of work units, one line at a time with a length
//! cap, so memory stays flat whatever the input size: a line is never held past
//! [`MAX_LINE`] bytes (the rest of an oversize line is skipped, not buffered), and lines
//! go out in small batches over a bounded channel.
//!
//! Each line is one of: blank (skipped, still counted for line numbers), a CSV header
//! (only as the first non-blank line; it switches the whole input to CSV rows), a site
//! (a URL or bare domain, in plain input), or a token line (anything else, including
//! garbage, which verification reports as `malformed`).

use crate::error::CliError;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;

/// Longest line read, as `verify` reads at most this much of a token; longer lines are
/// reported `malformed` (a badge is at most 8 KiB, a CSV row a little more).
pub const MAX_LINE: usize = 64 * 1024;
/// A batch of offline lines ends at this many lines...
const BATCH_LINES: usize = 128;
/// ...or this many bytes, so a batch of long lines stays small too.
const BATCH_BYTES: usize = 256 * 1024;
/// How much of an oversize line is echoed in its record.
const ECHO_HEAD: usize = 80;
/// Read buffer: large enough that a file fills whole batches between reads.
const READ_BUFFER: usize = 256 * 1024;

/// One line's text as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// A line of UTF-8 text, trimmed.
    Line(String),
    /// A line longer than [`MAX_LINE`]: its first bytes, for the echo.
    Oversize(String),
    /// A line that is not UTF-8: its text with replacement characters, for the echo.
    NotUtf8(String),
}

/// A numbered input line (1-based, counting blank lines and the CSV header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: u64,
    pub text: Text,
}

/// Which CSV column is which, from the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Columns {
    pub origin: usize,
    pub token: usize,
}

/// How the lines of the input are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One token, site URL or bare domain per line.
    Plain,
    /// CSV rows with an origin and a token column.
    Csv(Columns),
}

/// Work for the checkers, in input order.
#[derive(Debug)]
pub enum Unit {
    /// Consecutive lines checked without the network (tokens, CSV rows, bad lines).
    Offline {
        mode: Mode,
        lines: Vec<Line>,
        /// Input bytes this unit accounts for (for the progress bar).
        bytes: u64,
    },
    /// One site line, whose badges are fetched.
    Site {
        line: Line,
        text: String,
        bytes: u64,
    },
}

/// The fields of one CSV line (a record never spans lines: neither origins nor tokens
/// hold line breaks), parsed by the `csv` crate for RFC 4180 quoting.
pub fn csv_fields(line: &str) -> Option<csv::StringRecord> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(line.len() + 1)
        .from_reader(line.as_bytes());
    let mut record = csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => Some(record),
        _ => None,
    }
}

/// The columns named by a header line, if it is one: it has both an `origin` and a
/// `token` column (any order, any letter case; other columns are ignored).
pub fn csv_header(line: &str) -> Option<Columns> {
    if !line.contains(',') {
        return None;
    }
    let fields = csv_fields(line)?;
    let find = |name: &str| {
        fields
            .iter()
            .position(|f| f.trim().eq_ignore_ascii_case(name))
    };
    Some(Columns {
        origin: find("origin")?,
        token: find("token")?,
    })
}

/// Reads one line into `buf` (without its newline), at most [`MAX_LINE`] bytes of it.
/// Returns the bytes consumed and whether the line was longer than the cap, or `None`
/// at the end of the input.
fn read_line<R: Read>(
    reader: &mut BufReader<R>,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<(u64, bool)>> {
    buf.clear();
    let n = reader
        .by_ref()
        .take(MAX_LINE as u64 + 1)
        .read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        return Ok(Some((n as u64, false)));
    }
    if buf.len() <= MAX_LINE {
        // The last line, without a final newline.
        return Ok(Some((n as u64, false)));
    }
    // Over the cap: skip to the end of the line without keeping any of it.
    let mut skipped = 0u64;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            break;
        }
        match available.iter().position(|b| *b == b'\n') {
            Some(i) => {
                reader.consume(i + 1);
                skipped += i as u64 + 1;
                break;
            }
            None => {
                let len = available.len();
                reader.consume(len);
                skipped += len as u64;
            }
        }
    }
    Ok(Some((n as u64 + skipped, true)))
}

/// The start of an oversize line, for its echo.
fn head(bytes: &[u8]) -> String {
    let cut = bytes.get(..ECHO_HEAD).unwrap_or(bytes);
    format!("{}…", String::from_utf8_lossy(cut))
}

/// Collects offline lines and hands them on in batches.
struct Batcher<F> {
    lines: Vec<Line>,
    line_bytes: usize,
    /// Input bytes read since the last unit was sent (blank lines and headers too).
    bytes: u64,
    send: F,
}

impl<F: FnMut(Result<Unit, CliError>) -> bool> Batcher<F> {
    /// Sends the pending batch, if any; false once the receiver is gone.
    fn flush(&mut self, mode: Mode) -> bool {
        if self.lines.is_empty() {
            return true;
        }
        let unit = Unit::Offline {
            mode,
            lines: std::mem::take(&mut self.lines),
            bytes: std::mem::take(&mut self.bytes),
        };
        self.line_bytes = 0;
        (self.send)(Ok(unit))
    }
}

/// Reads `input` to the end, sending units in input order through `send` (false stops
/// the reading: the receiver is gone). A read error is sent last.
pub fn read(input: impl Read, path: PathBuf, send: impl FnMut(Result<Unit, CliError>) -> bool) {
    let mut reader = BufReader::with_capacity(READ_BUFFER, input);
    let mut buf = Vec::with_capacity(2048);
    let mut batch = Batcher {
        lines: Vec::with_capacity(BATCH_LINES),
        line_bytes: 0,
        bytes: 0,
        send,
    };
    let mut mode: Option<Mode> = None;
    let mut number = 0u64;
    loop {
        // About to read from the source, which may block (a pipe, a terminal): hand on
        // what is ready first, so records appear as soon as their lines arrive.
        if reader.buffer().is_empty() && !batch.flush(mode.unwrap_or(Mode::Plain)) {
            return;
        }
        let (consumed, oversize) = match read_line(&mut reader, &mut buf) {
            Ok(Some(read)) => read,
            Ok(None) => break,
            Err(source) => {
                let _ = batch.flush(mode.unwrap_or(Mode::Plain));
                (batch.send)(Err(CliError::Read { path, source }));
                return;
            }
        };
        number += 1;
        batch.bytes += consumed;
        let mut bytes: &[u8] = &buf;
        if number == 1 {
            // A byte order mark, as spreadsheet exports write it.
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let text = if oversize {
            Text::Oversize(head(bytes))
        } else {
            match std::str::from_utf8(bytes.trim_ascii()) {
                Ok("") => continue,
                Ok(s) => Text::Line(s.to_owned()),
                Err(_) => Text::NotUtf8(String::from_utf8_lossy(bytes.trim_ascii()).into_owned()),
            }
        };
        let current = match (mode, &text) {
            (Some(m), _) => m,
            (None, Text::Line(s)) => match csv_header(s) {
                Some(columns) => {
                    mode = Some(Mode::Csv(columns));
                    continue;
                }
                None => *mode.insert(Mode::Plain),
            },
            (None, _) => *mode.insert(Mode::Plain),
        };
        let line = Line { number, text };
        if let (Mode::Plain, Text::Line(s)) = (current, &line.text) {
            if crate::input::looks_like_site(s) {
                let text = s.clone();
                // The site line's own bytes go with it, not with the batch before it.
                batch.bytes -= consumed;
                if !batch.flush(current) {
                    return;
                }
                let unit = Unit::Site {
                    line,
                    text,
                    bytes: std::mem::take(&mut batch.bytes) + consumed,
                };
                if !(batch.send)(Ok(unit)) {
                    return;
                }
                continue;
            }
        }
        batch.line_bytes += buf.len();
        batch.lines.push(line);
        if (batch.lines.len() >= BATCH_LINES || batch.line_bytes >= BATCH_BYTES)
            && !batch.flush(current)
        {
            return;
        }
    }
    let _ = batch.flush(mode.unwrap_or(Mode::Plain));
}

#[cfg(test)]
mod tests {
    // Line splitting, numbering, the cap and the CSV switch, without the binary.
    use super::*;

    fn units(input: &[u8]) -> Vec<Unit> {
        let mut out = Vec::new();
        read(input, PathBuf::from("test"), |u| {
            out.push(u.unwrap());
            true
        });
        out
    }

    fn lines(units: &[Unit]) -> Vec<(u64, Text, bool)> {
        let mut v = Vec::new();
        for u in units {
            match u {
                Unit::Offline { lines, .. } => {
                    v.extend(lines.iter().map(|l| (l.number, l.text.clone(), false)))
                }
                Unit::Site { line, .. } => v.push((line.number, line.text.clone(), true)),
            }
        }
        v
    }

    #[test]
    fn blank_lines_count_and_sites_split_batches() {
        let input = b"eyJa\n\n  \r\nsupplier.example\r\neyJb\nlast";
        let got = lines(&units(input));
        assert_eq!(
            got,
            vec![
                (1, Text::Line("eyJa".into()), false),
                (4, Text::Line("supplier.example".into()), true),
                (5, Text::Line("eyJb".into()), false),
                (6, Text::Line("last".into()), false),
            ]
        );
    }

    #[test]
    fn an_oversize_line_is_cut_and_the_next_line_survives() {
        let mut input = vec![b'x'; MAX_LINE * 3];
        input.extend_from_slice(b"\neyJnext\n");
        let got = lines(&units(&input));
        assert_eq!(got.len(), 2);
        match &got[0].1 {
            Text::Oversize(h) => assert_eq!(h.chars().count(), ECHO_HEAD + 1),
            other => panic!("{other:?}"),
        }
        assert_eq!(got[1], (2, Text::Line("eyJnext".into()), false));
        // Exactly at the cap is not oversize.
        let mut input = vec![b'y'; MAX_LINE];
        input.push(b'\n');
        assert!(matches!(lines(&units(&input))[0].1, Text::Line(_)));
    }

    #[test]
    fn a_header_first_switches_to_csv_and_is_not_an_item() {
        let input = b"\xEF\xBB\xBFToken , Origin,note\nexample.com,eyJa\n";
        let u = units(input);
        assert_eq!(u.len(), 1);
        match &u[0] {
            Unit::Offline { mode, lines, bytes } => {
                assert_eq!(
                    *mode,
                    Mode::Csv(Columns {
                        origin: 1,
                        token: 0
                    })
                );
                assert_eq!(lines.len(), 1);
                assert_eq!(lines[0].number, 2);
                assert_eq!(*bytes, input.len() as u64);
            }
            other => panic!("{other:?}"),
        }
        // In CSV input a domain-looking row is still a row, not a site.
        let u = units(b"origin,token\nsupplier.example\n");
        assert!(matches!(&u[0], Unit::Offline { lines, .. } if lines.len() == 1));
    }

    #[test]
    fn batches_are_bounded() {
        let input = "eyJa\n".repeat(BATCH_LINES * 2 + 1);
        let u = units(input.as_bytes());
        assert_eq!(u.len(), 3);
        assert!(u
            .iter()
            .all(|u| matches!(u, Unit::Offline { lines, .. } if lines.len() <= BATCH_LINES)));
    }

    #[test]
    fn not_utf8_is_kept_for_the_echo() {
        let got = lines(&units(b"eyJ\xff\n"));
        assert_eq!(got[0].1, Text::NotUtf8("eyJ\u{fffd}".into()));
    }
}
