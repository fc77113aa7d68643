//! Golden CLI tests: every command and its error paths, with the exact output a user
//! sees. Each `tests/cmd/*.md` file is a readable transcript (`$ command`, `? exit code`,
//! then what it printed, standard output and standard error together); `[..]` and `...`
//! stand for parts that change from run to run (fresh keys, signatures, times), and
//! `[VALID]`-style names for the vector tokens. After an intended change, regenerate with
//! `TRYCMD=overwrite cargo test -p trustmark-cli --test golden` and review the diff.
//!
//! The transcripts run offline against the golden vectors: most have a `<case>.in` link to
//! the repository root as their working directory; `keys.md` runs in a scratch copy of
//! `keys.in/`. The registry's side of the auditor and online commands is covered end to
//! end in `tests/tests/cli_*.rs`.

use std::path::Path;

/// Vector tokens the transcripts read as files (`target/golden/<name>.jwt`) and show by a
/// `[NAME]` placeholder where they are echoed.
const TOKENS: &[(&str, &str)] = &[
    ("valid", "[VALID]"),
    ("revoked", "[REVOKED]"),
    ("suspended", "[SUSPENDED]"),
    ("tampered-payload", "[TAMPERED]"),
    ("alg-none", "[ALG_NONE]"),
];

fn token(cases: &serde_json::Value, name: &str) -> String {
    cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("vector case {name} is gone"))["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn golden_transcripts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cases: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("testdata/vectors/cases.json")).unwrap())
            .unwrap();
    // The vectors stay the one source: these files are written afresh on every run.
    let dir = root.join("target/golden");
    std::fs::create_dir_all(&dir).unwrap();
    let tests = trycmd::TestCases::new();
    for (name, var) in TOKENS {
        let t = token(&cases, name);
        std::fs::write(dir.join(format!("{name}.jwt")), &t).unwrap();
        tests.insert_var(var, t).unwrap();
    }
    let (valid, revoked, suspended) = (
        token(&cases, "valid"),
        token(&cases, "revoked"),
        token(&cases, "suspended"),
    );
    // Token lines: two tokens, a blank line, garbage, a site that cannot be reached.
    std::fs::write(
        dir.join("tokens.txt"),
        format!("{valid}\n{revoked}\n\ngarbage-line\nhttp://127.0.0.1:9/\n"),
    )
    .unwrap();
    // CSV: the badge on its site, on another site, a suspended one, a row without origin.
    std::fs::write(
        dir.join("suppliers.csv"),
        format!(
            "origin,token\nhttps://www.supplier.example,{valid}\nhttps://copycat.example,{valid}\n\
             https://www.supplier.example,{suspended}\n,{valid}\n"
        ),
    )
    .unwrap();

    let scratch = std::env::temp_dir().join(format!("trustmark-golden-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    tests
        // No colour, no user configuration, no user cache, no registry from the shell.
        .env("NO_COLOR", "1")
        .env(
            "TRUSTMARK_CONFIG",
            scratch.join("no-config.toml").display().to_string(),
        )
        .env(
            "TRUSTMARK_CACHE_DIR",
            scratch.join("cache").display().to_string(),
        )
        .env("TRUSTMARK_REGISTRY", "")
        .case("tests/cmd/*.md");
}
