//! `trustmark verify-bulk` end to end, offline from a bundle made of the golden vectors:
//! one record per line in input order, the NDJSON record schema, CSV in and out, the
//! worst verdict as exit code, the summary's counts, no progress bar off a terminal, bad
//! lines reported rather than fatal, standard input, and 10,000 mixed lines.

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const AT: &str = "1798761600";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read_json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(root().join(rel)).unwrap()).unwrap()
}

fn manifest() -> Value {
    read_json("testdata/vectors/cases.json")
}

fn badge_cases() -> Vec<Value> {
    manifest()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "badge")
        .cloned()
        .collect()
}

fn token(name: &str) -> String {
    badge_cases()
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A fresh directory for one test.
fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("trustmark-bulk-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An offline bundle (the format `bundle fetch` writes) of the vectors' registry keys
/// and the given status list files.
fn bundle(dir: &Path, lists: &[&str]) -> PathBuf {
    let m = manifest();
    let bundle = json!({
        "format": "trustmark-bundle/1",
        "issuer": m["issuer"],
        "fetched_at": m["at"],
        "jwks": read_json("testdata/vectors/jwks/registry.json"),
        "status_lists": lists
            .iter()
            .map(|l| std::fs::read_to_string(root().join("testdata/vectors").join(l)).unwrap().trim().to_owned())
            .collect::<Vec<_>>(),
    });
    let path = dir.join("bundle.json");
    std::fs::write(&path, bundle.to_string()).unwrap();
    path
}

struct Run {
    args: Vec<String>,
    out: Output,
}

impl Run {
    fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }
    /// Everything needed to understand a failure without rerunning it (long output cut).
    fn context(&self) -> String {
        let cut = |s: String| {
            if s.len() > 4000 {
                format!("{}… ({} bytes)", &s[..4000], s.len())
            } else {
                s
            }
        };
        format!(
            "args: {:?}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code(),
            cut(self.stdout()),
            cut(self.stderr())
        )
    }
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "\n{}", self.context());
        self
    }
    /// The NDJSON records, each checked against the record schema.
    fn records(&self) -> Vec<Value> {
        let schema = record_schema();
        self.stdout()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("{e}: {l}\n{}", self.context()));
                let errors: Vec<String> = schema
                    .iter_errors(&v)
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{v}\n{}", errors.join("\n"));
                v
            })
            .collect()
    }
    fn summary(&self) -> Summary {
        Summary::parse(&self.stderr())
    }
}

fn record_schema() -> jsonschema::Validator {
    jsonschema::draft202012::new(&read_json("schemas/verify-bulk-record.schema.json")).unwrap()
}

/// Runs `trustmark verify-bulk ARGS` with `stdin`.
fn bulk(args: &[&str], stdin: &[u8]) -> Run {
    let mut all = vec!["verify-bulk"];
    all.extend_from_slice(args);
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .args(&all)
        .current_dir(root())
        .env_remove("TRUSTMARK_REGISTRY")
        .env("TRUSTMARK_CONFIG", "/nonexistent/trustmark.toml")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_vec();
    // Written from a thread: the CLI streams, so it writes output while we still write.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        args: all.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

/// The counts of the summary on standard error.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    items: u64,
    verdicts: BTreeMap<String, u64>,
    reasons: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
}

impl Summary {
    fn parse(stderr: &str) -> Summary {
        let pairs = |list: &str| -> BTreeMap<String, u64> {
            list.split(", ")
                .map(|p| {
                    let (k, n) = p.rsplit_once(' ').unwrap();
                    (k.to_owned(), n.parse().unwrap())
                })
                .collect()
        };
        let mut s = Summary::default();
        for line in stderr.lines() {
            if let Some(rest) = line.strip_prefix("summary: ") {
                s.items = rest.split(' ').next().unwrap().parse().unwrap();
            } else if let Some(rest) = line.strip_prefix("  verdict: ") {
                s.verdicts = pairs(rest);
            } else if let Some(rest) = line.strip_prefix("  reason:  ") {
                s.reasons = pairs(rest);
            } else if let Some(rest) = line.strip_prefix("  error:   ") {
                s.errors = pairs(rest);
            }
        }
        s
    }
}

