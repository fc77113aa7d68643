//! Who can reach the operator's admin socket: only the registry's own user. The socket
//! lives in a 0700 directory from before it is bound, and the server checks the peer's
//! uid (SO_PEERCRED), so not even root gets through to a registry run by another user.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;
use common::{bin, free_port, wait_healthy};

/// The unprivileged user the registry runs as in this test.
const NOBODY: u32 = 65534;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn badge_list(registry: &Path, data: &Path, as_nobody: bool) -> Output {
    let mut cmd = if as_nobody {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(registry);
        c
    } else {
        Command::new(registry)
    };
    cmd.args(["badge", "list", "--data"])
        .arg(data)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_registrys_own_user_is_served() {
    assert_eq!(
        own_uid(),
        0,
        "this test runs the registry as another user, which needs root (as CI has)"
    );
    let root = std::env::temp_dir().join(format!("tm-e2e-admin-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    // The registry binary and its data where the unprivileged user can reach them.
    let registry = root.join("trustmark-registry");
    std::fs::copy(bin("trustmark-registry"), &registry).unwrap();
    std::fs::set_permissions(&registry, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&root, Some(NOBODY), Some(NOBODY)).unwrap();
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = root.join("data");

    let port = free_port();
    let server = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&registry)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_healthy(&format!("http://127.0.0.1:{port}")).await;

    let dir = data.join("admin");
    assert_eq!(mode(&dir), 0o700, "the socket's directory is private");
    assert_eq!(std::fs::metadata(&dir).unwrap().uid(), NOBODY);
    assert_eq!(mode(&dir.join("admin.sock")), 0o600);

    // The registry's own user is served.
    let out = badge_list(&registry, &data, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Root passes the file modes but not the peer check, and gets no fallback either.
    let out = badge_list(&registry, &data, false);
    assert_eq!(
        out.status.code(),
        Some(2),
        "root was served by another user's registry"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the admin socket serves only the registry's own user"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    common::stop(server);
    let _ = std::fs::remove_dir_all(&root);
}

/// The effective uid of this test process (the owner of a file it creates).
fn own_uid() -> u32 {
    let probe = std::env::temp_dir().join(format!("tm-e2e-uid-{}", std::process::id()));
    std::fs::write(&probe, b"").unwrap();
    let uid = std::fs::metadata(&probe).unwrap().uid();
    let _ = std::fs::remove_file(&probe);
    uid
}
