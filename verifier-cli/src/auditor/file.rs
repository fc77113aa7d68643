//! The audit file (`schemas/audit-input.schema.json`): what an auditor writes, or
//! `trustmark scan --audit-draft` drafts, and `audit sign` turns into the claims of an
//! audit statement (SPEC 3.3).
//!
//! Checks run in a fixed order, each naming the field it is about by JSON pointer:
//! JSON syntax, the schema (shape and types, all problems at once), values not measured
//! yet (`null`), then the rules of `trustmark-core` that the registry applies (canonical
//! origins, organisation text, indicator ranges, statement form). What would make a
//! valid statement that the registry still refuses to turn into a badge (a failing
//! indicator, an audit whose validity has already ended) is returned for a warning, not
//! refused: the registry decides that, and its answer lists it the same way.

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use trustmark_core::catalogue::{Catalogue, Direction, Indicator};
use trustmark_core::claims::{
    self, AuditStatementClaims, ClaimsError, IndicatorValue, Org, SCHEME,
};
use trustmark_core::origin;

/// The audit file format, compiled into the binary so it always matches the code.
pub const SCHEMA_JSON: &str = include_str!("../../../schemas/audit-input.schema.json");
/// Largest audit file read; a real one is a few KiB.
pub const MAX_FILE: usize = 1024 * 1024;

/// One problem with one field of the audit file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// JSON pointer (RFC 6901) of the field, `""` for the whole file, or a flag name.
    pub pointer: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldProblem {
    fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        FieldProblem {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "(the file)"
        } else {
            &self.pointer
        };
        write!(f, "{at}: {}", crate::report::shown(&self.message))
    }
}

/// Why an audit file cannot become a statement.
#[derive(Debug, thiserror::Error)]
pub enum AuditFileError {
    /// Not JSON (serde_json's message names the line and column).
    #[error("not JSON: {0}")]
    Json(String),
    /// An object repeats a member; JSON parsers keep one of them silently.
    #[error("an object has the same member twice (one of them would be silently ignored)")]
    Duplicate,
    /// Fields that break the format or the rules, each named.
    #[error("not a valid audit file:{}", lines(.0))]
    Fields(Vec<FieldProblem>),
    /// Values that are `null` (a draft: indicators not measured yet, or an organisation
    /// the scan could not read), named by pointer.
    #[error("this is a draft: not every value has been filled in (null):{}", lines(.0))]
    NotMeasured(Vec<FieldProblem>),
    /// The built-in schema does not compile (a build defect).
    #[error("the built-in audit file schema is invalid")]
    Schema,
}

fn lines(problems: &[FieldProblem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

impl AuditFileError {
    /// What to do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            AuditFileError::Json(_) => {
                "check the JSON at that line (a missing comma, quote or bracket is the usual cause)"
            }
            AuditFileError::Duplicate => "keep each member once in its object",
            AuditFileError::Fields(_) => {
                "the format is schemas/audit-input.schema.json; docs/examples/audit-pass.json is a complete example"
            }
            AuditFileError::NotMeasured(_) => {
                "fill in each value the audit measured, as a plain number in the indicator's unit (and the organisation's legal name and country); a scan draft leaves these to the auditor"
            }
            AuditFileError::Schema => "this build of trustmark is broken; reinstall it",
        }
    }
}

/// The file as the schema describes it (the schema has already checked the shape).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditFile {
    /// Only for editors.
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    site: String,
    #[serde(default)]
    aliases: Vec<String>,
    organisation: Organisation,
    audited_at: Value,
    valid_days: u16,
    #[serde(default)]
    report_uri: Option<String>,
    #[serde(default)]
    languages: Option<Vec<String>>,
    indicators: BTreeMap<String, Option<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Organisation {
    /// `null` in a draft whose site did not say.
    name: Option<String>,
    /// `null` in a draft whose site did not say.
    country: Option<String>,
    #[serde(default)]
    registration: Option<String>,
}

/// A required indicator whose value misses its threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    /// The indicator id.
    pub id: String,
    /// The measured value.
    pub value: f64,
    /// The unit as written after a number (`%`, ` s`, ...).
    pub unit: &'static str,
    /// What passes, e.g. `at most 2%`.
    pub needs: String,
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/indicators/{}: {}{} (passing needs {})",
            self.id, self.value, self.unit, self.needs
        )
    }
}

