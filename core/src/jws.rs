//! Strict JWS compact serialization (RFC 7515 §7.1) for Ed25519 (RFC 8037).
//!
//! Parsing is deliberately narrow: three canonical base64url parts, a protected header
//! that holds only `alg`, `typ` and `kid`, `alg` exactly `EdDSA` or `Ed25519` (RFC 9864),
//! JSON without duplicate members, and a size cap checked before anything is decoded.
//! Everything RFC 8725 warns about (`none`, HMAC confusion, `jku`/`jwk`/`x5u`/`x5c`
//! key injection, `crit`, `zip`, `b64`) is refused by construction rather than by a
//! list that could miss a member.

use crate::{b64, json};
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use std::borrow::Cow;
use std::mem::MaybeUninit;

/// The four signed objects of TrustMark. Each verifier accepts exactly one of them, so a
/// signature made for one type can never be replayed as another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// A badge credential (`trustmark+jwt`).
    Badge,
    /// An IETF Token Status List token (`statuslist+jwt`).
    StatusList,
    /// An auditor's signed audit statement (`trustmark-audit+jwt`).
    AuditStatement,
    /// An auditor's signed status change request (`trustmark-status+jwt`).
    StatusChange,
}

/// Largest badge, audit statement or status change token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Largest status list token accepted, in bytes (a 2-bit list of 2^22 entries with
/// random revocations compresses to well under this).
pub const MAX_STATUS_LIST_TOKEN_LEN: usize = 4 * 1024 * 1024;

impl TokenType {
    /// The exact `typ` header value for this type.
    pub const fn typ(self) -> &'static str {
        match self {
            TokenType::Badge => "trustmark+jwt",
            TokenType::StatusList => "statuslist+jwt",
            TokenType::AuditStatement => "trustmark-audit+jwt",
            TokenType::StatusChange => "trustmark-status+jwt",
        }
    }

    /// The size cap for tokens of this type.
    pub const fn max_len(self) -> usize {
        match self {
            TokenType::StatusList => MAX_STATUS_LIST_TOKEN_LEN,
            _ => MAX_TOKEN_LEN,
        }
    }

    /// All four types, in a fixed order.
    pub const ALL: [TokenType; 4] = [
        TokenType::Badge,
        TokenType::StatusList,
        TokenType::AuditStatement,
        TokenType::StatusChange,
    ];
}

/// Which part of a compact JWS failed to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The protected header.
    Header,
    /// The payload.
    Payload,
    /// The signature.
    Signature,
}

impl std::fmt::Display for Part {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Part::Header => "header",
            Part::Payload => "payload",
            Part::Signature => "signature",
        })
    }
}

/// Why a string is not an acceptable JWS. Every variant means "malformed".
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Longer than the cap for its type.
    #[error("token is longer than {max} bytes")]
    TooLarge {
        /// The cap that was exceeded.
        max: usize,
    },
    /// Not three dot-separated parts.
    #[error("not a JWS compact serialization (three base64url parts separated by dots)")]
    NotCompact,
    /// A part is not canonical unpadded base64url.
    #[error("the {0} is not canonical base64url")]
    Encoding(Part),
    /// The same member appears twice in the header or payload.
    #[error("the {0} has a duplicate JSON member")]
    DuplicateMember(Part),
    /// The header is not an object holding only `alg`, `typ` and `kid` as strings.
    #[error("the header must be a JSON object with only alg, typ and kid")]
    Header,
    /// `alg` is not `EdDSA` or `Ed25519`.
    #[error("the algorithm is not EdDSA")]
    Algorithm,
    /// The header has no `kid`.
    #[error("the header has no kid")]
    MissingKid,
    /// The payload is not a JSON object.
    #[error("the payload is not a JSON object")]
    Payload,
    /// The signature is not 64 bytes.
    #[error("the signature is not 64 bytes")]
    SignatureLength,
}

/// The `typ` header member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Typ {
    /// One of the four TrustMark types.
    Known(TokenType),
    /// Anything else (`JWT`, another profile's type, ...).
    Other,
}

/// Largest protected header accepted, in base64url characters (a TrustMark header is
/// about 100): the header is decoded on the stack.
const MAX_HEADER_B64: usize = 512;

