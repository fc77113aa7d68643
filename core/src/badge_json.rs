//! Badge claims read straight from the payload bytes, for the verify path.
//!
//! The badge claim set is closed (SPEC 3.1), so a parser for exactly that shape can fill
//! [`BadgeClaims`] without serde's generic machinery: no intermediate values, one
//! allocation per string and no vector regrown. Two parsers share the work:
//!
//! - [`as_signed`] reads only the exact text TrustMark signers write (members in one
//!   order, no whitespace, no escapes): a run of fixed member names, each compared in
//!   one go, between the values. It gives up (`None`) at the first difference.
//! - [`Cursor`] reads any JSON text the derived `Deserialize` of [`BadgeClaims`] accepts
//!   through serde_json, with one deliberate exception: serde's derived impls also read a
//!   struct from a JSON array of its fields in order (`"org":["Name","CN"]`), which
//!   SPEC 3.1 does not allow and badge-js refuses; here `org`, `audit`, `status` and
//!   `status_list` must be objects.
//!
//! Whatever the first accepts, the second accepts with the same claims, so the result is
//! the general parser's. The tests run both, and serde, over every vector and over
//! mutations of the valid badge.
//!
//! The rules of serde_json 1 with derived impls that the general parser reproduces:
//! - whitespace (space, tab, line feed, carriage return) between tokens and after the
//!   value, nothing else after it;
//! - members in any order; a repeated member (also one spelled with escapes), an unknown
//!   member or a missing required one is refused;
//! - `aliases` may be absent (empty) but not `null`; `nbf` and `org.reg` may be absent
//!   or `null`;
//! - strings without raw control characters; escapes are decoded by serde_json itself,
//!   so its rules for `\u` pairs and lone surrogates hold unchanged;
//! - integers `-?(0|[1-9][0-9]*)` with no fraction or exponent, inside the claim's type;
//!   `-0` is refused, because serde_json reads it as a float.

use crate::claims::{AuditSummary, BadgeClaims, ClaimsError, Org, StatusListRef, StatusRef};
use std::borrow::Cow;

/// Parses a badge payload. Every failure is [`ClaimsError::Shape`], as with serde.
pub(crate) fn parse(payload: &[u8]) -> Result<BadgeClaims, ClaimsError> {
    // One UTF-8 check of the whole payload; every string is then a slice of it.
    let text = std::str::from_utf8(payload).map_err(|_| ClaimsError::Shape)?;
    let mut cursor = Cursor {
        text,
        bytes: text.as_bytes(),
        pos: 0,
    };
    if let Some(claims) = as_signed(&mut cursor) {
        return Ok(claims);
    }
    cursor.pos = 0;
    general(&mut cursor).ok_or(ClaimsError::Shape)
}

/// The general parser: a badge object, then only whitespace.
fn general(c: &mut Cursor<'_>) -> Option<BadgeClaims> {
    let claims = badge(c)?;
    c.skip_ws();
    (c.pos == c.text.len()).then_some(claims)
}

