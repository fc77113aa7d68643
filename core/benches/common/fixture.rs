//! The badges both the benchmark and the instruction-count driver verify: 256 realistic
//! badges (two origins, full audit summary, status index in a 131,072-entry 2-bit list),
//! a verifier holding their key and list, and each token's signing input and signature
//! decoded ahead for the raw side.

use ed25519_dalek::Signature;
use trustmark_core::claims::*;
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::{b64, Catalogue, Jwks, KeyUse, OriginPolicy, Reason, StatusList, Verifier};

pub const ISSUER: &str = "https://registry.example";
pub const AT: i64 = 1_798_761_600;
pub const N: usize = 256;

pub struct Fixture {
    pub tokens: Vec<String>,
    pub verifier: Verifier,
    pub raw: Vec<(Vec<u8>, Signature)>,
    pub key: ed25519_dalek::VerifyingKey,
}

pub fn fixture() -> Fixture {
    let key = SigningKey::from_seed(&[7u8; 32]);
    let status_key = SigningKey::from_seed(&[8u8; 32]);
    let cat = Catalogue::rcep_b2b_web_1().unwrap();
    let ind = vec![84u8, 80, 82, 100, 73, 84, 84, 100, 100, 80, 94, 100];
    let mut list = StatusList::new(2, 131_072).unwrap();
    list.set(5, 1).unwrap();
    let uri = format!("{ISSUER}/statuslists/1");
    let tokens: Vec<String> = (0..N)
        .map(|i| {
            let jti = format!("b_bench{i:06}");
            let claims = BadgeClaims {
                iss: ISSUER.into(),
                sub: "https://www.supplier.example".into(),
                aliases: vec!["https://supplier.example".into()],
                iat: AT - 86_400,
                exp: AT + 300 * 86_400,
                nbf: None,
                jti: jti.clone(),
                trust_mark_type: BadgeClaims::trust_mark_type_for(ISSUER),
                org: Org {
                    name: "Shenzhen Example Electronics Co., Ltd.".into(),
                    country: "CN".into(),
                    reg: Some("91440300EXAMPLE0001".into()),
                },
                auditor: "auditor-example".into(),
                audit: AuditSummary {
                    at: AT - 3 * 86_400,
                    score: cat.overall(&ind).unwrap(),
                    ind: ind.clone(),
                    digest: b64::encode([i as u8; 32]),
                },
                reference: format!("{ISSUER}/b/{jti}"),
                status: StatusRef {
                    status_list: StatusListRef {
                        idx: 1000 + i as u64 * 97,
                        uri: uri.clone(),
                    },
                },
            };
            sign::sign_badge(&claims, &key).unwrap()
        })
        .collect();
    let jwks = Jwks::from_keys([
        key.public().with_use(KeyUse::Badge),
        status_key.public().with_use(KeyUse::Status),
    ]);
    let mut verifier = Verifier::new(ISSUER, jwks, cat);
    let list_claims = StatusListClaims {
        iss: ISSUER.into(),
        sub: uri,
        iat: AT - 60,
        exp: AT + 86_400,
        ttl: 3600,
        status_list: list.encode(),
    };
    verifier
        .add_status_list(&sign::sign_status_list(&list_claims, &status_key).unwrap())
        .unwrap();
    let raw = tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').unwrap();
            (
                input.as_bytes().to_vec(),
                Signature::from_bytes(&b64::decode_array::<64>(sig).unwrap()),
            )
        })
        .collect();
    Fixture {
        tokens,
        verifier,
        raw,
        key: *key.public().verifying_key(),
    }
}

pub fn full(f: &Fixture, i: usize) -> bool {
    let o = f.verifier.verify(
        &f.tokens[i % N],
        OriginPolicy::Require("https://supplier.example"),
        AT,
    );
    o.reason == Reason::Valid
}

pub fn raw(f: &Fixture, i: usize) -> bool {
    let (input, sig) = &f.raw[i % N];
    f.key.verify_strict(input, sig).is_ok()
}
