//! Full offline verification versus the raw Ed25519 check it is built on.
//!
//! Run: `cargo bench -p trustmark-core --features sign --bench verify`
//!
//! Both sides work on the same 256 badges. "raw" is `ed25519-dalek` `verify_strict` on
//! the token's signing input with a pre-decoded key and signature: the floor no
//! verifier can beat. "full" is `Verifier::verify`: size caps, base64url, duplicate-member
//! scan, header and claims parsing and validation, key lookup, signature, issuer, time,
//! origin and the status lookup. After criterion's runs, an interleaved timing of both
//! prints throughput and the ratio full/raw (target: at least 0.97).

#[path = "common/fixture.rs"]
mod fixture;

use criterion::{criterion_group, Criterion, Throughput};
use fixture::{fixture, full, raw, N};
use std::hint::black_box;
use std::time::{Duration, Instant};

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
    println!("  ratio full/raw                  : {:>10.3}  (median of per-round ratios; target >= 0.97)", median(&mut ratios));
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    ratio_summary();
}