/// The protected header, as parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// `typ`, if present.
    pub typ: Option<Typ>,
    /// `kid`, if present.
    pub kid: Option<String>,
}

/// Header members are borrowed from the decoded bytes; a member written with JSON
/// escapes cannot be borrowed and is refused, which no honest producer needs.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader<'b> {
    alg: &'b str,
    #[serde(default)]
    typ: Option<&'b str>,
    #[serde(default)]
    kid: Option<&'b str>,
}

/// A parsed, not yet verified, compact JWS.
#[derive(Clone, Debug)]
pub struct Compact<'a> {
    signing_input: &'a str,
    header: Header,
    payload: Vec<u8>,
    signature: Signature,
}

impl<'a> Compact<'a> {
    /// Parses `token` under a size cap. The payload must be a JSON object without
    /// duplicate members; it is not interpreted further here.
    pub fn parse(token: &'a str, max_len: usize) -> Result<Self, JwsError> {
        let compact = Self::parse_opaque(token, max_len)?;
        let payload = &compact.payload;
        if payload.first() != Some(&b'{') {
            return Err(JwsError::Payload);
        }
        if !json::has_no_duplicate_members(payload) {
            return Err(
                if serde_json::from_slice::<serde::de::IgnoredAny>(payload).is_ok() {
                    JwsError::DuplicateMember(Part::Payload)
                } else {
                    JwsError::Payload
                },
            );
        }
        Ok(compact)
    }

    /// Parses `token` with the same header, encoding and size rules as [`Compact::parse`]
    /// but an uninterpreted payload (for JWS-level interoperability vectors).
    pub fn parse_opaque(token: &'a str, max_len: usize) -> Result<Self, JwsError> {
        let parts = Parts::split(token, max_len)?;
        let mut header_buf = [0u8; MAX_HEADER_B64 / 4 * 3];
        let header_bytes = b64::decode_into(parts.header, &mut header_buf)
            .ok_or_else(|| parts.fault(Part::Header))?;
        let payload = b64::decode(parts.payload).ok_or_else(|| parts.fault(Part::Payload))?;
        let signature = parts.signature()?;
        let (typ, kid) = parse_header(header_bytes)?;
        Ok(Compact {
            signing_input: parts.signing_input,
            header: Header {
                typ,
                kid: kid.map(str::to_owned),
            },
            payload,
            signature,
        })
    }

    /// The protected header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The decoded payload bytes (a JSON object without duplicate members).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes that were signed.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The Ed25519 signature.
    pub fn signature(&self) -> &Signature {
        &self.signature
    }

    /// Checks the signature with strict Ed25519 verification (canonical `S`, no
    /// small-order `R` or key), which rules out signature malleability.
    pub fn verify(&self, key: &VerifyingKey) -> bool {
        verify_signature(key, self.signing_input(), &self.signature)
    }
}

/// The three base64url parts of a compact JWS, found but not yet decoded.
struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
    signing_input: &'a str,
}

impl<'a> Parts<'a> {
    /// Applies the size cap and finds the two dots; nothing is decoded yet.
    fn split(token: &'a str, max_len: usize) -> Result<Self, JwsError> {
        if token.len() > max_len {
            return Err(JwsError::TooLarge { max: max_len });
        }
        // The header and signature are short, so find the dots from both ends and let the
        // payload's base64url decoding refuse any dot in between: the long middle part
        // is scanned once, not twice.
        let (Some(first), Some(last)) = (token.find('.'), token.rfind('.')) else {
            return Err(JwsError::NotCompact);
        };
        let (Some(header), Some(payload), Some(signature), Some(signing_input)) = (
            token.get(..first),
            token.get(first + 1..last),
            token.get(last + 1..),
            token.get(..last),
        ) else {
            return Err(JwsError::NotCompact);
        };
        if first == last {
            return Err(JwsError::NotCompact);
        }
        if header.len() > MAX_HEADER_B64 {
            return Err(JwsError::Header);
        }
        Ok(Parts {
            header,
            payload,
            signature,
            signing_input,
        })
    }

