//! One module per command; each returns its exit status or a [`crate::error::CliError`].

pub mod keygen;
pub mod status;
pub mod verify;
