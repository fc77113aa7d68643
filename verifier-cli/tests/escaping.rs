//! Claim text from a token never reaches the terminal raw: a badge whose organisation name
//! carries an escape sequence or a bidi override cannot rewrite the "NOT VALID" line.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors")
}

fn case(name: &str) -> Value {
    let cases: Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("cases.json")).unwrap())
            .unwrap();
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

fn human(name: &str) -> (i32, String) {
    let c = case(name);
    let out = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .current_dir(vectors())
        .args(["verify", c["token"].as_str().unwrap()])
        .args([
            "--jwks",
            "jwks/registry.json",
            "--issuer",
            "https://registry.example",
        ])
        .args(["--status-list", "statuslists/1.jwt", "--at", "1798761600"])
        .args(["--origin", "https://www.supplier.example"])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn escape_sequences_in_claims_are_printed_escaped() {
    let (code, text) = human("malformed-org-control");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.starts_with("NOT VALID: malformed (malformed)\n"),
        "{text}"
    );
    assert!(
        !text.contains('\u{1b}'),
        "a raw ESC reached stdout: {text:?}"
    );
    assert!(
        text.contains("Example\\u{001b}[2K\\u{001b}[1GVALID Co."),
        "{text}"
    );
}

#[test]
fn bidi_overrides_and_zero_width_characters_are_printed_escaped() {
    for (name, escaped) in [
        ("malformed-org-bidi-override", "\\u{202e}"),
        ("malformed-org-zero-width", "\\u{200b}"),
    ] {
        let (code, text) = human(name);
        assert_eq!(code, 1, "{name}: {text}");
        assert!(text.contains(escaped), "{name}: {text}");
        assert!(
            !text.contains(['\u{202e}', '\u{200b}']),
            "{name}: a raw format character reached stdout: {text:?}"
        );
    }
}
