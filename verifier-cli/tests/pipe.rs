//! `trustmark verify` writing into a pipe nobody reads (`trustmark verify … | head -0`):
//! the verdict's exit code, nothing on stderr, no panic.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The token, origin and status lists of the golden vector `name`.
fn vector(name: &str) -> (String, String, Vec<String>) {
    let text = std::fs::read_to_string(root().join("testdata/vectors/cases.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let case = manifest["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    let lists = case["status_lists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| format!("testdata/vectors/{}", l.as_str().unwrap()))
        .collect();
    (
        case["token"].as_str().unwrap().to_owned(),
        case["origin"].as_str().unwrap().to_owned(),
        lists,
    )
}

#[test]
fn a_closed_stdout_pipe_keeps_the_verdict_and_stays_quiet() {
    for (name, code) in [("valid", 0), ("revoked", 1)] {
        let (token, origin, lists) = vector(name);
        for json in [false, true] {
            let mut args: Vec<String> = [
                "verify",
                &token,
                "--jwks",
                "testdata/vectors/jwks/registry.json",
                "--issuer",
                "https://registry.example",
                "--at",
                "1798761600",
                "--origin",
                &origin,
            ]
            .map(String::from)
            .to_vec();
            for l in &lists {
                args.extend(["--status-list".into(), l.clone()]);
            }
            if json {
                args.push("--json".into());
            }
            // The read end is gone before the child starts, so its first write fails
            // with EPIPE.
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            let out = Command::new(env!("CARGO_BIN_EXE_trustmark"))
                .args(&args)
                .current_dir(root())
                .stdin(Stdio::null())
                .stdout(writer)
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("{name} (json: {json})");
            assert_eq!(out.status.code(), Some(code), "{what}: stderr {stderr}");
            assert!(stderr.is_empty(), "{what}: stderr {stderr}");
        }
    }
}
