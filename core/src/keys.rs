//! Ed25519 public keys as OKP JWKs (RFC 8037) with RFC 7638 thumbprints as `kid`.
//!
//! A key id is never taken on trust: it is recomputed from the key and a JWK whose `kid`
//! differs is refused, so a verifier's "which key signed this" lookup cannot be steered.
//! Keys also carry a validity window: a key only vouches for tokens issued (`iat`) inside
//! it, and a retired key stays published so what it signed still verifies.

use crate::b64;
use crate::jws::TokenType;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a key may sign (the `trustmark_use` JWK member).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyUse {
    /// Badges (`trustmark+jwt`).
    Badge,
    /// Status lists (`statuslist+jwt`).
    Status,
    /// An auditor's statements (`trustmark-audit+jwt`, `trustmark-status+jwt`).
    Audit,
}

impl KeyUse {
    /// Whether a key of this use may sign tokens of type `ty`.
    pub fn permits(self, ty: TokenType) -> bool {
        matches!(
            (self, ty),
            (KeyUse::Badge, TokenType::Badge)
                | (KeyUse::Status, TokenType::StatusList)
                | (
                    KeyUse::Audit,
                    TokenType::AuditStatement | TokenType::StatusChange
                )
        )
    }
}

/// Why a JWK or JWKS was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not JSON of the expected shape, or a duplicate member.
    #[error("not a JSON Web Key (set) of the expected shape")]
    Json,
    /// `kty` is not `OKP` or `crv` is not `Ed25519`.
    #[error("not an OKP Ed25519 key")]
    NotEd25519,
    /// `alg` is present and not `EdDSA`/`Ed25519`.
    #[error("the key's alg is not EdDSA")]
    Algorithm,
    /// `x` is not 32 bytes of canonical base64url holding a canonical curve point.
    #[error("the public key x is not a valid Ed25519 point")]
    InvalidPoint,
    /// The point has small order: it would let signatures verify for any message.
    #[error("the public key is a weak (small-order) point")]
    WeakKey,
    /// `kid` differs from the RFC 7638 thumbprint.
    #[error("the key id does not match the key's RFC 7638 thumbprint")]
    KidMismatch,
    /// A JWKS lists the same key id twice.
    #[error("the key set lists the same key id twice")]
    DuplicateKid,
    /// A JWKS contains a private key.
    #[error("the key set contains a private key (member d)")]
    PrivateKeyInSet,
    /// `valid_until` is before `valid_from`.
    #[error("the key's validity window ends before it starts")]
    Window,
    /// A JWKS with no key at all: it could only ever say "unknown key".
    #[error("the key set is empty")]
    Empty,
    /// The private key `d` is malformed or does not match `x`.
    #[error("the private key is malformed or does not match its public key")]
    PrivateKey,
    /// A JWKS lists a key id both among its keys and as withdrawn.
    #[error("the key set lists a key as both trusted and withdrawn")]
    WithdrawnAndTrusted,
}

/// The wire form of an OKP JWK, public and optionally private members.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct JwkJson {
    pub kty: String,
    pub crv: String,
    pub x: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trustmark_use: Option<KeyUse>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<i64>,
}

impl Drop for JwkJson {
    fn drop(&mut self) {
        if let Some(d) = self.d.as_mut() {
            zeroize::Zeroize::zeroize(d);
        }
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key: base64url(SHA-256 of the required
/// members in lexicographic order, no whitespace).
pub fn thumbprint(public: &[u8; 32]) -> String {
    let x = b64::encode(public);
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    b64::encode(Sha256::digest(canonical.as_bytes()))
}

/// A trusted Ed25519 public key with its id, use and validity window.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    kid: String,
    key: VerifyingKey,
    usage: Option<KeyUse>,
    valid_from: Option<i64>,
    valid_until: Option<i64>,
}

/// Decodes `x` into a verifying key, refusing non-canonical encodings and weak points.
fn verifying_key(x: &str) -> Result<VerifyingKey, KeyError> {
    let bytes: [u8; 32] = b64::decode_array(x).ok_or(KeyError::InvalidPoint)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::InvalidPoint)?;
    // Decompression accepts some non-canonical y encodings; only the canonical one is a key.
    if key.to_edwards().compress().to_bytes() != bytes {
        return Err(KeyError::InvalidPoint);
    }
    if key.is_weak() {
        return Err(KeyError::WeakKey);
    }
    Ok(key)
}

impl PublicKey {
    /// A key with no use restriction and an open validity window.
    pub fn new(key: VerifyingKey) -> Self {
        PublicKey {
            kid: thumbprint(key.as_bytes()),
            key,
            usage: None,
            valid_from: None,
            valid_until: None,
        }
    }

