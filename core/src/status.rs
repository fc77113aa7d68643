//! IETF OAuth Token Status List (draft-ietf-oauth-status-list), the JSON/JWT form.
//!
//! A list is `bits` (1, 2, 4 or 8) per entry, entry `i` at bit `(i*bits) % 8` of byte
//! `(i*bits) / 8`, least significant bits first, zlib-compressed (RFC 1950) and
//! base64url-encoded as `lst`. Decompression is capped: a list that would inflate past
//! [`MAX_INFLATED`] is refused before it is fully read, so a small "zip bomb" token
//! cannot exhaust memory.

use crate::b64;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// Largest decompressed list accepted: 16 MiB.
pub const MAX_INFLATED: usize = 16 * 1024 * 1024;

/// Status values of a TrustMark list (2 bits per entry).
pub mod value {
    /// The badge is valid.
    pub const VALID: u8 = 0;
    /// The badge is revoked (the draft's INVALID); final.
    pub const REVOKED: u8 = 1;
    /// The badge is suspended; it may be reinstated.
    pub const SUSPENDED: u8 = 2;
}

/// Why a status list cannot be decoded or changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatusListError {
    /// `bits` is not 1, 2, 4 or 8.
    #[error("bits must be 1, 2, 4 or 8")]
    Bits,
    /// `lst` is not canonical base64url.
    #[error("lst is not canonical base64url")]
    Encoding,
    /// `lst` is not a complete zlib stream (or has bytes after it).
    #[error("lst is not a valid zlib stream")]
    Compression,
    /// The list inflates past the cap.
    #[error("the list inflates past {MAX_INFLATED} bytes")]
    TooLarge,
    /// The list is empty.
    #[error("the list is empty")]
    Empty,
    /// An index past the end of the list.
    #[error("index out of range")]
    OutOfRange,
    /// A value that does not fit in `bits`.
    #[error("value does not fit in the list's bits")]
    Value,
}

/// The `status_list` claim: `{"bits": n, "lst": "..."}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusListJson {
    /// Bits per entry.
    pub bits: u8,
    /// base64url(zlib(bytes)).
    pub lst: String,
}

/// A decoded status list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusList {
    bits: u8,
    bytes: Vec<u8>,
}

fn check_bits(bits: u8) -> Result<(), StatusListError> {
    matches!(bits, 1 | 2 | 4 | 8)
        .then_some(())
        .ok_or(StatusListError::Bits)
}

impl StatusList {
    /// An all-valid list of at least `size` entries (rounded up to whole bytes).
    pub fn new(bits: u8, size: usize) -> Result<Self, StatusListError> {
        check_bits(bits)?;
        let len = (size * bits as usize).div_ceil(8);
        if len == 0 {
            return Err(StatusListError::Empty);
        }
        if len > MAX_INFLATED {
            return Err(StatusListError::TooLarge);
        }
        Ok(StatusList {
            bits,
            bytes: vec![0; len],
        })
    }

    /// Decodes the `status_list` claim.
    pub fn decode(json: &StatusListJson) -> Result<Self, StatusListError> {
        check_bits(json.bits)?;
        let compressed = b64::decode(&json.lst).ok_or(StatusListError::Encoding)?;
        let mut decoder = ZlibDecoder::new(compressed.as_slice());
        let mut bytes = Vec::new();
        // Read one byte past the cap so "exactly at the cap" and "over it" differ.
        (&mut decoder)
            .take(MAX_INFLATED as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| StatusListError::Compression)?;
        if bytes.len() > MAX_INFLATED {
            return Err(StatusListError::TooLarge);
        }
        // Trailing bytes after the zlib stream would give one list two encodings.
        if decoder.total_in() != compressed.len() as u64 {
            return Err(StatusListError::Compression);
        }
        if bytes.is_empty() {
            return Err(StatusListError::Empty);
        }
        Ok(StatusList {
            bits: json.bits,
            bytes,
        })
    }

    /// Encodes as the `status_list` claim (zlib at the best compression level).
    pub fn encode(&self) -> StatusListJson {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        // Writing into a Vec cannot fail.
        let compressed = enc
            .write_all(&self.bytes)
            .and_then(|()| enc.finish())
            .unwrap_or_default();
        StatusListJson {
            bits: self.bits,
            lst: b64::encode(compressed),
        }
    }

