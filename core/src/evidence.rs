//! Evidence log entries: the exact bytes of each leaf of the registry's Merkle log
//! (SPEC 6, `docs/spec/log.md`).
//!
//! An entry is one line of JSON with a fixed member order, written by [`Entry::to_bytes`]
//! and read back only if re-encoding gives the same bytes, so one event has one
//! encoding and the leaf hash commits to it. Entries carry only what the public badge or
//! the published key set already shows: a status change's reason, which may name
//! people, is present only as its SHA-256.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The first member of every entry: names the format and its version.
pub const SCHEMA: &str = "trustmark-log-entry/1";

/// Largest entry read: a badge token (at most 8 KiB) and its framing.
pub const MAX_ENTRY: usize = 16 * 1024;

/// A badge status as entries name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Valid again (reinstated).
    Valid,
    /// Revoked, final.
    Revoked,
    /// Suspended.
    Suspended,
}

impl Status {
    /// The word entries use for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Revoked => "revoked",
            Status::Suspended => "suspended",
        }
    }
}

/// Who made a status change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum By {
    /// The registry operator.
    Operator,
    /// The issuing auditor, by id.
    Auditor(String),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A badge was issued: the token, byte for byte, and the origins it names.
    Issued {
        /// Badge id.
        badge: String,
        /// `sub` first, then the aliases.
        origins: Vec<String>,
        /// The issuing auditor.
        auditor: String,
        /// The badge token.
        token: String,
    },
    /// A badge's status changed.
    StatusChanged {
        /// Badge id.
        badge: String,
        /// The new status.
        status: Status,
        /// Who changed it.
        by: By,
        /// base64url SHA-256 of the reason's UTF-8 bytes.
        reason_sha256: String,
    },
    /// A badge was signed again under a new key after its key was withdrawn (same id,
    /// claims and status index; new `iat`).
    Reissued {
        /// Badge id.
        badge: String,
        /// The new token.
        token: String,
    },
    /// The registry's signing keys were rotated.
    KeysRotated {
        /// The new badge key's id.
        badge_kid: String,
        /// The new status list key's id.
        status_kid: String,
    },
    /// A registry key was withdrawn as compromised.
    KeyWithdrawn {
        /// Its id.
        kid: String,
    },
    /// An auditor was accredited with the key whose RFC 7638 thumbprint is `kid`.
    AuditorAdded {
        /// Auditor id.
        auditor: String,
        /// The accredited key's id.
        kid: String,
    },
    /// An auditor was suspended.
    AuditorSuspended {
        /// Auditor id.
        auditor: String,
    },
}

/// One log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// When it happened (unix seconds, the registry's clock).
    pub at: i64,
    /// What happened.
    pub event: Event,
}

/// Why bytes are not an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EntryError {
    /// Larger than [`MAX_ENTRY`].
    #[error("the entry is larger than {MAX_ENTRY} bytes")]
    TooLarge,
    /// Not JSON of the entry shape, an unknown schema or type, or a member missing,
    /// extra or duplicated.
    #[error("the entry is not a {SCHEMA} entry")]
    Malformed,
    /// Valid, but not in the one encoding the registry writes.
    #[error("the entry is not canonically encoded")]
    NotCanonical,
}