/// An audit file turned into statement claims, with what the user should be told.
#[derive(Debug)]
pub struct Prepared {
    /// The claims to sign.
    pub claims: AuditStatementClaims,
    /// Required indicators that fail: the registry refuses to issue a badge for them.
    pub failing: Vec<Shortfall>,
    /// When the requested validity already ended (`audited_at + valid_days` is past):
    /// the registry refuses such a statement too.
    pub ended: Option<i64>,
    /// Inputs that were normalised: (pointer, as given, as signed).
    pub normalised: Vec<(String, String, String)>,
}

fn unit(ind: &Indicator) -> &'static str {
    match ind.unit.as_str() {
        "percent" => "%",
        "seconds" => " s",
        "per_1000" => " per 1,000",
        _ => "",
    }
}

/// What passes an indicator, in words: `exactly 100%`, `at most 1.2 s`, `at least 95%`.
pub fn needs(ind: &Indicator) -> String {
    let u = unit(ind);
    let t = ind.threshold;
    if ind.threshold == ind.best {
        format!("exactly {t}{u}")
    } else {
        match ind.direction {
            Direction::LowerIsBetter => format!("at most {t}{u}"),
            Direction::HigherIsBetter => format!("at least {t}{u}"),
        }
    }
}

/// RFC 6901 escaping of one pointer segment.
fn segment(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// The schema's problems, one per field, in a form people can act on.
fn schema_problems(value: &Value) -> Result<Vec<FieldProblem>, AuditFileError> {
    use jsonschema::error::ValidationErrorKind as Kind;
    let schema: Value = serde_json::from_str(SCHEMA_JSON).map_err(|_| AuditFileError::Schema)?;
    let validator = jsonschema::draft202012::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|_| AuditFileError::Schema)?;
    let mut problems = Vec::new();
    for error in validator.iter_errors(value) {
        let at = error.instance_path().as_str().to_owned();
        match error.kind() {
            Kind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                problems.push(FieldProblem::new(
                    format!("{at}/{}", segment(name)),
                    "missing (required)",
                ));
            }
            Kind::AdditionalProperties { unexpected } => {
                let what = if at == "/indicators" {
                    "not an indicator of rcep-b2b-web/1 (misspelt?)"
                } else {
                    "not a member of the audit file format (misspelt?)"
                };
                for name in unexpected {
                    problems.push(FieldProblem::new(format!("{at}/{}", segment(name)), what));
                }
            }
            Kind::Format { .. } | Kind::Pattern { .. } if at == "/audited_at" => {
                problems.push(FieldProblem::new(
                    at,
                    "not an RFC 3339 time (e.g. 2026-11-20T17:00:00+08:00) nor unix seconds",
                ))
            }
            Kind::Pattern { .. } if at == "/organisation/country" => {
                problems.push(FieldProblem::new(
                    at,
                    "must be an ISO 3166-1 alpha-2 code in capitals, e.g. CN or VN",
                ))
            }
            Kind::Pattern { .. } | Kind::MinLength { .. } if at.starts_with("/organisation/") => {
                problems.push(FieldProblem::new(
                    at,
                    "must be printable text, not blank (no control characters)",
                ))
            }
            // The schema's regular expression would mean nothing to the reader.
            Kind::Pattern { .. } => problems.push(FieldProblem::new(
                at,
                "does not have the form schemas/audit-input.schema.json requires",
            )),
            _ => problems.push(FieldProblem::new(at, error.to_string())),
        }
    }
    problems.dedup();
    Ok(problems)
}

/// Unix seconds from `audited_at`: an integer or an RFC 3339 string.
fn audited_at(value: &Value) -> Result<i64, FieldProblem> {
    let bad = |m: &str| FieldProblem::new("/audited_at", m);
    match value {
        Value::Number(n) => n
            .as_i64()
            .filter(|s| *s >= 0)
            .ok_or_else(|| bad("unix seconds are a whole number from 0")),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp())
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(|| bad("not an RFC 3339 time (e.g. 2026-11-20T17:00:00+08:00)")),
        _ => Err(bad("an RFC 3339 time or unix seconds")),
    }
}

/// Where in the audit file a claim that core refuses came from.
fn pointer_of(claim: &str) -> &'static str {
    match claim {
        "iss" => "--auditor",
        "sub" => "/site",
        "aliases" => "/aliases",
        "org.name" => "/organisation/name",
        "org.country" => "/organisation/country",
        "org.reg" => "/organisation/registration",
        "audited_at" => "/audited_at",
        "valid_days" => "/valid_days",
        "report_uri" => "/report_uri",
        "languages" => "/languages",
        _ => "",
    }
}

