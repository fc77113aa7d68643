//! Offline bulk verification through the real `trustmark verify-bulk` binary, against the
//! single-core raw `ed25519-dalek` `verify_strict` rate measured in the same run.
//!
//! `bulk-verify --trustmark target/release/trustmark` (bench/bulk.sh builds and runs it)
//!
//! It signs 256 distinct realistic badges (fixed seeds, the shape of the registry's) and a
//! status list, writes a bundle as `trustmark bundle fetch` does, and input files of
//! N token lines cycling through the badges. Each round then measures, in turn:
//! - raw: `verify_strict` on each token's signing input with key and signature already
//!   decoded, in a child of this program pinned to one core (`taskset -c 1`) — the floor
//!   of one badge on one core;
//! - bulk: `trustmark verify-bulk FILE --bundle B --ignore-origin` on every core, output
//!   NDJSON to /dev/null, timed from spawn to exit (process start, bundle load, reading,
//!   verification, encoding and writing all included), with its peak RSS from GNU time.
//!
//! The ratio bulk/raw is the median of the per-round ratios, so load from others on the
//! shared machine moves both sides of a round alike.

use clap::Parser;
use ed25519_dalek::Signature;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use trustmark_core::claims::{
    AuditSummary, BadgeClaims, Org, StatusListClaims, StatusListRef, StatusRef,
};
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::{b64, Catalogue, KeyUse, StatusList};

const ISSUER: &str = "https://registry.example";
const AT: i64 = 1_798_761_600;
const DISTINCT: usize = 256;

#[derive(Parser)]
struct Args {
    /// The trustmark binary to measure (a release build).
    #[arg(long)]
    trustmark: Option<PathBuf>,
    /// Token lines of the throughput run.
    #[arg(long, default_value_t = 100_000)]
    lines: usize,
    /// Token lines of the smaller run, for the peak RSS comparison.
    #[arg(long, default_value_t = 10_000)]
    small: usize,
    /// Rounds (each: raw, small bulk, raw, bulk).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Where to write the bundle and the input files (default: a temporary directory).
    #[arg(long)]
    work: Option<PathBuf>,
    /// Internal: measure raw verify_strict for this many seconds and print the rate.
    #[arg(long, hide = true)]
    raw_only: Option<f64>,
}

struct Fixture {
    tokens: Vec<String>,
    bundle: serde_json::Value,
    key: ed25519_dalek::VerifyingKey,
}

fn fail(what: &str) -> ! {
    eprintln!("bulk-verify: {what}");
    std::process::exit(2)
}

fn fixture() -> Fixture {
    let key = SigningKey::from_seed(&[7u8; 32]);
    let status_key = SigningKey::from_seed(&[8u8; 32]);
    let cat = Catalogue::rcep_b2b_web_1().unwrap_or_else(|_| fail("catalogue"));
    let ind = vec![84u8, 80, 82, 100, 73, 84, 84, 100, 100, 80, 94, 100];
    let score = cat.overall(&ind).unwrap_or_else(|| fail("score"));
    let uri = format!("{ISSUER}/statuslists/1");
    let tokens = (0..DISTINCT)
        .map(|i| {
            let jti = format!("b_bulk{i:06}");
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
                    score,
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
            sign::sign_badge(&claims, &key).unwrap_or_else(|_| fail("signing a badge"))
        })
        .collect();
    let mut list = StatusList::new(2, 131_072).unwrap_or_else(|_| fail("status list"));
    // A revoked entry no bench badge uses, so the list is not all zeroes.
    list.set(5, 1).unwrap_or_else(|_| fail("status list"));
    let list_token = sign::sign_status_list(
        &StatusListClaims {
            iss: ISSUER.into(),
            sub: uri,
            iat: AT - 60,
            exp: AT + 86_400,
            ttl: 3600,
            status_list: list.encode(),
        },
        &status_key,
    )
    .unwrap_or_else(|_| fail("signing the status list"));
    let bundle = serde_json::json!({
        "format": "trustmark-bundle/1",
        "issuer": ISSUER,
        "fetched_at": AT,
        "jwks": {"keys": [
            key.public().with_use(KeyUse::Badge).to_jwk_value(),
            status_key.public().with_use(KeyUse::Status).to_jwk_value(),
        ]},
        "status_lists": [list_token],
    });
    Fixture {
        tokens,
        bundle,
        key: *key.public().verifying_key(),
    }
}

