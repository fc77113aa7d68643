//! `trustmark audit sign`, and the failures of `audit submit` and `badge` that stop
//! before the network, through the binary: what is printed where, and the exit codes.
//! (Submitting to a real registry is tested in tests/tests/cli_auditor.rs.)

use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use trustmark_core::sign::SigningKey;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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
    fn context(&self) -> String {
        format!(
            "args: {:?}\nexit: {}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
    /// Exit 2 with an `error:` and a `hint:` naming `words`, and nothing on stdout.
    fn could_not(&self, words: &str) {
        assert_eq!(self.code(), 2, "\n{}", self.context());
        assert!(self.stdout().is_empty(), "{}", self.context());
        let err = self.stderr();
        assert!(err.starts_with("error: "), "{}", self.context());
        assert!(err.contains(words), "no {words:?}\n{}", self.context());
        assert!(err.contains("\nhint: "), "{}", self.context());
    }
}

fn trustmark_with_stdin(args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .args(args)
        .current_dir(root())
        .env_remove("TRUSTMARK_REGISTRY")
        .env("TRUSTMARK_CONFIG", "/nonexistent/trustmark-config.toml")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin);
    drop(input);
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        out: child.wait_with_output().unwrap(),
    }
}

fn trustmark(args: &[&str]) -> Run {
    trustmark_with_stdin(args, b"")
}

fn tempdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tm-cli-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A key made by `trustmark keygen` in `dir`; returns its path and the key.
fn keygen(dir: &Path) -> (String, SigningKey) {
    let path = dir.join("auditor.jwk");
    let run = trustmark(&["keygen", "-o", path.to_str().unwrap()]);
    assert_eq!(run.code(), 0, "{}", run.context());
    let key = SigningKey::from_jwk_json(&std::fs::read(&path).unwrap()).unwrap();
    (path.to_str().unwrap().to_owned(), key)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn sign_prints_one_statement_the_registry_checks_would_accept() {
    let dir = tempdir("sign");
    let (key_file, key) = keygen(&dir);
    let run = trustmark(&[
        "audit",
        "sign",
        "--key",
        &key_file,
        "--auditor",
        "apac-trust-audit",
        "docs/examples/audit-pass.json",
    ]);
    assert_eq!(run.code(), 0, "{}", run.context());
    let out = run.stdout();
    assert_eq!(out.lines().count(), 1, "{}", run.context());
    let token = out.trim();
    // The checks the registry makes before accreditation and replay.
    let claims = trustmark_core::statement::verify_audit_statement(
        token,
        "apac-trust-audit",
        &key.public(),
        now(),
    )
    .unwrap();
    assert_eq!(claims.sub, "https://www.supplier.example");
    assert_eq!(claims.aliases, ["https://supplier.example"]);
    assert_eq!(claims.org.reg.as_deref(), Some("91440300MA5EXAMP1X"));
    assert_eq!(claims.audited_at, 1_795_165_200);
    assert!((now() - claims.iat).abs() <= 5);
    assert_eq!(claims.jti.len(), 22);
    // Signing again gives a new jti: a statement is never replayed by re-running.
    let again = trustmark(&[
        "audit",
        "sign",
        "--key",
        &key_file,
        "--auditor",
        "apac-trust-audit",
        "docs/examples/audit-pass.json",
    ]);
    let second = trustmark_core::statement::verify_audit_statement(
        again.stdout().trim(),
        "apac-trust-audit",
        &key.public(),
        now(),
    )
    .unwrap();
    assert_ne!(second.jti, claims.jti);
}

#[test]
fn a_failing_audit_is_signed_with_a_warning_naming_each_indicator() {
    let dir = tempdir("failing");
    let (key_file, _) = keygen(&dir);
    let file = std::fs::read(root().join("docs/examples/audit-fail.json")).unwrap();
    let run = trustmark_with_stdin(
        &["audit", "sign", "--key", &key_file, "--auditor", "lab", "-"],
        &file,
    );
    assert_eq!(run.code(), 0, "{}", run.context());
    assert!(run.stdout().starts_with("eyJ"), "{}", run.context());
    let err = run.stderr();
    assert!(
        err.contains(
            "note: /site www.mekong-export.example is signed as https://www.mekong-export.example"
        ),
        "{err}"
    );
    assert!(
        err.contains("warning: the registry will refuse this audit (/problems/indicators)"),
        "{err}"
    );
    for line in [
        "  /indicators/multilingual_parameter_deviation: 4.8% (passing needs at most 2%)",
        "  /indicators/tls_configuration: 0 (passing needs exactly 1)",
        "  /indicators/data_protection_notice: 75% (passing needs exactly 100%)",
    ] {
        assert!(err.lines().any(|l| l == line), "no {line:?}\n{err}");
    }
    assert_eq!(
        err.lines().filter(|l| l.contains("/indicators/")).count(),
        3
    );
}

#[test]
fn bad_audit_files_are_refused_naming_the_field() {
    let dir = tempdir("files");
    let (key_file, _) = keygen(&dir);
    let mut pass: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("docs/examples/audit-pass.json")).unwrap(),
    )
    .unwrap();
    let mut draft = pass.clone();
    draft["indicators"]["business_identity_match"] = Value::Null;
    pass["organisation"]["name"] = "Example\u{202e}Co".into();
    pass["valid_days"] = 0.into();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "draft",
            draft.to_string().into_bytes(),
            "/indicators/business_identity_match: Business identity match (boolean)",
        ),
        (
            "rules",
            pass.to_string().into_bytes(),
            "/valid_days: 0 is less than the minimum of 1",
        ),
        (
            "syntax",
            b"{\"site\": }".to_vec(),
            "not JSON: expected value at line 1",
        ),
        ("empty", Vec::new(), "not JSON"),
        (
            "array",
            b"[]".to_vec(),
            "(the file): [] is not of type \"object\"",
        ),
    ];
    for (name, bytes, words) in cases {
        let run = trustmark_with_stdin(
            &["audit", "sign", "--key", &key_file, "--auditor", "lab", "-"],
            &bytes,
        );
        run.could_not(words);
        assert!(
            run.stderr().starts_with("error: standard input")
                || run.stderr().starts_with("error: -"),
            "{name}\n{}",
            run.context()
        );
    }
    trustmark(&[
        "audit",
        "sign",
        "--key",
        &key_file,
        "--auditor",
        "lab",
        "no/such.json",
    ])
    .could_not("cannot read no/such.json");
}

