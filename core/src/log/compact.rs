//! A compact range: the roots of the perfect subtrees that make up the first `size`
//! leaves of a Merkle tree (RFC 6962 hashing), largest first. It is all a client needs
//! to extend a tree it has already checked with new leaves and recompute the root,
//! without the earlier leaves or any proof.

use super::merkle::{empty_root, node_hash, Hash};

/// The compact range of a tree prefix.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompactRange {
    size: u64,
    hashes: Vec<Hash>,
}

impl CompactRange {
    /// The range of the empty tree.
    pub fn new() -> CompactRange {
        CompactRange::default()
    }

    /// A range as stored: `size` leaves and the subtree roots of its binary
    /// decomposition, largest first. `None` if there are not exactly as many hashes as
    /// `size` has one bits.
    pub fn from_parts(size: u64, hashes: Vec<Hash>) -> Option<CompactRange> {
        (hashes.len() == size.count_ones() as usize).then_some(CompactRange { size, hashes })
    }

    /// Leaves covered.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The subtree roots, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.hashes
    }

    /// Appends a leaf (its leaf hash).
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        // Each trailing one bit of the old size is a subtree of the same height as the
        // carry, to its left: merge them.
        let mut size = self.size;
        while size & 1 == 1 {
            match self.hashes.pop() {
                Some(left) => carry = node_hash(&left, &carry),
                None => break,
            }
            size >>= 1;
        }
        self.hashes.push(carry);
        self.size += 1;
    }

    /// The root of the tree of `size` leaves.
    pub fn root(&self) -> Hash {
        let mut rest = self.hashes.iter().rev();
        match rest.next() {
            None => empty_root(),
            Some(last) => rest.fold(*last, |acc, left| node_hash(left, &acc)),
        }
    }
}

#[cfg(test)]
mod tests {
    // The range's root equals the full tree's at every size, and a stored range picks up
    // where it left off.
    use super::*;
    use crate::log::merkle::{leaf_hash, Tree};

    #[test]
    fn roots_match_the_tree_at_every_size_and_ranges_resume() {
        let mut tree = Tree::new();
        let mut range = CompactRange::new();
        assert_eq!(range.root(), empty_root());
        for i in 0u32..600 {
            let leaf = leaf_hash(&i.to_be_bytes());
            tree.push(leaf);
            range.push(leaf);
            assert_eq!(range.root(), tree.root(), "size {}", i + 1);
            assert_eq!(range.hashes().len(), (i + 1).count_ones() as usize);
            if i % 97 == 0 {
                let stored = CompactRange::from_parts(range.size(), range.hashes().to_vec());
                assert_eq!(stored.as_ref(), Some(&range));
            }
        }
        assert!(CompactRange::from_parts(3, vec![[0; 32]]).is_none());
    }
}
