//! `serve --demo`: the example auditor from `keys-example/` and one live badge for the
//! registry's own origin, so a newcomer has something to look at and verify.

use crate::engine::{Command, CommandError};
use crate::http::AppState;
use std::collections::BTreeMap;
use trustmark_core::claims::{AuditStatementClaims, IndicatorValue, Org, SCHEME};
use trustmark_core::sign::{self, SigningKey};

/// The example auditor's id.
pub const AUDITOR: &str = "auditor-example";
const AUDITOR_KEY: &str = include_str!("../../keys-example/auditor.jwk");

/// A passing set of measurements.
fn values() -> BTreeMap<String, IndicatorValue> {
    [
        ("multilingual_parameter_deviation", 0.8),
        ("multilingual_metadata_consistency", 97.5),
        ("product_parameter_authenticity", 99.1),
        ("certificate_chain_validity", 100.0),
        ("certificate_link_response_time", 0.9),
        ("local_payment_redirect_success", 99.6),
        ("local_payment_redirect_timeouts", 2.0),
        ("tls_configuration", 1.0),
        ("business_identity_match", 1.0),
        ("contact_reachability", 95.0),
        ("site_availability", 99.92),
        ("data_protection_notice", 100.0),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), IndicatorValue { value: v }))
    .collect()
}

/// Why demo mode could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The bundled example auditor key does not load (a build defect).
    #[error("the example auditor key is invalid: {0}")]
    Key(trustmark_core::KeyError),
    /// The registry's own URL is not an origin a badge can name.
    #[error("the registry's URL is not a site origin: {0}")]
    Origin(trustmark_core::origin::OriginError),
    /// The store could not be read.
    #[error(transparent)]
    Read(#[from] crate::storage::ReadError),
    /// The example statement could not be signed.
    #[error("the example statement could not be signed: {0}")]
    Sign(#[from] sign::SignError),
    /// The example measurements do not pass the catalogue (a build defect).
    #[error("the example audit does not pass the catalogue")]
    Failing,
    /// The writer refused the example auditor or badge.
    #[error(transparent)]
    Command(#[from] CommandError),
}

/// Adds the example auditor (once) and, if the registry's origin has no badge yet,
/// issues one through the same path as `POST /api/v1/badges`.
pub async fn setup(state: &AppState) -> Result<(), DemoError> {
    let key = SigningKey::from_jwk_json(AUDITOR_KEY.as_bytes()).map_err(DemoError::Key)?;
    let jwk = key
        .public()
        .with_use(trustmark_core::KeyUse::Audit)
        .to_jwk_value();
    match state
        .storage
        .run(Command::AddAuditor {
            id: AUDITOR.into(),
            name: "Example Audit Lab (demo)".into(),
            jwk,
        })
        .await
    {
        Ok(_) | Err(CommandError::AuditorExists) => {}
        Err(e) => return Err(e.into()),
    }
    let origin = trustmark_core::origin::canonicalize(&state.issuer).map_err(DemoError::Origin)?;
    if !state.storage.badges_for_origin(&origin).await?.is_empty() {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let claims = AuditStatementClaims {
        iss: AUDITOR.into(),
        iat: now,
        jti: format!("demo-{now}"),
        sub: origin,
        aliases: vec![],
        org: Org {
            name: "TrustMark Demo Supplier Co., Ltd.".into(),
            country: "SG".into(),
            reg: None,
        },
        scheme: SCHEME.into(),
        audited_at: now,
        valid_days: 365,
        indicators: values(),
        report_uri: None,
        languages: Some(vec!["en".into(), "zh-Hans".into()]),
    };
    let statement = sign::sign_audit_statement(&claims, &key)?;
    let evaluation = state
        .catalogue
        .evaluate(&claims.values())
        .map_err(|_| DemoError::Failing)?;
    state
        .storage
        .run(Command::Issue {
            statement,
            claims: Box::new(claims),
            evaluation,
        })
        .await?;
    Ok(())
}