#[test]
fn unusable_keys_and_flags_stop_before_signing_or_sending() {
    let dir = tempdir("keys");
    let (key_file, _) = keygen(&dir);
    let example = "docs/examples/audit-pass.json";
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o640)).unwrap();
    trustmark(&[
        "audit",
        "sign",
        "--key",
        &key_file,
        "--auditor",
        "lab",
        example,
    ])
    .could_not("mode 0640");
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let public = dir.join("auditor.pub.jwk");
    let run = trustmark(&["keygen", "-o", dir.join("second.jwk").to_str().unwrap()]);
    std::fs::write(&public, run.stdout()).unwrap();
    trustmark(&[
        "audit",
        "sign",
        "--key",
        public.to_str().unwrap(),
        "--auditor",
        "lab",
        example,
    ])
    .could_not("holds a public key only");
    trustmark(&[
        "audit",
        "sign",
        "--key",
        "testdata/vectors/jwks/registry.json",
        "--auditor",
        "lab",
        example,
    ])
    .could_not("is a key set");
    trustmark(&[
        "audit",
        "sign",
        "--key",
        &key_file,
        "--auditor",
        "lab one",
        example,
    ])
    .could_not("--auditor 'lab one' is not an auditor id");

    // submit and badge check everything local before touching the network: port 9 has
    // no registry, and the local error is what is reported.
    let nowhere = "http://127.0.0.1:9";
    let mut draft: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(example)).unwrap()).unwrap();
    draft["indicators"]["site_availability"] = Value::Null;
    let draft_path = dir.join("draft.json");
    std::fs::write(&draft_path, draft.to_string()).unwrap();
    trustmark(&[
        "audit",
        "submit",
        "--registry",
        nowhere,
        "--key",
        &key_file,
        "--auditor",
        "lab",
        draft_path.to_str().unwrap(),
    ])
    .could_not("/indicators/site_availability");
    trustmark(&[
        "audit",
        "submit",
        "--registry",
        "ftp://registry.example",
        "--key",
        &key_file,
        "--auditor",
        "lab",
        example,
    ])
    .could_not("is not a registry URL");
    let badge = |id: &str, reason: &str| {
        trustmark(&[
            "badge",
            "suspend",
            id,
            "--reason",
            reason,
            "--registry",
            nowhere,
            "--key",
            &key_file,
            "--auditor",
            "lab",
        ])
    };
    badge("b_../../etc", "x").could_not("is not a badge id");
    badge("b_q3Xo0kM9Vd2mTj0PZ1y7Aw", "two\nlines").could_not("--reason");
    badge("b_q3Xo0kM9Vd2mTj0PZ1y7Aw", &"x".repeat(201)).could_not("--reason");
    badge("b_q3Xo0kM9Vd2mTj0PZ1y7Aw", "ok").could_not("127.0.0.1:9");
}

#[test]
fn help_walks_an_auditor_through_keygen_accreditation_and_submission() {
    let help = trustmark(&["keygen", "--help"]).stdout();
    for words in [
        "registry operator",
        "trustmark-registry auditor add",
        "trustmark audit submit",
        "auditor.pub.jwk",
    ] {
        assert!(
            help.contains(words),
            "keygen --help lacks {words:?}:\n{help}"
        );
    }
    let help = trustmark(&["audit", "submit", "--help"]).stdout();
    for words in [
        "--json",
        "Exit codes: 0 done; 1 refused by the registry; 2 could not",
        "audited_at",
    ] {
        assert!(
            help.contains(words),
            "audit submit --help lacks {words:?}:\n{help}"
        );
    }
    for action in ["revoke", "suspend", "reinstate"] {
        let help = trustmark(&["badge", action, "--help"]).stdout();
        assert!(
            help.contains("stale-request") && help.contains("<BADGE_ID>"),
            "{help}"
        );
    }
}
