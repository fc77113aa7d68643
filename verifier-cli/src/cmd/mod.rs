//! One module per command; each returns its exit status or a [`crate::error::CliError`].

pub mod audit;
pub mod badge;
pub mod bulk;
pub mod bundle;
pub mod docs;
pub mod keygen;
pub mod log;
pub mod scan;
pub mod status;
pub mod verify;
