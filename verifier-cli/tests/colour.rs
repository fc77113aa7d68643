//! Colour only on a terminal, never with NO_COLOR: the verdict line is coloured when
//! standard output is a terminal (a pseudo-terminal from `script`), and plain in a pipe
//! or when NO_COLOR is set.

use std::path::Path;
use std::process::Command;

const ESC: char = '\u{1b}';

fn args() -> Vec<String> {
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/vectors");
    let token = std::fs::read_to_string(vectors.join("../examples/badge.jwt")).unwrap();
    [
        "verify",
        token.trim(),
        "--jwks",
        vectors.join("jwks/registry.json").to_str().unwrap(),
        "--issuer",
        "https://registry.example",
        "--status-list",
        vectors.join("statuslists/1.jwt").to_str().unwrap(),
        "--origin",
        "https://www.supplier.example",
        "--at",
        "1798761600",
    ]
    .map(String::from)
    .to_vec()
}

/// Runs the command on a pseudo-terminal (util-linux `script`) and returns what it wrote.
fn on_terminal(no_color: bool) -> String {
    let line = std::iter::once(env!("CARGO_BIN_EXE_trustmark").to_owned())
        .chain(args())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().expect("util-linux script");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_verdict_is_coloured_on_a_terminal_only() {
    let coloured = on_terminal(false);
    assert!(
        coloured.contains(&format!("{ESC}[")),
        "no colour on a terminal: {coloured:?}"
    );
    assert!(coloured.contains("VALID (valid)"), "{coloured:?}");
    let plain = on_terminal(true);
    assert!(
        !plain.contains(ESC),
        "NO_COLOR was not respected: {plain:?}"
    );
    assert!(plain.contains("VALID (valid)"));
    let piped = Command::new(env!("CARGO_BIN_EXE_trustmark"))
        .args(args())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let piped = String::from_utf8(piped.stdout).unwrap();
    assert!(
        piped.starts_with("VALID (valid)\n"),
        "colour in a pipe: {piped:?}"
    );
}