    /// [`Parts::split`] for a token whose first dot is known to be at `first`: the last
    /// dot is looked for where an 86-character signature puts it before the whole
    /// token is searched. `None` where [`Parts::split`] would refuse the token.
    fn split_after(token: &'a str, max_len: usize, first: usize) -> Option<Self> {
        if token.len() > max_len {
            return None;
        }
        let bytes = token.as_bytes();
        let last = token
            .len()
            .checked_sub(87)
            .filter(|&at| {
                // No dot after it (a fold without early exit vectorises).
                bytes.get(at) == Some(&b'.')
                    && bytes
                        .get(at + 1..)
                        .is_some_and(|s| s.iter().fold(true, |none, b| none & (*b != b'.')))
            })
            .or_else(|| token.rfind('.'))?;
        if last <= first || first > MAX_HEADER_B64 {
            return None;
        }
        Some(Parts {
            header: token.get(..first)?,
            payload: token.get(first + 1..last)?,
            signature: token.get(last + 1..)?,
            signing_input: token.get(..last)?,
        })
    }

    /// The error for a part that does not decode. Only on failure is the payload searched
    /// for a stray dot, to name the real fault.
    fn fault(&self, part: Part) -> JwsError {
        if self.payload.contains('.') {
            JwsError::NotCompact
        } else {
            JwsError::Encoding(part)
        }
    }

    fn signature(&self) -> Result<Signature, JwsError> {
        // 64 bytes of signature are exactly 86 base64url characters.
        let sig: [u8; 64] = if self.signature.len() == 86 {
            b64::decode_array(self.signature).ok_or(JwsError::Encoding(Part::Signature))?
        } else {
            return Err(match b64::decode(self.signature) {
                Some(_) => JwsError::SignatureLength,
                None => JwsError::Encoding(Part::Signature),
            });
        };
        Ok(Signature::from_bytes(&sig))
    }
}

/// Reads the decoded protected header: `alg` (checked here), `typ` and `kid` (borrowed).
fn parse_header(bytes: &[u8]) -> Result<(Option<Typ>, Option<&str>), JwsError> {
    // Derived deserialization already refuses repeated known members and
    // `deny_unknown_fields` refuses every other member, so the header needs no
    // separate duplicate scan.
    let text = std::str::from_utf8(bytes).map_err(|_| JwsError::Header)?;
    let raw: RawHeader<'_> = serde_json::from_str(text).map_err(|e| {
        if e.to_string().starts_with("duplicate field") {
            JwsError::DuplicateMember(Part::Header)
        } else {
            JwsError::Header
        }
    })?;
    if raw.alg != "EdDSA" && raw.alg != "Ed25519" {
        return Err(JwsError::Algorithm);
    }
    let typ = raw.typ.map(|t| {
        TokenType::ALL
            .into_iter()
            .find(|ty| ty.typ() == t)
            .map_or(Typ::Other, Typ::Known)
    });
    Ok((typ, raw.kid))
}

/// Why a token is not acceptable as a given [`TokenType`], before any key is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TypedError {
    /// Not a well-formed JWS.
    #[error(transparent)]
    Malformed(#[from] JwsError),
    /// A well-formed JWS whose `typ` is missing or names another type.
    #[error("the token type is not {expected}")]
    WrongType {
        /// The `typ` that was required.
        expected: &'static str,
    },
}

/// Parses a token that must be of type `ty`: size cap of that type, `typ` exactly equal,
/// `kid` present.
pub fn parse_typed(token: &str, ty: TokenType) -> Result<Compact<'_>, TypedError> {
    let compact = Compact::parse(token, ty.max_len())?;
    check_type(compact, ty)
}

/// Like [`parse_typed`] but without the separate duplicate-member scan of the payload.
/// Only for payloads read into a type that denies unknown fields and holds no maps at
/// any depth: serde's derived parser then refuses every duplicate itself.
#[cfg(test)]
pub(crate) fn parse_typed_closed(token: &str, ty: TokenType) -> Result<Compact<'_>, TypedError> {
    let compact = Compact::parse_opaque(token, ty.max_len())?;
    if compact.payload.first() != Some(&b'{') {
        return Err(JwsError::Payload.into());
    }
    check_type(compact, ty)
}

