//! RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.
//!
//! Leaves hash as `SHA-256(0x00 || d)`, interior nodes as `SHA-256(0x01 || l || r)`, and
//! the empty tree's root is `SHA-256("")`. A tree of `n > 1` leaves splits at `k`, the
//! largest power of two below `n` (RFC 9162 2.1.1).
//!
//! Proofs are generated from *complete subtrees* only: the hash of the `2^level` leaves
//! starting at leaf `index * 2^level`, read through [`HashReader`]. Every range that the
//! RFC's `PATH` and `SUBPROOF` recursions hash is a node of the tree, so it splits into at
//! most 64 complete subtrees (the binary digits of its size), and a proof needs O(log n)
//! lookups. That is what a store keeping every complete subtree, or a client reading
//! `tlog-tiles`, can answer.
//!
//! Verification follows RFC 9162 2.1.3.2 and 2.1.4.2 step by step, including their length
//! checks, so a proof with one hash too many or too few fails with
//! [`ProofError::WrongLength`] rather than by luck.
//!
//! ```
//! use trustmark_core::log::merkle::{self, Tree};
//!
//! let mut tree = Tree::new();
//! for entry in [&b"a"[..], b"b", b"c"] {
//!     tree.push(merkle::leaf_hash(entry));
//! }
//! let proof = merkle::inclusion_proof(&tree, 1, 3).unwrap();
//! merkle::verify_inclusion(&merkle::leaf_hash(b"b"), 1, 3, &proof, &tree.root()).unwrap();
//! let old = tree.root_at(2).unwrap();
//! let proof = merkle::consistency_proof(&tree, 2, 3).unwrap();
//! merkle::verify_consistency(2, 3, &old, &tree.root(), &proof).unwrap();
//! ```

use sha2::{Digest, Sha256};
use std::convert::Infallible;

/// A SHA-256 Merkle tree hash.
pub type Hash = [u8; 32];

/// The RFC 6962 leaf hash: `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0x00]);
    h.update(data);
    h.finalize().into()
}

/// The RFC 6962 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([0x01]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// Source of complete-subtree hashes: the root of the 2^level leaves starting at leaf
/// index * 2^level. Callers only ask for subtrees inside the tree they work on.
///
/// Level 0 holds the leaf hashes. The proof functions in this module check their
/// arguments before reading, so a reader is only asked for subtrees that lie wholly below
/// the tree size it was given; a reader that cannot answer (a missing tile, a store
/// error) returns its error, which reaches the caller as [`ProofError::Read`].
pub trait HashReader {
    /// Why a subtree hash could not be read.
    type Error;

