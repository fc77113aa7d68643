//! C2SP `tlog-tiles` (c2sp.org/tlog-tiles): tile paths, hash tiles and entry bundles.
//!
//! A hash tile at level `L` holds up to 256 consecutive hashes of tree level `8 * L`: tile
//! `N` holds the subtrees `256 * N + i` for `i < width`. Level 0 tiles hold leaf hashes;
//! each hash of a level-1 tile is the root of a full level-0 tile, and so on. The
//! rightmost tiles of a tree are *partial* (`.p/<width>`, 1 to 255 hashes). An entry
//! bundle holds the entries (leaf data) of the matching level-0 tile, each as a
//! big-endian `u16` length and the bytes.
//!
//! Paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`) encode `N` in groups of
//! three digits, all but the last prefixed with `x`: 1234067 is `x001/x234/067`.
//! [`parse_path`] accepts only the canonical spelling, the one [`tile_path`] and
//! [`entries_path`] write.
//!
//! A client that reads tiles instead of asking for proofs answers
//! [`HashReader::subtree`]`(level, index)` with [`tile_for_subtree`] (which tile and
//! which hashes in it) and [`subtree_from_tile`] (hash them up), fetching the tile at the
//! width [`tile_width`] gives for the checkpoint's size:
//!
//! ```
//! use trustmark_core::log::merkle::{self, Tree};
//! use trustmark_core::log::tile;
//!
//! let mut tree = Tree::new();
//! for i in 0u32..1000 {
//!     tree.push(merkle::leaf_hash(&i.to_be_bytes()));
//! }
//! // The subtree of 2^9 leaves starting at leaf 0 is level 9, index 0.
//! let slot = tile::tile_for_subtree(9, 0).unwrap();
//! assert_eq!((slot.level, slot.index, slot.first, slot.k, slot.min_width), (1, 0, 0, 1, 2));
//! let width = tile::tile_width(slot.level, slot.index, 1000).unwrap(); // 3: 1000 >> 8
//! let bytes = tile::hash_tile(&tree, slot.level, slot.index, width).unwrap();
//! let hash = tile::subtree_from_tile(&bytes, slot.k, slot.first).unwrap();
//! assert_eq!(Ok(hash), merkle::HashReader::subtree(&tree, 9, 0));
//! ```
//!
//! [`HashReader::subtree`]: super::merkle::HashReader::subtree

use super::merkle::{node_hash, Hash, HashReader};
use std::fmt;

/// Hashes (or entries) in a full tile.
pub const TILE_WIDTH: u16 = 256;

/// The highest tile level a path may name.
pub const MAX_TILE_LEVEL: u8 = 63;

/// Tile indexes in paths are below 2^63.
pub const MAX_TILE_INDEX: u64 = (1 << 63) - 1;

/// The largest entry an entry bundle can hold (its length is a `u16`).
pub const MAX_ENTRY_SIZE: usize = u16::MAX as usize;

/// Why a tile path or an entry bundle was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// Not a canonical tile or entry bundle path.
    #[error("not a canonical tlog-tiles path")]
    MalformedPath,
    /// An entry bundle of more than 256 entries.
    #[error("an entry bundle holds at most 256 entries")]
    TooManyEntries,
    /// An entry bundle of no entries (empty tiles are never served).
    #[error("an entry bundle holds at least one entry")]
    EmptyBundle,
    /// An entry longer than 65,535 bytes.
    #[error("an entry is longer than 65535 bytes")]
    EntryTooLong,
    /// An entry bundle that is cut short inside an entry or its length.
    #[error("the entry bundle is truncated")]
    MalformedBundle,
}

/// Why [`hash_tile`] could not build a tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashTileError<E> {
    /// A level above 7 (its hashes would cover 2^64 leaves or more), a width outside
    /// 1..=256, or an index whose hashes lie past 2^64 leaves.
    #[error("no such hash tile in a tree of at most 2^64 - 1 leaves")]
    OutOfRange,
    /// The hash reader failed.
    #[error("a subtree hash could not be read")]
    Read(#[source] E),
}