/// The wire form: every member any type uses, in the fixed order; each type uses a
/// subset, checked when converting.
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Wire {
    schema: String,
    #[serde(rename = "type")]
    kind: String,
    at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    badge: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origins: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    auditor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    badge_kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

/// base64url SHA-256 of a status change's reason, as entries carry it.
pub fn reason_digest(reason: &str) -> String {
    crate::b64::encode(Sha256::digest(reason.as_bytes()))
}

impl Entry {
    /// The entry's bytes: one JSON object, members in the fixed order, no whitespace.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Wire {
            schema: SCHEMA.to_owned(),
            at: self.at,
            ..Wire::default()
        };
        w.kind = match &self.event {
            Event::Issued {
                badge,
                origins,
                auditor,
                token,
            } => {
                w.badge = Some(badge.clone());
                w.origins = Some(origins.clone());
                w.auditor = Some(auditor.clone());
                w.token = Some(token.clone());
                "issued"
            }
            Event::StatusChanged {
                badge,
                status,
                by,
                reason_sha256,
            } => {
                w.badge = Some(badge.clone());
                w.status = Some(*status);
                match by {
                    By::Operator => w.by = Some("operator".into()),
                    By::Auditor(id) => {
                        w.by = Some("auditor".into());
                        w.auditor = Some(id.clone());
                    }
                }
                w.reason_sha256 = Some(reason_sha256.clone());
                "status_changed"
            }
            Event::Reissued { badge, token } => {
                w.badge = Some(badge.clone());
                w.token = Some(token.clone());
                "reissued"
            }
            Event::KeysRotated {
                badge_kid,
                status_kid,
            } => {
                w.badge_kid = Some(badge_kid.clone());
                w.status_kid = Some(status_kid.clone());
                "keys_rotated"
            }
            Event::KeyWithdrawn { kid } => {
                w.kid = Some(kid.clone());
                "key_withdrawn"
            }
            Event::AuditorAdded { auditor, kid } => {
                w.auditor = Some(auditor.clone());
                w.kid = Some(kid.clone());
                "auditor_added"
            }
            Event::AuditorSuspended { auditor } => {
                w.auditor = Some(auditor.clone());
                "auditor_suspended"
            }
        }
        .to_owned();
        // A struct of strings, numbers and string lists always serialises.
        serde_json::to_vec(&w).unwrap_or_default()
    }

    /// Reads an entry: size cap, exact shape for its type, and the canonical encoding.
    pub fn parse(bytes: &[u8]) -> Result<Entry, EntryError> {
        if bytes.len() > MAX_ENTRY {
            return Err(EntryError::TooLarge);
        }
        let w: Wire = serde_json::from_slice(bytes).map_err(|_| EntryError::Malformed)?;
        if w.schema != SCHEMA {
            return Err(EntryError::Malformed);
        }
        let entry = Entry::from_wire(w).ok_or(EntryError::Malformed)?;
        if entry.to_bytes() != bytes {
            return Err(EntryError::NotCanonical);
        }
        Ok(entry)
    }

    fn from_wire(w: Wire) -> Option<Entry> {
        // Each type takes exactly its members: anything else present is an error.
        let Wire {
            at,
            kind,
            mut badge,
            mut origins,
            mut status,
            mut by,
            mut auditor,
            mut reason_sha256,
            mut kid,
            mut badge_kid,
            mut status_kid,
            mut token,
            ..
        } = w;
        let event = match kind.as_str() {
            "issued" => Event::Issued {
                badge: badge.take()?,
                origins: origins.take()?,
                auditor: auditor.take()?,
                token: token.take()?,
            },
            "status_changed" => Event::StatusChanged {
                badge: badge.take()?,
                status: status.take()?,
                by: match by.take()?.as_str() {
                    "operator" => By::Operator,
                    "auditor" => By::Auditor(auditor.take()?),
                    _ => return None,
                },
                reason_sha256: reason_sha256.take()?,
            },
            "reissued" => Event::Reissued {
                badge: badge.take()?,
                token: token.take()?,
            },
            "keys_rotated" => Event::KeysRotated {
                badge_kid: badge_kid.take()?,
                status_kid: status_kid.take()?,
            },
            "key_withdrawn" => Event::KeyWithdrawn { kid: kid.take()? },
            "auditor_added" => Event::AuditorAdded {
                auditor: auditor.take()?,
                kid: kid.take()?,
            },
            "auditor_suspended" => Event::AuditorSuspended {
                auditor: auditor.take()?,
            },
            _ => return None,
        };
        let leftover = badge.is_some()
            || origins.is_some()
            || status.is_some()
            || by.is_some()
            || auditor.is_some()
            || reason_sha256.is_some()
            || kid.is_some()
            || badge_kid.is_some()
            || status_kid.is_some()
            || token.is_some();
        (!leftover).then_some(Entry { at, event })
    }

    /// The badge this entry concerns, if any.
    pub fn badge(&self) -> Option<&str> {
        match &self.event {
            Event::Issued { badge, .. }
            | Event::StatusChanged { badge, .. }
            | Event::Reissued { badge, .. } => Some(badge),
            _ => None,
        }
    }

    /// A short name of the event type, as written in the entry.
    pub fn kind(&self) -> &'static str {
        match &self.event {
            Event::Issued { .. } => "issued",
            Event::StatusChanged { .. } => "status_changed",
            Event::Reissued { .. } => "reissued",
            Event::KeysRotated { .. } => "keys_rotated",
            Event::KeyWithdrawn { .. } => "key_withdrawn",
            Event::AuditorAdded { .. } => "auditor_added",
            Event::AuditorSuspended { .. } => "auditor_suspended",
        }
    }
}

