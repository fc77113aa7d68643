//! The auditor's client end to end against a real `trustmark-registry serve` process:
//! `trustmark keygen` → accreditation with the operator command → `trustmark audit
//! submit` of the passing and the failing example → `trustmark badge suspend`,
//! `reinstate`, `revoke` → the refusals the CLI can reach, with their exit codes.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

mod common;
use common::{
    free_port, get_json, get_text, metric, next_second, now, post_statement, run_bin,
    spawn_registry, stop, temp_dir, verify_with_served, wait_healthy, Run,
};

const SITE: &str = "https://www.supplier.example";

fn trustmark(args: &[&str]) -> Run {
    run_bin("trustmark", args)
}

/// A copy of `docs/examples/NAME` in `dir`, audited yesterday. The examples carry a
/// fixed audit date, which the registry refuses once `audited_at + valid_days` has
/// passed; everything else is submitted as written.
fn example_dated_yesterday(name: &str, dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(common::root().join("docs/examples").join(name)).unwrap();
    let mut file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let yesterday = chrono::DateTime::from_timestamp(now() - 86_400, 0).unwrap();
    file["audited_at"] = yesterday.to_rfc3339().into();
    let path = dir.join(name);
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// An auditor key made with `trustmark keygen`: (private file, public file).
fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.jwk"));
    let run = trustmark(&["keygen", "-o", private.to_str().unwrap()]);
    run.expect_code(0);
    let public = dir.join(format!("{name}.pub.jwk"));
    std::fs::write(&public, run.stdout()).unwrap();
    (private, public)
}

/// A registry process on a fresh data directory, with `auditors` (id, public key file)
/// accredited through `trustmark-registry auditor add` while it runs.
async fn registry(
    dir: &Path,
    auditors: &[(&str, &Path)],
) -> (std::process::Child, String, PathBuf) {
    let data = dir.join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = spawn_registry(&data, port);
    wait_healthy(&base).await;
    for (id, public) in auditors {
        operator(
            &data,
            &[
                "auditor",
                "add",
                "--id",
                id,
                "--name",
                id,
                "--key",
                public.to_str().unwrap(),
            ],
        );
    }
    (server, base, data)
}

fn operator(data: &Path, args: &[&str]) -> Run {
    let mut argv = args.to_vec();
    argv.extend(["--data", data.to_str().unwrap()]);
    let run = run_bin("trustmark-registry", &argv);
    run.expect_code(0);
    run
}

struct Auditor<'a> {
    base: &'a str,
    key: &'a Path,
    id: &'a str,
}

impl Auditor<'_> {
    fn submit(&self, file: &Path, extra: &[&str]) -> Run {
        let mut args = vec![
            "audit",
            "submit",
            "--registry",
            self.base,
            "--key",
            self.key.to_str().unwrap(),
            "--auditor",
            self.id,
            file.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        trustmark(&args)
    }

    fn badge(&self, action: &str, id: &str, reason: &str) -> Run {
        trustmark(&[
            "badge",
            action,
            id,
            "--reason",
            reason,
            "--registry",
            self.base,
            "--key",
            self.key.to_str().unwrap(),
            "--auditor",
            self.id,
        ])
    }
}