/// The exact text a TrustMark signer writes (`serde_json::to_vec` of [`BadgeClaims`]):
/// members in declaration order, `aliases`, `nbf` and `org.reg` only when present, no
/// whitespace, no escapes, nothing after the object. `None` at the first difference.
fn as_signed(c: &mut Cursor<'_>) -> Option<BadgeClaims> {
    c.lit(b"{\"iss\":")?;
    let iss = c.plain_string()?;
    c.lit(b",\"sub\":")?;
    let sub = c.plain_string()?;
    let mut aliases = Vec::new();
    if c.lit(b",\"aliases\":[").is_some() {
        loop {
            aliases.push(c.plain_string()?);
            if c.lit(b"]").is_some() {
                break;
            }
            c.lit(b",")?;
        }
    }
    c.lit(b",\"iat\":")?;
    let iat = c.plain_int()?;
    c.lit(b",\"exp\":")?;
    let exp = c.plain_int()?;
    let nbf = match c.lit(b",\"nbf\":") {
        Some(()) => Some(c.plain_int()?),
        None => None,
    };
    c.lit(b",\"jti\":")?;
    let jti = c.plain_string()?;
    c.lit(b",\"trust_mark_type\":")?;
    let trust_mark_type = c.plain_string()?;
    c.lit(b",\"org\":{\"name\":")?;
    let name = c.plain_string()?;
    c.lit(b",\"country\":")?;
    let country = c.plain_string()?;
    let reg = match c.lit(b",\"reg\":") {
        Some(()) => Some(c.plain_string()?),
        None => None,
    };
    c.lit(b"},\"auditor\":")?;
    let auditor = c.plain_string()?;
    c.lit(b",\"audit\":{\"at\":")?;
    let at = c.plain_int()?;
    c.lit(b",\"score\":")?;
    let score = c.plain_int()?;
    c.lit(b",\"ind\":[")?;
    let ind = c.plain_scores()?;
    c.lit(b",\"digest\":")?;
    let digest = c.plain_string()?;
    c.lit(b"},\"ref\":")?;
    let reference = c.plain_string()?;
    c.lit(b",\"status\":{\"status_list\":{\"idx\":")?;
    let idx = c.plain_int()?;
    c.lit(b",\"uri\":")?;
    let uri = c.plain_string()?;
    c.lit(b"}}}")?;
    (c.pos == c.text.len()).then_some(BadgeClaims {
        iss,
        sub,
        aliases,
        iat,
        exp,
        nbf,
        jti,
        trust_mark_type,
        org: Org { name, country, reg },
        auditor,
        audit: AuditSummary {
            at,
            score,
            ind,
            digest,
        },
        reference,
        status: StatusRef {
            status_list: StatusListRef { idx, uri },
        },
    })
}

/// Fills an empty slot; a slot already filled means a repeated member.
fn set<T>(slot: &mut Option<T>, value: Option<T>) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value?);
    Some(())
}

/// Badge members, in the order TrustMark signers write them.
const BADGE: [&str; 13] = [
    "iss",
    "sub",
    "aliases",
    "iat",
    "exp",
    "nbf",
    "jti",
    "trust_mark_type",
    "org",
    "auditor",
    "audit",
    "ref",
    "status",
];

fn badge(c: &mut Cursor<'_>) -> Option<BadgeClaims> {
    let (mut iss, mut sub, mut aliases, mut iat, mut exp, mut nbf) =
        (None, None, None, None, None, None);
    let (mut jti, mut trust_mark_type, mut org, mut auditor, mut audit, mut reference) =
        (None, None, None, None, None, None);
    let mut status = None;
    // Arms by index in `BADGE`.
    c.object(&BADGE, |c, member| match member {
        0 => set(&mut iss, c.string()),
        1 => set(&mut sub, c.string()),
        2 => set(&mut aliases, c.strings()),
        3 => set(&mut iat, c.i64()),
        4 => set(&mut exp, c.i64()),
        5 => set(&mut nbf, c.nullable(Cursor::i64)),
        6 => set(&mut jti, c.string()),
        7 => set(&mut trust_mark_type, c.string()),
        8 => set(&mut org, read_org(c)),
        9 => set(&mut auditor, c.string()),
        10 => set(&mut audit, read_audit(c)),
        11 => set(&mut reference, c.string()),
        12 => set(&mut status, read_status(c)),
        _ => None,
    })?;
    Some(BadgeClaims {
        iss: iss?,
        sub: sub?,
        aliases: aliases.unwrap_or_default(),
        iat: iat?,
        exp: exp?,
        nbf: nbf.flatten(),
        jti: jti?,
        trust_mark_type: trust_mark_type?,
        org: org?,
        auditor: auditor?,
        audit: audit?,
        reference: reference?,
        status: status?,
    })
}

fn read_org(c: &mut Cursor<'_>) -> Option<Org> {
    let (mut name, mut country, mut reg) = (None, None, None);
    c.object(&["name", "country", "reg"], |c, member| match member {
        0 => set(&mut name, c.string()),
        1 => set(&mut country, c.string()),
        2 => set(&mut reg, c.nullable(Cursor::string)),
        _ => None,
    })?;
    Some(Org {
        name: name?,
        country: country?,
        reg: reg.flatten(),
    })
}

