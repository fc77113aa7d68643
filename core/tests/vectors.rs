//! Runs every golden vector in `testdata/vectors/` through trustmark-core, and checks
//! the committed vectors are exactly what the generator produces.

#[path = "common/vectors_gen.rs"]
mod vectors_gen;

use serde_json::Value;
use std::path::{Path, PathBuf};
use trustmark_core::jws::Compact;
use trustmark_core::statement::{self, StatementError};
use trustmark_core::status::{StatusList, StatusListJson};
use trustmark_core::verify::{verify_status_list, StatusListProblem};
use trustmark_core::{origin, Catalogue, Jwks, KeyError, OriginPolicy, PublicKey, Verifier};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vectors() -> PathBuf {
    root().join("testdata/vectors")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

#[test]
fn committed_vectors_match_the_generator() {
    for (path, contents) in vectors_gen::generate() {
        let on_disk = read(&root().join(&path));
        assert!(
            on_disk == contents,
            "{path} differs from the generator output; rerun gen_vectors"
        );
    }
}

fn status_problem_code(p: &StatusListProblem) -> &'static str {
    match p {
        StatusListProblem::Token(trustmark_core::jws::TypedError::WrongType { .. }) => "wrong_type",
        StatusListProblem::UnknownKey | StatusListProblem::WithdrawnKey => "unknown_key",
        StatusListProblem::BadSignature => "bad_signature",
        StatusListProblem::UntrustedIssuer => "untrusted_issuer",
        _ => "malformed",
    }
}

fn statement_code(e: &StatementError) -> &'static str {
    match e {
        StatementError::Token(trustmark_core::jws::TypedError::WrongType { .. }) => "wrong_type",
        StatementError::WrongKey => "wrong_key",
        StatementError::BadSignature => "bad_signature",
        StatementError::Freshness(trustmark_core::claims::FreshnessError::Stale) => "stale",
        StatementError::Freshness(trustmark_core::claims::FreshnessError::Future) => "future",
        StatementError::Freshness(trustmark_core::claims::FreshnessError::AuditedInFuture) => {
            "audited_in_future"
        }
        _ => "malformed",
    }
}