/// The badge id of a human `audit submit` answer, after checking every line of it.
fn issued_id(run: &Run, base: &str) -> String {
    let out = run.stdout();
    let lines: Vec<&str> = out.lines().collect();
    let id = lines[0]
        .strip_prefix("issued badge ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("no badge id\n{}", run.context()))
        .to_owned();
    assert_eq!(
        lines[0],
        format!("issued badge {id} for {SITE} (score 89/100)"),
        "\n{}",
        run.context()
    );
    let want = [
        format!("verification page: {base}/b/{id}"),
        String::new(),
        "Embed it in the site's pages:".into(),
        format!(r#"<script async src="{base}/badge.js"></script>"#),
        format!(r#"<trustmark-badge src="{base}/b/{id}/badge.jwt"></trustmark-badge>"#),
        String::new(),
        "Without JavaScript:".into(),
        format!(
            r#"<a href="{base}/b/{id}"><img src="{base}/b/{id}/badge.svg" alt="TrustMark"></a>"#
        ),
    ];
    assert_eq!(lines[1..], want, "\n{}", run.context());
    id
}

/// The verdict reason of `token` for `origin` with what the registry serves now.
async fn reason(base: &str, token: &str, origin: &str, dir: &Path) -> (String, i32) {
    let run = verify_with_served(base, token, origin, dir).await;
    (
        run.json()["reason"].as_str().unwrap().to_owned(),
        run.code(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keygen_accredit_submit_and_change_a_badge() {
    let dir = temp_dir("cli-auditor-lifecycle");
    let (key, public) = keygen(&dir, "auditor");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let (server, base, data) = registry(&dir, &[("lab-cli", &public)]).await;
    let lab = Auditor {
        base: &base,
        key: &key,
        id: "lab-cli",
    };

    // The passing example: a badge, its page and the embed code.
    let pass = example_dated_yesterday("audit-pass.json", &dir);
    let run = lab.submit(&pass, &[]);
    run.expect_code(0);
    assert!(
        run.stderr().is_empty(),
        "a passing audit warns about nothing\n{}",
        run.context()
    );
    let id = issued_id(&run, &base);
    // The token the embedded element fetches is a badge valid for the site and its alias.
    let token = get_text(&format!("{base}/b/{id}/badge.jwt")).await;
    for origin in [SITE, "https://supplier.example"] {
        let verified = verify_with_served(&base, &token, origin, &dir).await;
        verified.expect_code(0);
        let v = verified.json();
        assert_eq!(v["reason"], "valid");
        assert_eq!(v["badge"]["jti"], id.as_str());
        assert_eq!(v["badge"]["auditor"], "lab-cli");
        assert_eq!(v["badge"]["org"]["reg"], "91440300MA5EXAMP1X");
    }
    let record = get_json(&format!("{base}/api/v1/badges/{id}")).await;
    assert_eq!(
        record["claims"]["audit"]["digest"],
        trustmark_core::statement::digest(record["audit_statement"].as_str().unwrap())
    );

    // The failing example: warned about before signing, refused by the registry with
    // every failing indicator named, exit 1.
    let fail = example_dated_yesterday("audit-fail.json", &dir);
    let failing = [
        "multilingual_parameter_deviation",
        "tls_configuration",
        "data_protection_notice",
    ];
    let run = lab.submit(&fail, &[]);
    run.expect_code(1)
        .expect_stderr("warning: the registry will refuse this audit (/problems/indicators)")
        .expect_stderr("error: the registry refused the audit statement: Audit does not pass (422 /problems/indicators)")
        .expect_stderr(&format!("\n  failing: {}\n", failing.join(", ")))
        .expect_stderr("\nhint: ");
    for id in failing {
        run.expect_stderr(&format!("  /indicators/{id}: "));
    }
    assert!(run.stdout().is_empty(), "{}", run.context());
    let run = lab.submit(&fail, &["--json"]);
    run.expect_code(1);
    let problem = run.json();
    assert_eq!(problem["type"], "/problems/indicators");
    assert_eq!(problem["indicators"]["failing"], serde_json::json!(failing));

    // Suspend, reinstate, revoke: each signed in a later second than the last change.
    for (action, status, code) in [
        ("suspend", "suspended", 1),
        ("reinstate", "valid", 0),
        ("revoke", "revoked", 1),
    ] {
        next_second().await;
        let run = lab.badge(action, &id, &format!("{action}: e2e"));
        run.expect_code(0);
        assert_eq!(
            run.stdout().trim(),
            format!("{id} is now {status}"),
            "{}",
            run.context()
        );
        assert_eq!(
            reason(&base, &token, SITE, &dir).await,
            (status.to_owned(), code),
            "after {action}"
        );
    }
    let history = get_json(&format!("{base}/api/v1/badges/{id}")).await["history"].clone();
    let steps: Vec<(&str, &str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["status"].as_str().unwrap(),
                h["reason"].as_str().unwrap(),
                h["by"]["id"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("valid", "issued", "lab-cli"),
            ("suspended", "suspend: e2e", "lab-cli"),
            ("valid", "reinstate: e2e", "lab-cli"),
            ("revoked", "revoke: e2e", "lab-cli"),
        ]
    );
    next_second().await;
    lab.badge("reinstate", &id, "undo")
        .expect_code(1)
        .expect_stderr("/problems/revoked-is-final")
        .expect_stderr("hint: a revoked badge never changes again");

    // --json: the registry's answer plus the embed code, for scripts.
    let run = lab.submit(&pass, &["--json"]);
    run.expect_code(0);
    let answer = run.json();
    let second = answer["id"].as_str().unwrap().to_owned();
    assert_eq!(answer["ref"], format!("{base}/b/{second}"));
    assert_eq!(
        answer["embed"]["element"],
        format!(r#"<trustmark-badge src="{base}/b/{second}/badge.jwt"></trustmark-badge>"#)
    );
    let token = answer["token"].as_str().unwrap();
    assert_eq!(
        reason(&base, token, SITE, &dir).await,
        ("valid".to_owned(), 0)
    );

    // A suspension by the operator is lifted only by the operator.
    operator(
        &data,
        &[
            "badge",
            "suspend",
            &second,
            "--reason",
            "complaint under review",
        ],
    );
    next_second().await;
    lab.badge("reinstate", &second, "fixed")
        .expect_code(1)
        .expect_stderr("/problems/operator-suspension")
        .expect_stderr("only the operator can reinstate");

    // `audit sign` prints exactly what the registry accepts, once: the same signed
    // statement sent again is a replay.
    let run = trustmark(&[
        "audit",
        "sign",
        "--key",
        key.to_str().unwrap(),
        "--auditor",
        "lab-cli",
        pass.to_str().unwrap(),
    ]);
    run.expect_code(0);
    let statement = run.stdout();
    assert_eq!(statement.lines().count(), 1, "one line");
    let (status, _) = post_statement(&base, statement.trim().to_owned()).await;
    assert_eq!(status, reqwest::StatusCode::CREATED);
    let (status, body) = post_statement(&base, statement.trim().to_owned()).await;
    assert_eq!(
        (status, body["type"].as_str()),
        (reqwest::StatusCode::CONFLICT, Some("/problems/replay"))
    );

    stop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_failures_the_cli_can_reach() {
    let dir = temp_dir("cli-auditor-refusals");
    let (key, public) = keygen(&dir, "lab");
    let (other_key, other_public) = keygen(&dir, "other");
    let (server, base, data) =
        registry(&dir, &[("lab", &public), ("lab-two", &other_public)]).await;
    let lab = Auditor {
        base: &base,
        key: &key,
        id: "lab",
    };
    let pass = example_dated_yesterday("audit-pass.json", &dir);
    let run = lab.submit(&pass, &[]);
    run.expect_code(0);
    let id = issued_id(&run, &base);

    // Refused by the registry: exit 1, the problem type, and what to do.
    let wrong_key = Auditor {
        base: &base,
        key: &other_key,
        id: "lab",
    };
    wrong_key
        .submit(&pass, &[])
        .expect_code(1)
        .expect_stderr("(403 /problems/bad-signature)")
        .expect_stderr("hint: sign with the key accredited for this auditor id (--key)");
    let stranger = Auditor {
        base: &base,
        key: &key,
        id: "nobody",
    };
    stranger
        .submit(&pass, &[])
        .expect_code(1)
        .expect_stderr("(403 /problems/unknown-auditor)")
        .expect_stderr("hint: ask the registry operator to accredit you");
    let two = Auditor {
        base: &base,
        key: &other_key,
        id: "lab-two",
    };
    next_second().await;
    two.badge("suspend", &id, "not mine")
        .expect_code(1)
        .expect_stderr("/problems/not-issuing-auditor");
    lab.badge("suspend", "b_AAAAAAAAAAAAAAAAAAAAAA", "no such badge")
        .expect_code(1)
        .expect_stderr("/problems/unknown-badge");
    lab.badge("reinstate", &id, "already valid")
        .expect_code(1)
        .expect_stderr("/problems/no-change");
    operator(&data, &["auditor", "suspend", "lab-two"]);
    two.submit(&pass, &[])
        .expect_code(1)
        .expect_stderr("/problems/auditor-suspended");

    // Could not submit: exit 2, and nothing reached the registry.
    let issued = metric(&base, "trustmark_issuances_total").await;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    lab.submit(&pass, &[])
        .expect_code(2)
        .expect_stderr("mode 0644")
        .expect_stderr("hint: make it private (chmod 600 FILE)");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let as_public = Auditor {
        base: &base,
        key: &public,
        id: "lab",
    };
    as_public
        .submit(&pass, &[])
        .expect_code(2)
        .expect_stderr("holds a public key only");

    let mut draft: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pass).unwrap()).unwrap();
    draft["indicators"]["contact_reachability"] = serde_json::Value::Null;
    draft["indicators"]["site_availability"] = serde_json::Value::Null;
    let draft_path = dir.join("draft.json");
    std::fs::write(&draft_path, draft.to_string()).unwrap();
    let run = lab.submit(&draft_path, &[]);
    run.expect_code(2)
        .expect_stderr("/indicators/contact_reachability")
        .expect_stderr("/indicators/site_availability")
        .expect_stderr("hint: fill in each value");
    assert!(run.stdout().is_empty());

    let mut typo: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&pass).unwrap()).unwrap();
    typo["organisation"]["country"] = "Vietnam".into();
    let typo_path = dir.join("typo.json");
    std::fs::write(&typo_path, typo.to_string()).unwrap();
    lab.submit(&typo_path, &[])
        .expect_code(2)
        .expect_stderr("/organisation/country: must be an ISO 3166-1 alpha-2 code");

    let nowhere = format!("http://127.0.0.1:{}", free_port());
    let gone = Auditor {
        base: &nowhere,
        key: &key,
        id: "lab",
    };
    gone.submit(&pass, &[])
        .expect_code(2)
        .expect_stderr("error: ")
        .expect_stderr("hint: ");
    gone.badge("suspend", &id, "x").expect_code(2);
    let wrong_path = format!("{base}/api");
    let misaddressed = Auditor {
        base: &wrong_path,
        key: &key,
        id: "lab",
    };
    misaddressed
        .submit(&pass, &[])
        .expect_code(2)
        .expect_stderr("/problems/not-found")
        .expect_stderr("hint: is --registry the registry's issuer URL");
    trustmark(&[
        "audit",
        "submit",
        "--key",
        key.to_str().unwrap(),
        "--auditor",
        "lab",
        pass.to_str().unwrap(),
    ])
    .expect_code(2)
    .expect_stderr("no registry");
    lab.badge("suspend", &id, "two\nlines")
        .expect_code(2)
        .expect_stderr("--reason");
    assert_eq!(metric(&base, "trustmark_issuances_total").await, issued);
    assert_eq!(
        get_json(&format!("{base}/api/v1/badges/{id}")).await["status"],
        "valid"
    );

    stop(server);
}
