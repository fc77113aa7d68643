//! The `trustmark` binary end to end: every golden vector through `verify --json`, exit
//! codes, hostile input, `status inspect` and `keygen`.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn vectors() -> PathBuf {
    root().join("testdata/vectors")
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
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout().trim())
            .unwrap_or_else(|e| panic!("{e}\n{}", self.context()))
    }
    /// Everything needed to understand a failure without rerunning it.
    fn context(&self) -> String {
        format!(
            "args: {:?}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
    fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "\n{}", self.context());
        self
    }
}

fn trustmark_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The CLI stops reading at its cap, so a broken pipe here is expected for big inputs.
    let _ = input.write_all(stdin);
    drop(input);
    let out = child.wait_with_output().unwrap();
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out,
    }
}

fn trustmark(args: &[&str]) -> Run {
    trustmark_with_stdin(args, b"")
}

const ISSUER: &str = "https://registry.example";
const AT: &str = "1798761600";

fn offline<'a>(token: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "verify",
        token,
        "--jwks",
        "testdata/vectors/jwks/registry.json",
        "--issuer",
        ISSUER,
        "--at",
        AT,
    ];
    v.extend_from_slice(extra);
    v
}

#[test]
fn every_badge_vector_through_the_binary() {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("cases.json")).unwrap())
            .unwrap();
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/verify-output.schema.json")).unwrap(),
    )
    .unwrap();
    let output_schema = jsonschema::draft202012::new(&schema).unwrap();
    let mut checked = 0;
    for case in manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "badge")
    {
        let at = case["at"].as_i64().map_or(AT.to_owned(), |a| a.to_string());
        let mut args: Vec<String> = vec![
            "verify".into(),
            "-".into(),
            "--jwks".into(),
            "testdata/vectors/jwks/registry.json".into(),
            "--issuer".into(),
            ISSUER.into(),
            "--at".into(),
            at,
            "--json".into(),
        ];
        match case["origin"].as_str() {
            Some(o) => args.extend(["--origin".into(), o.into()]),
            None => args.push("--ignore-origin".into()),
        }
        for l in case["status_lists"].as_array().unwrap() {
            args.extend([
                "--status-list".into(),
                format!("testdata/vectors/{}", l.as_str().unwrap()),
            ]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = trustmark_with_stdin(&argv, case["token"].as_str().unwrap().as_bytes());
        let want_code = match case["expect"]["verdict"].as_str().unwrap() {
            "valid" => 0,
            "invalid" => 1,
            _ => 2,
        };
        let name = case["name"].as_str().unwrap();
        assert_eq!(run.code(), want_code, "{name}\n{}", run.context());
        assert!(
            run.stdout().starts_with(r#"{"verdict":"#),
            "members in documented order\n{}",
            run.context()
        );
        let out = run.json();
        let errors: Vec<String> = output_schema
            .iter_errors(&out)
            .map(|e| e.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "{name}: output does not fit verify-output.schema.json: {errors:?}"
        );
        assert_eq!(out["verdict"], case["expect"]["verdict"], "{name}");
        assert_eq!(out["reason"], case["expect"]["reason"], "{name}");
        assert!(
            !run.stderr().contains("panicked"),
            "{name}\n{}",
            run.context()
        );
        checked += 1;
    }
    assert!(checked >= 70, "only {checked} badge vectors");
}

fn valid_token() -> String {
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("cases.json")).unwrap())
            .unwrap();
    manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "valid")
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn human_output_names_the_verdict_and_the_key_facts() {
    let token = valid_token();
    let run = trustmark(&offline(
        &token,
        &[
            "--status-list",
            "testdata/vectors/statuslists/1.jwt",
            "--origin",
            "https://WWW.Supplier.example/en/",
        ],
    ));
    run.expect_code(0);
    let text = run.stdout();
    let first = text.lines().next().unwrap();
    assert_eq!(first, "VALID (valid)");
    for fact in [
        "https://www.supplier.example",
        "Shenzhen Example Electronics Co., Ltd. (CN)",
        "89/100",
        "2027-12-02",
        "status:   valid",
    ] {
        assert!(text.contains(fact), "missing {fact}\n{}", run.context());
    }
}

#[test]
fn token_from_a_file_and_time_as_rfc3339() {
    let dir = tempdir();
    let file = dir.join("badge.jwt");
    std::fs::write(&file, format!("{}\n", valid_token())).unwrap();
    let arg = format!("@{}", file.display());
    let mut args = offline(
        &arg,
        &[
            "--status-list",
            "testdata/vectors/statuslists/1.jwt",
            "--ignore-origin",
            "--json",
        ],
    );
    args[7] = "2027-01-01T08:00:00+08:00";
    let run = trustmark(&args);
    run.expect_code(0);
    assert_eq!(run.json()["origin"], Value::Null);
}

