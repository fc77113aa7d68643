//! Signing the status lists and keeping the served copies fresh.

use super::Engine;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use trustmark_core::claims::StatusListClaims;
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::StatusList;

/// Seconds a verifier may cache a status list.
pub const LIST_TTL: u64 = 600;
/// A list is re-signed when older than this even without changes, so a cached copy is
/// always fresh for its ttl.
pub const LIST_RESIGN_AFTER: i64 = (LIST_TTL / 2) as i64;

/// How far ahead of the clock a list's `iat` may run: verifiers refuse a list dated more
/// than 60 s ahead of their own clock, and half of that leaves room for their skew.
pub const MAX_IAT_LEAD: i64 = 30;

/// When and how to date the next signature of a list last signed at `last`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IatWait {
    /// The `iat` to sign with.
    pub iat: i64,
    /// Seconds to wait first, so the `iat` is at most [`MAX_IAT_LEAD`] ahead when served.
    pub wait: u64,
}

/// The `iat` of a list's next signature: `now`, or one past the last when that is not
/// before `now`, so no two different signatures of a list (one per content change) ever
/// share an `iat` and a cache keyed on it always sees the newer one as newer. A burst of
/// changes to one list pushes the `iat` ahead of the clock; past [`MAX_IAT_LEAD`] the
/// signer waits for the clock. A lead far beyond what bursts make means the clock stepped
/// back (or a test runs on a made-up clock): then waiting could take hours, so it signs
/// at once and the list is dated ahead until the clock catches up.
pub fn list_iat(last: Option<i64>, now: i64) -> IatWait {
    let iat = match last {
        Some(last) if last >= now => last.saturating_add(1),
        _ => now,
    };
    let lead = iat.saturating_sub(now);
    let wait = if lead > MAX_IAT_LEAD && lead <= 2 * MAX_IAT_LEAD {
        (lead - MAX_IAT_LEAD) as u64
    } else {
        if lead > 2 * MAX_IAT_LEAD {
            tracing::warn!(
                lead,
                "a status list is dated ahead of the clock: did the clock step back?"
            );
        }
        0
    };
    IatWait { iat, wait }
}

/// Signs status list `n` of `issuer` holding `list`, dated `iat`.
pub fn sign_list_token(
    issuer: &str,
    n: u32,
    list: &StatusList,
    key: &SigningKey,
    iat: i64,
) -> Result<SignedList, sign::SignError> {
    let claims = StatusListClaims {
        iss: issuer.to_owned(),
        sub: format!("{issuer}/statuslists/{n}"),
        iat,
        exp: iat + 2 * LIST_TTL as i64,
        ttl: LIST_TTL,
        status_list: list.encode(),
    };
    let token = sign::sign_status_list(&claims, key)?;
    let etag = format!(
        "\"{}\"",
        trustmark_core::statement::digest(&token)
            .get(..22)
            .unwrap_or_default()
    );
    Ok(SignedList { token, etag, iat })
}

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
    /// Signs list `n` as of `now` (dated per [`list_iat`], waiting if a burst of changes
    /// ran its date too far ahead) and publishes it to the readers.
    pub(super) fn sign_list(&mut self, n: u32, now: i64) -> Result<(), sign::SignError> {
        let Some(state) = self.lists.get_mut(n) else {
            return Ok(());
        };
        let last = self.signed.read().ok().and_then(|all| {
            (n as usize)
                .checked_sub(1)
                .and_then(|i| all.get(i))
                .map(|s| s.iat)
        });
        let when = list_iat(last, now);
        if when.wait > 0 {
            std::thread::sleep(Duration::from_secs(when.wait));
        }
        let signed = Arc::new(sign_list_token(
            &self.issuer,
            n,
            &state.list,
            &self.keys.status,
            when.iat,
        )?);
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

#[cfg(test)]
mod tests {
    // The iat rule: never the same iat twice for one list, at most 30 s ahead after a
    // burst (by waiting), and no endless wait when the clock stepped back.
    use super::*;

    #[test]
    fn iat_moves_past_the_last_and_waits_past_the_lead() {
        assert_eq!(list_iat(None, 100), IatWait { iat: 100, wait: 0 });
        assert_eq!(list_iat(Some(90), 100), IatWait { iat: 100, wait: 0 });
        assert_eq!(list_iat(Some(100), 100), IatWait { iat: 101, wait: 0 });
        assert_eq!(list_iat(Some(129), 100), IatWait { iat: 130, wait: 0 });
        assert_eq!(list_iat(Some(130), 100), IatWait { iat: 131, wait: 1 });
        assert_eq!(list_iat(Some(159), 100), IatWait { iat: 160, wait: 30 });
        // A clock far behind the last iat: sign at once rather than wait for hours.
        assert_eq!(list_iat(Some(5000), 100), IatWait { iat: 5001, wait: 0 });
        // Signing many times in one second gives strictly increasing dates.
        let mut last = None;
        for _ in 0..10 {
            let next = list_iat(last, 100).iat;
            assert!(last.is_none_or(|l| next > l));
            last = Some(next);
        }
    }
}