const TEXT_RULE: &str =
    "must not be blank, nor hold control, format (bidi, zero-width) or separator characters";

/// Reads an audit file and builds the claims of its statement: `iss` = `auditor`,
/// `iat` = `now`, `jti` = `jti`.
pub fn prepare(
    bytes: &[u8],
    auditor: &str,
    jti: String,
    now: i64,
    catalogue: &Catalogue,
) -> Result<Prepared, AuditFileError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| AuditFileError::Json(e.to_string()))?;
    if !trustmark_core::json_has_no_duplicates(bytes) {
        return Err(AuditFileError::Duplicate);
    }
    let problems = schema_problems(&value)?;
    if !problems.is_empty() {
        return Err(AuditFileError::Fields(problems));
    }
    let file: AuditFile = serde_json::from_value(value)
        .map_err(|e| AuditFileError::Fields(vec![FieldProblem::new("", e.to_string())]))?;

    // Nulls first: a draft is expected to have them, and they are its only problem.
    let mut not_measured: Vec<FieldProblem> = Vec::new();
    if file.organisation.name.is_none() {
        not_measured.push(FieldProblem::new(
            "/organisation/name",
            "the legal name, as in the business register",
        ));
    }
    if file.organisation.country.is_none() {
        not_measured.push(FieldProblem::new(
            "/organisation/country",
            "ISO 3166-1 alpha-2 code of the registration country",
        ));
    }
    not_measured.extend(
        catalogue
            .indicators
            .iter()
            .filter(|i| matches!(file.indicators.get(&i.id), Some(None)))
            .map(|i| {
                FieldProblem::new(
                    format!("/indicators/{}", i.id),
                    format!("{} ({})", i.name, i.unit),
                )
            }),
    );
    if !not_measured.is_empty() {
        return Err(AuditFileError::NotMeasured(not_measured));
    }

    let mut problems = Vec::new();
    let mut normalised = Vec::new();
    let mut canonical = |pointer: String, given: &str, problems: &mut Vec<FieldProblem>| {
        match origin::canonicalize(given) {
            Ok(c) => {
                if c != given {
                    normalised.push((pointer, given.to_owned(), c.clone()));
                }
                Some(c)
            }
            Err(e) => {
                problems.push(FieldProblem::new(
                    pointer,
                    format!("not a site origin: {e}"),
                ));
                None
            }
        }
    };
    let sub = canonical("/site".into(), &file.site, &mut problems);
    let mut aliases: Vec<String> = Vec::new();
    for (i, given) in file.aliases.iter().enumerate() {
        let pointer = format!("/aliases/{i}");
        let Some(alias) = canonical(pointer.clone(), given, &mut problems) else {
            continue;
        };
        if sub.as_deref() == Some(alias.as_str()) {
            problems.push(FieldProblem::new(
                pointer,
                format!("{alias} is the site itself (/site)"),
            ));
        } else if let Some(j) = aliases.iter().position(|a| *a == alias) {
            problems.push(FieldProblem::new(
                pointer,
                format!("{alias} is already /aliases/{j}"),
            ));
        }
        aliases.push(alias);
    }

    let org = &file.organisation;
    let (Some(org_name), Some(org_country)) = (&org.name, &org.country) else {
        return Err(AuditFileError::Schema);
    };
    if !claims::is_display_text(org_name, 200) {
        problems.push(FieldProblem::new(
            "/organisation/name",
            format!("1-200 characters; {TEXT_RULE}"),
        ));
    }
    if let Some(reg) = &org.registration {
        if !claims::is_display_text(reg, 100) {
            problems.push(FieldProblem::new(
                "/organisation/registration",
                format!("1-100 characters; {TEXT_RULE}"),
            ));
        }
    }

    let at = match audited_at(&file.audited_at) {
        Ok(at) if at > now => {
            problems.push(FieldProblem::new(
                "/audited_at",
                format!(
                    "{} is in the future: the audit window must have ended before its statement is signed (or this machine's clock is wrong)",
                    crate::time::rfc3339(at)
                ),
            ));
            None
        }
        Ok(at) => Some(at),
        Err(p) => {
            problems.push(p);
            None
        }
    };

    if let Some(uri) = &file.report_uri {
        if !claims::is_issuer_url(uri) {
            problems.push(FieldProblem::new(
                "/report_uri",
                "an https URL with a lowercase host and no default port, query, fragment or trailing slash",
            ));
        }
    }

    let values: BTreeMap<String, f64> = file
        .indicators
        .iter()
        .filter_map(|(k, v)| v.map(|v| (k.clone(), v)))
        .collect();
    let mut failing = Vec::new();
    if let Err(found) = catalogue.evaluate(&values) {
        for id in &found.missing {
            problems.push(FieldProblem::new(
                format!("/indicators/{id}"),
                "missing (required)",
            ));
        }
        for id in &found.unknown {
            problems.push(FieldProblem::new(
                format!("/indicators/{}", segment(id)),
                "not an indicator of rcep-b2b-web/1",
            ));
        }
        for ind in &catalogue.indicators {
            let Some(&v) = values.get(&ind.id) else {
                continue;
            };
            if found.out_of_range.contains(&ind.id) {
                problems.push(FieldProblem::new(
                    format!("/indicators/{}", ind.id),
                    format!(
                        "{v} is outside the range of {} values, {} to {}{}",
                        ind.unit,
                        ind.min,
                        ind.max,
                        unit(ind)
                    ),
                ));
            } else if found.failing.contains(&ind.id) {
                failing.push(Shortfall {
                    id: ind.id.clone(),
                    value: v,
                    unit: unit(ind),
                    needs: needs(ind),
                });
            }
        }
    }

    let (Some(sub), Some(audited_at), true) = (sub, at, problems.is_empty()) else {
        return Err(AuditFileError::Fields(problems));
    };
    let claims = AuditStatementClaims {
        iss: auditor.to_owned(),
        iat: now,
        jti,
        sub,
        aliases,
        org: Org {
            name: org_name.clone(),
            country: org_country.clone(),
            reg: org.registration.clone(),
        },
        scheme: SCHEME.to_owned(),
        audited_at,
        valid_days: file.valid_days,
        indicators: values
            .into_iter()
            .map(|(k, value)| (k, IndicatorValue { value }))
            .collect(),
        report_uri: file.report_uri,
        languages: file.languages,
    };
    // The same form check the registry runs: anything the checks above missed is caught
    // here, named by the field it came from, rather than by the registry after sending.
    if let Err(e) = claims.validate() {
        let (pointer, message) = match e {
            ClaimsError::Invalid(claim) => (
                pointer_of(claim),
                format!("the {claim} claim made from it is invalid (docs/spec/audit-statement.md)"),
            ),
            _ => ("", e.to_string()),
        };
        return Err(AuditFileError::Fields(vec![FieldProblem::new(
            pointer, message,
        )]));
    }
    let end = audited_at.saturating_add(i64::from(claims.valid_days) * 86_400);
    Ok(Prepared {
        claims,
        failing,
        ended: (end <= now).then_some(end),
        normalised,
    })
}