/// Counts of a field over records (null counted as "null").
fn count(records: &[Value], field: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for r in records {
        let k = r[field].as_str().unwrap_or("null").to_owned();
        *m.entry(k).or_insert(0) += 1;
    }
    m
}

fn without_null(mut m: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    m.remove("null");
    m
}

/// Summary counts agree with the records written.
fn assert_summary_matches(run: &Run, records: &[Value]) {
    let s = run.summary();
    assert_eq!(s.items, records.len() as u64, "{}", run.context());
    let mut verdicts = count(records, "verdict");
    for v in ["valid", "invalid", "unknown"] {
        verdicts.entry(v.into()).or_insert(0);
    }
    assert_eq!(s.verdicts, verdicts, "{}", run.context());
    assert_eq!(s.reasons, without_null(count(records, "reason")));
    assert_eq!(s.errors, without_null(count(records, "error")));
}

fn code_of(verdict: &str) -> i32 {
    match verdict {
        "valid" => 0,
        "invalid" => 1,
        _ => 2,
    }
}

/// The golden badge cases that verify against the bundle of list 1 at the default time.
fn list1_cases() -> Vec<Value> {
    badge_cases()
        .into_iter()
        .filter(|c| c["status_lists"] == json!(["statuslists/1.jwt"]) && c["at"].is_null())
        .collect()
}

/// CSV input with an `origin,token` header for `cases` (null origin: empty cell), a
/// blank line after every fifth row; returns the text and each row's line number.
fn csv_input(cases: &[Value]) -> (Vec<u8>, Vec<u64>) {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["origin", "token"]).unwrap();
    w.flush().unwrap();
    let mut text = w.into_inner().unwrap();
    let mut numbers = Vec::new();
    let mut line = 1;
    for (i, c) in cases.iter().enumerate() {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record([
            c["origin"].as_str().unwrap_or(""),
            c["token"].as_str().unwrap(),
        ])
        .unwrap();
        text.extend(w.into_inner().unwrap());
        line += 1;
        numbers.push(line);
        if i % 5 == 4 {
            text.extend_from_slice(b"\n");
            line += 1;
        }
    }
    (text, numbers)
}

#[test]
fn every_golden_vector_in_one_csv_run_in_order_with_its_verdict() {
    let dir = tempdir("golden");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let cases = list1_cases();
    assert!(cases.len() >= 60, "too few vectors: {}", cases.len());
    let (input, numbers) = csv_input(&cases);
    let file = dir.join("suppliers.csv");
    std::fs::write(&file, &input).unwrap();
    let run = bulk(
        &[
            file.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--at",
            AT,
            "--ignore-origin",
        ],
        b"",
    );
    let records = run.records();
    assert_eq!(records.len(), cases.len(), "{}", run.context());
    let mut worst = 0;
    for ((r, c), n) in records.iter().zip(&cases).zip(&numbers) {
        let name = c["name"].as_str().unwrap();
        assert_eq!(r["line"], *n, "{name}: {r}");
        assert_eq!(r["kind"], "token", "{name}");
        assert_eq!(r["reason"], c["expect"]["reason"], "{name}: {r}");
        assert_eq!(r["verdict"], c["expect"]["verdict"], "{name}: {r}");
        assert_eq!(r["origin"].is_null(), c["origin"].is_null(), "{name}: {r}");
        assert!(r["input"]
            .as_str()
            .unwrap()
            .ends_with(c["token"].as_str().unwrap()));
        if r["reason"] == "valid" {
            assert!(
                r["badge"]["sub"].as_str().unwrap().starts_with("http"),
                "{r}"
            );
        }
        worst = worst.max(code_of(c["expect"]["verdict"].as_str().unwrap()));
    }
    assert_eq!(worst, 2, "the vectors include a status problem");
    run.expect_code(worst);
    assert_summary_matches(&run, &records);
}