/// Strict Ed25519 verification (`verify_strict`: canonical `S`, no small-order `R` or
/// key), the one signature check of every token type.
pub(crate) fn verify_signature(key: &VerifyingKey, signing_input: &[u8], sig: &Signature) -> bool {
    key.verify_strict(signing_input, sig).is_ok()
}

/// Room for the decoded payload of any token within [`MAX_TOKEN_LEN`].
pub(crate) const MAX_PAYLOAD_LEN: usize = MAX_TOKEN_LEN.div_ceil(4) * 3;

/// A badge token as the verify path reads it: [`parse_typed_closed`]'s result without
/// the allocations, the payload decoded into the caller's buffer.
pub(crate) struct BadgeParts<'t, 'k, 'b> {
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes that were signed.
    pub signing_input: &'t str,
    /// The header's `kid`.
    pub kid: Cow<'k, str>,
    /// The decoded payload, starting with `{`.
    pub payload: &'b [u8],
    /// The Ed25519 signature.
    pub signature: Signature,
}

/// A protected header part known to read as a badge header naming `kid`, with `alg`
/// `EdDSA`: what a TrustMark signer writes for a badge signed with that key.
pub(crate) struct KnownHeader {
    text: String,
    kid: String,
}

impl KnownHeader {
    /// The header part of a badge signed with key `kid`, if the general parser reads it
    /// back as exactly that (so a verifier may recognise it by its text).
    pub(crate) fn badge(kid: &str) -> Option<Self> {
        #[derive(serde::Serialize)]
        struct Canonical<'a> {
            alg: &'static str,
            typ: &'static str,
            kid: &'a str,
        }
        let json = serde_json::to_vec(&Canonical {
            alg: "EdDSA",
            typ: TokenType::Badge.typ(),
            kid,
        })
        .ok()?;
        let text = b64::encode(json);
        let mut buf = [0u8; MAX_HEADER_B64 / 4 * 3];
        let decoded = b64::decode_into(&text, &mut buf)?;
        let read_back = parse_header(decoded).ok()?;
        (text.len() <= MAX_HEADER_B64
            && !text.contains('.')
            && read_back == (Some(Typ::Known(TokenType::Badge)), Some(kid)))
            .then(|| KnownHeader {
                text,
                kid: kid.to_owned(),
            })
    }
}