/// A parsed tile path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TilePath {
    /// `tile/<level>/<index>[.p/<width>]`: hashes of tree level `8 * level`.
    Hash {
        /// The tile level, 0..=63.
        level: u8,
        /// The tile index within the level.
        index: u64,
        /// Hashes in the tile: 256 for a full tile, else 1..=255.
        width: u16,
    },
    /// `tile/entries/<index>[.p/<width>]`: the entries of level-0 tile `index`.
    Entries {
        /// The bundle index (the level-0 tile index).
        index: u64,
        /// Entries in the bundle: 256 for a full bundle, else 1..=255.
        width: u16,
    },
}

impl fmt::Display for TilePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TilePath::Hash {
                level,
                index,
                width,
            } => f.write_str(&tile_path(level, index, width)),
            TilePath::Entries { index, width } => f.write_str(&entries_path(index, width)),
        }
    }
}

/// Appends `index` as three-digit groups, all but the last prefixed with `x`, and the
/// `.p/<width>` suffix unless `width` is 256.
fn push_index_and_width(out: &mut String, index: u64, width: u16) {
    let mut groups = Vec::new();
    let mut n = index;
    loop {
        groups.push(n % 1000);
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    let last = groups.len() - 1;
    for (i, group) in groups.iter().rev().enumerate() {
        if i > 0 {
            out.push('/');
        }
        if i < last {
            out.push('x');
        }
        out.push_str(&format!("{group:03}"));
    }
    if width != TILE_WIDTH {
        out.push_str(&format!(".p/{width}"));
    }
}

/// The path of hash tile `index` at `level` with `width` hashes, e.g.
/// `tile/0/x001/x234/067.p/5`; a full tile (`width` 256) has no `.p/` suffix.
///
/// A width outside 1..=256, a level above 63 or an index of 2^63 or more give a path
/// that [`parse_path`] refuses.
pub fn tile_path(level: u8, index: u64, width: u16) -> String {
    let mut path = format!("tile/{level}/");
    push_index_and_width(&mut path, index, width);
    path
}

/// The path of entry bundle `index` with `width` entries, e.g. `tile/entries/x001/067`.
pub fn entries_path(index: u64, width: u16) -> String {
    let mut path = "tile/entries/".to_owned();
    push_index_and_width(&mut path, index, width);
    path
}

/// A decimal number without sign or leading zeros (a lone `0` is fine), of at most
/// `max_digits` digits.
fn parse_decimal(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty()
        || s.len() > max_digits
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

/// `xDDD/…/xDDD/DDD`, each group exactly three digits.
fn parse_index(s: &str) -> Option<u64> {
    let mut groups = s.split('/').peekable();
    let mut index: u64 = 0;
    while let Some(group) = groups.next() {
        let digits = if groups.peek().is_some() {
            group.strip_prefix('x')?
        } else {
            group
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let value: u64 = digits.parse().ok()?;
        index = index.checked_mul(1000)?.checked_add(value)?;
    }
    (index <= MAX_TILE_INDEX).then_some(index)
}

/// Parses a tile or entry bundle path, refusing every spelling but the canonical one:
/// extra or missing `x`, groups not of three digits, a leading `x000` group, levels with
/// leading zeros or above 63, indexes of 2^63 or more, `.p/` widths outside 1..=255 or
/// with leading zeros, and anything before `tile/` or after the path.
pub fn parse_path(path: &str) -> Result<TilePath, TileError> {
    // The longest canonical path is about 50 bytes.
    if path.len() > 100 {
        return Err(TileError::MalformedPath);
    }
    let rest = path.strip_prefix("tile/").ok_or(TileError::MalformedPath)?;
    let (level, rest) = match rest.strip_prefix("entries/") {
        Some(rest) => (None, rest),
        None => {
            let (level, rest) = rest.split_once('/').ok_or(TileError::MalformedPath)?;
            let level = parse_decimal(level, 2)
                .and_then(|l| u8::try_from(l).ok())
                .filter(|l| *l <= MAX_TILE_LEVEL)
                .ok_or(TileError::MalformedPath)?;
            (Some(level), rest)
        }
    };
    let (index, width) = match rest.split_once(".p/") {
        Some((index, width)) => {
            let width = parse_decimal(width, 3)
                .and_then(|w| u16::try_from(w).ok())
                .filter(|w| (1..TILE_WIDTH).contains(w))
                .ok_or(TileError::MalformedPath)?;
            (index, width)
        }
        None => (rest, TILE_WIDTH),
    };
    let index = parse_index(index).ok_or(TileError::MalformedPath)?;
    let parsed = match level {
        Some(level) => TilePath::Hash {
            level,
            index,
            width,
        },
        None => TilePath::Entries { index, width },
    };
    // Whatever the pieces above let through (a leading x000 group), the canonical form
    // is the one the formatter writes.
    if parsed.to_string() != path {
        return Err(TileError::MalformedPath);
    }
    Ok(parsed)
}

/// Whether subtree `index` at tree `level` ends within a tree of at most 2^64 - 1 leaves:
/// `(index + 1) * 2^level < 2^64`.
fn fits_below_2_64(index: u64, level: u8) -> bool {
    let Some(end) = index.checked_add(1) else {
        return false;
    };
    u32::from(level) < 64 && (end << level) >> level == end
}

/// Hash tile `index` at `level` with `width` hashes: the concatenated 32-byte hashes of
/// tree level `8 * level` for subtree indexes `256 * index .. 256 * index + width`.
///
/// The caller picks the width from a checkpoint's size with [`tile_width`]; every hash
/// read is then a complete subtree of that tree.
pub fn hash_tile<R: HashReader>(
    r: &R,
    level: u8,
    index: u64,
    width: u16,
) -> Result<Vec<u8>, HashTileError<R::Error>> {
    if level > 7 || width == 0 || width > TILE_WIDTH {
        return Err(HashTileError::OutOfRange);
    }
    let tree_level = level * 8;
    let first = index
        .checked_mul(u64::from(TILE_WIDTH))
        .ok_or(HashTileError::OutOfRange)?;
    let last = first
        .checked_add(u64::from(width) - 1)
        .ok_or(HashTileError::OutOfRange)?;
    // The last hash's leaves must end within a tree of at most 2^64 - 1 leaves.
    if !fits_below_2_64(last, tree_level) {
        return Err(HashTileError::OutOfRange);
    }
    let mut tile = Vec::with_capacity(usize::from(width) * 32);
    for i in first..=last {
        tile.extend_from_slice(&r.subtree(tree_level, i).map_err(HashTileError::Read)?);
    }
    Ok(tile)
}

/// The width of hash tile `index` at `level` in a tree of `size` leaves: 256 for a full
/// tile, 1..=255 for the partial rightmost tile, `None` for a tile the tree does not
/// have yet (or a level above 63).
///
/// Level `L` of a tree of size `s` has `s >> (8 * L)` hashes. For entry bundles use level
/// 0: bundle `N` has as many entries as level-0 tile `N` has hashes.
pub fn tile_width(level: u8, index: u64, size: u64) -> Option<u16> {
    let shift = u32::from(level).checked_mul(8)?;
    let hashes = size.checked_shr(shift).unwrap_or(0);
    let start = index.checked_mul(u64::from(TILE_WIDTH))?;
    let available = hashes.checked_sub(start).filter(|n| *n > 0)?;
    u16::try_from(available.min(u64::from(TILE_WIDTH))).ok()
}

/// Where the hashes of `subtree(level, index)` are: see [`tile_for_subtree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileSlot {
    /// The tile level: `level / 8`.
    pub level: u8,
    /// The tile index within its level.
    pub index: u64,
    /// The position of the first of the `2^k` hashes in the tile.
    pub first: usize,
    /// The subtree's height above the tile's hashes: `level % 8`.
    pub k: u8,
    /// The tile needs at least this many hashes (`first + 2^k`); any tile of a tree that
    /// contains the subtree has them.
    pub min_width: u16,
}

/// Which tile holds the hashes of the complete subtree at tree `level` and `index`
/// ([`HashReader::subtree`]'s arguments).
///
/// The subtree's root is the hash of `2^k` consecutive hashes of tree level
/// `8 * (level / 8)`, where `k = level % 8`, starting at `index * 2^k`. Those hashes are
/// in tile `(index * 2^k) / 256` of tile level `level / 8`, from position
/// `(index * 2^k) % 256`; `2^k` divides 256, so they never straddle two tiles. `None` for
/// a level above 63 or a subtree past 2^64 leaves.
pub fn tile_for_subtree(level: u8, index: u64) -> Option<TileSlot> {
    if level > MAX_TILE_LEVEL {
        return None;
    }
    if !fits_below_2_64(index, level) {
        return None;
    }
    let k = level % 8;
    let position = index.checked_mul(1 << k)?;
    let first = position % u64::from(TILE_WIDTH);
    Some(TileSlot {
        level: level / 8,
        index: position / u64::from(TILE_WIDTH),
        first: usize::try_from(first).ok()?,
        k,
        min_width: u16::try_from(first + (1 << k)).ok()?,
    })
}

/// The root of the `2^k` consecutive tile hashes starting at position `first`
/// (`k` at most 8): the subtree those hashes are the bottom of.
///
/// `None` if `tile` is not a whole number of hashes, `k` is above 8, `first` is not a
/// multiple of `2^k`, or the tile is too short.
pub fn subtree_from_tile(tile: &[u8], k: u8, first: usize) -> Option<Hash> {
    if !tile.len().is_multiple_of(32) || k > 8 {
        return None;
    }
    let count = 1usize << k;
    if !first.is_multiple_of(count) {
        return None;
    }
    let start = first.checked_mul(32)?;
    let end = first.checked_add(count)?.checked_mul(32)?;
    let mut row: Vec<Hash> = tile
        .get(start..end)?
        .chunks_exact(32)
        .map(|chunk| Hash::try_from(chunk).ok())
        .collect::<Option<_>>()?;
    while row.len() > 1 {
        row = row
            .chunks_exact(2)
            .filter_map(|pair| match pair {
                [left, right] => Some(node_hash(left, right)),
                _ => None,
            })
            .collect();
    }
    row.first().copied()
}

/// An entry bundle: each entry as a big-endian `u16` length and its bytes.
///
/// Refuses more than 256 entries, none, or an entry longer than 65,535 bytes.
pub fn entry_bundle(entries: &[&[u8]]) -> Result<Vec<u8>, TileError> {
    if entries.is_empty() {
        return Err(TileError::EmptyBundle);
    }
    if entries.len() > usize::from(TILE_WIDTH) {
        return Err(TileError::TooManyEntries);
    }
    let mut bundle = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
    for entry in entries {
        let len = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong)?;
        bundle.extend_from_slice(&len.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// Parses an entry bundle: 1 to 256 length-prefixed entries and nothing after the last.
pub fn parse_entry_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if entries.len() == usize::from(TILE_WIDTH) {
            return Err(TileError::TooManyEntries);
        }
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or(TileError::MalformedBundle)?;
        let (entry, tail) = tail
            .split_at_checked(usize::from(u16::from_be_bytes(*len)))
            .ok_or(TileError::MalformedBundle)?;
        entries.push(entry);
        rest = tail;
    }
    if entries.is_empty() {
        return Err(TileError::EmptyBundle);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    // Path canonicality (one rejecting case per rule), bundle framing and the tile
    // arithmetic's edges; the tile-backed reader is checked against Tree in tests/log.rs.
    use super::*;

    #[test]
    fn paths_from_the_spec() {
        assert_eq!(tile_path(0, 1_234_067, 256), "tile/0/x001/x234/067");
        assert_eq!(tile_path(0, 1_234_067, 5), "tile/0/x001/x234/067.p/5");
        assert_eq!(tile_path(2, 0, 1), "tile/2/000.p/1");
        assert_eq!(tile_path(1, 999, 256), "tile/1/999");
        assert_eq!(tile_path(1, 1000, 256), "tile/1/x001/000");
        assert_eq!(entries_path(1_234_067, 256), "tile/entries/x001/x234/067");
        assert_eq!(entries_path(3, 112), "tile/entries/003.p/112");
        assert_eq!(
            tile_path(63, MAX_TILE_INDEX, 255),
            "tile/63/x009/x223/x372/x036/x854/x775/807.p/255"
        );
        for path in [
            "tile/0/x001/x234/067",
            "tile/0/x001/x234/067.p/5",
            "tile/63/000",
            "tile/entries/000.p/1",
            "tile/entries/x009/x223/x372/x036/x854/x775/807.p/255",
        ] {
            let parsed = parse_path(path).unwrap();
            assert_eq!(parsed.to_string(), path);
        }
        assert_eq!(
            parse_path("tile/3/x001/x234/067.p/5"),
            Ok(TilePath::Hash {
                level: 3,
                index: 1_234_067,
                width: 5
            })
        );
        assert_eq!(
            parse_path("tile/entries/x001/067"),
            Ok(TilePath::Entries {
                index: 1067,
                width: 256
            })
        );
    }

    #[test]
    fn non_canonical_paths_are_refused() {
        for path in [
            "",
            "tile",
            "tile/",
            "tile/0",
            "tile/0/",
            "/tile/0/000",
            "tiles/0/000",
            "tile/0/000/",
            "tile/0/000 ",
            "tile/00/000",
            "tile/01/000",
            "tile/64/000",
            "tile/256/000",
            "tile/-1/000",
            "tile/+1/000",
            "tile/x/000",
            "tile/0/0",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000",
            "tile/0/x000/001",
            "tile/0/x001/x000",
            "tile/0/001/000",
            "tile/0/xx001/000",
            "tile/0/x01/000",
            "tile/0/x0001/000",
            "tile/0/X001/000",
            "tile/0/x001//000",
            "tile/0/x+01/000",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/005",
            "tile/0/000.p/",
            "tile/0/000.p",
            "tile/0/000.p/5/",
            "tile/0/000.p/5.p/5",
            "tile/0/000.P/5",
            "tile/0/x009/x223/x372/x036/x854/x775/808",
            "tile/0/x018/x446/x744/x073/x709/x551/615",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
            "tile/entries/",
            "tile/entries/x000",
            "tile/entries/0/000",
            "tile/entries/000.p/256",
            "tile/data/000",
            "tile/0/\u{0660}\u{0660}\u{0660}",
        ] {
            assert_eq!(parse_path(path), Err(TileError::MalformedPath), "{path:?}");
        }
    }

    #[test]
    fn bundles_round_trip_and_refuse_bad_framing() {
        let entries: [&[u8]; 3] = [b"", b"a", &[0u8; 300]];
        let bundle = entry_bundle(&entries).unwrap();
        assert_eq!(bundle.get(..5), Some(&[0, 0, 0, 1, b'a'][..]));
        assert_eq!(parse_entry_bundle(&bundle).unwrap(), entries);

        let big = vec![0u8; MAX_ENTRY_SIZE];
        assert!(entry_bundle(&[&big]).is_ok());
        let too_big = vec![0u8; MAX_ENTRY_SIZE + 1];
        assert_eq!(entry_bundle(&[&too_big]), Err(TileError::EntryTooLong));
        let many: Vec<&[u8]> = vec![b"x"; 257];
        assert_eq!(entry_bundle(&many), Err(TileError::TooManyEntries));
        assert!(entry_bundle(&many[..256]).is_ok());
        assert_eq!(entry_bundle(&[]), Err(TileError::EmptyBundle));

        let full = entry_bundle(&many[..256]).unwrap();
        assert_eq!(parse_entry_bundle(&full).unwrap().len(), 256);
        assert_eq!(
            parse_entry_bundle(&[full.as_slice(), &[0, 0]].concat()),
            Err(TileError::TooManyEntries)
        );
        assert_eq!(parse_entry_bundle(&[]), Err(TileError::EmptyBundle));
        assert_eq!(parse_entry_bundle(&[0]), Err(TileError::MalformedBundle));
        assert_eq!(
            parse_entry_bundle(&[0, 2, 1]),
            Err(TileError::MalformedBundle)
        );
        assert_eq!(
            parse_entry_bundle(&[&bundle[..], &[0]].concat()),
            Err(TileError::MalformedBundle)
        );
    }

    #[test]
    fn tile_arithmetic_edges() {
        // A tree of 70,000 leaves (the spec's example): 273 full level-0 tiles and one of
        // width 112, one full level-1 tile and one of width 17, one level-2 tile of width 1.
        assert_eq!(tile_width(0, 272, 70_000), Some(256));
        assert_eq!(tile_width(0, 273, 70_000), Some(112));
        assert_eq!(tile_width(0, 274, 70_000), None);
        assert_eq!(tile_width(1, 0, 70_000), Some(256));
        assert_eq!(tile_width(1, 1, 70_000), Some(17));
        assert_eq!(tile_width(2, 0, 70_000), Some(1));
        assert_eq!(tile_width(3, 0, 70_000), None);
        // Size 256: a full level-0 tile and a level-1 tile of width 1.
        assert_eq!(tile_width(0, 0, 256), Some(256));
        assert_eq!(tile_width(1, 0, 256), Some(1));
        assert_eq!(tile_width(7, 0, u64::MAX), Some(255));
        assert_eq!(tile_width(8, 0, u64::MAX), None);
        assert_eq!(tile_width(0, u64::MAX, u64::MAX), None);

        assert_eq!(
            tile_for_subtree(0, 300),
            Some(TileSlot {
                level: 0,
                index: 1,
                first: 44,
                k: 0,
                min_width: 45
            })
        );
        assert_eq!(
            tile_for_subtree(11, 5),
            Some(TileSlot {
                level: 1,
                index: 0,
                first: 40,
                k: 3,
                min_width: 48
            })
        );
        assert_eq!(
            tile_for_subtree(7, 3),
            Some(TileSlot {
                level: 0,
                index: 1,
                first: 128,
                k: 7,
                min_width: 256
            })
        );
        assert_eq!(
            tile_for_subtree(63, 0),
            Some(TileSlot {
                level: 7,
                index: 0,
                first: 0,
                k: 7,
                min_width: 128
            })
        );
        assert_eq!(tile_for_subtree(63, 1), None);
        assert_eq!(tile_for_subtree(0, u64::MAX), None);
        assert_eq!(
            hash_tile(&crate::log::merkle::Tree::new(), 7, 0, 256),
            Err(HashTileError::OutOfRange)
        );
        assert_eq!(tile_for_subtree(64, 0), None);

        assert_eq!(
            subtree_from_tile(&[0u8; 64], 1, 0),
            Some(node_hash(&[0; 32], &[0; 32]))
        );
        assert_eq!(subtree_from_tile(&[0u8; 64], 0, 1), Some([0; 32]));
        assert_eq!(subtree_from_tile(&[0u8; 64], 1, 1), None);
        assert_eq!(subtree_from_tile(&[0u8; 64], 2, 0), None);
        assert_eq!(subtree_from_tile(&[0u8; 63], 0, 0), None);
        assert_eq!(subtree_from_tile(&[0u8; 32 * 256], 9, 0), None);
        assert!(subtree_from_tile(&[0u8; 32 * 256], 8, 0).is_some());
    }

    #[test]
    fn hash_tile_bounds() {
        let mut tree = crate::log::merkle::Tree::new();
        for i in 0u32..3 {
            tree.push(crate::log::merkle::leaf_hash(&i.to_be_bytes()));
        }
        assert_eq!(hash_tile(&tree, 0, 0, 3).map(|t| t.len()), Ok(96));
        assert!(matches!(
            hash_tile(&tree, 0, 0, 4),
            Err(HashTileError::Read(_))
        ));
        assert_eq!(hash_tile(&tree, 0, 0, 0), Err(HashTileError::OutOfRange));
        assert_eq!(hash_tile(&tree, 0, 0, 257), Err(HashTileError::OutOfRange));
        assert_eq!(hash_tile(&tree, 8, 0, 1), Err(HashTileError::OutOfRange));
        assert_eq!(hash_tile(&tree, 7, 1, 1), Err(HashTileError::OutOfRange));
        assert_eq!(
            hash_tile(&tree, 0, u64::MAX, 1),
            Err(HashTileError::OutOfRange)
        );
    }
}
