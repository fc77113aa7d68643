//! Every schema is valid JSON Schema 2020-12, and every example and golden vector
//! validates against the schema of its format (SPEC: schemas are the source of truth).

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use trustmark_core::jws::Compact;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(rel: &str) -> Value {
    let path = root().join(rel);
    serde_json::from_str(
        &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn validator(name: &str) -> jsonschema::Validator {
    let schema = load(&format!("schemas/{name}.schema.json"));
    assert!(
        jsonschema::meta::is_valid(&schema),
        "{name} is not a valid schema"
    );
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "{name}"
    );
    jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_valid(v: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

const SCHEMAS: [&str; 13] = [
    "audit-input",
    "badge-claims",
    "status-list-claims",
    "audit-statement",
    "status-change",
    "jwks",
    "verify-output",
    "verify-bulk-record",
    "indicator-catalogue",
    "scan-report",
    "log-entry",
    "log-verify-output",
    "log-monitor-output",
];

fn payload(token: &str) -> Result<Value, String> {
    let c = Compact::parse(token, 4 * 1024 * 1024).map_err(|e| e.to_string())?;
    serde_json::from_slice(c.payload()).map_err(|e| e.to_string())
}

#[test]
fn every_example_validates_against_its_schema() {
    for name in SCHEMAS {
        let v = validator(name);
        assert_valid(
            &v,
            &load(&format!("schemas/examples/{name}.example.json")),
            name,
        );
    }
    assert_valid(
        &validator("indicator-catalogue"),
        &load("schemas/indicators/rcep-b2b-web-1.json"),
        "the shipped catalogue",
    );
}

#[test]
fn schemas_reject_what_the_format_forbids() {
    let badge = validator("badge-claims");
    let example = load("schemas/examples/badge-claims.example.json");
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: Vec<Mutation> = vec![
        ("11 indicators", |b| {
            b["audit"]["ind"].as_array_mut().unwrap().pop();
        }),
        ("upper-case origin", |b| {
            b["sub"] = json!("https://WWW.supplier.example")
        }),
        ("http for a public host", |b| {
            b["sub"] = json!("http://supplier.example")
        }),
        ("jti of 41 characters", |b| b["jti"] = json!("a".repeat(41))),
        ("missing auditor", |b| {
            b.as_object_mut().unwrap().remove("auditor");
        }),
        ("score over 100", |b| b["audit"]["score"] = json!(101)),
    ];
    for (what, mutate) in mutations {
        let mut b = example.clone();
        mutate(&mut b);
        assert!(!badge.is_valid(&b), "badge schema accepted {what}");
    }
    let jwks = validator("jwks");
    let mut with_private = load("schemas/examples/jwks.example.json");
    with_private["keys"][0]["d"] = json!("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
    assert!(
        !jwks.is_valid(&with_private),
        "jwks schema accepted a private key"
    );
}

#[test]
fn the_audit_file_examples_fit_the_audit_file_schema() {
    let v = validator("audit-input");
    for name in ["audit-pass", "audit-fail"] {
        assert_valid(&v, &load(&format!("docs/examples/{name}.json")), name);
    }
    // A draft (null for what is not measured yet) is an audit file too: `audit sign`
    // refuses it by its nulls, not the schema.
    let mut draft = load("docs/examples/audit-pass.json");
    draft["indicators"]["contact_reachability"] = Value::Null;
    assert_valid(&v, &draft, "a draft");
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: Vec<Mutation> = vec![
        ("a misspelt member", |f| f["valid_day"] = json!(30)),
        ("an unknown indicator", |f| {
            f["indicators"]["tls"] = json!(1)
        }),
        ("a missing indicator", |f| {
            f["indicators"]
                .as_object_mut()
                .unwrap()
                .remove("tls_configuration");
        }),
        ("a value as text", |f| {
            f["indicators"]["tls_configuration"] = json!("1")
        }),
        ("a lowercase country", |f| {
            f["organisation"]["country"] = json!("cn")
        }),
        ("an audit date in words", |f| {
            f["audited_at"] = json!("20 November 2026")
        }),
        ("401 days", |f| f["valid_days"] = json!(401)),
        ("no organisation", |f| {
            f.as_object_mut().unwrap().remove("organisation");
        }),
    ];
    let pass = load("docs/examples/audit-pass.json");
    for (what, mutate) in mutations {
        let mut f = pass.clone();
        mutate(&mut f);
        assert!(!v.is_valid(&f), "the audit file schema accepted {what}");
    }
}

#[test]
fn every_vector_validates_against_the_schema_of_its_type() {
    let manifest = load("testdata/vectors/cases.json");
    let (badge, list, audit, change) = (
        validator("badge-claims"),
        validator("status-list-claims"),
        validator("audit-statement"),
        validator("status-change"),
    );
    let mut checked = 0;
    for case in manifest["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let reason = case["expect"]["reason"].as_str().unwrap();
        // Malformed and wrong-type tokens are exactly the ones whose payload need not fit.
        if reason == "malformed" || reason == "wrong_type" {
            continue;
        }
        // Every other case reaches a check past parsing, so its payload must parse: a
        // vector that silently stopped parsing would otherwise drop out of this test.
        let claims = payload(case["token"].as_str().unwrap())
            .unwrap_or_else(|e| panic!("{name} (expects {reason}): payload does not parse: {e}"));
        let v = match case["kind"].as_str().unwrap() {
            "badge" => &badge,
            "status_list" => &list,
            "audit_statement" => &audit,
            "status_change" => &change,
            other => panic!("{name}: kind {other}"),
        };
        assert_valid(v, &claims, name);
        checked += 1;
    }
    assert!(checked > 40, "only {checked} vectors checked");
    let mut lists = 0;
    for entry in std::fs::read_dir(root().join("testdata/vectors/statuslists")).unwrap() {
        let path = entry.unwrap().path();
        let claims = payload(std::fs::read_to_string(&path).unwrap().trim())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_valid(&list, &claims, &path.display().to_string());
        lists += 1;
    }
    assert!(lists >= 9, "only {lists} status list files checked");
    let jwks = validator("jwks");
    assert_valid(
        &jwks,
        &load("testdata/vectors/jwks/registry.json"),
        "registry JWKS",
    );
    assert_valid(
        &jwks,
        &json!({"keys": [load("testdata/vectors/jwks/auditor.json")]}),
        "auditor key",
    );
}

#[test]
fn openapi_copies_of_the_schemas_have_not_drifted() {
    // The OpenAPI document inlines the claim schemas (served over HTTP, relative file
    // references would not resolve); their shape must stay the files' shape.
    let openapi = load("registry/openapi.json");
    let names = |v: &Value, member: &str| -> Vec<String> {
        let mut n: Vec<String> = match &v[member] {
            Value::Array(a) => a.iter().map(|x| x.as_str().unwrap().to_owned()).collect(),
            Value::Object(o) => o.keys().cloned().collect(),
            _ => vec![],
        };
        n.sort();
        n
    };
    for (component, file) in [
        ("BadgeClaims", "badge-claims"),
        ("AuditStatementClaims", "audit-statement"),
        ("StatusChangeClaims", "status-change"),
        ("StatusListClaims", "status-list-claims"),
        ("Jwks", "jwks"),
    ] {
        let copy = &openapi["components"]["schemas"][component];
        let original = load(&format!("schemas/{file}.schema.json"));
        assert_eq!(
            names(copy, "required"),
            names(&original, "required"),
            "{component}: required"
        );
        assert_eq!(
            names(copy, "properties"),
            names(&original, "properties"),
            "{component}: properties"
        );
        assert_eq!(
            copy["additionalProperties"], original["additionalProperties"],
            "{component}: additionalProperties"
        );
        assert_eq!(
            copy["description"], original["description"],
            "{component}: description"
        );
    }
}
