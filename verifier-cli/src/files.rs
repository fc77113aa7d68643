//! Writing files so that a reader sees the old content or the new, never a torn mix:
//! the bundle a cron job refreshes and the cache entries concurrent runs share.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Distinguishes temporary files of one process; the pid distinguishes processes.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `bytes` (mode `mode`): written to a temporary file beside it,
/// synced, then renamed over it, and the directory synced so the rename survives a crash.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        file.write_all(bytes)?;
        // The umask decides the mode at creation; the documented mode is set explicitly.
        file.set_permissions(std::fs::Permissions::from_mode(mode))?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    // Replacement is whole, with the asked mode, and leaves no temporary file behind.
    use super::*;

    #[test]
    fn replaces_whole_with_the_mode_and_no_leftovers() {
        let dir = std::env::temp_dir().join(format!("tm-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.json");
        std::fs::write(&path, b"old").unwrap();
        write_atomic(&path, b"new content", 0o644).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new content");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("bundle.json")]);
        assert!(write_atomic(&dir.join("missing/x.json"), b"x", 0o644).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