#[test]
fn every_case_gets_its_expected_result() {
    let dir = vectors();
    let manifest = json(&dir.join("cases.json"));
    let issuer = manifest["issuer"].as_str().unwrap();
    let default_at = manifest["at"].as_i64().unwrap();
    let jwks = Jwks::parse(read(&dir.join(manifest["jwks"].as_str().unwrap())).as_bytes()).unwrap();
    let auditor = manifest["auditor"].as_str().unwrap();
    let auditor_key = PublicKey::from_jwk_json(
        read(&dir.join(manifest["auditor_key"].as_str().unwrap())).as_bytes(),
    )
    .unwrap();
    let cases = manifest["cases"].as_array().unwrap();
    assert!(cases.len() > 60, "the vector set shrank to {}", cases.len());

    let mut failures = Vec::new();
    let mut per_kind = std::collections::BTreeMap::<&str, usize>::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        *per_kind.entry(case["kind"].as_str().unwrap()).or_default() += 1;
        let token = case["token"].as_str().unwrap();
        let at = case["at"].as_i64().unwrap_or(default_at);
        let want = case["expect"]["reason"].as_str().unwrap();
        let got: String = match case["kind"].as_str().unwrap() {
            "badge" => {
                let mut v =
                    Verifier::new(issuer, jwks.clone(), Catalogue::rcep_b2b_web_1().unwrap());
                for list in case["status_lists"].as_array().unwrap() {
                    let _ = v.add_status_list(read(&dir.join(list.as_str().unwrap())).trim());
                }
                let origin = case["origin"]
                    .as_str()
                    .map(|o| origin::canonicalize(o).unwrap());
                let policy = origin
                    .as_deref()
                    .map_or(OriginPolicy::Ignore, OriginPolicy::Require);
                let outcome = v.verify(token, policy, at);
                let verdict = serde_json::to_value(outcome.verdict()).unwrap();
                if verdict != case["expect"]["verdict"] {
                    failures.push(format!(
                        "{name}: verdict {verdict}, want {}",
                        case["expect"]["verdict"]
                    ));
                }
                outcome.reason.code().to_owned()
            }
            "status_list" => match verify_status_list(token, &jwks, issuer) {
                Ok(_) => "valid".into(),
                Err(p) => status_problem_code(&p).into(),
            },
            "audit_statement" => {
                match statement::verify_audit_statement(token, auditor, &auditor_key, at) {
                    Ok(_) => "valid".into(),
                    Err(e) => statement_code(&e).into(),
                }
            }
            "status_change" => {
                match statement::verify_status_change(token, auditor, &auditor_key, at) {
                    Ok(_) => "valid".into(),
                    Err(e) => statement_code(&e).into(),
                }
            }
            other => panic!("{name}: unknown kind {other}"),
        };
        if got != want {
            failures.push(format!("{name}: got {got}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Per kind too: losing every case of one kind must not hide behind the total.
    for (kind, floor) in [
        ("badge", 70),
        ("status_list", 4),
        ("audit_statement", 7),
        ("status_change", 5),
    ] {
        let n = per_kind.get(kind).copied().unwrap_or(0);
        assert!(
            n >= floor,
            "only {n} {kind} cases, expected at least {floor}"
        );
    }
}

#[test]
fn duplicate_member_vectors_hold_real_duplicates_in_valid_json() {
    // Otherwise they would only test "not JSON", which every parser refuses anyway.
    let manifest = json(&vectors().join("cases.json"));
    for name in ["duplicate-claim", "duplicate-header-member"] {
        let case = manifest["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap();
        let token = case["token"].as_str().unwrap();
        let part = if name == "duplicate-claim" { 1 } else { 0 };
        let bytes = trustmark_core::b64::decode(token.split('.').nth(part).unwrap()).unwrap();
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok(),
            "{name}: not valid JSON"
        );
        assert!(
            !trustmark_core::json_has_no_duplicates(&bytes),
            "{name}: no duplicate member"
        );
    }
}

#[test]
fn invalid_key_sets_are_refused_for_the_stated_reason() {
    let sets = json(&vectors().join("jwks/invalid.json"));
    let sets = sets.as_array().unwrap();
    assert!(sets.len() >= 6, "only {} invalid key sets", sets.len());
    for set in sets {
        let err = Jwks::parse(set["jwks"].to_string().as_bytes()).unwrap_err();
        let code = match err {
            KeyError::KidMismatch => "kid_mismatch",
            KeyError::WeakKey => "weak_key",
            KeyError::PrivateKeyInSet => "private_key_in_set",
            KeyError::DuplicateKid => "duplicate_kid",
            KeyError::NotEd25519 => "not_ed25519",
            KeyError::InvalidPoint => "invalid_point",
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(code, set["expect"].as_str().unwrap(), "{}", set["name"]);
    }
}

#[test]
fn token_status_list_draft_vectors_decode_exactly() {
    let file = json(&vectors().join("status-list-draft.json"));
    let all = file["vectors"].as_array().unwrap();
    assert_eq!(all.len(), 6);
    for v in all {
        let name = v["name"].as_str().unwrap();
        let bits = v["bits"].as_u64().unwrap() as u8;
        let list = StatusList::decode(&StatusListJson {
            bits,
            lst: v["lst"].as_str().unwrap().into(),
        })
        .unwrap();
        let size = v["size"].as_u64().unwrap() as usize;
        assert_eq!(list.len(), size, "{name}");
        let mut expected = vec![0u8; size];
        if let Some(statuses) = v["statuses"].as_array() {
            for (i, s) in statuses.iter().enumerate() {
                expected[i] = s.as_u64().unwrap() as u8;
            }
        }
        if let Some(nonzero) = v["nonzero"].as_array() {
            for pair in nonzero {
                expected[pair[0].as_u64().unwrap() as usize] = pair[1].as_u64().unwrap() as u8;
            }
        }
        let got: Vec<u8> = (0..size).map(|i| list.get(i).unwrap()).collect();
        assert!(got == expected, "{name}: decoded entries differ");
        assert_eq!(list.get(size), None, "{name}: one past the end");
        // Our own encoding of the same entries must decode back to the same list.
        assert_eq!(StatusList::decode(&list.encode()).unwrap(), list, "{name}");
    }
}

#[test]
fn rfc8037_appendix_a_at_the_jws_level() {
    let v = json(&vectors().join("rfc8037.json"));
    let key = PublicKey::from_jwk_json(v["public_jwk"].to_string().as_bytes()).unwrap();
    assert_eq!(key.kid(), v["thumbprint"].as_str().unwrap());
    let jws = v["jws"].as_str().unwrap();
    assert_eq!(
        Compact::parse(jws, 8192).unwrap_err(),
        trustmark_core::jws::JwsError::Payload,
        "badge-level parsing needs a JSON payload"
    );
    let compact = Compact::parse_opaque(jws, 8192).unwrap();
    assert_eq!(compact.payload(), v["payload"].as_str().unwrap().as_bytes());
    assert!(compact.verify(key.verifying_key()));
    // The same bytes with one payload letter changed must not verify.
    let forged = jws.replacen("IHNpZ25pbmc", "IFNpZ25pbmc", 1);
    assert!(!Compact::parse_opaque(&forged, 8192)
        .unwrap()
        .verify(key.verifying_key()));
    // Signing with the private key reproduces the RFC's signature (Ed25519 is deterministic).
    let private =
        trustmark_core::sign::SigningKey::from_jwk_json(v["private_jwk"].to_string().as_bytes())
            .unwrap();
    let input = jws.rsplit_once('.').unwrap().0;
    assert_eq!(
        trustmark_core::b64::encode(private.sign_bytes(input.as_bytes())),
        jws.rsplit_once('.').unwrap().1
    );
}

#[test]
fn no_single_character_change_of_a_valid_badge_verifies() {
    // Non-malleability: strict base64url, strict JSON and strict signatures together mean
    // the signed bytes are the only bytes that verify.
    let dir = vectors();
    let manifest = json(&dir.join("cases.json"));
    let case = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "valid")
        .unwrap();
    let token = case["token"].as_str().unwrap();
    let jwks = Jwks::parse(read(&dir.join("jwks/registry.json")).as_bytes()).unwrap();
    let mut v = Verifier::new(
        "https://registry.example",
        jwks,
        Catalogue::rcep_b2b_web_1().unwrap(),
    );
    v.add_status_list(read(&dir.join("statuslists/1.jwt")).trim())
        .unwrap();
    let at = manifest["at"].as_i64().unwrap();
    assert_eq!(
        v.verify(token, OriginPolicy::Ignore, at).reason,
        trustmark_core::Reason::Valid
    );
    let alphabet = b"AQgw-_+/=. ";
    for i in 0..token.len() {
        for &c in alphabet {
            if token.as_bytes()[i] == c {
                continue;
            }
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] = c;
            let mutated = String::from_utf8(bytes).unwrap();
            let outcome = v.verify(&mutated, OriginPolicy::Ignore, at);
            assert_ne!(
                outcome.reason,
                trustmark_core::Reason::Valid,
                "position {i} changed to {:?} still verifies",
                c as char
            );
        }
    }
}
