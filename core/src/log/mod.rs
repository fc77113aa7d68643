//! The evidence log's formats (SPEC 6): Merkle tree hashing and proofs, signed notes,
//! checkpoints and tiles.
//!
//! Everything here is sans-I/O: proofs read subtree hashes through [`merkle::HashReader`],
//! which a caller backs with memory, a store or fetched tiles. `docs/spec/log-formats.md`
//! is the wire description; the vectors in `testdata/vectors/log/` are the contract.
//!
//! - [`merkle`]: RFC 6962 / RFC 9162 tree hashes, inclusion and consistency proofs.
//! - [`note`]: C2SP `signed-note` with Ed25519 signatures and verifier keys.
//! - [`checkpoint`]: the C2SP `tlog-checkpoint` body, parsed canonically.
//! - [`tile`]: C2SP `tlog-tiles` paths, hash tiles and entry bundles.
//! - [`compact`]: the compact range a client keeps to extend a checked tree.

pub mod checkpoint;
pub mod compact;
pub mod merkle;
pub mod note;
pub mod tile;
