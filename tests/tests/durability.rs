//! Names survive power loss: every file the registry creates in its data directory, and
//! every rename it makes (key rotation, the published key set, the issuer file), is
//! followed by an `fsync` of the directory holding the name. Observed with strace on
//! the real binary, because no test can pull the power.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod common;
use common::{answers, bin, free_port, signal, wait_bounded};
use std::time::Duration;

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

/// What a failed step leaves to read: the tail of the trace and the registry's stderr.
fn context(log: &Path, stderr: &Path) -> String {
    let trace = std::fs::read_to_string(log).unwrap_or_default();
    let tail: Vec<&str> = trace.lines().rev().take(40).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(
        "trace tail:\n{}\nregistry stderr:\n{}",
        tail.join("\n"),
        std::fs::read_to_string(stderr).unwrap_or_default()
    )
}

/// Ends the registry traced by `strace` (its child) with SIGKILL, which no tracer can
/// hold up, then waits (bounded) for strace to exit with it. Everything the test looks
/// at happened before the registry answered, so nothing is lost by not draining it.
fn stop(mut strace: Child, log: &Path, stderr: &Path) {
    let children = format!("/proc/{0}/task/{0}/children", strace.id());
    let registry = std::fs::read_to_string(children).unwrap_or_default();
    if let Some(pid) = registry.split_whitespace().next() {
        signal(pid.parse().unwrap(), "KILL");
    }
    if wait_bounded(&mut strace, Duration::from_secs(30)).is_none() {
        let _ = strace.kill();
        let _ = strace.wait();
        panic!(
            "strace did not exit within 30 s of its registry's SIGKILL\n{}",
            context(log, stderr)
        );
    }
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
    let stderr = root.join("serve.stderr");
    let server = traced(
        &log,
        &["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"],
    )
    .arg(&data)
    .env("RUST_LOG", "warn")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(&stderr).unwrap())
    .spawn()
    .expect("strace must be installed (Debian package strace)");
    // Slower than usual under the tracer.
    let healthy = answers(&format!("http://127.0.0.1:{port}"), Duration::from_secs(60)).await;
    stop(server, &log, &stderr);
    assert!(
        healthy,
        "the traced registry did not answer\n{}",
        context(&log, &stderr)
    );
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
    let stderr = root.join("rotate.stderr");
    let mut rotate = traced(&log, &["key", "rotate", "--data"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let Some(status) = wait_bounded(&mut rotate, Duration::from_secs(60)) else {
        let _ = rotate.kill();
        let _ = rotate.wait();
        panic!(
            "key rotate did not finish within 60 s\n{}",
            context(&log, &stderr)
        );
    };
    assert!(
        status.success(),
        "key rotate failed\n{}",
        context(&log, &stderr)
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