fn read_audit(c: &mut Cursor<'_>) -> Option<AuditSummary> {
    let (mut at, mut score, mut ind, mut digest) = (None, None, None, None);
    c.object(
        &["at", "score", "ind", "digest"],
        |c, member| match member {
            0 => set(&mut at, c.i64()),
            1 => set(&mut score, c.u8()),
            2 => set(&mut ind, c.bytes()),
            3 => set(&mut digest, c.string()),
            _ => None,
        },
    )?;
    Some(AuditSummary {
        at: at?,
        score: score?,
        ind: ind?,
        digest: digest?,
    })
}

fn read_status(c: &mut Cursor<'_>) -> Option<StatusRef> {
    let mut status_list = None;
    c.object(&["status_list"], |c, member| match member {
        0 => set(&mut status_list, read_status_list(c)),
        _ => None,
    })?;
    Some(StatusRef {
        status_list: status_list?,
    })
}

fn read_status_list(c: &mut Cursor<'_>) -> Option<StatusListRef> {
    let (mut idx, mut uri) = (None, None);
    c.object(&["idx", "uri"], |c, member| match member {
        0 => set(&mut idx, c.u64()),
        1 => set(&mut uri, c.string()),
        _ => None,
    })?;
    Some(StatusListRef {
        idx: idx?,
        uri: uri?,
    })
}

/// A position in the payload text. The general parser's methods (the first `impl`) skip
/// the whitespace before their token and return `None` for anything serde_json would
/// refuse.
struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and returns the next byte, without consuming it.
    fn peek_token(&mut self) -> Option<u8> {
        let b = self.peek()?;
        // Every whitespace byte is at most a space: one comparison for the usual case.
        if b > b' ' {
            return Some(b);
        }
        self.skip_ws();
        self.peek()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace and consumes `byte`.
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek_token()? == byte).then(|| self.pos += 1)
    }

    /// After a value: `,` (another follows) or `close` (the end).
    fn more(&mut self, close: u8) -> Option<bool> {
        let next = self.peek_token()?;
        self.pos += 1;
        match next {
            b',' => Some(true),
            b if b == close => Some(false),
            _ => None,
        }
    }

    /// An object of the members named in `names`: `member` reads the value of the one
    /// at this index; any other member is refused.
    fn object(
        &mut self,
        names: &[&str],
        mut member: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.peek_token()? == b'}' {
            self.pos += 1;
            return Some(());
        }
        loop {
            let name = self.str()?;
            let index = names.iter().position(|n| *n == name)?;
            self.eat(b':')?;
            member(self, index)?;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// An array whose elements `element` reads.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        if self.peek_token()? == b']' {
            self.pos += 1;
            return Some(());
        }
        loop {
            element(self)?;
            if !self.more(b']')? {
                return Some(());
            }
        }
    }

    fn strings(&mut self) -> Option<Vec<String>> {
        let mut out = Vec::new();
        self.array(|c| {
            out.push(c.string()?);
            Some(())
        })?;
        Some(out)
    }

    fn bytes(&mut self) -> Option<Vec<u8>> {
        // Room for a catalogue's indicators without regrowing.
        let mut out = Vec::with_capacity(16);
        self.array(|c| {
            out.push(c.u8()?);
            Some(())
        })?;
        Some(out)
    }

    /// `null`, or what `read` reads.
    fn nullable<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek_token()? == b'n' {
            if self.bytes.get(self.pos..self.pos + 4) != Some(b"null") {
                return None;
            }
            self.pos += 4;
            return Some(None);
        }
        read(self).map(Some)
    }

    fn string(&mut self) -> Option<String> {
        self.str().map(Cow::into_owned)
    }

    /// A string, borrowed from the text unless it has escapes.
    fn str(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.pos;
        let end = plain_run_end(self.bytes, start);
        match self.bytes.get(end)? {
            b'"' => {
                self.pos = end + 1;
                self.text.get(start..end).map(Cow::Borrowed)
            }
            b'\\' => self.escaped(start - 1),
            // A raw control character.
            _ => None,
        }
    }

    /// A string with escapes, from its opening quote at `open`. Only its end is found
    /// here (stepping over each escaped byte); serde_json decodes it, so the escape rules
    /// are exactly its own.
    #[cold]
    fn escaped(&mut self, open: usize) -> Option<Cow<'a, str>> {
        let mut i = open + 1;
        loop {
            match *self.bytes.get(i)? {
                b'"' => break,
                b'\\' => i += 2,
                b if b < 0x20 => return None,
                _ => i += 1,
            }
        }
        let quoted = self.text.get(open..=i)?;
        self.pos = i + 1;
        serde_json::from_str::<String>(quoted).ok().map(Cow::Owned)
    }

    /// An integer as serde_json reads one into an integer type: sign and magnitude of
    /// `-?(0|[1-9][0-9]*)` with no fraction or exponent, the magnitude within `u64`
    /// (beyond it serde_json reads a float).
    fn integer(&mut self) -> Option<(bool, u64)> {
        let negative = self.peek_token()? == b'-';
        let start = self.pos + usize::from(negative);
        let rest = self.bytes.get(start..)?;
        // Wrapping steps: nineteen digits always fit in a u64, longer numbers are read
        // again below with checked ones.
        let (mut n, mut digits) = (0u64, 0usize);
        while let Some(d) = rest
            .get(digits)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d < 10)
        {
            n = n.wrapping_mul(10).wrapping_add(u64::from(d));
            digits += 1;
        }
        self.pos = start + digits;
        // No digit, a leading zero, a fraction or an exponent.
        if digits == 0
            || (digits > 1 && rest.first() == Some(&b'0'))
            || matches!(rest.get(digits), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        if digits > 19 {
            n = rest.get(..digits)?.iter().try_fold(0u64, |n, d| {
                n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
            })?;
        }
        Some((negative, n))
    }

    fn i64(&mut self) -> Option<i64> {
        match self.integer()? {
            (false, n) => i64::try_from(n).ok(),
            // serde_json reads `-0` as a float.
            (true, 0) => None,
            (true, n) => 0i64.checked_sub_unsigned(n),
        }
    }

    fn u64(&mut self) -> Option<u64> {
        match self.integer()? {
            (false, n) => Some(n),
            (true, _) => None,
        }
    }

    fn u8(&mut self) -> Option<u8> {
        self.u64().and_then(|n| u8::try_from(n).ok())
    }
}

