//! What the registry refuses to start with: an example auditor outside demo mode, and a
//! journal damaged anywhere but in its torn last frame. Both through the real binary,
//! as an operator meets them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{bin, free_port, stop, temp_dir, wait_healthy};

fn serve(data: &Path, port: u16, demo: bool) -> Child {
    let mut cmd = Command::new(bin("trustmark-registry"));
    cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if demo {
        cmd.arg("--demo");
    }
    cmd.spawn().unwrap()
}

/// A data directory under a fresh `name` folder that has served once in demo mode (the
/// example auditor and its badge); returns (folder, data directory, port, base URL).
async fn demo_directory(name: &str) -> (PathBuf, PathBuf, u16, String) {
    let root = temp_dir(name);
    let data = root.join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = serve(&data, port, true);
    wait_healthy(&base).await;
    stop(server);
    (root, data, port, base)
}

/// Waits (10 s at most) for a server that must refuse to start; returns its output.
fn refused(child: Child) -> Output {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut child = child;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("the registry started although it must refuse to");
}

fn operator(data: &Path, args: &[&str]) -> Output {
    Command::new(bin("trustmark-registry"))
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_example_auditor_keeps_a_registry_in_demo_mode() {
    let (root, data, port, base) = demo_directory("example-auditor").await;

    // Without --demo the same directory is refused, naming the command that fixes it.
    let out = refused(serve(&data, port, false));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("error: active auditor(s) auditor-example hold a published example key"),
        "{stderr}"
    );
    let fix = format!(
        "trustmark-registry auditor suspend auditor-example --data {}",
        data.display()
    );
    assert!(
        stderr.contains(&format!("hint: suspend them with `{fix}`")),
        "{stderr}"
    );

    let out = operator(&data, &["auditor", "suspend", "auditor-example"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let server = serve(&data, port, false);
    wait_healthy(&base).await;

    // Accrediting an example key is refused outside demo mode: online ...
    let example = common::root().join("testdata/vectors/jwks/auditor.json");
    let add = |id: &str| {
        operator(
            &data,
            &[
                "auditor",
                "add",
                "--id",
                id,
                "--name",
                "Copycat",
                "--key",
                example.to_str().unwrap(),
            ],
        )
    };
    let out = add("copycat-online");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert!(
        text(&out.stderr).contains("published example key"),
        "{}",
        text(&out.stderr)
    );
    stop(server);
    // ... and offline.
    let out = add("copycat-offline");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("published example key"), "{stderr}");
    assert!(
        stderr.contains("hint: make a real key with `trustmark keygen"),
        "{stderr}"
    );
    let listing = text(&operator(&data, &["auditor", "list"]).stdout);
    assert!(!listing.contains("copycat"), "{listing}");
    let _ = std::fs::remove_dir_all(&root);
}

/// Byte offsets where each journal frame starts (frame = len u32 | crc u32 | payload).
fn frames(journal: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut starts = Vec::new();
    while at + 8 <= journal.len() {
        starts.push(at);
        let len = u32::from_le_bytes(journal[at..at + 4].try_into().unwrap()) as usize;
        at += 8 + len;
    }
    starts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_journal_stops_the_registry_and_names_the_offset() {
    // Several frames: the demo auditor, its badge, then a few operator changes.
    let (root, data, port, base) = demo_directory("journal-damage").await;
    let id = text(&operator(&data, &["badge", "list"]).stdout)
        .split('\t')
        .next()
        .unwrap()
        .to_owned();
    for action in ["suspend", "reinstate", "suspend"] {
        let out = operator(&data, &["badge", action, &id, "--reason", "test"]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let path = data.join("journal");
    let original = std::fs::read(&path).unwrap();
    let starts = frames(&original);
    assert!(starts.len() >= 5, "only {} frames", starts.len());
    let victim = starts[2];
    let mut damaged = original.clone();
    damaged[victim + 10] ^= 0x20;
    std::fs::write(&path, &damaged).unwrap();

    let out = refused(serve(&data, port, true));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("the journal is damaged at byte {victim}")),
        "{stderr}"
    );
    assert!(stderr.contains("docs/registry.md"), "{stderr}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        damaged,
        "the journal was cut"
    );
    // Operator commands refuse it too rather than drop what follows.
    let out = operator(&data, &["badge", "list"]);
    assert_eq!(out.status.code(), Some(2));

    // The documented recovery: restore the damaged range from a copy; everything is back.
    std::fs::write(&path, &original).unwrap();
    let listing = text(&operator(&data, &["badge", "list"]).stdout);
    assert!(listing.contains(&format!("{id}\tsuspended")), "{listing}");

    // A torn last frame (a crash in the middle of writing a batch that was never
    // acknowledged) is cut, and the registry starts with everything before it.
    let mut torn = original.clone();
    torn.extend_from_slice(&500u32.to_le_bytes());
    torn.extend_from_slice(b"\x01\x02\x03\x04[{\"type\"");
    std::fs::write(&path, &torn).unwrap();
    let server = serve(&data, port, true);
    wait_healthy(&base).await;
    stop(server);
    assert_eq!(
        std::fs::read(&path).unwrap(),
        original,
        "the torn frame was not cut"
    );
    let listing = text(&operator(&data, &["badge", "list"]).stdout);
    assert!(listing.contains(&format!("{id}\tsuspended")), "{listing}");
    let _ = std::fs::remove_dir_all(&root);
}