/// [`parse_typed_closed`] for a badge, with the same checks in the same order and the
/// same errors. A token that starts with one of the `known` header parts (and a dot) is
/// not decoded and parsed again, since the result is a function of that text.
pub(crate) fn parse_badge<'t, 'k, 'b>(
    token: &'t str,
    known: &'k [KnownHeader],
    buf: &'b mut [MaybeUninit<u8>; MAX_PAYLOAD_LEN],
) -> Result<BadgeParts<'t, 'k, 'b>, TypedError> {
    const TY: TokenType = TokenType::Badge;
    enum HeaderPart<'k, 'h> {
        Known(&'k str),
        Decoded(&'h [u8]),
    }
    let bytes = token.as_bytes();
    let fast = known
        .iter()
        .find(|k| {
            bytes.get(..k.text.len()) == Some(k.text.as_bytes())
                && bytes.get(k.text.len()) == Some(&b'.')
        })
        .and_then(|k| Some((Parts::split_after(token, TY.max_len(), k.text.len())?, k)));
    let mut header_buf = [MaybeUninit::uninit(); MAX_HEADER_B64 / 4 * 3];
    let (parts, header) = match fast {
        Some((parts, k)) => (parts, HeaderPart::Known(k.kid.as_str())),
        None => {
            let parts = Parts::split(token, TY.max_len())?;
            let decoded = b64::decode_into_uninit(parts.header, &mut header_buf)
                .ok_or_else(|| parts.fault(Part::Header))?;
            (parts, HeaderPart::Decoded(decoded))
        }
    };
    // The size cap leaves the payload part shorter than the token, so it always fits.
    let payload =
        b64::decode_into_uninit(parts.payload, buf).ok_or_else(|| parts.fault(Part::Payload))?;
    let signature = parts.signature()?;
    let (typ, kid) = match header {
        HeaderPart::Known(kid) => (Some(Typ::Known(TY)), Some(Cow::Borrowed(kid))),
        HeaderPart::Decoded(bytes) => {
            let (typ, kid) = parse_header(bytes)?;
            (typ, kid.map(|k| Cow::Owned(k.to_owned())))
        }
    };
    if payload.first() != Some(&b'{') {
        return Err(JwsError::Payload.into());
    }
    if typ != Some(Typ::Known(TY)) {
        return Err(TypedError::WrongType { expected: TY.typ() });
    }
    let kid = kid.ok_or(JwsError::MissingKid)?;
    Ok(BadgeParts {
        signing_input: parts.signing_input,
        kid,
        payload,
        signature,
    })
}

/// Reads one string claim of a token without verifying anything. Only for choosing what
/// to check the token against (whose key, which list); never for a decision.
pub fn unverified_string_claim(token: &str, ty: TokenType, name: &str) -> Option<String> {
    let compact = Compact::parse(token, ty.max_len()).ok()?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(compact.payload()).ok()?;
    claims.get(name)?.as_str().map(str::to_owned)
}

fn check_type(compact: Compact<'_>, ty: TokenType) -> Result<Compact<'_>, TypedError> {
    if compact.header.typ != Some(Typ::Known(ty)) {
        return Err(TypedError::WrongType { expected: ty.typ() });
    }
    if compact.header.kid.is_none() {
        return Err(JwsError::MissingKid.into());
    }
    Ok(compact)
}

#[cfg(test)]
mod tests {
    // Structural rules of the compact form; the full attack matrix lives in the vectors.
    use super::*;

    fn token(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.{}",
            b64::encode(header),
            b64::encode(payload),
            b64::encode([0u8; 64])
        )
    }

    #[test]
    fn accepts_the_three_header_members() {
        let t = token(r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k"}"#, "{}");
        let c = parse_typed(&t, TokenType::Badge).unwrap();
        assert_eq!(c.header().kid.as_deref(), Some("k"));
        assert_eq!(c.payload(), b"{}");
    }

    #[test]
    fn refuses_other_members_algorithms_and_shapes() {
        let cases = [
            (
                r#"{"alg":"none","typ":"trustmark+jwt","kid":"k"}"#,
                "{}",
                JwsError::Algorithm,
            ),
            (
                r#"{"alg":"HS256","typ":"trustmark+jwt","kid":"k"}"#,
                "{}",
                JwsError::Algorithm,
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k","jku":"x"}"#,
                "{}",
                JwsError::Header,
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k","kid":"k"}"#,
                "{}",
                JwsError::DuplicateMember(Part::Header),
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k"}"#,
                r#"{"a":1,"a":2}"#,
                JwsError::DuplicateMember(Part::Payload),
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k"}"#,
                "[1]",
                JwsError::Payload,
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"k"}"#,
                "{",
                JwsError::Payload,
            ),
            (
                r#"{"alg":"EdDSA","typ":"trustmark+jwt"}"#,
                "{}",
                JwsError::MissingKid,
            ),
        ];
        for (h, p, want) in cases {
            assert_eq!(
                parse_typed(&token(h, p), TokenType::Badge).unwrap_err(),
                TypedError::Malformed(want),
                "{h} {p}"
            );
        }
    }

    #[test]
    fn refuses_wrong_or_missing_typ_after_format() {
        let t = token(r#"{"alg":"EdDSA","typ":"statuslist+jwt","kid":"k"}"#, "{}");
        assert!(matches!(
            parse_typed(&t, TokenType::Badge),
            Err(TypedError::WrongType { .. })
        ));
        let t = token(r#"{"alg":"EdDSA","kid":"k"}"#, "{}");
        assert!(matches!(
            parse_typed(&t, TokenType::Badge),
            Err(TypedError::WrongType { .. })
        ));
    }

    #[test]
    fn refuses_bad_framing() {
        assert_eq!(
            Compact::parse("a.b", 100).unwrap_err(),
            JwsError::NotCompact
        );
        assert_eq!(
            Compact::parse("a.b.c.d", 100).unwrap_err(),
            JwsError::NotCompact
        );
        assert_eq!(
            Compact::parse(&"a".repeat(101), 100).unwrap_err(),
            JwsError::TooLarge { max: 100 }
        );
        let short_sig = format!(
            "{}.{}.{}",
            b64::encode("{}"),
            b64::encode("{}"),
            b64::encode([0u8; 63])
        );
        assert_eq!(
            Compact::parse(&short_sig, 1000).unwrap_err(),
            JwsError::SignatureLength
        );
    }

    /// What [`parse_badge`] returns, in the form of [`parse_typed_closed`]'s result.
    fn badge_view(
        token: &str,
        known: &[KnownHeader],
    ) -> Result<(String, String, Vec<u8>, Signature), TypedError> {
        let mut buf = [MaybeUninit::uninit(); MAX_PAYLOAD_LEN];
        parse_badge(token, known, &mut buf).map(|p| {
            (
                p.signing_input.to_owned(),
                p.kid.into_owned(),
                p.payload.to_vec(),
                p.signature,
            )
        })
    }

    fn closed_view(token: &str) -> Result<(String, String, Vec<u8>, Signature), TypedError> {
        parse_typed_closed(token, TokenType::Badge).map(|c| {
            (
                c.signing_input.to_owned(),
                c.header.kid.clone().unwrap_or_default(),
                c.payload.clone(),
                c.signature,
            )
        })
    }

    #[test]
    fn badge_parse_agrees_with_the_general_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors");
        let read = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&read("cases.json")).unwrap();
        let jwks = crate::Jwks::parse(read(manifest["jwks"].as_str().unwrap()).as_bytes()).unwrap();
        let known: Vec<KnownHeader> = jwks
            .keys()
            .iter()
            .filter_map(|k| KnownHeader::badge(k.kid()))
            .collect();
        assert!(!known.is_empty());
        let mut tokens: Vec<String> = manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["token"].as_str().unwrap().to_owned())
            .collect();
        let valid = manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "valid")
            .unwrap()["token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(known
            .iter()
            .any(|k| valid.starts_with(&format!("{}.", k.text))));
        // Every one-character change, insertion and deletion, with the characters that
        // move part boundaries or break base64url.
        let b = valid.as_bytes();
        for i in 0..=b.len() {
            for c in *b"A.-_=+/ {" {
                tokens.push(String::from_utf8([&b[..i], &[c], &b[i..]].concat()).unwrap());
                if i < b.len() {
                    let mut changed = b.to_vec();
                    changed[i] = c;
                    tokens.push(String::from_utf8(changed).unwrap());
                }
            }
            if i < b.len() {
                tokens.push(String::from_utf8([&b[..i], &b[i + 1..]].concat()).unwrap());
            }
        }
        let (sig_at, header_end) = (valid.rfind('.').unwrap(), valid.find('.').unwrap());
        tokens.extend([
            format!("{valid}{}", "A".repeat(MAX_TOKEN_LEN - valid.len() + 1)),
            valid[..sig_at].to_owned(),
            valid[..header_end + 1].to_owned(),
            format!("{}..{}", &valid[..header_end], &valid[sig_at + 1..]),
            format!("{}.e30.{}", &valid[..header_end], &valid[sig_at + 1..]),
            format!("{}.W10.{}", &valid[..header_end], &valid[sig_at + 1..]),
            format!("{}.{}", &valid[..sig_at], &valid[sig_at + 2..]),
        ]);
        let mut fast_ok = 0;
        for token in &tokens {
            let want = closed_view(token);
            assert_eq!(badge_view(token, &[]), want, "{token}");
            let got = badge_view(token, &known);
            assert_eq!(got, want, "{token}");
            fast_ok += usize::from(got.is_ok());
        }
        assert!(fast_ok > 100, "{fast_ok}");
    }

    #[test]
    fn known_headers_read_back_as_themselves() {
        let k = KnownHeader::badge("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k").unwrap();
        let decoded = b64::decode(&k.text).unwrap();
        assert_eq!(
            std::str::from_utf8(&decoded).unwrap(),
            r#"{"alg":"EdDSA","typ":"trustmark+jwt","kid":"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"}"#
        );
        // A kid the header cannot carry verbatim is not recognised by text.
        assert!(KnownHeader::badge("a\"b").is_none());
    }
}
