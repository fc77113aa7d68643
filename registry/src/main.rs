//! `trustmark-registry`: the registry service is not built yet; the binary says so and
//! exits with the usage-error code rather than pretending to run.

use std::process::ExitCode;

fn main() -> ExitCode {
    eprintln!(
        "error: trustmark-registry ({}) has no commands yet\nhint: verify badges offline with `trustmark verify`",
        trustmark_registry::SCHEME
    );
    ExitCode::from(2)
}
