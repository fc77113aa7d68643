//! `trustmark bulk` (being built).

use crate::error::CliError;
use crate::Status;

pub fn run() -> Result<Status, CliError> {
    Err(CliError::Usage("not built yet"))
}
