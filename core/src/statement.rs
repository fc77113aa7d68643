//! Auditor statements: audit statements (`trustmark-audit+jwt`) and status change
//! requests (`trustmark-status+jwt`), verified against the auditor's accredited key.
//!
//! Replay protection (remembering `jti`) needs state and belongs to the registry; what
//! can be decided from the token, the key and the time is decided here.

use crate::claims::{self, AuditStatementClaims, ClaimsError, FreshnessError, StatusChangeClaims};
use crate::jws::{self, TokenType, TypedError};
use crate::keys::PublicKey;
use sha2::{Digest, Sha256};

/// Why an auditor statement was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StatementError {
    /// Not a well-formed JWS of the expected type.
    #[error(transparent)]
    Token(#[from] TypedError),
    /// The `kid` is not the auditor's key, or the key does not vouch for it.
    #[error("the statement is not signed with the auditor's accredited key")]
    WrongKey,
    /// The signature does not verify.
    #[error("the statement's signature does not verify")]
    BadSignature,
    /// The claims are missing or invalid.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// `iss` is not the auditor the key belongs to.
    #[error("the statement's iss is not the auditor")]
    WrongIssuer,
    /// Too old or dated in the future.
    #[error(transparent)]
    Freshness(#[from] FreshnessError),
}

fn verify_signed<T: serde::de::DeserializeOwned>(
    token: &str,
    ty: TokenType,
    key: &PublicKey,
    iat_of: impl Fn(&T) -> i64,
) -> Result<T, StatementError> {
    let compact = jws::parse_typed(token, ty)?;
    let claims: T = claims::from_payload(compact.payload())?;
    if compact.header().kid.as_deref() != Some(key.kid()) || !key.vouches_for(ty, iat_of(&claims)) {
        return Err(StatementError::WrongKey);
    }
    if !compact.verify(key.verifying_key()) {
        return Err(StatementError::BadSignature);
    }
    Ok(claims)
}

/// Verifies an audit statement from `auditor` (its id) signed with `key`, at `now`.
/// Indicator values are not judged here: see [`crate::Catalogue::evaluate`].
pub fn verify_audit_statement(
    token: &str,
    auditor: &str,
    key: &PublicKey,
    now: i64,
) -> Result<AuditStatementClaims, StatementError> {
    let claims: AuditStatementClaims = verify_signed(
        token,
        TokenType::AuditStatement,
        key,
        |c: &AuditStatementClaims| c.iat,
    )?;
    claims.validate()?;
    if claims.iss != auditor {
        return Err(StatementError::WrongIssuer);
    }
    claims::check_fresh(claims.iat, now)?;
    if claims.audited_at > now {
        return Err(FreshnessError::AuditedInFuture.into());
    }
    Ok(claims)
}

/// Verifies a status change request from `auditor` signed with `key`, at `now`.
pub fn verify_status_change(
    token: &str,
    auditor: &str,
    key: &PublicKey,
    now: i64,
) -> Result<StatusChangeClaims, StatementError> {
    let claims: StatusChangeClaims = verify_signed(
        token,
        TokenType::StatusChange,
        key,
        |c: &StatusChangeClaims| c.iat,
    )?;
    claims.validate()?;
    if claims.iss != auditor {
        return Err(StatementError::WrongIssuer);
    }
    claims::check_fresh(claims.iat, now)?;
    Ok(claims)
}

/// Reads the `iss` (auditor id) of a statement without trusting it, to find the key.
pub fn claimed_auditor(token: &str, ty: TokenType) -> Option<String> {
    jws::unverified_string_claim(token, ty, "iss")
}

/// `audit.digest`: base64url SHA-256 of the statement's exact bytes.
pub fn digest(token: &str) -> String {
    crate::b64::encode(Sha256::digest(token.as_bytes()))
}
