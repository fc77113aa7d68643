//! Full offline verification versus the raw Ed25519 check it is built on.
//!
//! Run: `cargo bench -p trustmark-core --features sign --bench verify`
//!
//! Both sides work on the same 256 badges. "raw" is `ed25519-dalek` `verify_strict` on
//! the token's signing input with a pre-decoded key and signature: the floor no
//! verifier can beat. "full" is `Verifier::verify`: size caps, base64url, duplicate-member
//! scan, header and claims parsing and validation, key lookup, signature, issuer, time,
//! origin and the status lookup. After criterion's runs, an interleaved timing of both
//! prints throughput and the ratio full/raw (target: at least 0.95).

use criterion::{criterion_group, Criterion, Throughput};
use ed25519_dalek::Signature;
use std::hint::black_box;
use std::time::{Duration, Instant};
use trustmark_core::claims::*;
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::{b64, Catalogue, Jwks, KeyUse, OriginPolicy, Reason, StatusList, Verifier};

const ISSUER: &str = "https://registry.example";
const AT: i64 = 1_798_761_600;
const N: usize = 256;

struct Fixture {
    tokens: Vec<String>,
    verifier: Verifier,
    raw: Vec<(Vec<u8>, Signature)>,
    key: ed25519_dalek::VerifyingKey,
}

fn fixture() -> Fixture {
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

fn full(f: &Fixture, i: usize) -> bool {
    let o = f.verifier.verify(
        &f.tokens[i % N],
        OriginPolicy::Require("https://supplier.example"),
        AT,
    );
    o.reason == Reason::Valid
}

fn raw(f: &Fixture, i: usize) -> bool {
    let (input, sig) = &f.raw[i % N];
    f.key.verify_strict(input, sig).is_ok()
}

fn benches(c: &mut Criterion) {
    let f = fixture();
    assert!(
        (0..N).all(|i| full(&f, i) && raw(&f, i)),
        "every bench badge must be valid"
    );
    let mut g = c.benchmark_group("badge");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("raw_verify_strict", |b| {
        b.iter(|| {
            i += 1;
            black_box(raw(&f, i))
        })
    });
    g.bench_function("full_offline_verify", |b| {
        b.iter(|| {
            i += 1;
            black_box(full(&f, i))
        })
    });
    g.finish();
}

/// Many short interleaved rounds, so that frequency drift and load on the shared machine
/// hit both sides alike; the ratio reported is the median of the per-round ratios, which
/// a burst of noise in a few rounds cannot move.
fn ratio_summary() {
    let f = fixture();
    let rounds = 200;
    let per_round = Duration::from_millis(25);
    let rate = |side: bool| {
        let start = Instant::now();
        let mut n = 0usize;
        while start.elapsed() < per_round {
            for i in 0..16 {
                black_box(if side {
                    full(&f, n + i)
                } else {
                    raw(&f, n + i)
                });
            }
            n += 16;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let (mut raws, mut fulls, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        // Alternate which side goes first so neither always runs on a warmer cache.
        let (r, fu) = if round % 2 == 0 {
            (rate(false), rate(true))
        } else {
            let fu = rate(true);
            (rate(false), fu)
        };
        raws.push(r);
        fulls.push(fu);
        ratios.push(fu / r);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\nsummary (one core, {rounds} interleaved rounds of {} ms per side):",
        per_round.as_millis()
    );
    println!(
        "  raw ed25519-dalek verify_strict : {:>10.0} badges/s (median)",
        median(&mut raws)
    );
    println!(
        "  full offline verification       : {:>10.0} badges/s (median)",
        median(&mut fulls)
    );
    println!("  ratio full/raw                  : {:>10.3}  (median of per-round ratios; target >= 0.95)", median(&mut ratios));
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    ratio_summary();
}