    /// The hash of the complete subtree of `2^level` leaves starting at leaf
    /// `index * 2^level`.
    fn subtree(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

impl<R: HashReader + ?Sized> HashReader for &R {
    type Error = R::Error;

    fn subtree(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        (**self).subtree(level, index)
    }
}

/// Why a proof could not be made or did not verify.
///
/// `E` is the [`HashReader`]'s error; verification reads nothing and uses the default,
/// [`Infallible`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError<E = Infallible> {
    /// The arguments name no proof: a leaf index at or past the tree size (including any
    /// index of the empty tree), or an old size larger than the new one (then `index` is
    /// the old size and `size` the new one).
    #[error("{index} is out of range for tree size {size}")]
    OutOfRange {
        /// The leaf index, or the old tree size of a consistency proof.
        index: u64,
        /// The tree size, or the new tree size of a consistency proof.
        size: u64,
    },
    /// The hash reader failed.
    #[error("a subtree hash could not be read")]
    Read(#[source] E),
    /// The proof does not lead to the given root(s).
    #[error("the proof does not lead to the expected root")]
    Mismatch,
    /// The proof has more or fewer hashes than the leaf index and tree size(s) call for.
    #[error("the proof has the wrong number of hashes")]
    WrongLength,
}

/// The largest power of two below `n`; `n` must be at least 2.
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The Merkle tree hash of the `n >= 1` leaves starting at `start`, where `start` is a
/// multiple of the largest power of two not above `n` (true of every node of a tree): the
/// complete subtrees given by the binary digits of `n`, folded from the right.
fn range_hash<R: HashReader>(r: &R, start: u64, n: u64) -> Result<Hash, ProofError<R::Error>> {
    let mut parts = Vec::with_capacity(n.count_ones() as usize);
    let (mut pos, mut remaining) = (start, n);
    while remaining > 0 {
        // A u64 has at most 64 bits, so the level fits in a u8 and is at most 63.
        let level = (63 - remaining.leading_zeros()) as u8;
        parts.push(r.subtree(level, pos >> level).map_err(ProofError::Read)?);
        // pos + 2^level <= start + n, which the caller keeps within the tree size.
        pos += 1 << level;
        remaining -= 1 << level;
    }
    let mut acc: Option<Hash> = None;
    for h in parts.into_iter().rev() {
        acc = Some(match acc {
            None => h,
            Some(right) => node_hash(&h, &right),
        });
    }
    Ok(acc.unwrap_or_else(empty_root))
}

/// The root of the first `size` leaves (the empty root for 0).
pub fn root<R: HashReader>(r: &R, size: u64) -> Result<Hash, ProofError<R::Error>> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(r, 0, size)
}

/// The inclusion proof (RFC 9162 2.1.3.1 `PATH`) of leaf `index` in the tree of `size`
/// leaves, from the leaf's sibling up to the root's child.
pub fn inclusion_proof<R: HashReader>(
    r: &R,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    // Walk from the root down to the leaf; PATH lists the siblings bottom-up.
    let mut top_down = Vec::new();
    let (mut lo, mut n) = (0u64, size);
    while n > 1 {
        let k = split(n);
        if index - lo < k {
            top_down.push(range_hash(r, lo + k, n - k)?);
            n = k;
        } else {
            top_down.push(range_hash(r, lo, k)?);
            lo += k;
            n -= k;
        }
    }
    top_down.reverse();
    Ok(top_down)
}

/// The consistency proof (RFC 9162 2.1.4.1 `PROOF(m, D[n])` via `SUBPROOF`) between the
/// trees of `old` and `new` leaves.
///
/// The RFC defines proofs for `0 < old < new`; for `old == new` and for `old == 0` the
/// proof is empty (see [`verify_consistency`] for what an empty proof then proves).
pub fn consistency_proof<R: HashReader>(
    r: &R,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, ProofError<R::Error>> {
    if old > new {
        return Err(ProofError::OutOfRange {
            index: old,
            size: new,
        });
    }
    if old == 0 || old == new {
        return Ok(Vec::new());
    }
    // SUBPROOF(m, D[lo:lo+n], complete), unrolled from the root down. Each step appends
    // its hash after the recursive part, so the hashes found on the way down come out in
    // reverse, after the terminal case's hash (if any).
    let mut top_down = Vec::new();
    let (mut lo, mut n, mut m, mut complete) = (0u64, new, old, true);
    let terminal = loop {
        if m == n {
            break if complete {
                None
            } else {
                Some(range_hash(r, lo, n)?)
            };
        }
        let k = split(n);
        if m <= k {
            top_down.push(range_hash(r, lo + k, n - k)?);
            n = k;
        } else {
            top_down.push(range_hash(r, lo, k)?);
            lo += k;
            n -= k;
            m -= k;
            complete = false;
        }
    };
    let mut proof = Vec::with_capacity(top_down.len() + 1);
    proof.extend(terminal);
    proof.extend(top_down.into_iter().rev());
    Ok(proof)
}

/// Checks an inclusion proof (RFC 9162 2.1.3.2): `leaf` is leaf `index` of the tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    // Step 1.
    if index >= size {
        return Err(ProofError::OutOfRange { index, size });
    }
    // Steps 2 and 3.
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf;
    // Step 4.
    for p in proof {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if r != *root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// Checks a consistency proof (RFC 9162 2.1.4.2): the tree of `old` leaves with root
/// `old_root` is a prefix of the tree of `new` leaves with root `new_root`.
///
/// The RFC's algorithm covers `0 < old < new`. Outside it:
/// - `old > new` is [`ProofError::OutOfRange`];
/// - `old == new` needs an empty proof and equal roots (and, for size 0, both roots equal
///   to [`empty_root`]);
/// - `old == 0 < new` needs an empty proof and `old_root` equal to [`empty_root`]: the
///   empty tree is a prefix of every tree, so nothing is proved about `new_root`. A
///   client that has only ever seen the empty tree has nothing to protect yet; a client
///   that keeps a non-empty checkpoint never takes this path.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old > new {
        return Err(ProofError::OutOfRange {
            index: old,
            size: new,
        });
    }
    if old == 0 || old == new {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        let consistent = if old == 0 {
            *old_root == empty_root() && (new > 0 || *new_root == empty_root())
        } else {
            old_root == new_root
        };
        return if consistent {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    // Step 1: an empty proof fails.
    let Some((first, rest)) = proof.split_first() else {
        return Err(ProofError::WrongLength);
    };
    // Step 2: for an old size that is a power of two, the old root is the path's start.
    let (start, path) = if old.is_power_of_two() {
        (old_root, proof)
    } else {
        (first, rest)
    };
    // Step 3.
    let (mut fnode, mut snode) = (old - 1, new - 1);
    // Step 4.
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 5.
    let (mut fr, mut sr) = (*start, *start);
    // Step 6.
    for c in path {
        if snode == 0 {
            return Err(ProofError::WrongLength);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    // Step 7.
    if snode != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr != *old_root || sr != *new_root {
        return Err(ProofError::Mismatch);
    }
    Ok(())
}

/// [`Tree`] was asked for a subtree that is not complete within it.
///
/// The proof functions never ask for one (they check their arguments first), so seeing
/// this means a caller asked [`HashReader::subtree`] directly, or passed a size larger
/// than [`Tree::len`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("subtree at level {level}, index {index} is not complete in this tree")]
pub struct NotInTree {
    /// The requested level.
    pub level: u8,
    /// The requested index within the level.
    pub index: u64,
}

/// An in-memory tree that keeps every complete-subtree hash (level 0 = leaf hashes).
///
/// It answers [`HashReader::subtree`] with [`NotInTree`] for a subtree it does not hold,
/// rather than a made-up hash: a tree size larger than [`Tree::len`] given to the proof
/// functions then fails with [`ProofError::Read`] instead of producing a wrong proof.
/// It holds about `2 * len` hashes.
#[derive(Clone, Debug, Default)]
pub struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// Appends a leaf hash and returns its index.
    pub fn push(&mut self, leaf: Hash) -> u64 {
        let index = self.len();
        let mut hash = leaf;
        let mut level = 0usize;
        loop {
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            let Some(row) = self.levels.get_mut(level) else {
                break;
            };
            row.push(hash);
            let n = row.len();
            // An even count completes a pair, whose parent is the next level's newest node.
            if n % 2 == 1 {
                break;
            }
            match row.get(n - 2..) {
                Some([left, right]) => hash = node_hash(left, right),
                _ => break,
            }
            level += 1;
        }
        index
    }

    /// Makes room for `additional` more leaves on every level, so appending them never
    /// moves a level's hashes (a long-lived tree grows this way by doubling anyway; a
    /// fresh clone of a large tree has no spare room at any level).
    pub fn reserve(&mut self, additional: usize) {
        for (k, row) in self.levels.iter_mut().enumerate() {
            row.reserve((additional >> k) + 1);
        }
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root of the whole tree.
    pub fn root(&self) -> Hash {
        // root_at(len) always exists: every subtree it reads is complete.
        self.root_at(self.len()).unwrap_or_else(empty_root)
    }

    /// The root of the first `size` leaves, or `None` if `size` exceeds [`Tree::len`].
    pub fn root_at(&self, size: u64) -> Option<Hash> {
        if size > self.len() {
            return None;
        }
        root(self, size).ok()
    }
}

impl HashReader for Tree {
    type Error = NotInTree;

    fn subtree(&self, level: u8, index: u64) -> Result<Hash, NotInTree> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.levels.get(usize::from(level))?.get(i))
            .copied()
            .ok_or(NotInTree { level, index })
    }
}

#[cfg(test)]
mod tests {
    // Edge cases of the hashing and the Tree; the vectors and exhaustive checks are in
    // tests/log.rs.
    use super::*;

    fn tree(n: u64) -> Tree {
        let mut t = Tree::new();
        for i in 0..n {
            t.push(leaf_hash(&i.to_be_bytes()));
        }
        t
    }

    #[test]
    fn split_is_the_largest_power_of_two_below() {
        for (n, k) in [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ] {
            assert_eq!(split(n), k, "{n}");
        }
    }

    #[test]
    fn empty_root_and_leaf_prefix() {
        assert_eq!(empty_root(), <[u8; 32]>::from(Sha256::digest(b"")));
        assert_eq!(leaf_hash(b""), <[u8; 32]>::from(Sha256::digest([0u8])));
        assert_ne!(leaf_hash(b""), empty_root());
    }

    #[test]
    fn tree_keeps_complete_subtrees_only() {
        let t = tree(5);
        assert_eq!(t.len(), 5);
        assert!(t.subtree(2, 0).is_ok());
        assert_eq!(t.subtree(2, 1), Err(NotInTree { level: 2, index: 1 }));
        assert_eq!(t.subtree(1, 2), Err(NotInTree { level: 1, index: 2 }));
        assert!(t.subtree(0, 4).is_ok());
        assert_eq!(t.root_at(6), None);
        assert_eq!(Tree::new().root(), empty_root());
        assert!(Tree::new().is_empty());
    }

    #[test]
    fn sizes_beyond_the_tree_are_read_errors_not_wrong_proofs() {
        let t = tree(5);
        assert_eq!(
            inclusion_proof(&t, 0, 6),
            Err(ProofError::Read(NotInTree { level: 1, index: 2 }))
        );
        assert!(matches!(
            consistency_proof(&t, 3, 7),
            Err(ProofError::Read(_))
        ));
        assert!(matches!(root(&t, 9), Err(ProofError::Read(_))));
    }

    #[test]
    fn out_of_range_arguments() {
        let t = tree(4);
        assert_eq!(
            inclusion_proof(&t, 4, 4),
            Err(ProofError::OutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            inclusion_proof(&t, 0, 0),
            Err(ProofError::OutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            consistency_proof(&t, 3, 2),
            Err(ProofError::OutOfRange { index: 3, size: 2 })
        );
        let h = leaf_hash(b"x");
        assert_eq!(
            verify_inclusion(&h, 0, 0, &[], &empty_root()),
            Err(ProofError::OutOfRange { index: 0, size: 0 })
        );
        assert_eq!(
            verify_consistency(2, 1, &h, &h, &[]),
            Err(ProofError::OutOfRange { index: 2, size: 1 })
        );
    }

    #[test]
    fn trivial_consistency() {
        let t = tree(3);
        let r3 = t.root();
        let e = empty_root();
        assert_eq!(consistency_proof(&t, 0, 3), Ok(vec![]));
        assert_eq!(consistency_proof(&t, 3, 3), Ok(vec![]));
        assert_eq!(verify_consistency(0, 0, &e, &e, &[]), Ok(()));
        assert_eq!(verify_consistency(0, 3, &e, &r3, &[]), Ok(()));
        assert_eq!(verify_consistency(3, 3, &r3, &r3, &[]), Ok(()));
        assert_eq!(
            verify_consistency(0, 0, &r3, &r3, &[]),
            Err(ProofError::Mismatch)
        );
        assert_eq!(
            verify_consistency(0, 3, &r3, &r3, &[]),
            Err(ProofError::Mismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &e, &r3, &[]),
            Err(ProofError::Mismatch)
        );
        assert_eq!(
            verify_consistency(3, 3, &r3, &r3, &[e]),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_consistency(0, 3, &e, &r3, &[e]),
            Err(ProofError::WrongLength)
        );
        assert_eq!(
            verify_consistency(2, 3, &e, &r3, &[]),
            Err(ProofError::WrongLength)
        );
    }
}
