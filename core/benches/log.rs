//! The evidence log's costs, each beside a baseline measured in the same run.
//!
//! Run: `cargo bench -p trustmark-core --features sign --bench log`
//!
//! - appends: 256 realistic entries (1.4 KB, the size of an issuance entry) hashed into
//!   the tree and one checkpoint signed, as the registry's writer does per batch; the
//!   baseline is the floor of that work done raw (SHA-256 of each entry, one Ed25519
//!   signature);
//! - proofs at 1,000,000 entries: an inclusion proof and a consistency proof from the
//!   in-memory tree, and verifying them; the baseline is hashing the same number of
//!   nodes raw.

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use std::hint::black_box;
use std::time::Instant;
use trustmark_core::log::checkpoint::{sign_checkpoint, Checkpoint};
use trustmark_core::log::merkle::{self, Tree};

const SIZE: u64 = 1_000_000;
const BATCH: usize = 256;

fn entry(i: u64) -> Vec<u8> {
    let mut e = format!(
        r#"{{"schema":"trustmark-log-entry/1","type":"issued","at":1800000000,"badge":"b_{i:022}","origins":["https://www.supplier{i}.example"],"auditor":"lab","token":""#
    )
    .into_bytes();
    e.resize(1380, b'A');
    e.extend_from_slice(br#""}"#);
    e
}

/// What the registry's writer does per batch: the entries' leaves, then a signed
/// checkpoint of the tree they leave.
fn append_batch(t: &mut Tree, entries: &[Vec<u8>], key: &ed25519_dalek::SigningKey) {
    for e in entries {
        t.push(merkle::leaf_hash(e));
    }
    let cp = Checkpoint {
        origin: "registry.example/log".into(),
        size: t.len(),
        root: t.root(),
        extensions: Vec::new(),
    };
    black_box(sign_checkpoint(&cp, key).unwrap());
}

/// The floor of the same work: each entry's SHA-256 and one Ed25519 signature.
fn raw_batch(entries: &[Vec<u8>], key: &ed25519_dalek::SigningKey) {
    let mut acc = [0u8; 32];
    for e in entries {
        let mut h = Sha256::new();
        h.update([0u8]);
        h.update(e);
        acc = h.finalize().into();
    }
    black_box(key.sign(&acc));
}

fn tree(size: u64) -> Tree {
    let mut t = Tree::new();
    for i in 0..size {
        t.push(merkle::leaf_hash(&i.to_be_bytes()));
    }
    t
}

/// A small deterministic index generator (xorshift).
fn indexes(n: usize, below: u64) -> Vec<u64> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % below
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let entries: Vec<Vec<u8>> = (0..BATCH as u64).map(entry).collect();

    let mut g = c.benchmark_group("append");
    g.throughput(Throughput::Elements(BATCH as u64));
    g.bench_function("raw_hash_and_sign", |b| {
        b.iter(|| raw_batch(&entries, &key))
    });
    let base = tree(SIZE);
    g.bench_function("batch_with_checkpoint", |b| {
        b.iter_batched(
            // A clone has no spare capacity on any level; room is made outside the
            // timing, as a long-lived tree has it from growing by doubling, so the
            // timed appends do not copy 64 MB of hashes.
            || {
                let mut t = base.clone();
                t.reserve(BATCH);
                t
            },
            |mut t| {
                append_batch(&mut t, &entries, &key);
                t
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    let picks = indexes(1024, SIZE);
    let mut g = c.benchmark_group("proofs_at_1M");
    g.bench_function("inclusion_proof", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % picks.len();
            black_box(merkle::inclusion_proof(&base, picks[i], SIZE).unwrap())
        })
    });
    g.bench_function("consistency_proof", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % picks.len();
            black_box(merkle::consistency_proof(&base, picks[i].max(1), SIZE).unwrap())
        })
    });
    let root = base.root();
    let proofs: Vec<_> = picks
        .iter()
        .map(|&i| (i, merkle::inclusion_proof(&base, i, SIZE).unwrap()))
        .collect();
    g.bench_function("verify_inclusion", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % proofs.len();
            let (index, proof) = &proofs[i];
            let leaf = merkle::leaf_hash(&index.to_be_bytes());
            merkle::verify_inclusion(&leaf, *index, SIZE, proof, &root).unwrap();
        })
    });
    g.finish();

    summary(&base, &entries, &key, &picks);
}

/// Interleaved rounds of each operation and its baseline, printed as rates and ratios.
fn summary(base: &Tree, entries: &[Vec<u8>], key: &ed25519_dalek::SigningKey, picks: &[u64]) {
    let rounds = 30;
    let mut append = Vec::new();
    let mut raw = Vec::new();
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    let mut hashing = Vec::new();
    for _ in 0..rounds {
        let mut t = base.clone();
        t.reserve(8 * BATCH);
        let start = Instant::now();
        for _ in 0..8 {
            append_batch(&mut t, entries, key);
        }
        append.push((8 * entries.len()) as f64 / start.elapsed().as_secs_f64());

        let start = Instant::now();
        for _ in 0..8 {
            raw_batch(entries, key);
        }
        raw.push((8 * entries.len()) as f64 / start.elapsed().as_secs_f64());

        let start = Instant::now();
        let mut nodes = 0;
        for &i in picks {
            nodes += black_box(merkle::inclusion_proof(base, i, SIZE).unwrap()).len();
        }
        inclusion.push(start.elapsed().as_secs_f64() / picks.len() as f64);

        let start = Instant::now();
        for &i in picks {
            black_box(merkle::consistency_proof(base, i.max(1), SIZE).unwrap());
        }
        consistency.push(start.elapsed().as_secs_f64() / picks.len() as f64);

        // The floor of a proof: hashing as many 64-byte node pairs as the proofs hold.
        let start = Instant::now();
        let mut acc = [7u8; 32];
        for _ in 0..nodes {
            acc = merkle::node_hash(&acc, &acc);
        }
        black_box(acc);
        hashing.push(start.elapsed().as_secs_f64() / picks.len() as f64);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (append, raw) = (median(&mut append), median(&mut raw));
    let (inclusion, consistency, hashing) = (
        median(&mut inclusion),
        median(&mut consistency),
        median(&mut hashing),
    );
    println!(
        "\nsummary ({rounds} interleaved rounds, tree of {SIZE} entries, batches of {BATCH}):"
    );
    println!(
        "  appends, checkpoint per batch : {append:>10.0} entries/s ({:.3} x the raw floor of {raw:.0}/s)",
        append / raw
    );
    println!(
        "  inclusion proof generation    : {:>10.2} us  ({:.2} x hashing its nodes)",
        inclusion * 1e6,
        inclusion / hashing
    );
    println!(
        "  consistency proof generation  : {:>10.2} us",
        consistency * 1e6
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
