//! Issuance load: N concurrent clients POST fresh, signed audit statements for a fixed
//! time; prints issuances per second and latency percentiles, and, as the baseline of the
//! same run, how many `fdatasync`s per second this disk does on its own (group commit is
//! what lets issuances exceed it).
//!
//! `issue-load --url http://127.0.0.1:8700 --key auditor.jwk --auditor lab --data DIR`;
//! `--url` may be given several times (several registry processes on one database): the
//! clients are spread over them in turn. Without `--data` the fdatasync baseline is left
//! out (bench/pg-load.sh measures the database's own ceiling with pgbench instead).

use clap::Parser;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use trustmark_core::claims::{AuditStatementClaims, IndicatorValue, Org, SCHEME};
use trustmark_core::sign::{self, SigningKey};
use trustmark_core::Catalogue;

#[derive(Parser)]
struct Args {
    /// Registry base URL; repeat for several processes (clients spread over them).
    #[arg(long, required = true)]
    url: Vec<String>,
    /// The accredited auditor's private JWK.
    #[arg(long)]
    key: std::path::PathBuf,
    /// The auditor id.
    #[arg(long)]
    auditor: String,
    /// A directory on the registry's disk for the fdatasync baseline.
    #[arg(long)]
    data: Option<std::path::PathBuf>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

fn statement(
    key: &SigningKey,
    auditor: &str,
    jti: String,
    values: &BTreeMap<String, IndicatorValue>,
) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = AuditStatementClaims {
        iss: auditor.into(),
        iat: now,
        jti,
        sub: "https://www.supplier.example".into(),
        aliases: vec!["https://supplier.example".into()],
        org: Org {
            name: "Load Test Supplier Co., Ltd.".into(),
            country: "MY".into(),
            reg: None,
        },
        scheme: SCHEME.into(),
        audited_at: now,
        valid_days: 90,
        indicators: values.clone(),
        report_uri: None,
        languages: None,
    };
    sign::sign_audit_statement(&claims, key).unwrap_or_default()
}

/// fdatasync calls per second on 1 KiB appends, for `secs` seconds.
fn fsync_baseline(dir: &std::path::Path, secs: f64) -> f64 {
    let path = dir.join("fsync-baseline.tmp");
    let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return 0.0;
    };
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        if f.write_all(&[7u8; 1024])
            .and_then(|()| f.sync_data())
            .is_err()
        {
            break;
        }
        n += 1;
    }
    let _ = std::fs::remove_file(&path);
    n as f64 / start.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let key = SigningKey::from_jwk_json(&std::fs::read(&args.key).unwrap_or_default())
        .unwrap_or_else(|e| {
            eprintln!("error: {}: {e}", args.key.display());
            std::process::exit(2)
        });
    let values: BTreeMap<String, IndicatorValue> = Catalogue::rcep_b2b_web_1()
        .map(|c| {
            c.indicators
                .iter()
                .map(|i| (i.id.clone(), IndicatorValue { value: i.best }))
                .collect()
        })
        .unwrap_or_default();
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let failures = Arc::new(Mutex::new(0u64));
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.clients {
        let (url, key, auditor, values) = (
            args.url[c % args.url.len()].clone(),
            key.clone(),
            args.auditor.clone(),
            values.clone(),
        );
        let (latencies, failures) = (latencies.clone(), failures.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut i = 0u64;
            while Instant::now() < deadline {
                let body = statement(
                    &key,
                    &auditor,
                    format!("load-{c}-{i}-{}", chrono::Utc::now().timestamp_micros()),
                    &values,
                );
                i += 1;
                let t = Instant::now();
                let ok = http
                    .post(format!("{url}/api/v1/badges"))
                    .header("content-type", "application/trustmark-audit+jwt")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED);
                if ok {
                    latencies.lock().map(|mut l| l.push(t.elapsed())).ok();
                } else {
                    *failures.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    let rate = lat.len() as f64 / elapsed;
    println!(
        "issuance: {} clients over {} process(es), {:.1} s, {} acknowledged, {} failed",
        args.clients,
        args.url.len(),
        elapsed,
        lat.len(),
        failures.lock().map(|f| *f).unwrap_or(0)
    );
    println!("  throughput     : {rate:>8.0} durable issuances/s");
    println!("  latency p50    : {:>8.2} ms", pct(0.50));
    println!("  latency p99    : {:>8.2} ms", pct(0.99));
    if let Some(data) = &args.data {
        let baseline = fsync_baseline(data, 3.0);
        println!("  baseline       : {baseline:>8.0} fdatasync/s on the same disk (1 KiB appends, one at a time)");
        println!(
            "  ratio          : {:>8.2} x baseline (above 1 only through group commit)",
            rate / baseline.max(1.0)
        );
    }
}