/// The exact-text path ([`as_signed`]): every method reads right at the cursor, skipping
/// no whitespace, and gives up (`None`) wherever the text is not as a signer writes it,
/// even where the general parser would still read it.
impl Cursor<'_> {
    /// Consumes `literal` if the text continues with it.
    fn lit(&mut self, literal: &[u8]) -> Option<()> {
        let end = self.pos + literal.len();
        (self.bytes.get(self.pos..end) == Some(literal)).then(|| self.pos = end)
    }

    /// A string without escapes.
    fn plain_string(&mut self) -> Option<String> {
        self.lit(b"\"")?;
        let start = self.pos;
        let end = plain_run_end(self.bytes, start);
        let text = self.text.get(start..end)?;
        self.lit_at(end, b'"')?;
        Some(text.to_owned())
    }

    /// A non-negative integer as a signer writes it: `0` or `[1-9][0-9]*`, at most
    /// nineteen digits (so no step can overflow), no fraction or exponent after it, and
    /// inside `T`.
    fn plain_int<T: TryFrom<u64>>(&mut self) -> Option<T> {
        let rest = self.bytes.get(self.pos..)?;
        let (mut n, mut digits) = (0u64, 0usize);
        while let Some(d) = rest
            .get(digits)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d < 10)
        {
            if digits == 19 {
                return None;
            }
            n = n * 10 + u64::from(d);
            digits += 1;
        }
        if digits == 0
            || (digits > 1 && rest.first() == Some(&b'0'))
            || matches!(rest.get(digits), Some(b'.' | b'e' | b'E'))
        {
            return None;
        }
        self.pos += digits;
        T::try_from(n).ok()
    }

    /// The rest of a non-empty array of integers 0-255 as a signer writes it, through
    /// its `]`: each `0` or `[1-9][0-9]{0,2}`, separated by bare commas. One loop for
    /// the whole array, since `audit.ind` is most of a badge's numbers.
    fn plain_scores(&mut self) -> Option<Vec<u8>> {
        let rest = self.bytes.get(self.pos..)?;
        // Room for a catalogue's indicators without regrowing.
        let mut out = Vec::with_capacity(16);
        let mut i = 0;
        loop {
            let (start, mut n) = (i, 0u32);
            while let Some(d) = rest
                .get(i)
                .map(|b| b.wrapping_sub(b'0'))
                .filter(|d| *d < 10)
            {
                if i - start == 3 {
                    return None;
                }
                n = n * 10 + u32::from(d);
                i += 1;
            }
            if i == start || (i - start > 1 && rest.get(start) == Some(&b'0')) {
                return None;
            }
            out.push(u8::try_from(n).ok()?);
            i += 1;
            match rest.get(i - 1)? {
                b',' => {}
                b']' => break,
                _ => return None,
            }
        }
        self.pos += i;
        Some(out)
    }

    /// Moves to `at` and consumes `byte` there.
    fn lit_at(&mut self, at: usize, byte: u8) -> Option<()> {
        (self.bytes.get(at) == Some(&byte)).then(|| self.pos = at + 1)
    }
}

