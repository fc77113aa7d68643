//! A fixed number of badge verifications, for instruction counts under callgrind, which
//! are deterministic where wall-clock timings on a shared machine are not.
//!
//! ```sh
//! cargo build --profile bench -p trustmark-core --features sign --example verify_profile
//! valgrind --tool=callgrind target/release/examples/verify_profile full 2000
//! valgrind --tool=callgrind target/release/examples/verify_profile raw 2000
//! ```
//!
//! The difference of the two totals, divided by the count, is what full verification
//! costs per badge beyond `verify_strict` (the fixture's setup is the same on both sides).

#[path = "../benches/common/fixture.rs"]
mod fixture;

use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let side = args.next().unwrap_or_default();
    let count: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let f = fixture::fixture();
    let check: fn(&fixture::Fixture, usize) -> bool = match side.as_str() {
        "full" => fixture::full,
        "raw" => fixture::raw,
        _ => {
            eprintln!("usage: verify_profile full|raw [COUNT]");
            std::process::exit(2);
        }
    };
    let valid = (0..count).filter(|&i| black_box(check(&f, i))).count();
    assert_eq!(valid, count, "every badge must verify");
}