    /// Restricts the key to one use.
    pub fn with_use(mut self, usage: KeyUse) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the validity window (unix seconds, inclusive; `None` is open).
    pub fn with_window(mut self, from: Option<i64>, until: Option<i64>) -> Self {
        self.valid_from = from;
        self.valid_until = until;
        self
    }

    /// Parses one public JWK (a `d` member is ignored here; see [`Jwks::parse`]).
    pub fn from_jwk_json(bytes: &[u8]) -> Result<Self, KeyError> {
        if !crate::json::has_no_duplicate_members(bytes) {
            return Err(KeyError::Json);
        }
        let jwk: JwkJson = serde_json::from_slice(bytes).map_err(|_| KeyError::Json)?;
        Self::from_jwk(&jwk)
    }

    pub(crate) fn from_jwk(jwk: &JwkJson) -> Result<Self, KeyError> {
        if jwk.kty != "OKP" || jwk.crv != "Ed25519" {
            return Err(KeyError::NotEd25519);
        }
        if let Some(alg) = jwk.alg.as_deref() {
            if alg != "EdDSA" && alg != "Ed25519" {
                return Err(KeyError::Algorithm);
            }
        }
        let key = verifying_key(&jwk.x)?;
        let kid = thumbprint(key.as_bytes());
        if jwk.kid.as_deref().is_some_and(|k| k != kid) {
            return Err(KeyError::KidMismatch);
        }
        if let (Some(from), Some(until)) = (jwk.valid_from, jwk.valid_until) {
            if until < from {
                return Err(KeyError::Window);
            }
        }
        Ok(PublicKey {
            kid,
            key,
            usage: jwk.trustmark_use,
            valid_from: jwk.valid_from,
            valid_until: jwk.valid_until,
        })
    }

    pub(crate) fn to_jwk(&self) -> JwkJson {
        JwkJson {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            x: b64::encode(self.key.as_bytes()),
            d: None,
            kid: Some(self.kid.clone()),
            alg: Some("EdDSA".into()),
            use_: Some("sig".into()),
            trustmark_use: self.usage,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
        }
    }

    /// The public JWK as a JSON value (with `kid`, `alg`, `use` and TrustMark members).
    pub fn to_jwk_value(&self) -> serde_json::Value {
        serde_json::to_value(self.to_jwk()).unwrap_or(serde_json::Value::Null)
    }

    /// The RFC 7638 thumbprint, used as `kid`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The Ed25519 key.
    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Start of the validity window, if bounded.
    pub fn valid_from(&self) -> Option<i64> {
        self.valid_from
    }

    /// End of the validity window, if bounded (set when the key is retired).
    pub fn valid_until(&self) -> Option<i64> {
        self.valid_until
    }

    /// The declared use, if any.
    pub fn usage(&self) -> Option<KeyUse> {
        self.usage
    }

    /// Whether this key vouches for a token of type `ty` issued at `iat`.
    pub fn vouches_for(&self, ty: TokenType, iat: i64) -> bool {
        self.usage.is_none_or(|u| u.permits(ty))
            && self.valid_from.is_none_or(|f| iat >= f)
            && self.valid_until.is_none_or(|u| iat <= u)
    }
}

/// A key the registry withdrew (compromised): listed beside the key set, outside
/// `keys`, so that no JWKS consumer trusts it while ours can say why it is unknown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WithdrawnKey {
    /// The withdrawn key's id.
    pub kid: String,
    /// When it was withdrawn (unix seconds).
    pub withdrawn_at: i64,
}

/// A JSON Web Key Set of trusted Ed25519 keys, and the ids of withdrawn ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<PublicKey>,
    withdrawn: Vec<WithdrawnKey>,
}

#[derive(Deserialize)]
struct JwksJson {
    keys: Vec<JwkJson>,
    #[serde(default)]
    withdrawn: Vec<WithdrawnKey>,
}