#[cfg(test)]
mod tests {
    // The one encoding per event: round trips, member order, and refusal of every other
    // spelling (extra, missing or duplicated members, whitespace, unknown types).
    use super::*;

    fn all() -> Vec<Entry> {
        let at = 1_800_000_000;
        [
            Event::Issued {
                badge: "b1".into(),
                origins: vec!["https://supplier.example".into()],
                auditor: "lab".into(),
                token: "eyJ.x.y".into(),
            },
            Event::StatusChanged {
                badge: "b1".into(),
                status: Status::Suspended,
                by: By::Auditor("lab".into()),
                reason_sha256: reason_digest("checking"),
            },
            Event::StatusChanged {
                badge: "b1".into(),
                status: Status::Revoked,
                by: By::Operator,
                reason_sha256: reason_digest("fraud"),
            },
            Event::Reissued {
                badge: "b1".into(),
                token: "eyJ.a.b".into(),
            },
            Event::KeysRotated {
                badge_kid: "k1".into(),
                status_kid: "k2".into(),
            },
            Event::KeyWithdrawn { kid: "k0".into() },
            Event::AuditorAdded {
                auditor: "lab".into(),
                kid: "k3".into(),
            },
            Event::AuditorSuspended {
                auditor: "lab".into(),
            },
        ]
        .into_iter()
        .map(|event| Entry { at, event })
        .collect()
    }

    #[test]
    fn every_type_round_trips_in_its_one_encoding() {
        for e in all() {
            let bytes = e.to_bytes();
            assert_eq!(Entry::parse(&bytes).unwrap(), e);
            let text = String::from_utf8(bytes).unwrap();
            assert!(
                text.starts_with(r#"{"schema":"trustmark-log-entry/1","type":""#),
                "{text}"
            );
        }
        let status = String::from_utf8(all()[2].to_bytes()).unwrap();
        assert_eq!(
            status,
            format!(
                r#"{{"schema":"trustmark-log-entry/1","type":"status_changed","at":1800000000,"badge":"b1","status":"revoked","by":"operator","reason_sha256":"{}"}}"#,
                reason_digest("fraud")
            )
        );
    }

    #[test]
    fn other_spellings_are_refused() {
        let good = String::from_utf8(all()[0].to_bytes()).unwrap();
        let cases = [
            (
                good.replace(r#""at":"#, r#""at": "#),
                EntryError::NotCanonical,
            ),
            (
                good.replace(r#","token""#, r#","kid":"x","token""#),
                EntryError::Malformed,
            ),
            (
                good.replace(r#","auditor":"lab""#, ""),
                EntryError::Malformed,
            ),
            (good.replace("issued", "minted"), EntryError::Malformed),
            (
                good.replace("log-entry/1", "log-entry/2"),
                EntryError::Malformed,
            ),
            (
                good.replace(r#""at":1800000000"#, r#""at":1800000000,"at":1"#),
                EntryError::Malformed,
            ),
            (format!("{good}\n"), EntryError::NotCanonical),
        ];
        for (text, want) in cases {
            assert_eq!(Entry::parse(text.as_bytes()), Err(want), "{text}");
        }
        // A status change by an auditor names it; one by the operator must not.
        let op = String::from_utf8(all()[2].to_bytes()).unwrap();
        let named = op.replace(r#""by":"operator""#, r#""by":"operator","auditor":"lab""#);
        assert_eq!(Entry::parse(named.as_bytes()), Err(EntryError::Malformed));
        let nobody = op.replace(r#""by":"operator""#, r#""by":"someone""#);
        assert_eq!(Entry::parse(nobody.as_bytes()), Err(EntryError::Malformed));
        assert_eq!(
            Entry::parse(&vec![b' '; MAX_ENTRY + 1]),
            Err(EntryError::TooLarge)
        );
    }
}
