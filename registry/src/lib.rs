//! The TrustMark registry. Issuance, status and the HTTP service arrive with the
//! registry work; for now the crate fixes its place in the workspace and its
//! dependency direction (core only, never the CLI).

/// The scheme this registry issues badges for.
pub const SCHEME: &str = trustmark_core::claims::SCHEME;