/// Raw `verify_strict` per second over the fixture's tokens, on this thread.
fn raw_rate(f: &Fixture, secs: f64) -> f64 {
    let inputs: Vec<(Vec<u8>, Signature)> = f
        .tokens
        .iter()
        .map(|t| {
            let (input, sig) = t.rsplit_once('.').unwrap_or_else(|| fail("token"));
            let sig = b64::decode_array::<64>(sig).unwrap_or_else(|| fail("signature"));
            (input.as_bytes().to_vec(), Signature::from_bytes(&sig))
        })
        .collect();
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed().as_secs_f64() < secs {
        for (input, sig) in &inputs {
            if f.key
                .verify_strict(std::hint::black_box(input), sig)
                .is_err()
            {
                fail("a bench signature does not verify");
            }
        }
        n += inputs.len();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The raw rate from a child of this program pinned to one core.
fn pinned_raw_rate() -> f64 {
    let me = std::env::current_exe().unwrap_or_else(|_| fail("own path"));
    let taskset = Path::new("/usr/bin/taskset").exists();
    let mut cmd = if taskset {
        let mut c = Command::new("/usr/bin/taskset");
        c.arg("-c").arg("1").arg(&me);
        c
    } else {
        Command::new(&me)
    };
    let out = cmd
        .args(["--raw-only", "1.5"])
        .output()
        .unwrap_or_else(|_| fail("running the raw measurement"));
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| fail("the raw measurement printed no rate"))
}

struct BulkRun {
    rate: f64,
    wall: Duration,
    max_rss_kib: u64,
}

/// One verify-bulk run over `input` (`lines` token lines), every line expected valid.
fn bulk_run(trustmark: &Path, bundle: &Path, input: &Path, lines: usize, work: &Path) -> BulkRun {
    let rss_file = work.join("rss.txt");
    let start = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&rss_file)
        .arg(trustmark)
        .arg("verify-bulk")
        .arg(input)
        .arg("--bundle")
        .arg(bundle)
        .args(["--ignore-origin", "--at", &AT.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|_| fail("running /usr/bin/time trustmark (is GNU time installed?)"));
    let wall = start.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let want = format!("summary: {lines} lines checked");
    if out.status.code() != Some(0)
        || !stderr.starts_with(&want)
        || !stderr.contains(&format!("valid {lines},"))
    {
        fail(&format!(
            "verify-bulk did not find every line valid (exit {:?}):\n{stderr}",
            out.status.code()
        ));
    }
    let max_rss_kib = std::fs::read_to_string(&rss_file)
        .ok()
        .and_then(|s| s.trim().lines().last().and_then(|l| l.trim().parse().ok()))
        .unwrap_or_else(|| fail("GNU time wrote no peak RSS"));
    BulkRun {
        rate: lines as f64 / wall.as_secs_f64(),
        wall,
        max_rss_kib,
    }
}

fn write_input(f: &Fixture, path: &Path, lines: usize) {
    let mut text = String::with_capacity(lines * 1100);
    for i in 0..lines {
        text.push_str(&f.tokens[i % DISTINCT]);
        text.push('\n');
    }
    std::fs::write(path, text).unwrap_or_else(|_| fail("writing an input file"));
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() {
    let args = Args::parse();
    let f = fixture();
    if let Some(secs) = args.raw_only {
        println!("{:.1}", raw_rate(&f, secs));
        return;
    }
    let trustmark = args
        .trustmark
        .clone()
        .unwrap_or_else(|| fail("--trustmark PATH is required"));
    let work = args.work.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("bulk-verify-{}", std::process::id()))
    });
    std::fs::create_dir_all(&work).unwrap_or_else(|_| fail("work directory"));
    let bundle = work.join("bundle.json");
    std::fs::write(&bundle, f.bundle.to_string()).unwrap_or_else(|_| fail("writing the bundle"));
    let big = work.join(format!("tokens-{}.txt", args.lines));
    let small = work.join(format!("tokens-{}.txt", args.small));
    write_input(&f, &big, args.lines);
    write_input(&f, &small, args.small);

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("machine: {cores} cores, {}", cpu_model());
    println!(
        "input: {} and {} token lines ({} distinct badges of {} bytes), bundle with one 131,072-entry list",
        args.lines,
        args.small,
        DISTINCT,
        f.tokens[0].len()
    );
    let (mut ratios, mut raws, mut bulks, mut rss_big, mut rss_small) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for round in 1..=args.rounds {
        let raw_before = pinned_raw_rate();
        let s = bulk_run(&trustmark, &bundle, &small, args.small, &work);
        let raw_after = pinned_raw_rate();
        let b = bulk_run(&trustmark, &bundle, &big, args.lines, &work);
        let raw = (raw_before + raw_after) / 2.0;
        println!(
            "round {round}: raw {raw:>8.0}/s (one core) | bulk {} lines {:>8.0}/s in {:.2} s, peak RSS {} KiB | bulk {} lines peak RSS {} KiB | ratio {:.3}",
            args.lines,
            b.rate,
            b.wall.as_secs_f64(),
            b.max_rss_kib,
            args.small,
            s.max_rss_kib,
            b.rate / raw
        );
        ratios.push(b.rate / raw);
        raws.push(raw);
        bulks.push(b.rate);
        rss_big.push(b.max_rss_kib as f64);
        rss_small.push(s.max_rss_kib as f64);
    }
    println!("\nsummary (median of {} rounds):", args.rounds);
    let row = |label: &str, value: String| println!("  {label:<42}: {value}");
    row(
        "raw ed25519-dalek verify_strict, one core",
        format!("{:>10.0} badges/s", median(&raws)),
    );
    row(
        &format!("trustmark verify-bulk, {cores} cores"),
        format!("{:>10.0} badges/s ({} lines)", median(&bulks), args.lines),
    );
    row(
        "ratio bulk/raw",
        format!(
            "{:>10.3}  (median of per-round ratios; target >= 1.6)",
            median(&ratios)
        ),
    );
    row(
        "peak RSS",
        format!(
            "{:>7.0} KiB for {} lines, {:.0} KiB for {} lines",
            median(&rss_small),
            args.small,
            median(&rss_big),
            args.lines
        ),
    );
    if args.work.is_none() {
        let _ = std::fs::remove_dir_all(&work);
    }
}
