//! Writes the golden vectors (`testdata/vectors/`) and example keys (`keys-example/`).
//!
//! Run from the repository root:
//! `cargo run -p trustmark-core --features sign --example gen_vectors`
//! The output is deterministic; `cargo test` fails if the committed files differ.

#[path = "../tests/common/vectors_gen.rs"]
mod vectors_gen;

use std::path::Path;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (path, contents) in vectors_gen::generate() {
        let target = root.join(&path);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&target, contents)?;
        if path.starts_with("keys-example/") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))?;
        }
        println!("wrote {path}");
    }
    Ok(())
}