#[test]
fn csv_output_carries_the_same_results_as_ndjson() {
    let dir = tempdir("csv-out");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let cases = list1_cases();
    let (input, _) = csv_input(&cases);
    let common = [
        "-",
        "--bundle",
        bundle.to_str().unwrap(),
        "--at",
        AT,
        "--ignore-origin",
    ];
    let ndjson = bulk(&common, &input);
    let mut args = common.to_vec();
    args.extend(["--format", "csv"]);
    let csv_run = bulk(&args, &input);
    assert_eq!(csv_run.code(), ndjson.code(), "{}", csv_run.context());
    let records = ndjson.records();
    let mut reader = csv::Reader::from_reader(csv_run.out.stdout.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "line",
            "kind",
            "input",
            "verdict",
            "reason",
            "origin",
            "badges_found",
            "error",
            "detail",
            "badge_id",
            "badge_site",
            "badge_org",
            "badge_country",
            "badge_score",
            "badge_auditor",
            "badge_expires",
            "badge_page"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), records.len(), "{}", csv_run.context());
    let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_default();
    for (row, r) in rows.iter().zip(&records) {
        let cell = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        assert_eq!(cell("line"), r["line"].to_string());
        assert_eq!(cell("input"), text(&r["input"]));
        assert_eq!(cell("verdict"), text(&r["verdict"]));
        assert_eq!(cell("reason"), text(&r["reason"]));
        assert_eq!(cell("origin"), text(&r["origin"]));
        assert_eq!(cell("badge_id"), text(&r["badge"]["jti"]));
        assert_eq!(cell("badge_site"), text(&r["badge"]["sub"]));
        match r["badge"]["audit"]["score"].as_u64() {
            Some(score) => assert_eq!(cell("badge_score"), score.to_string()),
            None => assert_eq!(cell("badge_score"), ""),
        }
        if r["badge"]["exp"].is_i64() {
            assert!(cell("badge_expires").ends_with('Z'), "{row:?}");
        }
    }
}

#[test]
fn the_exit_code_is_the_worst_verdict_wherever_it_comes() {
    let dir = tempdir("worst");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let (valid, revoked, unknown) = (token("valid"), token("revoked"), token("status-value-3"));
    let b = bundle.to_str().unwrap();
    let args = ["-", "--bundle", b, "--at", AT, "--ignore-origin"];
    for (lines, want) in [
        (vec![&valid, &valid], 0),
        (vec![&valid, &revoked, &valid], 1),
        (vec![&revoked, &valid], 1),
        (vec![&unknown, &revoked, &valid], 2),
        (vec![&valid, &revoked, &unknown], 2),
    ] {
        let input = lines.iter().map(|t| format!("{t}\n")).collect::<String>();
        let run = bulk(&args, input.as_bytes());
        run.expect_code(want);
        assert_eq!(run.records().len(), lines.len());
    }
}

#[test]
fn token_lines_without_an_origin_are_each_reported_as_not_checked() {
    let dir = tempdir("origin-required");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let input = format!("{}\n{}\n", token("valid"), token("revoked"));
    let run = bulk(
        &["-", "--bundle", bundle.to_str().unwrap(), "--at", AT],
        input.as_bytes(),
    );
    run.expect_code(2);
    let records = run.records();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["error"], "origin_required", "{r}");
        assert_eq!(r["verdict"], "unknown");
        assert!(r["reason"].is_null() && r["badge"].is_null());
    }
    assert!(run
        .stderr()
        .contains("hint: plain token lines need --ignore-origin"));
    assert_summary_matches(&run, &records);
}

