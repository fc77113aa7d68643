//! `trustmark keygen`: a fresh Ed25519 key pair for an auditor.

use crate::cli::KeygenArgs;
use crate::error::CliError;
use crate::Status;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use trustmark_core::sign::SigningKey;
use zeroize::Zeroizing;

pub fn run(args: &KeygenArgs, out: &mut impl Write) -> Result<Status, CliError> {
    let mut seed = Zeroizing::new([0u8; 32]);
    getrandom::fill(seed.as_mut()).map_err(|_| CliError::Random)?;
    let key = SigningKey::from_seed(&seed);
    let private = key.to_private_jwk_json();
    let write_err = |source| CliError::WriteKey {
        path: args.output.clone(),
        source,
    };
    // create_new: never overwrite a key; mode 0600 from the first byte, not chmod after.
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&args.output)
        .map_err(write_err)?;
    file.write_all(private.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .map_err(write_err)?;
    crate::print_line(out, &key.public().to_jwk_value().to_string())?;
    Ok(Status::Valid)
}