    /// Bits per entry.
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.bytes.len() * 8 / self.bits as usize
    }

    /// Always false: an empty list is refused on construction.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The decompressed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The value at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<u8> {
        let bits = self.bits as usize;
        let bit = index.checked_mul(bits)?;
        let byte = self.bytes.get(bit / 8)?;
        let mask = ((1u16 << bits) - 1) as u8;
        Some((byte >> (bit % 8)) & mask)
    }

    /// Sets the value at `index`.
    pub fn set(&mut self, index: usize, value: u8) -> Result<(), StatusListError> {
        let bits = self.bits as usize;
        let mask = ((1u16 << bits) - 1) as u8;
        if value & !mask != 0 {
            return Err(StatusListError::Value);
        }
        let bit = index.checked_mul(bits).ok_or(StatusListError::OutOfRange)?;
        let byte = self
            .bytes
            .get_mut(bit / 8)
            .ok_or(StatusListError::OutOfRange)?;
        let shift = bit % 8;
        *byte = (*byte & !(mask << shift)) | (value << shift);
        Ok(())
    }

    /// How many entries hold each value (index = value).
    pub fn counts(&self) -> Vec<usize> {
        let mut counts = vec![0usize; 1 << self.bits];
        for i in 0..self.len() {
            if let Some(c) = self.get(i).and_then(|v| counts.get_mut(v as usize)) {
                *c += 1;
            }
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    // Bit layout, the draft's small examples and the inflation cap.
    use super::*;

    fn json(bits: u8, lst: &str) -> StatusListJson {
        StatusListJson {
            bits,
            lst: lst.into(),
        }
    }

    #[test]
    fn decodes_the_drafts_json_examples() {
        let one = StatusList::decode(&json(1, "eNrbuRgAAhcBXQ")).unwrap();
        let want1 = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1];
        assert_eq!(
            (0..16).map(|i| one.get(i).unwrap()).collect::<Vec<_>>(),
            want1
        );
        let two = StatusList::decode(&json(2, "eNo76fITAAPfAgc")).unwrap();
        let want2 = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3];
        assert_eq!(
            (0..12).map(|i| two.get(i).unwrap()).collect::<Vec<_>>(),
            want2
        );
    }

    #[test]
    fn set_get_and_round_trip_for_every_width() {
        for bits in [1u8, 2, 4, 8] {
            let mut l = StatusList::new(bits, 1000).unwrap();
            let max = ((1u16 << bits) - 1) as u8;
            l.set(0, max).unwrap();
            l.set(999, 1).unwrap();
            l.set(500, max).unwrap();
            l.set(500, 0).unwrap();
            assert_eq!(l.set(l.len(), 1), Err(StatusListError::OutOfRange));
            assert_eq!(l.get(l.len()), None);
            let back = StatusList::decode(&l.encode()).unwrap();
            assert_eq!(back, l);
            assert_eq!(
                (back.get(0), back.get(999), back.get(500)),
                (Some(max), Some(1), Some(0))
            );
        }
    }

    #[test]
    fn refuses_bombs_trailing_bytes_and_bad_bits() {
        let mut enc = ZlibEncoder::new(Vec::new(), Compression::best());
        enc.write_all(&vec![0u8; MAX_INFLATED + 1]).unwrap();
        let bomb = b64::encode(enc.finish().unwrap());
        assert!(bomb.len() < 40_000);
        assert_eq!(
            StatusList::decode(&json(2, &bomb)),
            Err(StatusListError::TooLarge)
        );
        let mut trailing = b64::decode("eNrbuRgAAhcBXQ").unwrap();
        trailing.push(0);
        assert_eq!(
            StatusList::decode(&json(1, &b64::encode(trailing))),
            Err(StatusListError::Compression)
        );
        assert_eq!(
            StatusList::decode(&json(3, "eNrbuRgAAhcBXQ")),
            Err(StatusListError::Bits)
        );
        assert_eq!(
            StatusList::decode(&json(1, "eNrbuRgAAhcBXQ==")),
            Err(StatusListError::Encoding)
        );
    }
}