#[test]
fn bad_lines_are_records_and_the_run_goes_on() {
    let dir = tempdir("bad-lines");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let valid = token("valid");
    let mut input = Vec::new();
    input.extend_from_slice(b"garbage, not a token\n");
    input.extend(std::iter::repeat_n(b'A', 200_000));
    input.extend_from_slice(b"\n");
    input.extend_from_slice(b"eyJ\xff\xfe not utf-8\n");
    // One signature character changed: well formed, but not what the key signed.
    let mut forged = valid.clone().into_bytes();
    let i = forged.len() - 10;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    input.extend_from_slice(&forged);
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(format!("{valid}\r\n").as_bytes());
    let run = bulk(
        &[
            "-",
            "--bundle",
            bundle.to_str().unwrap(),
            "--at",
            AT,
            "--ignore-origin",
        ],
        &input,
    );
    run.expect_code(1);
    let records = run.records();
    let reasons: Vec<&str> = records
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "malformed",
            "malformed",
            "malformed",
            "bad_signature",
            "valid"
        ],
        "{}",
        run.context()
    );
    let lines: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [1, 2, 3, 4, 5]);
    let oversize = records[1]["input"].as_str().unwrap();
    assert!(oversize.starts_with("AAAA") && oversize.ends_with('…') && oversize.len() < 100);
    assert!(records[1]["detail"]
        .as_str()
        .unwrap()
        .contains("longer than 65536"));
    assert!(records[2]["input"].as_str().unwrap().contains('\u{fffd}'));
    assert_eq!(records[4]["input"], valid.as_str(), "CR is trimmed");
}

#[test]
fn standard_input_gets_records_and_stderr_only_the_summary() {
    let dir = tempdir("stdin");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let input = format!("{}\n\n{}\n", token("valid"), token("suspended"));
    let run = bulk(
        &[
            "-",
            "--bundle",
            bundle.to_str().unwrap(),
            "--at",
            AT,
            "--ignore-origin",
        ],
        input.as_bytes(),
    );
    run.expect_code(1);
    let records = run.records();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1]["line"], 3);
    assert_eq!(records[1]["reason"], "suspended");
    // Not a terminal: no progress bar, no carriage returns or escape sequences; the
    // summary and nothing else.
    let err = run.stderr();
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
    assert!(err.starts_with("summary: 2 lines checked in "), "{err:?}");
    assert_eq!(err.lines().count(), 3, "{err:?}");
    assert!(err.lines().skip(1).all(|l| l.starts_with("  ")), "{err:?}");
    assert_summary_matches(&run, &records);
}

/// A loopback port nothing listens on (it was free a moment ago).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn site_lines_keep_their_place_and_an_unreachable_site_is_not_checked() {
    let dir = tempdir("sites");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let port = closed_port();
    let valid = token("valid");
    let input = format!(
        "{valid}\nhttp://127.0.0.1:{port}/en/\n{valid}\nhttps://under_score.example\n{valid}\n"
    );
    let run = bulk(
        &[
            "-",
            "--bundle",
            bundle.to_str().unwrap(),
            "--at",
            AT,
            "--ignore-origin",
            "--timeout",
            "5",
        ],
        input.as_bytes(),
    );
    run.expect_code(2);
    let records = run.records();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["token", "site", "token", "site", "token"]);
    assert_eq!(records[1]["error"], "fetch_failed", "{}", records[1]);
    assert_eq!(records[1]["origin"], format!("http://127.0.0.1:{port}"));
    assert_eq!(records[1]["input"], format!("http://127.0.0.1:{port}/en/"));
    assert_eq!(records[3]["error"], "bad_origin", "{}", records[3]);
    for i in [0, 2, 4] {
        assert_eq!(records[i]["reason"], "valid");
    }
    assert_summary_matches(&run, &records);
}