impl Jwks {
    /// Parses a JWKS, refusing the whole set if any key is unacceptable: a set that is
    /// partly wrong is a sign of tampering or misconfiguration, not something to guess at.
    pub fn parse(bytes: &[u8]) -> Result<Self, KeyError> {
        if !crate::json::has_no_duplicate_members(bytes) {
            return Err(KeyError::Json);
        }
        let set: JwksJson = serde_json::from_slice(bytes).map_err(|_| KeyError::Json)?;
        if set.keys.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut keys: Vec<PublicKey> = Vec::with_capacity(set.keys.len());
        for jwk in &set.keys {
            if jwk.d.is_some() {
                return Err(KeyError::PrivateKeyInSet);
            }
            let key = PublicKey::from_jwk(jwk)?;
            if keys.iter().any(|k| k.kid == key.kid) {
                return Err(KeyError::DuplicateKid);
            }
            keys.push(key);
        }
        for (i, w) in set.withdrawn.iter().enumerate() {
            if !crate::claims::is_url_safe_id(&w.kid, 64) {
                return Err(KeyError::Json);
            }
            if keys.iter().any(|k| k.kid == w.kid) {
                return Err(KeyError::WithdrawnAndTrusted);
            }
            if set.withdrawn.iter().skip(i + 1).any(|o| o.kid == w.kid) {
                return Err(KeyError::DuplicateKid);
            }
        }
        Ok(Jwks {
            keys,
            withdrawn: set.withdrawn,
        })
    }

    /// A set from keys already parsed; later duplicates of a kid are dropped.
    pub fn from_keys(keys: impl IntoIterator<Item = PublicKey>) -> Self {
        Jwks::default().with_keys(keys)
    }

    /// The set with further keys added, keeping its withdrawn list; a key whose id is
    /// already present or withdrawn is dropped.
    pub fn with_keys(mut self, keys: impl IntoIterator<Item = PublicKey>) -> Self {
        for k in keys {
            if self.get(&k.kid).is_none() && !self.is_withdrawn(&k.kid) {
                self.keys.push(k);
            }
        }
        self
    }

    /// The key with this id.
    pub fn get(&self, kid: &str) -> Option<&PublicKey> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// All keys in set order.
    pub fn keys(&self) -> &[PublicKey] {
        &self.keys
    }

    /// The same withdrawn list with no trusted key: the start of a rebuilt set, so a
    /// withdrawal is never forgotten when the keys change.
    pub fn without_keys(&self) -> Jwks {
        Jwks {
            keys: Vec::new(),
            withdrawn: self.withdrawn.clone(),
        }
    }

    /// The withdrawn keys, oldest withdrawal first.
    pub fn withdrawn(&self) -> &[WithdrawnKey] {
        &self.withdrawn
    }

    /// Whether the key with this id was withdrawn.
    pub fn is_withdrawn(&self, kid: &str) -> bool {
        self.withdrawn.iter().any(|w| w.kid == kid)
    }

    /// The set with `kid` moved from the trusted keys to the withdrawn list (at `at`).
    /// A kid already withdrawn keeps its first withdrawal time.
    pub fn with_withdrawn(mut self, kid: &str, at: i64) -> Self {
        self.keys.retain(|k| k.kid != kid);
        if !self.is_withdrawn(kid) {
            self.withdrawn.push(WithdrawnKey {
                kid: kid.to_owned(),
                withdrawn_at: at,
            });
        }
        self
    }

