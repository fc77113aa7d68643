//! Key changes: rotation, and withdrawal of a compromised key with re-signing of the
//! badges it signed. Each runs alone against committed state.

use super::command::{CommandError, Done};
use super::plan::Batch;
use super::Engine;
use crate::event::{BadgeStatus, Event};
use crate::keys::KeyRingError;
use trustmark_core::jws::{Compact, MAX_TOKEN_LEN};
use trustmark_core::{sign, BadgeClaims};

impl Engine {
    pub(super) fn rotate(&mut self, now: i64) -> Result<Done, CommandError> {
        self.keys.rotate(&self.data, now)?;
        let (badge_kid, status_kid) = (
            self.keys.badge.kid().to_owned(),
            self.keys.status.kid().to_owned(),
        );
        let event = Event::KeysRotated {
            badge_kid: badge_kid.clone(),
            status_kid: status_kid.clone(),
            at: now,
        };
        self.commit(vec![event], &Batch::default(), now)?;
        Ok(Done::KeysRotated {
            badge_kid,
            status_kid,
        })
    }

    /// Withdraws `kid`: a current key is rotated out first; then the key leaves the
    /// published set and every current badge it signed is signed again under the
    /// current badge key, with the same id, claims and status index and a new `iat`
    /// (the new key vouches only for tokens issued after it was published).
    pub(super) fn withdraw(&mut self, kid: &str, now: i64) -> Result<Done, CommandError> {
        let published = &self.keys.published;
        if published.is_withdrawn(kid) {
            return Err(KeyRingError::AlreadyWithdrawn(kid.to_owned()).into());
        }
        if published.get(kid).is_none() {
            return Err(KeyRingError::UnknownKid(kid.to_owned()).into());
        }
        let rotated = self.keys.is_current(kid);
        if rotated {
            self.rotate(now)?;
        }
        self.keys.withdraw(&self.data, kid, now)?;
        let mut events = vec![Event::KeyWithdrawn {
            kid: kid.to_owned(),
            at: now,
        }];
        for record in self.store.badges()? {
            if record.status == BadgeStatus::Revoked {
                continue;
            }
            if let Some(token) = resign_if_signed_by(&record.token, kid, now, &self.keys.badge)? {
                events.push(Event::BadgeResigned {
                    id: record.id,
                    token,
                    at: now,
                });
            }
        }
        let resigned = events.len() - 1;
        self.commit(events, &Batch::default(), now)?;
        Ok(Done::KeyWithdrawn { rotated, resigned })
    }
}

/// The badge `token` signed again under `key` with `iat` = `now`, if `kid` signed it and
/// it has not expired: the same id, claims and status index (the new key vouches only for
/// tokens issued after it was published). `None` for any other token. Both stores re-sign
/// through this after a key withdrawal.
pub fn resign_if_signed_by(
    token: &str,
    kid: &str,
    now: i64,
    key: &trustmark_core::sign::SigningKey,
) -> Result<Option<String>, sign::SignError> {
    let Ok(compact) = Compact::parse(token, MAX_TOKEN_LEN) else {
        return Ok(None);
    };
    if compact.header().kid.as_deref() != Some(kid) {
        return Ok(None);
    }
    let Ok(mut claims) = serde_json::from_slice::<BadgeClaims>(compact.payload()) else {
        return Ok(None);
    };
    if claims.exp <= now {
        return Ok(None);
    }
    claims.iat = now;
    sign::sign_badge(&claims, key).map(Some)
}