/// The index of the first byte at or after `start` that ends a run of plain string
/// content: a quote, a backslash or a control character (`bytes.len()` if none). Eight
/// bytes at a time: strings are most of a payload.
fn plain_run_end(bytes: &[u8], start: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = start;
    while let Some(chunk) = bytes.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*chunk);
        // The classic tests for a zero byte (`x - ONES` and `!x` high bits) of the word
        // xored with `"` and `\`, and for a byte below 0x20 (`word - 0x20...`). Each flags
        // exactly its first matching byte (false flags appear only above a real one), so
        // the lowest flag is the first stop. The xors leave the high bits alone, so one
        // `!word` serves all three.
        let stops = ((word ^ (ONES * u64::from(b'"'))).wrapping_sub(ONES)
            | (word ^ (ONES * u64::from(b'\\'))).wrapping_sub(ONES)
            | word.wrapping_sub(ONES * 0x20))
            & !word
            & HIGH;
        if stops != 0 {
            return i + (stops.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    // The closed-shape parser must agree with the derived serde parser on every input
    // (but the array-for-object form, refused on purpose).
    use super::*;

    fn serde(text: &str) -> Option<BadgeClaims> {
        crate::claims::from_payload::<BadgeClaims>(text.as_bytes()).ok()
    }

    fn fast(text: &str) -> Option<BadgeClaims> {
        parse(text.as_bytes()).ok()
    }

    fn cursor(text: &str) -> Cursor<'_> {
        Cursor {
            text,
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    /// The result of [`parse`], after checking that whatever [`as_signed`] reads, the
    /// general parser reads the same.
    fn checked_parse(bytes: &[u8]) -> Option<BadgeClaims> {
        let result = parse(bytes).ok();
        if let Ok(text) = std::str::from_utf8(bytes) {
            if let Some(signed) = as_signed(&mut cursor(text)) {
                assert_eq!(Some(&signed), general(&mut cursor(text)).as_ref(), "{text}");
                assert_eq!(Some(&signed), result.as_ref(), "{text}");
            }
        }
        result
    }

    #[test]
    fn signed_text_takes_the_exact_path() {
        let valid = valid_payload();
        assert!(as_signed(&mut cursor(&valid)).is_some());
        let mut exact = 0;
        for (_, bytes) in vector_payloads() {
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            exact += usize::from(as_signed(&mut cursor(text)).is_some());
            checked_parse(&bytes);
        }
        assert!(exact > 30, "only {exact} vectors took the exact path");
        // Layouts the signer does not write go the general way, to the same result.
        let aliases = valid.find(",\"aliases\":[").unwrap();
        let aliases_end = aliases + valid[aliases..].find(']').unwrap() + 1;
        for other in [
            format!(" {valid}"),
            valid.replacen(':', ": ", 1),
            valid.replacen("{\"iss\"", "{\"i\\u0073s\"", 1),
            format!(
                "{},\"aliases\":[]{}",
                &valid[..aliases],
                &valid[aliases_end..]
            ),
        ] {
            assert!(as_signed(&mut cursor(&other)).is_none(), "{other}");
            assert!(general(&mut cursor(&other)).is_some(), "{other}");
        }
    }

    fn vectors_dir() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
    }

    /// The payload JSON of every badge vector whose token splits into three parts.
    fn vector_payloads() -> Vec<(String, Vec<u8>)> {
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(vectors_dir().join("cases.json")).unwrap(),
        )
        .unwrap();
        manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "badge")
            .filter_map(|c| {
                let token = c["token"].as_str()?;
                let payload = token.split('.').nth(1)?;
                let bytes = crate::b64::decode(payload)?;
                Some((c["name"].as_str()?.to_owned(), bytes))
            })
            .collect()
    }

    fn valid_payload() -> String {
        let (_, bytes) = vector_payloads()
            .into_iter()
            .find(|(name, _)| name == "valid")
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn agrees_with_serde_on_every_badge_vector() {
        let payloads = vector_payloads();
        assert!(payloads.len() > 50, "only {} payloads", payloads.len());
        let mut accepted = 0;
        for (name, bytes) in payloads {
            let old = crate::claims::from_payload::<BadgeClaims>(&bytes).ok();
            let new = checked_parse(&bytes);
            assert_eq!(new, old, "{name}");
            accepted += usize::from(new.is_some());
        }
        assert!(accepted > 40, "only {accepted} payloads parsed");
    }

    #[test]
    fn agrees_with_serde_on_every_one_byte_change_of_the_valid_badge() {
        let valid = valid_payload();
        assert!(fast(&valid).is_some());
        let alphabet = b" \t\n\r\x0b\"\\{}[],:-+.0123456789eEnulx/A\x7f\x01";
        let bytes = valid.as_bytes();
        let mut checked = 0;
        for i in 0..=bytes.len() {
            let mut variants: Vec<Vec<u8>> = Vec::new();
            if i < bytes.len() {
                variants.push([&bytes[..i], &bytes[i + 1..]].concat());
            }
            for &c in alphabet {
                variants.push([&bytes[..i], &[c], &bytes[i..]].concat());
                if i < bytes.len() && bytes[i] != c {
                    variants.push([&bytes[..i], &[c], &bytes[i + 1..]].concat());
                }
            }
            for v in variants {
                let old = crate::claims::from_payload::<BadgeClaims>(&v).ok();
                let new = checked_parse(&v);
                assert_eq!(new, old, "{:?}", String::from_utf8_lossy(&v));
                checked += 1;
            }
        }
        assert!(checked > 30_000);
    }

    #[test]
    fn agrees_with_serde_on_random_multi_byte_changes() {
        // A small fixed-seed generator: reproducible without a dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let valid = valid_payload();
        let pieces: [&[u8]; 16] = [
            b"null",
            b"-0",
            b"1.0",
            b"1e3",
            b"\\u0075",
            b"\\ud800",
            b" ",
            b",",
            b"}",
            b"]",
            b"{",
            b"[",
            b"\"",
            b"0",
            b"-",
            b"\"x\":1,",
        ];
        for _ in 0..20_000 {
            let mut v = valid.as_bytes().to_vec();
            for _ in 0..1 + next(3) {
                let at = next(v.len() + 1);
                match next(3) {
                    0 if at < v.len() => {
                        v.remove(at);
                    }
                    1 => {
                        let p = pieces[next(pieces.len())];
                        v.splice(at..at, p.iter().copied());
                    }
                    _ => {
                        // Move a member-sized chunk elsewhere (reorders and repeats).
                        let len = next(40).min(v.len() - at.min(v.len()));
                        let chunk: Vec<u8> = v[at..at + len].to_vec();
                        let to = next(v.len() + 1);
                        v.splice(to..to, chunk);
                    }
                }
            }
            let old = crate::claims::from_payload::<BadgeClaims>(&v).ok();
            let new = checked_parse(&v);
            assert_eq!(new, old, "{:?}", String::from_utf8_lossy(&v));
        }
    }

    /// The valid payload with `from` replaced by `to` (which must occur exactly once).
    fn edit(from: &str, to: &str) -> String {
        let valid = valid_payload();
        assert_eq!(valid.matches(from).count(), 1, "{from}");
        valid.replacen(from, to, 1)
    }

    #[test]
    fn agrees_with_serde_on_edge_cases() {
        let valid = valid_payload();
        let iat = serde_json::from_str::<serde_json::Value>(&valid).unwrap()["iat"].to_string();
        let iat_member = format!("\"iat\":{iat}");
        let mut cases: Vec<String> = vec![
            format!(" {valid}"),
            format!("{valid} \n\t\r"),
            format!("{valid}x"),
            format!("{valid}{{}}"),
            valid.replacen('{', "{ ", 1),
            valid.replace(',', " ,\n"),
            valid.replace(':', " : "),
            valid.replacen("\"iss\"", "\"i\\u0073s\"", 1),
            valid.replacen("\"iss\"", "\"i\\u0073s\",\"iss\":\"x\",\"x\"", 1),
            valid.replacen("\"sub\"", "\"s\\u0075b\"", 1),
            valid.replacen(
                "\"sub\":",
                "\"sub\":\"https://a.example\",\"s\\u0075b\":",
                1,
            ),
            valid.replacen("{", "{\"nbf\":null,", 1),
            valid.replacen("{", "{\"nbf\":null,\"nbf\":null,", 1),
            valid.replacen("{", "{\"nbf\":nul,", 1),
            valid.replacen("{", "{\"nbf\":nulll,", 1),
            valid.replacen("{", "{\"nbf\":5,", 1),
            valid.replacen("{", "{\"nbf\":\"5\",", 1),
            valid.replacen("{", "{\"aliases\":null,", 1),
            valid.replacen("{", "{\"x\":1,", 1),
            valid.replacen("{", "{,", 1),
            valid.replacen("{", "{\"iss\":\"a\\u0000b\",", 1),
            valid.replacen("\"country\"", "\"reg\":null,\"country\"", 1),
            valid.replacen("\"country\"", "\"reg\":\"x\",\"country\"", 1),
            valid.replacen("\"country\"", "\"extra\":1,\"country\"", 1),
        ];
        let idx = serde_json::from_str::<serde_json::Value>(&valid).unwrap()["status"]
            ["status_list"]["idx"]
            .to_string();
        let idx_member = format!("\"idx\":{idx}");
        for number in [
            "0",
            "-0",
            "00",
            "01",
            "-01",
            "1.0",
            "1.",
            "1e3",
            "1E3",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "true",
            "\"1\"",
            "+1",
            "-",
            "- 1",
            "null",
        ] {
            cases.push(valid.replacen(&iat_member, &format!("\"iat\":{number}"), 1));
            cases.push(valid.replacen(&idx_member, &format!("\"idx\":{number}"), 1));
            cases.push(valid.replacen("{", &format!("{{\"nbf\":{number},"), 1));
        }
        for score in ["0", "255", "256", "-1", "-0", "1.5", "null"] {
            cases.push(edit("\"score\":", &format!("\"score\":{score},\"x\":")));
        }
        // Values replaced in place, so that the exact-text parser reads them too.
        let score_start = valid.find("\"score\":").unwrap() + "\"score\":".len();
        let score_end = score_start + valid[score_start..].find(',').unwrap();
        for score in [
            "0", "00", "07", "255", "256", "-1", "-0", "1.5", "1e2", "null", " 9",
        ] {
            cases.push(format!(
                "{}{score}{}",
                &valid[..score_start],
                &valid[score_end..]
            ));
        }
        let ind_start = valid.find("\"ind\":[").unwrap() + "\"ind\":".len();
        let ind_end = ind_start + valid[ind_start..].find(']').unwrap() + 1;
        for ind in [
            "[]",
            "[0]",
            "[00]",
            "[01]",
            "[7]",
            "[100]",
            "[255]",
            "[256]",
            "[1000]",
            "[2550]",
            "[4294967296]",
            "[1,2]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[1 ,2]",
            "[1, 2]",
            "[ 1]",
            "[1.0]",
            "[1e2]",
            "[-1]",
            "[-0]",
            "[null]",
            "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]",
            "[\"1\"]",
            "[1]]",
            "[[1]]",
        ] {
            cases.push(format!("{}{ind}{}", &valid[..ind_start], &valid[ind_end..]));
        }
        for s in [
            "\"a\\\"b\"",
            "\"a\\\\\"",
            "\"\\/\"",
            "\"\\b\\f\\n\\r\\t\"",
            "\"\\x\"",
            "\"\\u00e9\"",
            "\"\\u00E9\"",
            "\"\\u00g9\"",
            "\"\\ud83d\\ude00\"",
            "\"\\ud83d\"",
            "\"\\ude00\"",
            "\"\\ud83d\\u0041\"",
            "\"\\ud83dx\"",
            "\"caf\u{e9}\"",
            "\"\u{7f}\"",
            "\"\t\"",
            "\"\\",
            "\"\\u12",
        ] {
            cases.push(valid.replacen("\"auditor\":", &format!("\"auditor\":{s},\"x\":"), 1));
            cases.push(edit(
                "\"auditor\":\"",
                &format!("\"auditor\":{s},\"auditor_\":\""),
            ));
        }
        for aliases in [
            "[]",
            "[\"a\"]",
            "[\"a\",\"b\"]",
            "[\"a\",]",
            "[1]",
            "{}",
            "\"a\"",
        ] {
            cases.push(valid.replacen("{", &format!("{{\"aliases\":{aliases},"), 1));
        }
        let mut agreed = 0;
        for case in &cases {
            assert_eq!(checked_parse(case.as_bytes()), serde(case), "{case}");
            agreed += 1;
        }
        assert_eq!(agreed, cases.len());
    }

    #[test]
    fn refuses_arrays_where_serde_reads_a_struct_from_its_fields() {
        // Not the same as serde: SPEC 3.1 makes these claims objects.
        let valid = valid_payload();
        let parsed: serde_json::Value = serde_json::from_str(&valid).unwrap();
        let org = &parsed["org"];
        let as_object = format!(
            "{{\"name\":{},\"country\":{},\"reg\":{}}}",
            org["name"], org["country"], org["reg"]
        );
        let as_array = format!("[{},{},{}]", org["name"], org["country"], org["reg"]);
        let text = valid.replacen(&as_object, &as_array, 1);
        assert_ne!(text, valid);
        assert!(serde(&text).is_some(), "serde reads the array form");
        assert!(fast(&text).is_none());
    }

    #[test]
    fn finds_the_end_of_plain_runs() {
        for (text, want) in [
            ("", 0),
            ("abc", 3),
            ("abcdefghij\"", 10),
            ("abcdefg\\", 7),
            ("abcdefgh\u{1}", 8),
            ("\u{7f}\u{e9}\"", 3),
            ("a\"bcdefghijklmnop", 1),
            ("\u{1f}", 0),
            (" ", 1),
        ] {
            assert_eq!(plain_run_end(text.as_bytes(), 0), want, "{text:?}");
        }
        let long = format!("{}\"", "x".repeat(37));
        for start in 0..37 {
            assert_eq!(plain_run_end(long.as_bytes(), start), 37);
        }
        // Against a byte loop: every byte value at every place of a word and the tail,
        // and pairs of the bytes around the thresholds (borrows between lanes).
        let naive = |b: &[u8], start: usize| {
            (start..b.len())
                .find(|&i| matches!(b[i], b'"' | b'\\' | 0..=0x1f))
                .unwrap_or(b.len())
        };
        for at in 0..20 {
            for v in 0..=255u8 {
                let mut b = vec![b'a'; 20];
                b[at] = v;
                for start in [0, 1, 7] {
                    assert_eq!(plain_run_end(&b, start), naive(&b, start), "{b:?} {start}");
                }
            }
        }
        let edge = [
            0x00, 0x01, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f, 0x80, 0xa2, 0xdc,
            0xff,
        ];
        for i in 0..12 {
            for j in i + 1..12 {
                for &x in &edge {
                    for &y in &edge {
                        let mut b = vec![b'a'; 12];
                        (b[i], b[j]) = (x, y);
                        assert_eq!(plain_run_end(&b, 0), naive(&b, 0), "{b:?}");
                    }
                }
            }
        }
    }
}
