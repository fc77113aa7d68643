//! Strict JSON: refuses duplicate object members anywhere in a document.
//!
//! serde_json keeps the last of two equal keys, so `{"sub":"a","sub":"b"}` would mean one
//! thing to us and possibly another to a different parser. RFC 8725 §3.8 / RFC 7515 §5.2
//! require such input to be rejected, so every untrusted JSON document passes this check
//! before it is read into a typed value.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Returns `true` when `bytes` is one JSON value with no duplicate member at any depth.
pub fn has_no_duplicate_members(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Checked>(bytes).is_ok()
}

struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

/// A member name, borrowed from the input when it has no escapes (the common case).
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        // Objects here are small (claims, headers, JWKs): a linear scan beats hashing.
        let mut seen: Vec<Key<'de>> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if seen.iter().any(|k| k.as_str() == key.as_str()) {
                return Err(de::Error::custom("duplicate member"));
            }
            map.next_value::<Checked>()?;
            seen.push(key);
        }
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    // Duplicate members must be caught at every depth and through escapes.
    use super::*;

    #[test]
    fn accepts_plain_documents() {
        assert!(has_no_duplicate_members(
            br#"{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}"#
        ));
        assert!(has_no_duplicate_members(b"[1,2,3]"));
    }

    #[test]
    fn rejects_duplicates_at_any_depth() {
        assert!(!has_no_duplicate_members(br#"{"a":1,"a":1}"#));
        assert!(!has_no_duplicate_members(br#"{"x":{"b":1,"b":2}}"#));
        assert!(!has_no_duplicate_members(br#"{"x":[{"b":1,"c":0,"b":2}]}"#));
    }

    #[test]
    fn rejects_duplicates_spelled_with_escapes() {
        assert!(!has_no_duplicate_members(br#"{"sub":1,"s\u0075b":2}"#));
    }

    #[test]
    fn rejects_invalid_json_and_trailing_data() {
        assert!(!has_no_duplicate_members(b"{"));
        assert!(!has_no_duplicate_members(b"{} {}"));
    }
}
