//! Minting: signing keys and the four token types.
//!
//! The header is always exactly `{"alg":"EdDSA","typ":...,"kid":...}`; claims are
//! serialised by serde in declaration order, so the same inputs give the same token.

use crate::b64;
use crate::claims::{AuditStatementClaims, BadgeClaims, StatusChangeClaims, StatusListClaims};
use crate::jws::TokenType;
use crate::keys::{JwkJson, KeyError, PublicKey};
use ed25519_dalek::Signer;
use serde::Serialize;
use zeroize::Zeroizing;

/// An Ed25519 signing key. The seed is wiped on drop and never shown by `Debug`.
#[derive(Clone)]
pub struct SigningKey {
    inner: ed25519_dalek::SigningKey,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key from a 32-byte seed (RFC 8032 private key). Callers supply randomness.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let inner = ed25519_dalek::SigningKey::from_bytes(seed);
        let kid = crate::keys::thumbprint(inner.verifying_key().as_bytes());
        SigningKey { inner, kid }
    }

    /// Parses a private OKP JWK (`d` and `x`), checking that `x` belongs to `d` and
    /// that a `kid`, if present, is the thumbprint.
    pub fn from_jwk_json(bytes: &[u8]) -> Result<Self, KeyError> {
        if !crate::json::has_no_duplicate_members(bytes) {
            return Err(KeyError::Json);
        }
        let jwk: JwkJson = serde_json::from_slice(bytes).map_err(|_| KeyError::Json)?;
        let public = PublicKey::from_jwk(&jwk)?;
        let d = jwk.d.as_deref().ok_or(KeyError::PrivateKey)?;
        let seed = Zeroizing::new(b64::decode_array::<32>(d).ok_or(KeyError::PrivateKey)?);
        let key = Self::from_seed(&seed);
        if key.inner.verifying_key() != *public.verifying_key() {
            return Err(KeyError::PrivateKey);
        }
        Ok(key)
    }

    /// The private JWK as JSON text (zeroised when dropped). Write it with mode 0600.
    pub fn to_private_jwk_json(&self) -> Zeroizing<String> {
        let mut jwk = self.public().to_jwk();
        jwk.d = Some(b64::encode(self.inner.to_bytes()));
        Zeroizing::new(serde_json::to_string_pretty(&jwk).unwrap_or_default())
    }

    /// The public key (no use restriction, open window).
    pub fn public(&self) -> PublicKey {
        PublicKey::new(self.inner.verifying_key())
    }

    /// The key id (RFC 7638 thumbprint).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The Ed25519 key itself, for signed formats built outside this module (the log's
    /// notes: [`crate::log::note::sign`]).
    pub fn as_ed25519(&self) -> &ed25519_dalek::SigningKey {
        &self.inner
    }

    /// Signs arbitrary bytes (for callers building other signed formats).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.inner.sign(message).to_bytes()
    }
}

/// Why a token could not be minted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The claims did not serialise.
    #[error("the claims could not be serialised")]
    Serialize,
    /// The token would exceed the size cap of its type.
    #[error("the token would exceed {max} bytes")]
    TooLarge {
        /// The cap.
        max: usize,
    },
}

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs `claims` as a token of type `ty`.
pub fn sign_token<T: Serialize>(
    ty: TokenType,
    claims: &T,
    key: &SigningKey,
) -> Result<String, SignError> {
    let header = Header {
        alg: "EdDSA",
        typ: ty.typ(),
        kid: &key.kid,
    };
    let h = serde_json::to_vec(&header).map_err(|_| SignError::Serialize)?;
    let p = serde_json::to_vec(claims).map_err(|_| SignError::Serialize)?;
    let mut token = format!("{}.{}", b64::encode(h), b64::encode(p));
    let sig = key.sign_bytes(token.as_bytes());
    token.push('.');
    token.push_str(&b64::encode(sig));
    if token.len() > ty.max_len() {
        return Err(SignError::TooLarge { max: ty.max_len() });
    }
    Ok(token)
}

/// Mints a badge.
pub fn sign_badge(claims: &BadgeClaims, key: &SigningKey) -> Result<String, SignError> {
    sign_token(TokenType::Badge, claims, key)
}

/// Mints a status list token.
pub fn sign_status_list(claims: &StatusListClaims, key: &SigningKey) -> Result<String, SignError> {
    sign_token(TokenType::StatusList, claims, key)
}

/// Signs an audit statement.
pub fn sign_audit_statement(
    claims: &AuditStatementClaims,
    key: &SigningKey,
) -> Result<String, SignError> {
    sign_token(TokenType::AuditStatement, claims, key)
}

/// Signs a status change request.
pub fn sign_status_change(
    claims: &StatusChangeClaims,
    key: &SigningKey,
) -> Result<String, SignError> {
    sign_token(TokenType::StatusChange, claims, key)
}