#[cfg(test)]
mod tests {
    // The audit file → claims mapping, and that every refusal names its field.
    use super::*;
    use serde_json::json;

    /// 2026-12-01T00:00:00Z: after the examples' audits, inside their validity.
    const NOW: i64 = 1_796_083_200;

    fn catalogue() -> Catalogue {
        Catalogue::rcep_b2b_web_1().unwrap()
    }

    fn example(name: &str) -> Value {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/examples/").to_owned() + name;
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn prepare_value(v: &Value) -> Result<Prepared, AuditFileError> {
        prepare(
            v.to_string().as_bytes(),
            "apac-trust-audit",
            "jti-1".into(),
            NOW,
            &catalogue(),
        )
    }

    /// The problems of a file that must be refused, as `pointer: message` lines.
    fn refused(v: &Value) -> Vec<FieldProblem> {
        match prepare_value(v) {
            Err(AuditFileError::Fields(p)) | Err(AuditFileError::NotMeasured(p)) => p,
            other => panic!("not refused by field: {other:?}"),
        }
    }

    #[test]
    fn the_passing_example_maps_onto_the_statement_claims() {
        let p = prepare_value(&example("audit-pass.json")).unwrap();
        let c = &p.claims;
        assert_eq!(
            (c.iss.as_str(), c.iat, c.jti.as_str()),
            ("apac-trust-audit", NOW, "jti-1")
        );
        assert_eq!(c.sub, "https://www.supplier.example");
        assert_eq!(c.aliases, ["https://supplier.example"]);
        assert_eq!(c.org.name, "Shenzhen Example Electronics Co., Ltd.");
        assert_eq!(c.org.country, "CN");
        assert_eq!(c.org.reg.as_deref(), Some("91440300MA5EXAMP1X"));
        assert_eq!(c.scheme, "rcep-b2b-web/1");
        // 2026-11-20T17:00:00+08:00
        assert_eq!(c.audited_at, 1_795_165_200);
        assert_eq!(c.valid_days, 365);
        assert_eq!(
            c.report_uri.as_deref(),
            Some("https://audit.example/reports/2026/SZEE-1120")
        );
        assert_eq!(
            c.languages.as_deref(),
            Some(&["en", "zh-Hans", "vi", "th"].map(String::from)[..])
        );
        assert_eq!(c.indicators.len(), 12);
        assert_eq!(c.indicators["certificate_link_response_time"].value, 0.85);
        assert_eq!(c.indicators["tls_configuration"].value, 1.0);
        assert!(p.failing.is_empty() && p.ended.is_none() && p.normalised.is_empty());
        // What the registry will check passes too.
        c.validate().unwrap();
        assert!(catalogue().evaluate(&c.values()).is_ok());
    }

    #[test]
    fn the_failing_example_is_signed_with_its_shortfalls_listed() {
        let p = prepare_value(&example("audit-fail.json")).unwrap();
        // A bare domain becomes its https origin, and the change is reported.
        assert_eq!(p.claims.sub, "https://www.mekong-export.example");
        assert_eq!(
            p.normalised,
            [(
                "/site".to_owned(),
                "www.mekong-export.example".to_owned(),
                "https://www.mekong-export.example".to_owned()
            )]
        );
        assert_eq!(p.claims.audited_at, 1_795_165_200, "unix seconds as given");
        let lines: Vec<String> = p.failing.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "/indicators/multilingual_parameter_deviation: 4.8% (passing needs at most 2%)",
                "/indicators/tls_configuration: 0 (passing needs exactly 1)",
                "/indicators/data_protection_notice: 75% (passing needs exactly 100%)",
            ]
        );
        // Exactly what the registry would list as failing.
        let ids: Vec<&str> = p.failing.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            catalogue()
                .evaluate(&p.claims.values())
                .unwrap_err()
                .failing,
            ids
        );
    }

    #[test]
    fn schema_problems_name_every_field_at_once() {
        let mut v = example("audit-pass.json");
        v.as_object_mut().unwrap().remove("site");
        v["valid_day"] = json!(30);
        v["valid_days"] = json!("365");
        v["organisation"]["country"] = json!("cn");
        v["audited_at"] = json!("20 November 2026");
        v["indicators"]["tls"] = json!(1);
        v["indicators"]
            .as_object_mut()
            .unwrap()
            .remove("site_availability");
        v["indicators"]["contact_reachability"] = json!("91.7");
        let problems = refused(&v);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        let has = |pointer: &str, words: &str| {
            assert!(
                problems
                    .iter()
                    .any(|p| p.pointer == pointer && p.message.contains(words)),
                "no {pointer} ~ {words}: {text:#?}"
            )
        };
        has("/site", "missing");
        has("/valid_day", "not a member");
        has("/valid_days", "integer");
        has("/organisation/country", "ISO 3166-1 alpha-2");
        has("/audited_at", "RFC 3339");
        has("/indicators/tls", "not an indicator");
        has("/indicators/site_availability", "missing");
        has("/indicators/contact_reachability", "number");
    }

    #[test]
    fn nulls_are_refused_naming_each_unmeasured_indicator() {
        let mut v = example("audit-pass.json");
        v["indicators"]["product_parameter_authenticity"] = Value::Null;
        v["indicators"]["site_availability"] = Value::Null;
        // A draft with nulls fits the schema: the nulls are its only problem.
        let err = prepare_value(&v).unwrap_err();
        assert!(matches!(err, AuditFileError::NotMeasured(_)), "{err:?}");
        assert_eq!(
            err.to_string(),
            "this is a draft: not every value has been filled in (null):\n  /indicators/product_parameter_authenticity: Product parameter authenticity (percent)\n  /indicators/site_availability: Site availability (percent)"
        );
    }

    #[test]
    fn a_draft_without_its_organisation_names_those_nulls_too() {
        let mut v = example("audit-pass.json");
        v["organisation"]["name"] = Value::Null;
        v["organisation"]["country"] = Value::Null;
        v["indicators"]["business_identity_match"] = Value::Null;
        let err = prepare_value(&v).unwrap_err();
        let AuditFileError::NotMeasured(problems) = &err else {
            panic!("{err:?}")
        };
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/organisation/name",
                "/organisation/country",
                "/indicators/business_identity_match"
            ]
        );
    }

    #[test]
    fn core_rules_are_applied_and_named() {
        type Case = (&'static str, fn(&mut Value), &'static str);
        let cases: Vec<Case> = vec![
            (
                "/site",
                |v| v["site"] = json!("http://supplier.example"),
                "use https",
            ),
            (
                "/site",
                |v| v["site"] = json!("https://user@supplier.example"),
                "user name",
            ),
            (
                "/aliases/0",
                |v| v["aliases"] = json!(["WWW.Supplier.example"]),
                "the site itself",
            ),
            (
                "/aliases/1",
                |v| v["aliases"] = json!(["supplier.example", "https://SUPPLIER.example/"]),
                "already /aliases/0",
            ),
            (
                "/organisation/name",
                |v| v["organisation"]["name"] = json!("Example\u{202e}Co"),
                "format",
            ),
            (
                "/organisation/registration",
                |v| v["organisation"]["registration"] = json!("12\u{200b}34"),
                "format",
            ),
            (
                "/audited_at",
                |v| v["audited_at"] = json!(NOW + 3600),
                "in the future",
            ),
            ("/audited_at", |v| v["audited_at"] = json!(-5), ""),
            (
                "/report_uri",
                |v| v["report_uri"] = json!("https://Audit.example/r/"),
                "trailing slash",
            ),
            (
                "/indicators/site_availability",
                |v| v["indicators"]["site_availability"] = json!(100.5),
                "outside the range of percent values, 0 to 100%",
            ),
            (
                "/indicators/tls_configuration",
                |v| v["indicators"]["tls_configuration"] = json!(2),
                "0 to 1",
            ),
            ("/valid_days", |v| v["valid_days"] = json!(401), ""),
            ("/languages/0", |v| v["languages"] = json!(["english!"]), ""),
        ];
        for (pointer, mutate, words) in cases {
            let mut v = example("audit-pass.json");
            mutate(&mut v);
            let problems = refused(&v);
            assert!(
                problems
                    .iter()
                    .any(|p| p.pointer == pointer && p.message.contains(words)),
                "{pointer} ~ {words}: {problems:?}"
            );
        }
    }

    #[test]
    fn site_input_is_canonicalised_like_verify_origin() {
        let mut v = example("audit-pass.json");
        v["site"] = json!("https://WWW.Supplier.example:443/en/products");
        v["aliases"] = json!(["bücher.example"]);
        let p = prepare_value(&v).unwrap();
        assert_eq!(p.claims.sub, "https://www.supplier.example");
        assert_eq!(p.claims.aliases, ["https://xn--bcher-kva.example"]);
        assert_eq!(p.normalised.len(), 2);
    }

    #[test]
    fn an_audit_whose_validity_has_ended_is_flagged_not_refused() {
        let mut v = example("audit-pass.json");
        v["valid_days"] = json!(5);
        let p = prepare_value(&v).unwrap();
        assert_eq!(p.ended, Some(1_795_165_200 + 5 * 86_400));
    }

    #[test]
    fn not_json_and_repeated_members_are_refused_before_the_schema() {
        let cat = catalogue();
        let err = prepare(b"{\"site\": \"x\",}", "a", "j".into(), NOW, &cat).unwrap_err();
        assert!(
            matches!(&err, AuditFileError::Json(m) if m.contains("line 1")),
            "{err:?}"
        );
        let text = example("audit-pass.json").to_string().replacen(
            "\"valid_days\":365",
            "\"valid_days\":365,\"valid_days\":400",
            1,
        );
        assert!(matches!(
            prepare(text.as_bytes(), "a", "j".into(), NOW, &cat),
            Err(AuditFileError::Duplicate)
        ));
    }

    #[test]
    fn the_schema_lists_the_catalogue_ids_in_catalogue_order() {
        let schema: Value = serde_json::from_str(SCHEMA_JSON).unwrap();
        let ids: Vec<&str> = schema["properties"]["indicators"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let want: Vec<String> = catalogue().indicators.into_iter().map(|i| i.id).collect();
        assert_eq!(ids, want);
        let described: Vec<&String> = schema["properties"]["indicators"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(described.len(), 12);
    }
}