#[test]
fn ten_thousand_mixed_lines_are_all_counted() {
    let dir = tempdir("ten-thousand");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let (valid, revoked, suspended, bad_sig) = (
        token("valid"),
        token("revoked"),
        token("suspended"),
        token("bad-signature"),
    );
    let port = closed_port();
    let site = format!("http://127.0.0.1:{port}");
    // Line i (1-based) is chosen by i % 10; some lines are blank.
    let mut input = String::new();
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    let mut items = 0;
    for i in 1..=10_000u32 {
        let (line, reason) = match i % 10 {
            0..=3 => (valid.as_str(), "valid"),
            4 => (revoked.as_str(), "revoked"),
            5 => (suspended.as_str(), "suspended"),
            6 => ("not a token at all", "malformed"),
            7 => ("", ""),
            8 => (bad_sig.as_str(), "bad_signature"),
            _ if i % 1000 == 9 => (site.as_str(), "fetch_failed"),
            _ => ("eyJhbGciOiJub25lIn0.e30.", "malformed"),
        };
        input.push_str(line);
        input.push('\n');
        if !reason.is_empty() {
            items += 1;
            *want.entry(reason.into()).or_insert(0) += 1;
        }
    }
    let file = dir.join("mixed.txt");
    std::fs::write(&file, &input).unwrap();
    let run = bulk(
        &[
            file.to_str().unwrap(),
            "--bundle",
            bundle.to_str().unwrap(),
            "--at",
            AT,
            "--ignore-origin",
            "--concurrency",
            "4",
        ],
        b"",
    );
    run.expect_code(2);
    let records = run.records();
    assert_eq!(records.len(), items, "{}", run.context());
    // Every non-blank line once, in order.
    let numbers: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    let expected: Vec<u64> = (1..=10_000u64).filter(|i| i % 10 != 7).collect();
    assert_eq!(numbers, expected);
    let mut got = without_null(count(&records, "reason"));
    got.extend(without_null(count(&records, "error")));
    assert_eq!(got, want);
    assert_eq!(
        run.summary().verdicts,
        BTreeMap::from([
            ("valid".into(), want["valid"]),
            (
                "invalid".into(),
                want["revoked"] + want["suspended"] + want["malformed"] + want["bad_signature"]
            ),
            ("unknown".into(), want["fetch_failed"]),
        ])
    );
    assert_summary_matches(&run, &records);
}

#[test]
fn an_input_with_nothing_to_check_is_an_error() {
    let dir = tempdir("empty");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    for (input, format) in [
        (&b""[..], "ndjson"),
        (b"\n\n  \n", "csv"),
        (b"origin,token\n\n", "csv"),
    ] {
        let run = bulk(
            &[
                "-",
                "--bundle",
                bundle.to_str().unwrap(),
                "--format",
                format,
            ],
            input,
        );
        run.expect_code(2);
        assert_eq!(run.stdout(), "");
        assert!(
            run.stderr()
                .starts_with("error: standard input has no line to check\nhint: "),
            "{}",
            run.context()
        );
    }
    let run = bulk(
        &["no-such-file.txt", "--bundle", bundle.to_str().unwrap()],
        b"",
    );
    run.expect_code(2);
    assert!(run
        .stderr()
        .starts_with("error: cannot read no-such-file.txt"));
}

#[test]
fn the_record_schema_refuses_inconsistent_records() {
    let schema = record_schema();
    let ok = read_json("schemas/examples/verify-bulk-record.example.json");
    assert!(schema.is_valid(&ok));
    let bad: Vec<(&str, Value)> = vec![
        ("an error with a reason", json!({"error": "fetch_failed"})),
        ("no error and no reason", json!({"reason": null})),
        ("valid but invalid", json!({"verdict": "invalid"})),
        ("a site without origin", json!({"origin": null})),
        (
            "no badge found with badges",
            json!({"reason": "no_badge_found", "verdict": "invalid", "badge": null}),
        ),
        ("an extra member", json!({"extra": 1})),
    ];
    for (what, patch) in bad {
        let mut v = ok.clone();
        for (k, x) in patch.as_object().unwrap() {
            v[k] = x.clone();
        }
        assert!(!schema.is_valid(&v), "{what}: {v}");
    }
    // One origin rule for both outputs.
    assert_eq!(
        read_json("schemas/verify-bulk-record.schema.json")["$defs"]["origin"],
        read_json("schemas/verify-output.schema.json")["$defs"]["origin"]
    );
}

#[test]
fn a_closed_output_pipe_ends_the_run_quietly() {
    let dir = tempdir("closed-pipe");
    let bundle = bundle(&dir, &["statuslists/1.jwt"]);
    let file = dir.join("many.txt");
    std::fs::write(&file, format!("{}\n", token("revoked")).repeat(5_000)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .args(["verify-bulk", file.to_str().unwrap(), "--bundle"])
        .arg(&bundle)
        .args(["--at", AT, "--ignore-origin"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads the records: the reading end closes at once.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        !err.contains("error:") && !err.contains("panicked"),
        "{err}"
    );
    assert!(err.starts_with("summary: "), "{err}");
}