    /// The set as JSON (`{"keys":[...]}`, plus `"withdrawn":[...]` when any key was).
    pub fn to_json(&self) -> String {
        let keys: Vec<JwkJson> = self.keys.iter().map(PublicKey::to_jwk).collect();
        if self.withdrawn.is_empty() {
            serde_json::json!({ "keys": keys }).to_string()
        } else {
            serde_json::json!({ "keys": keys, "withdrawn": self.withdrawn }).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    // Key acceptance rules: thumbprint binding, weak points, windows and uses.
    use super::*;

    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    #[test]
    fn thumbprint_matches_rfc8037_a3() {
        let x: [u8; 32] = b64::decode_array(RFC8037_X).unwrap();
        assert_eq!(
            thumbprint(&x),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn refuses_wrong_kid_weak_points_and_bad_curves() {
        let good = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}"#);
        assert!(PublicKey::from_jwk_json(good.as_bytes()).is_ok());
        let wrong_kid = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}","kid":"abc"}}"#);
        assert_eq!(
            PublicKey::from_jwk_json(wrong_kid.as_bytes()).unwrap_err(),
            KeyError::KidMismatch
        );
        // The identity point (0, 1) has order 1.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = format!(
            r#"{{"kty":"OKP","crv":"Ed25519","x":"{}"}}"#,
            b64::encode(identity)
        );
        assert_eq!(
            PublicKey::from_jwk_json(weak.as_bytes()).unwrap_err(),
            KeyError::WeakKey
        );
        let x448 = format!(r#"{{"kty":"OKP","crv":"X25519","x":"{RFC8037_X}"}}"#);
        assert_eq!(
            PublicKey::from_jwk_json(x448.as_bytes()).unwrap_err(),
            KeyError::NotEd25519
        );
    }

    #[test]
    fn windows_and_uses_limit_what_a_key_vouches_for() {
        let x: [u8; 32] = b64::decode_array(RFC8037_X).unwrap();
        let key = PublicKey::new(VerifyingKey::from_bytes(&x).unwrap())
            .with_use(KeyUse::Badge)
            .with_window(Some(100), Some(200));
        assert!(key.vouches_for(TokenType::Badge, 100));
        assert!(key.vouches_for(TokenType::Badge, 200));
        assert!(!key.vouches_for(TokenType::Badge, 99));
        assert!(!key.vouches_for(TokenType::Badge, 201));
        assert!(!key.vouches_for(TokenType::StatusList, 150));
    }

    #[test]
    fn jwks_refuses_duplicates_and_private_keys() {
        let k = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}"#);
        let dup = format!(r#"{{"keys":[{k},{k}]}}"#);
        assert_eq!(
            Jwks::parse(dup.as_bytes()).unwrap_err(),
            KeyError::DuplicateKid
        );
        let private = format!(
            r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}}]}}"#
        );
        assert_eq!(
            Jwks::parse(private.as_bytes()).unwrap_err(),
            KeyError::PrivateKeyInSet
        );
        assert_eq!(Jwks::parse(br#"{"keys":[]}"#).unwrap_err(), KeyError::Empty);
        let one = format!(r#"{{"keys":[{k}]}}"#);
        let set = Jwks::parse(one.as_bytes()).unwrap();
        let again = Jwks::parse(set.to_json().as_bytes()).unwrap();
        assert_eq!(set, again);
    }

    #[test]
    fn withdrawn_keys_are_listed_apart_and_never_trusted() {
        let k = format!(r#"{{"kty":"OKP","crv":"Ed25519","x":"{RFC8037_X}"}}"#);
        let kid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
        let other = "AAAAqmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k0";
        let set = Jwks::parse(format!(r#"{{"keys":[{k}]}}"#).as_bytes())
            .unwrap()
            .with_withdrawn(other, 50);
        let text = set.to_json();
        let again = Jwks::parse(text.as_bytes()).unwrap();
        assert_eq!(again, set);
        assert!(again.is_withdrawn(other) && again.get(other).is_none());
        assert!(again.get(kid).is_some() && !again.is_withdrawn(kid));
        // Withdrawing a trusted key removes it from the keys a consumer would use.
        let json: serde_json::Value =
            serde_json::from_str(&set.clone().with_keys([]).to_json()).unwrap();
        assert_eq!(json["withdrawn"][0]["kid"], other);
        let both = format!(r#"{{"keys":[{k}],"withdrawn":[{{"kid":"{kid}","withdrawn_at":1}}]}}"#);
        assert_eq!(
            Jwks::parse(both.as_bytes()).unwrap_err(),
            KeyError::WithdrawnAndTrusted
        );
        let dup = format!(
            r#"{{"keys":[{k}],"withdrawn":[{{"kid":"{other}","withdrawn_at":1}},{{"kid":"{other}","withdrawn_at":2}}]}}"#
        );
        assert_eq!(
            Jwks::parse(dup.as_bytes()).unwrap_err(),
            KeyError::DuplicateKid
        );
        // Re-adding a withdrawn key does not make it trusted again.
        let key = PublicKey::from_jwk_json(k.as_bytes()).unwrap();
        let gone = set.with_withdrawn(kid, 60).with_keys([key]);
        assert!(gone.get(kid).is_none() && gone.is_withdrawn(kid));
    }
}
