// The writer's rules, driven through `execute` with chosen times: batches see their own
// earlier changes, operator suspensions bind auditors, refused requests cannot be
// replayed, key withdrawal re-signs, lists are re-signed as they age.
use super::*;
use crate::event::{Actor, BadgeStatus};
use trustmark_core::claims::{Action, AuditStatementClaims, IndicatorValue, Org, SCHEME};
use trustmark_core::sign::SigningKey;
use trustmark_core::{Catalogue, Jwks, KeyUse, OriginPolicy, Reason, Verifier};

pub(super) const ISSUER: &str = "https://registry.example";
pub(super) const T: i64 = 1_800_000_000;

pub(super) fn engine(name: &str, demo: bool) -> (Engine, PathBuf) {
    let data = std::env::temp_dir().join(format!("tm-engine-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    (Engine::open(&data, ISSUER, T, demo).unwrap(), data)
}

pub(super) fn lab() -> SigningKey {
    SigningKey::from_seed(&[11; 32])
}

pub(super) fn add(id: &str, key: &SigningKey) -> Command {
    Command::AddAuditor {
        id: id.into(),
        name: format!("{id} Lab"),
        jwk: key.public().with_use(KeyUse::Audit).to_jwk_value(),
    }
}

pub(super) fn issue(auditor: &str, key: &SigningKey, jti: &str, now: i64) -> Command {
    let catalogue = Catalogue::rcep_b2b_web_1().unwrap();
    let claims = AuditStatementClaims {
        iss: auditor.into(),
        iat: now,
        jti: jti.into(),
        sub: "https://supplier.example".into(),
        aliases: vec![],
        org: Org {
            name: "Example Co.".into(),
            country: "TH".into(),
            reg: None,
        },
        scheme: SCHEME.into(),
        audited_at: now - 100,
        valid_days: 30,
        indicators: catalogue
            .indicators
            .iter()
            .map(|i| (i.id.clone(), IndicatorValue { value: i.best }))
            .collect(),
        report_uri: None,
        languages: None,
    };
    let evaluation = catalogue.evaluate(&claims.values()).unwrap();
    Command::Issue {
        statement: trustmark_core::sign::sign_audit_statement(&claims, key).unwrap(),
        claims: Box::new(claims),
        evaluation,
    }
}

pub(super) fn change(
    badge: &str,
    action: Action,
    by: Actor,
    request: Option<(&str, i64)>,
) -> Command {
    Command::ChangeStatus {
        badge: badge.into(),
        action,
        reason: "test".into(),
        by,
        request: request.map(|(jti, iat)| RequestId {
            jti: jti.into(),
            iat,
        }),
    }
}

fn auditor_change(badge: &str, action: Action, jti: &str, iat: i64) -> Command {
    change(
        badge,
        action,
        Actor::Auditor("lab".into()),
        Some((jti, iat)),
    )
}

pub(super) fn operator_change(badge: &str, action: Action) -> Command {
    change(badge, action, Actor::Operator, None)
}

pub(super) fn one(engine: &mut Engine, command: Command, now: i64) -> Result<Done, CommandError> {
    engine.execute(vec![command], now).pop().unwrap()
}

/// An engine with auditor `lab` and one badge issued at `T`.
fn with_badge(name: &str) -> (Engine, PathBuf, String) {
    let (mut e, data) = engine(name, false);
    one(&mut e, add("lab", &lab()), T).unwrap();
    let Done::Issued { id, .. } = one(&mut e, issue("lab", &lab(), "a-1", T), T).unwrap() else {
        panic!("not issued");
    };
    (e, data, id)
}

#[test]
fn a_suspension_earlier_in_the_batch_stops_what_follows_it() {
    let (mut e, data, id) = with_badge("batch");
    let results = e.execute(
        vec![
            Command::SuspendAuditor { id: "lab".into() },
            issue("lab", &lab(), "a-2", T + 10),
            auditor_change(&id, Action::Suspend, "c-1", T + 10),
        ],
        T + 10,
    );
    assert!(matches!(results[0], Ok(Done::AuditorSuspended)));
    assert!(
        matches!(results[1], Err(CommandError::AuditorSuspended)),
        "{results:?}"
    );
    assert!(
        matches!(results[2], Err(CommandError::AuditorSuspended)),
        "{results:?}"
    );
    assert_eq!(
        e.store().badges().unwrap().len(),
        1,
        "the refused issuance was stored"
    );
    // And an auditor accredited earlier in a batch may issue later in it.
    let other = SigningKey::from_seed(&[12; 32]);
    let results = e.execute(
        vec![add("fresh", &other), issue("fresh", &other, "f-1", T + 20)],
        T + 20,
    );
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn only_the_operator_lifts_an_operator_suspension() {
    let (mut e, data, id) = with_badge("operator");
    one(&mut e, operator_change(&id, Action::Suspend), T + 10).unwrap();
    assert!(matches!(
        one(
            &mut e,
            auditor_change(&id, Action::Reinstate, "c-1", T + 20),
            T + 20
        ),
        Err(CommandError::OperatorSuspension)
    ));
    assert_eq!(
        e.store().badge(&id).unwrap().unwrap().status,
        BadgeStatus::Suspended
    );
    // The auditor may still revoke, which is stricter; here the operator reinstates.
    one(&mut e, operator_change(&id, Action::Reinstate), T + 30).unwrap();
    // An auditor's own suspension is the auditor's to lift.
    one(
        &mut e,
        auditor_change(&id, Action::Suspend, "c-2", T + 40),
        T + 40,
    )
    .unwrap();
    one(
        &mut e,
        auditor_change(&id, Action::Reinstate, "c-3", T + 50),
        T + 50,
    )
    .unwrap();
    one(&mut e, operator_change(&id, Action::Suspend), T + 60).unwrap();
    one(
        &mut e,
        auditor_change(&id, Action::Revoke, "c-4", T + 70),
        T + 70,
    )
    .unwrap();
    let record = e.store().badge(&id).unwrap().unwrap();
    assert_eq!(record.status, BadgeStatus::Revoked);
    // Within one batch too: the operator's suspension binds the reinstatement after it.
    let (mut e2, data2, id2) = with_badge("operator-batch");
    let results = e2.execute(
        vec![
            operator_change(&id2, Action::Suspend),
            auditor_change(&id2, Action::Reinstate, "c-1", T + 20),
        ],
        T + 10,
    );
    assert!(results[0].is_ok());
    assert!(
        matches!(results[1], Err(CommandError::OperatorSuspension)),
        "{results:?}"
    );
    let _ = std::fs::remove_dir_all(data);
    let _ = std::fs::remove_dir_all(data2);
}

#[test]
fn a_refused_request_cannot_be_replayed_after_the_state_changes() {
    let (mut e, data, id) = with_badge("replay");
    // A reinstatement of a valid badge is refused ...
    let request = || auditor_change(&id, Action::Reinstate, "c-1", T + 5);
    assert!(matches!(
        one(&mut e, request(), T + 5),
        Err(CommandError::NoChange("valid"))
    ));
    // ... and stays refused once the badge is suspended, whoever suspended it.
    one(
        &mut e,
        auditor_change(&id, Action::Suspend, "c-2", T + 10),
        T + 10,
    )
    .unwrap();
    assert!(matches!(
        one(&mut e, request(), T + 20),
        Err(CommandError::Replay)
    ));
    // A request never seen before but signed before the last change is stale.
    assert!(matches!(
        one(&mut e, auditor_change(&id, Action::Reinstate, "c-3", T + 10), T + 20),
        Err(CommandError::StaleRequest { iat, changed_at }) if iat == T + 10 && changed_at == T + 10
    ));
    assert_eq!(
        e.store().badge(&id).unwrap().unwrap().status,
        BadgeStatus::Suspended
    );
    // One signed after the change is applied.
    one(
        &mut e,
        auditor_change(&id, Action::Reinstate, "c-4", T + 11),
        T + 20,
    )
    .unwrap();
    // The memory of refused requests ends with the freshness window, which the request
    // can no longer pass anyway.
    let later = T + 20 + trustmark_core::claims::MAX_STATEMENT_AGE + 61;
    one(
        &mut e,
        Command::SuspendAuditor {
            id: "nobody".into(),
        },
        later,
    )
    .unwrap_err();
    assert!(!e.recent.contains_key(&("lab".into(), "c-1".into())));
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn example_keys_only_in_demo_mode() {
    let example =
        SigningKey::from_jwk_json(include_bytes!("../../../keys-example/auditor.jwk")).unwrap();
    let (mut e, data) = engine("example", false);
    assert!(matches!(
        one(&mut e, add("auditor-example", &example), T),
        Err(CommandError::ExampleKey)
    ));
    drop(e);
    let mut demo = Engine::open(&data, ISSUER, T, true).unwrap();
    one(&mut demo, add("auditor-example", &example), T).unwrap();
    assert_eq!(demo.example_auditors().unwrap(), ["auditor-example"]);
    one(
        &mut demo,
        Command::SuspendAuditor {
            id: "auditor-example".into(),
        },
        T,
    )
    .unwrap();
    assert!(demo.example_auditors().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn operator_text_with_format_characters_is_refused() {
    let (mut e, data, id) = with_badge("text");
    let mut bidi = operator_change(&id, Action::Suspend);
    if let Command::ChangeStatus { reason, .. } = &mut bidi {
        *reason = "fraud\u{202e}deifirev".into();
    }
    assert!(matches!(
        one(&mut e, bidi, T + 1),
        Err(CommandError::Text(_))
    ));
    let mut name = add("zw", &SigningKey::from_seed(&[13; 32]));
    if let Command::AddAuditor { name, .. } = &mut name {
        *name = "Audit\u{200b} Lab".into();
    }
    assert!(matches!(
        one(&mut e, name, T + 1),
        Err(CommandError::Text(_))
    ));
    let _ = std::fs::remove_dir_all(data);
}

fn verifier(e: &Engine) -> Verifier {
    let jwks = Jwks::parse(e.published.read().unwrap().as_bytes()).unwrap();
    let mut v = Verifier::new(ISSUER, jwks, Catalogue::rcep_b2b_web_1().unwrap());
    for l in e.signed.read().unwrap().iter() {
        v.add_status_list(&l.token).unwrap();
    }
    v
}

#[test]
fn withdrawing_the_current_key_rotates_it_out_and_resigns_its_badges() {
    let (mut e, data, id) = with_badge("withdraw");
    let before = e.store().badge(&id).unwrap().unwrap();
    let kid = e.keys.badge.kid().to_owned();
    let now = T + 100;
    let done = one(&mut e, Command::WithdrawKey { kid: kid.clone() }, now).unwrap();
    assert_eq!(
        done,
        Done::KeyWithdrawn {
            rotated: true,
            resigned: 1
        }
    );
    let after = e.store().badge(&id).unwrap().unwrap();
    assert_ne!(after.token, before.token);
    assert_eq!((after.list, after.idx), (before.list, before.idx));
    let v = verifier(&e);
    let fresh = v.verify(
        &after.token,
        OriginPolicy::Require("https://supplier.example"),
        now,
    );
    assert_eq!(fresh.reason, Reason::Valid, "{:?}", fresh.detail);
    let claims = fresh.claims.unwrap();
    assert_eq!((claims.jti.as_str(), claims.iat), (id.as_str(), now));
    let old = v.verify(&before.token, OriginPolicy::Ignore, now);
    assert_eq!(old.reason, Reason::UnknownKey);
    assert!(old.detail.unwrap().contains("withdrew"));
    // The withdrawal is journaled and survives a restart; withdrawing again is refused.
    drop(e);
    let mut e = Engine::open(&data, ISSUER, now + 1, false).unwrap();
    assert!(Jwks::parse(e.published.read().unwrap().as_bytes())
        .unwrap()
        .is_withdrawn(&kid));
    assert_eq!(e.store().badge(&id).unwrap().unwrap().token, after.token);
    assert!(matches!(
        one(&mut e, Command::WithdrawKey { kid }, now + 2),
        Err(CommandError::Keys(
            crate::keys::KeyRingError::AlreadyWithdrawn(_)
        ))
    ));
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn lists_are_re_signed_as_they_age_and_on_key_changes() {
    let (mut e, data, _) = with_badge("resign");
    let iat = |e: &Engine| e.signed.read().unwrap()[0].iat;
    assert_eq!(iat(&e), T);
    e.refresh_lists(T + LIST_RESIGN_AFTER - 1);
    assert_eq!(iat(&e), T, "re-signed before it aged");
    e.refresh_lists(T + LIST_RESIGN_AFTER);
    assert_eq!(iat(&e), T + LIST_RESIGN_AFTER);
    one(&mut e, Command::RotateKeys, T + 400).unwrap();
    assert_eq!(iat(&e), T + 400, "a rotation must re-sign with the new key");
    // Every served list verifies against the published keys (unwrapped inside).
    verifier(&e);
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn a_badge_over_the_size_cap_is_refused_not_failed() {
    // A long issuer URL appears four times in a badge (iss, trust_mark_type, ref, status).
    let issuer = format!("https://registry.example/{}", "p".repeat(1500));
    let data = std::env::temp_dir().join(format!("tm-engine-large-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let mut e = Engine::open(&data, &issuer, T, false).unwrap();
    one(&mut e, add("lab", &lab()), T).unwrap();
    assert!(matches!(
        one(&mut e, issue("lab", &lab(), "big-1", T), T),
        Err(CommandError::Sign(
            trustmark_core::sign::SignError::TooLarge { max: 8192 }
        ))
    ));
    assert!(e.store().badges().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(data);
}

#[test]
fn two_changes_to_one_list_in_one_second_are_signed_with_different_iats() {
    let (mut e, data, id) = with_badge("iat");
    let iat = |e: &Engine| e.signed.read().unwrap()[0].iat;
    let before = iat(&e);
    one(&mut e, operator_change(&id, Action::Suspend), T + 5).unwrap();
    let first = iat(&e);
    one(&mut e, operator_change(&id, Action::Reinstate), T + 5).unwrap();
    let second = iat(&e);
    assert_eq!(first, T + 5);
    assert!(
        first > before && second > first,
        "{before} {first} {second}"
    );
    let _ = std::fs::remove_dir_all(data);
}
