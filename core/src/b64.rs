//! Canonical base64url (RFC 4648 §5, no padding), the only encoding JWS allows.
//!
//! The decoder refuses padding, the standard alphabet and non-zero trailing bits, so every
//! byte string has exactly one accepted text form and a token cannot be re-encoded into a
//! second "equal" token.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine as _};

const ENGINE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(false),
);

/// Encodes bytes as unpadded base64url.
pub fn encode(bytes: impl AsRef<[u8]>) -> String {
    ENGINE.encode(bytes)
}

/// Decodes canonical unpadded base64url; `None` for anything else.
///
/// Decoding is on every badge's hot path, so it uses the SIMD decoder, which applies
/// the same canonical rules (checked against `base64` in the tests below).
pub fn decode(text: &str) -> Option<Vec<u8>> {
    base64_simd::URL_SAFE_NO_PAD
        .decode_to_vec(text.as_bytes())
        .ok()
}

/// Decodes into `buf` (which must be large enough), returning the decoded prefix.
pub fn decode_into<'b>(text: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    if text.len().div_ceil(4) * 3 > buf.len() {
        return None;
    }
    base64_simd::URL_SAFE_NO_PAD
        .decode(text.as_bytes(), base64_simd::Out::from_slice(buf))
        .ok()
        .map(|d| &*d)
}

/// [`decode_into`] for a buffer that need not be initialised first.
pub(crate) fn decode_into_uninit<'b>(
    text: &str,
    buf: &'b mut [std::mem::MaybeUninit<u8>],
) -> Option<&'b [u8]> {
    if text.len().div_ceil(4) * 3 > buf.len() {
        return None;
    }
    base64_simd::URL_SAFE_NO_PAD
        .decode(text.as_bytes(), base64_simd::Out::from_uninit_slice(buf))
        .ok()
        .map(|d| &*d)
}

/// Decodes into a fixed-size array, refusing any other length.
pub fn decode_array<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Length check first: a wrong-length input never reaches the decoder.
    if text.len() != (N * 4).div_ceil(3) {
        return None;
    }
    let mut out = [0u8; N];
    let written = base64_simd::URL_SAFE_NO_PAD
        .decode(text.as_bytes(), base64_simd::Out::from_slice(&mut out))
        .ok()?
        .len();
    (written == N).then_some(out)
}

#[cfg(test)]
mod tests {
    // Canonical-form rules: each rejected form would let one token have two spellings.
    use super::*;

    #[test]
    fn round_trips_and_rejects_non_canonical_forms() {
        assert_eq!(encode(b"\xfb\xff"), "-_8");
        assert_eq!(decode("-_8").as_deref(), Some(&b"\xfb\xff"[..]));
        assert_eq!(decode("-_8="), None, "padding");
        assert_eq!(decode("+/8"), None, "standard alphabet");
        assert_eq!(decode("-_9"), None, "non-zero trailing bits");
        assert_eq!(decode("a"), None, "impossible length");
        assert_eq!(decode("ab cd"), None, "whitespace");
    }

    #[test]
    fn simd_decoder_agrees_with_the_reference_decoder() {
        // Every string of length 0..=4 over a small alphabet that includes each kind of
        // bad input: padding, the standard alphabet, space, and trailing-bit variants.
        let alphabet = [
            b'A', b'B', b'Q', b'g', b'w', b'8', b'-', b'_', b'+', b'/', b'=', b' ', b'.',
        ];
        let mut inputs: Vec<Vec<u8>> = vec![vec![]];
        for _ in 0..4 {
            let longer: Vec<Vec<u8>> = inputs
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| [s.clone(), vec![*c]].concat()))
                .collect();
            inputs.extend(longer.into_iter().filter(|s| s.len() <= 4));
            inputs.sort();
            inputs.dedup();
        }
        assert!(inputs.len() > 20_000);
        for input in inputs {
            let text = String::from_utf8(input).unwrap();
            assert_eq!(decode(&text), ENGINE.decode(&text).ok(), "{text:?}");
        }
    }

    #[test]
    fn fixed_arrays_need_the_exact_length() {
        let x = encode([7u8; 32]);
        assert_eq!(decode_array::<32>(&x), Some([7u8; 32]));
        assert_eq!(decode_array::<31>(&x), None);
        assert_eq!(decode_array::<32>(&x[1..]), None);
    }
}
