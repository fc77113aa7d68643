//! TrustMark badge credentials: formats and offline verification.
//!
//! This crate is the only code that knows the credential format. It does no I/O and
//! reads no clock: callers pass the time and every trusted input.
//!
//! ```
//! use trustmark_core::{Catalogue, Jwks, OriginPolicy, Reason, Verifier};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keys = Jwks::parse(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#)?;
//! let verifier = Verifier::new("https://registry.example", keys, Catalogue::rcep_b2b_web_1()?);
//! let outcome = verifier.verify("not-a-token", OriginPolicy::Require("https://supplier.example"), 1_800_000_000);
//! assert_eq!(outcome.reason, Reason::Malformed);
//! # Ok(()) }
//! ```
//!
//! A badge is valid only when every check passes: format, `typ`, key, signature, issuer,
//! time, origin and a fresh status list. Anything that could not be checked is
//! [`Verdict::Unknown`], never valid.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![warn(missing_docs)]

pub mod b64;
mod badge_json;
pub mod catalogue;
pub mod claims;
pub mod evidence;
mod json;
pub mod jws;
pub mod keys;
pub mod log;
pub mod origin;
#[cfg(feature = "sign")]
pub mod sign;
pub mod statement;
pub mod status;
pub mod verify;

pub use catalogue::{Catalogue, Evaluation, IndicatorProblems};
pub use claims::{AuditStatementClaims, BadgeClaims, StatusChangeClaims, StatusListClaims};
pub use jws::TokenType;
pub use keys::{Jwks, KeyError, KeyUse, PublicKey, WithdrawnKey};
pub use status::StatusList;
pub use verify::{OriginPolicy, Outcome, Reason, Verdict, Verifier};

/// Whether `bytes` is JSON with no duplicate object member at any depth.
pub fn json_has_no_duplicates(bytes: &[u8]) -> bool {
    json::has_no_duplicate_members(bytes)
}

/// The badge claims parser of the verify path, for the differential fuzz target that
/// holds it to serde's reading of the same bytes. Not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn fuzz_parse_badge_claims(payload: &[u8]) -> Result<BadgeClaims, claims::ClaimsError> {
    badge_json::parse(payload)
}
