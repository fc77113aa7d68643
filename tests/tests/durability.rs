//! Names survive power loss: every file the registry creates in its data directory, and
//! every rename it makes (key rotation, the published key set, the issuer file), is
//! followed by an `fsync` of the directory holding the name. Observed with strace on
//! the real binary, because no test can pull the power.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod common;
use common::{bin, free_port, wait_healthy};

const SYSCALLS: &str = "trace=openat,mkdir,mkdirat,rename,renameat,renameat2,fsync,fdatasync";

#[derive(Debug)]
enum Call {
    /// A new name appeared in this directory (file created or directory made).
    Created(PathBuf),
    /// A name moved between these directories.
    Renamed(PathBuf, PathBuf),
    /// This directory (or file) was synced.
    Synced(PathBuf),
}

fn quoted(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

fn parent(p: &str) -> PathBuf {
    Path::new(p).parent().unwrap().to_owned()
}

/// The calls of a `strace -f -y` log that concern names under `data` (sled's own files
/// in `index/` excepted: sled is not trusted with durability, the journal is).
fn calls(log: &str, data: &Path) -> Vec<Call> {
    let data = data.to_str().unwrap();
    let ours = |p: &str| p.starts_with(data) && !p.starts_with(&format!("{data}/index"));
    let mut out = Vec::new();
    for line in log.lines() {
        if line.contains("= -1 ") {
            continue;
        }
        if line.contains("fsync(") || line.contains("fdatasync(") {
            if let Some(path) = line.split('<').nth(1).and_then(|r| r.split('>').next()) {
                out.push(Call::Synced(PathBuf::from(path)));
            }
        } else if line.contains("rename") {
            if let [from, to, ..] = quoted(line)[..] {
                if ours(to) {
                    out.push(Call::Renamed(parent(from), parent(to)));
                }
            }
        } else if line.contains("mkdir") || (line.contains("openat(") && line.contains("O_CREAT")) {
            if let Some(path) = quoted(line).first().copied() {
                if ours(path) && path != data {
                    out.push(Call::Created(parent(path)));
                }
            }
        }
    }
    out
}

/// Every new or renamed name is followed by a sync of its directory.
fn assert_names_synced(log: &str, data: &Path, what: &str) -> usize {
    let calls = calls(log, data);
    let mut checked = 0;
    for (i, call) in calls.iter().enumerate() {
        let dirs = match call {
            Call::Created(dir) => vec![dir],
            Call::Renamed(from, to) => vec![from, to],
            Call::Synced(_) => continue,
        };
        for dir in dirs {
            let synced = calls
                .iter()
                .skip(i + 1)
                .any(|c| matches!(c, Call::Synced(d) if d == dir));
            assert!(
                synced,
                "{what}: {call:?} is never followed by an fsync of {}",
                dir.display()
            );
            checked += 1;
        }
    }
    checked
}

fn traced(log: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("strace");
    cmd.args(["-f", "-y", "-qq", "-e", SYSCALLS, "-o"])
        .arg(log)
        .arg(bin("trustmark-registry"))
        .args(args);
    cmd
}

/// Stops the registry traced by `strace` (its child) with SIGTERM; strace exits with it.
fn stop(mut strace: Child) {
    let children = format!("/proc/{0}/task/{0}/children", strace.id());
    let registry = std::fs::read_to_string(children).unwrap();
    let registry = registry
        .split_whitespace()
        .next()
        .expect("strace runs the registry");
    let _ = Command::new("kill").args(["-TERM", registry]).status();
    strace.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_and_renamed_names_are_synced_into_their_directories() {
    let root = std::env::temp_dir().join(format!("tm-e2e-durability-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    let data = root.join("data");
    let port = free_port();

    // First start: data directory, keys, published key set, issuer file, journal.
    let log = root.join("serve.trace");
    let server = traced(
        &log,
        &["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"],
    )
    .arg(&data)
    .env("RUST_LOG", "warn")
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("strace must be installed (Debian package strace)");
    wait_healthy(&format!("http://127.0.0.1:{port}")).await;
    stop(server);
    let text = std::fs::read_to_string(&log).unwrap();
    for name in [
        "journal",
        "keys/badge.jwk",
        "keys/status.jwk",
        "keys/published.json",
    ] {
        assert!(
            text.contains(&format!("{}/{name}\"", data.display())),
            "the trace does not show {name} being written:\n{text}"
        );
    }
    let first = assert_names_synced(&text, &data, "first start");
    assert!(
        first >= 6,
        "only {first} new names seen on first start:\n{text}"
    );

    // Offline key rotation: new key files, moves into retired/, the published set.
    let log = root.join("rotate.trace");
    let out = traced(&log, &["key", "rotate", "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&log).unwrap();
    let renames = calls(&text, &data)
        .iter()
        .filter(|c| matches!(c, Call::Renamed(..)))
        .count();
    assert!(
        renames >= 5,
        "a rotation makes at least 5 renames, the trace shows {renames}:\n{text}"
    );
    assert_names_synced(&text, &data, "key rotation");
    let _ = std::fs::remove_dir_all(&root);
}
