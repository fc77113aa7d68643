//! Signing the status lists and keeping the served copies fresh.

use super::Engine;
use std::sync::{Arc, RwLock};
use trustmark_core::claims::StatusListClaims;
use trustmark_core::sign;

/// Seconds a verifier may cache a status list.
pub const LIST_TTL: u64 = 600;
/// A list is re-signed when older than this even without changes, so a cached copy is
/// always fresh for its ttl.
pub const LIST_RESIGN_AFTER: i64 = (LIST_TTL / 2) as i64;

/// A signed status list as served.
#[derive(Clone, Debug)]
pub struct SignedList {
    /// The token.
    pub token: String,
    /// Strong ETag (quoted).
    pub etag: String,
    /// `iat` of the token.
    pub iat: i64,
}

/// The signed lists, shared with the HTTP handlers (list n at index n-1).
pub type SignedLists = Arc<RwLock<Vec<Arc<SignedList>>>>;

/// The published JWKS as served, shared with the HTTP handlers.
pub type PublishedKeys = Arc<RwLock<Arc<str>>>;

impl Engine {
    pub(super) fn list_uri(&self, n: u32) -> String {
        format!("{}/statuslists/{n}", self.issuer)
    }

    /// Signs list `n` as of `now` and publishes it to the readers.
    pub(super) fn sign_list(&mut self, n: u32, now: i64) -> Result<(), sign::SignError> {
        let Some(state) = self.lists.get_mut(n) else {
            return Ok(());
        };
        let status_list = state.list.encode();
        let claims = StatusListClaims {
            iss: self.issuer.clone(),
            sub: self.list_uri(n),
            iat: now,
            exp: now + 2 * LIST_TTL as i64,
            ttl: LIST_TTL,
            status_list,
        };
        let token = sign::sign_status_list(&claims, &self.keys.status)?;
        let etag = format!(
            "\"{}\"",
            trustmark_core::statement::digest(&token)
                .get(..22)
                .unwrap_or_default()
        );
        let signed = Arc::new(SignedList {
            token,
            etag,
            iat: now,
        });
        if let Ok(mut all) = self.signed.write() {
            while all.len() < n as usize {
                all.push(signed.clone());
            }
            if let Some(slot) = (n as usize).checked_sub(1).and_then(|i| all.get_mut(i)) {
                *slot = signed;
            }
        }
        Ok(())
    }

    /// Re-signs lists whose signature is older than [`LIST_RESIGN_AFTER`].
    pub fn refresh_lists(&mut self, now: i64) {
        let stale: Vec<u32> = match self.signed.read() {
            Ok(all) => all
                .iter()
                .enumerate()
                .filter(|(_, s)| now - s.iat >= LIST_RESIGN_AFTER)
                .map(|(i, _)| i as u32 + 1)
                .collect(),
            Err(_) => return,
        };
        for n in stale {
            if let Err(e) = self.sign_list(n, now) {
                tracing::error!(list = n, error = %e, "status list re-signing failed");
            }
        }
    }

    /// Republishes the JWKS the key ring holds now.
    pub(super) fn republish_keys(&self) {
        if let Ok(mut p) = self.published.write() {
            *p = Arc::from(self.keys.published.to_json());
        }
    }
}