#[test]
fn ten_megabytes_of_garbage_on_stdin_is_one_clear_malformed_verdict() {
    let garbage: Vec<u8> = (0..10_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let run = trustmark_with_stdin(&offline("-", &["--ignore-origin", "--json"]), &garbage);
    run.expect_code(1);
    assert_eq!(run.json()["reason"], "malformed");
    assert!(!run.stderr().contains("panicked"));
}

#[test]
fn hostile_token_arguments_are_malformed_not_crashes() {
    for token in [
        "eyJ",
        "eyJhbGciOiJub25lIn0..",
        "eyJ.eyJ.eyJ",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA",
        "\u{202e}eyJ",
        "eyJ\u{1}x",
    ] {
        let run = trustmark(&offline(token, &["--ignore-origin", "--json"]));
        run.expect_code(1);
        assert_eq!(run.json()["reason"], "malformed", "{token:?}");
    }
    let run = trustmark_with_stdin(
        &offline("-", &["--ignore-origin", "--json"]),
        b"eyJ\xff\xfe.x.y",
    );
    run.expect_code(1);
    assert_eq!(run.json()["reason"], "malformed");
}

#[test]
fn usage_errors_exit_2_with_error_and_hint() {
    let token = valid_token();
    let cases: Vec<Vec<&str>> = vec![
        vec!["verify", &token, "--ignore-origin"],
        vec![
            "verify",
            &token,
            "--jwks",
            "testdata/vectors/jwks/registry.json",
            "--issuer",
            ISSUER,
        ],
        offline(&token, &["--ignore-origin", "--at", "next tuesday"]),
        offline(&token, &["--origin", "ftp://x.example"]),
        offline("@/nonexistent/badge.jwt", &["--ignore-origin"]),
        offline("supplier.example", &["--ignore-origin"]),
        vec![
            "verify",
            &token,
            "--jwks",
            "testdata/vectors/jwks/invalid.json",
            "--issuer",
            ISSUER,
            "--ignore-origin",
        ],
        vec![
            "verify",
            &token,
            "--jwks",
            "testdata/vectors/cases.json",
            "--issuer",
            ISSUER,
            "--ignore-origin",
        ],
    ];
    for args in cases {
        let run = trustmark(&args);
        run.expect_code(2);
        assert!(
            run.stdout().is_empty(),
            "no verdict may be printed\n{}",
            run.context()
        );
        let err = run.stderr();
        assert!(
            err.starts_with("error:") || err.contains("error:"),
            "{}",
            run.context()
        );
    }
    let run = trustmark(&offline("@/nonexistent/badge.jwt", &["--ignore-origin"]));
    assert!(run.stderr().contains("hint:"), "{}", run.context());
}

#[test]
fn a_broken_status_list_file_warns_and_cannot_be_valid() {
    let token = valid_token();
    let run = trustmark(&offline(
        &token,
        &[
            "--status-list",
            "testdata/vectors/statuslists/1-unknown-key.jwt",
            "--ignore-origin",
            "--json",
        ],
    ));
    run.expect_code(2);
    assert_eq!(run.json()["reason"], "status_invalid");
    assert!(
        run.stderr().contains("warning: status list"),
        "{}",
        run.context()
    );
}

#[test]
fn status_inspect_reports_facts_values_and_failures() {
    let list = "testdata/vectors/statuslists/1.jwt";
    let run = trustmark(&["status", "inspect", list, "--index", "2002", "--json"]);
    run.expect_code(0);
    let v = run.json();
    assert_eq!(
        (v["bits"].as_u64(), v["size"].as_u64()),
        (Some(2), Some(131_072))
    );
    assert_eq!(
        (v["value"].as_u64(), v["value_name"].as_str()),
        (Some(2), Some("suspended"))
    );
    assert_eq!(v["counts"]["1"], 1);
    assert_eq!(
        (v["ttl"].as_u64(), v["signature"].as_str()),
        (Some(3600), Some("not checked"))
    );

    let run = trustmark(&["status", "inspect", list, "--index", "131072"]);
    run.expect_code(1);
    assert!(run.stdout().contains("out of range"), "{}", run.context());

    let keys = [
        "--jwks",
        "testdata/vectors/jwks/registry.json",
        "--issuer",
        ISSUER,
    ];
    let run = trustmark(&[&["status", "inspect", list][..], &keys].concat());
    run.expect_code(0);
    assert!(
        run.stdout().contains("signature: verified"),
        "{}",
        run.context()
    );
    let run = trustmark(
        &[
            &[
                "status",
                "inspect",
                "testdata/vectors/statuslists/1-unknown-key.jwt",
            ][..],
            &keys,
        ]
        .concat(),
    );
    run.expect_code(1);
    assert!(
        run.stdout().contains("signature: INVALID"),
        "{}",
        run.context()
    );

    let run = trustmark(&[
        "status",
        "inspect",
        "testdata/vectors/statuslists/1-bomb.jwt",
    ]);
    run.expect_code(2);
    assert!(run.stderr().contains("inflates past"), "{}", run.context());
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "trustmark-cli-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn keygen_writes_a_0600_private_key_and_prints_the_public_one() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let path = dir.join("auditor.jwk");
    let p = path.to_str().unwrap();
    let run = trustmark(&["keygen", "-o", p]);
    run.expect_code(0);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let public = run.json();
    assert!(public.get("d").is_none(), "the public JWK must not carry d");
    let private =
        trustmark_core::sign::SigningKey::from_jwk_json(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(public["kid"].as_str(), Some(private.kid()));
    let parsed = trustmark_core::PublicKey::from_jwk_json(public.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.kid(), private.kid());
    // Never overwrite an existing key.
    let again = trustmark(&["keygen", "-o", p]);
    again.expect_code(2);
    assert_eq!(
        trustmark_core::sign::SigningKey::from_jwk_json(&std::fs::read(&path).unwrap())
            .unwrap()
            .kid(),
        private.kid()
    );
    // Two runs give two different keys.
    let other = dir.join("other.jwk");
    let second = trustmark(&["keygen", "-o", other.to_str().unwrap()]);
    assert_ne!(second.json()["kid"], public["kid"]);
}
