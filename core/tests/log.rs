//! The evidence log's primitives against the published vectors in `testdata/vectors/log/`
//! (Certificate Transparency Merkle vectors, C2SP signed-note and checkpoint examples),
//! an exhaustive check of every proof of trees up to 70 leaves against the RFC's own
//! recursive definitions, and a tile-backed hash reader against the in-memory tree.

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use trustmark_core::log::checkpoint::{self, Checkpoint, CheckpointError};
use trustmark_core::log::merkle::{self, Hash, HashReader, ProofError, Tree};
use trustmark_core::log::note::{self, NoteError, VerifierKey};
use trustmark_core::log::tile;

fn root_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn load(name: &str) -> Value {
    let path = root_dir().join("testdata/vectors/log").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s:?}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hash(v: &Value) -> Hash {
    hex(v.as_str().unwrap()).try_into().unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

fn array<'a>(v: &'a Value, key: &str, at_least: usize) -> &'a Vec<Value> {
    let list = v[key].as_array().unwrap_or_else(|| panic!("{key} missing"));
    assert!(
        list.len() >= at_least,
        "{key}: {} entries, expected at least {at_least}",
        list.len()
    );
    list
}

fn reference_tree(v: &Value) -> (Tree, Vec<Hash>) {
    let leaves: Vec<Hash> = array(v, "leaves", 8)
        .iter()
        .map(|l| merkle::leaf_hash(&hex(l.as_str().unwrap())))
        .collect();
    let mut tree = Tree::new();
    for (i, leaf) in leaves.iter().enumerate() {
        assert_eq!(tree.push(*leaf), i as u64);
    }
    (tree, leaves)
}

// ---------------------------------------------------------------------------------------
// RFC 6962 vectors

#[test]
fn hasher_vectors() {
    let v = load("rfc6962.json");
    assert_eq!(merkle::empty_root(), hash(&v["empty_root"]));
    for case in array(&v, "leaf_hashes", 4) {
        let input = hex(case["input"].as_str().unwrap());
        assert_eq!(merkle::leaf_hash(&input), hash(&case["hash"]), "{case}");
    }
    for case in array(&v, "node_hashes", 1) {
        let (l, r) = (hash(&case["left"]), hash(&case["right"]));
        assert_eq!(merkle::node_hash(&l, &r), hash(&case["hash"]), "{case}");
    }
}

#[test]
fn every_root_and_complete_subtree() {
    let v = load("rfc6962.json");
    let (tree, _) = reference_tree(&v);
    let roots = hashes(&v["roots"]);
    assert_eq!(roots.len(), 9);
    for (size, want) in roots.iter().enumerate() {
        let size = size as u64;
        assert_eq!(merkle::root(&tree, size), Ok(*want), "size {size}");
        assert_eq!(tree.root_at(size), Some(*want), "size {size}");
    }
    assert_eq!(tree.root(), roots[8]);
    let levels = array(&v, "subtrees", 4);
    let mut count = 0;
    for (level, row) in levels.iter().enumerate() {
        for (index, want) in hashes(row).iter().enumerate() {
            assert_eq!(tree.subtree(level as u8, index as u64), Ok(*want));
            count += 1;
        }
    }
    assert_eq!(count, 15);
}

fn flip(h: &Hash, bit: u8) -> Hash {
    let mut h = *h;
    h[0] ^= 1 << bit;
    h
}

/// The negative probes of the CT and transparency-dev verifier tests for one valid
/// inclusion proof, each of which must be refused.
fn inclusion_probes(
    index: u64,
    size: u64,
    leaf: Hash,
    proof: &[Hash],
    root: Hash,
) -> Vec<(String, u64, u64, Hash, Vec<Hash>, Hash)> {
    let mut probes = vec![
        (
            "index - 1".to_owned(),
            index.wrapping_sub(1),
            size,
            leaf,
            proof.to_vec(),
            root,
        ),
        (
            "index + 1".to_owned(),
            index + 1,
            size,
            leaf,
            proof.to_vec(),
            root,
        ),
        (
            "index ^ 2".to_owned(),
            index ^ 2,
            size,
            leaf,
            proof.to_vec(),
            root,
        ),
        (
            "size * 2".to_owned(),
            index,
            size * 2,
            leaf,
            proof.to_vec(),
            root,
        ),
        (
            "size / 2".to_owned(),
            index,
            size / 2,
            leaf,
            proof.to_vec(),
            root,
        ),
        (
            "wrong leaf".to_owned(),
            index,
            size,
            merkle::leaf_hash(b"WrongLeaf"),
            proof.to_vec(),
            root,
        ),
        (
            "empty root".to_owned(),
            index,
            size,
            leaf,
            proof.to_vec(),
            merkle::empty_root(),
        ),
        (
            "other root".to_owned(),
            index,
            size,
            leaf,
            proof.to_vec(),
            flip(&root, 0),
        ),
        (
            "trailing zero hash".to_owned(),
            index,
            size,
            leaf,
            [proof, &[[0; 32]]].concat(),
            root,
        ),
        (
            "trailing root".to_owned(),
            index,
            size,
            leaf,
            [proof, &[root]].concat(),
            root,
        ),
        (
            "preceding zero hash".to_owned(),
            index,
            size,
            leaf,
            [&[[0; 32]], proof].concat(),
            root,
        ),
        (
            "preceding root".to_owned(),
            index,
            size,
            leaf,
            [&[root], proof].concat(),
            root,
        ),
    ];
    for i in 0..proof.len() {
        let mut wrong = proof.to_vec();
        wrong[i] = flip(&wrong[i], 3);
        probes.push((format!("proof[{i}] bit 3"), index, size, leaf, wrong, root));
    }
    if let Some((_, shorter)) = proof.split_last() {
        probes.push((
            "one hash short".to_owned(),
            index,
            size,
            leaf,
            shorter.to_vec(),
            root,
        ));
    }
    probes
}

#[test]
fn reference_inclusion_proofs() {
    let v = load("rfc6962.json");
    let (tree, leaves) = reference_tree(&v);
    let roots = hashes(&v["roots"]);
    let mut rejected = 0;
    for case in array(&v, "inclusion", 5) {
        let index = case["index"].as_u64().unwrap();
        let size = case["size"].as_u64().unwrap();
        let want = hashes(&case["proof"]);
        let root = roots[size as usize];
        let leaf = leaves[index as usize];
        assert_eq!(
            merkle::inclusion_proof(&tree, index, size),
            Ok(want.clone()),
            "{case}"
        );
        assert_eq!(
            merkle::verify_inclusion(&leaf, index, size, &want, &root),
            Ok(()),
            "{case}"
        );
        for (what, i, s, l, p, r) in inclusion_probes(index, size, leaf, &want, root) {
            assert!(
                merkle::verify_inclusion(&l, i, s, &p, &r).is_err(),
                "{case}: {what} verified"
            );
            rejected += 1;
        }
    }
    assert!(rejected >= 60, "{rejected}");
}

#[test]
fn reference_consistency_proofs() {
    let v = load("rfc6962.json");
    let (tree, _) = reference_tree(&v);
    let roots = hashes(&v["roots"]);
    let mut rejected = 0;
    for case in array(&v, "consistency", 5) {
        let old = case["old"].as_u64().unwrap();
        let new = case["new"].as_u64().unwrap();
        let want = hashes(&case["proof"]);
        let (r1, r2) = (roots[old as usize], roots[new as usize]);
        assert_eq!(
            merkle::consistency_proof(&tree, old, new),
            Ok(want.clone()),
            "{case}"
        );
        assert_eq!(
            merkle::verify_consistency(old, new, &r1, &r2, &want),
            Ok(()),
            "{case}"
        );
        if want.is_empty() {
            continue;
        }
        let zero = [0u8; 32];
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            ("old - 1".into(), old - 1, new, r1, r2, want.clone()),
            ("old + 1".into(), old + 1, new, r1, r2, want.clone()),
            ("old ^ 2".into(), old ^ 2, new, r1, r2, want.clone()),
            ("new * 2".into(), old, new * 2, r1, r2, want.clone()),
            ("new / 2".into(), old, new / 2, r1, r2, want.clone()),
            (
                "wrong old root".into(),
                old,
                new,
                flip(&r1, 0),
                r2,
                want.clone(),
            ),
            (
                "wrong new root".into(),
                old,
                new,
                r1,
                flip(&r2, 0),
                want.clone(),
            ),
            ("swapped roots".into(), old, new, r2, r1, want.clone()),
            ("empty proof".into(), old, new, r1, r2, vec![]),
            (
                "trailing zero hash".into(),
                old,
                new,
                r1,
                r2,
                [&want[..], &[zero]].concat(),
            ),
            (
                "trailing old root".into(),
                old,
                new,
                r1,
                r2,
                [&want[..], &[r1]].concat(),
            ),
            (
                "trailing new root".into(),
                old,
                new,
                r1,
                r2,
                [&want[..], &[r2]].concat(),
            ),
            (
                "preceding zero hash".into(),
                old,
                new,
                r1,
                r2,
                [&[zero], &want[..]].concat(),
            ),
            (
                "preceding old root".into(),
                old,
                new,
                r1,
                r2,
                [&[r1], &want[..]].concat(),
            ),
            (
                "preceding new root".into(),
                old,
                new,
                r1,
                r2,
                [&[r2], &want[..]].concat(),
            ),
            (
                "preceding proof[0]".into(),
                old,
                new,
                r1,
                r2,
                [&want[..1], &want[..]].concat(),
            ),
            (
                "one hash short".into(),
                old,
                new,
                r1,
                r2,
                want[..want.len() - 1].to_vec(),
            ),
            ("old > new".into(), new, old, r2, r1, want.clone()),
        ];
        for i in 0..want.len() {
            let mut wrong = want.clone();
            wrong[i] = flip(&wrong[i], 4);
            probes.push((format!("proof[{i}] bit 4"), old, new, r1, r2, wrong));
        }
        for (what, o, n, a, b, p) in probes {
            assert!(
                merkle::verify_consistency(o, n, &a, &b, &p).is_err(),
                "{case}: {what} verified"
            );
            rejected += 1;
        }
    }
    assert!(rejected >= 80, "{rejected}");
}

#[test]
fn specific_errors() {
    let v = load("rfc6962.json");
    let roots = hashes(&v["roots"]);
    let case = &v["inclusion"][1];
    let proof = hashes(&case["proof"]);
    let (tree, leaves) = reference_tree(&v);
    let leaf = leaves[0];
    assert_eq!(
        merkle::verify_inclusion(&leaf, 0, 8, &proof[..2], &roots[8]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        merkle::verify_inclusion(&leaf, 0, 8, &[&proof[..], &[roots[8]]].concat(), &roots[8]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        merkle::verify_inclusion(&leaf, 1, 8, &proof, &roots[8]),
        Err(ProofError::Mismatch)
    );
    assert_eq!(
        merkle::verify_inclusion(&leaf, 8, 8, &proof, &roots[8]),
        Err(ProofError::OutOfRange { index: 8, size: 8 })
    );
    let p = merkle::consistency_proof(&tree, 6, 8).unwrap();
    assert_eq!(
        merkle::verify_consistency(6, 8, &roots[6], &roots[7], &p),
        Err(ProofError::Mismatch)
    );
    assert_eq!(
        merkle::verify_consistency(6, 8, &roots[6], &roots[8], &p[..2]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        merkle::verify_consistency(8, 6, &roots[8], &roots[6], &p),
        Err(ProofError::OutOfRange { index: 8, size: 6 })
    );
}

// ---------------------------------------------------------------------------------------
// Exhaustive small trees against the RFC's recursive definitions

/// MTH (RFC 9162 2.1.1), written recursively from the definition.
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => merkle::empty_root(),
        1 => d[0],
        n => {
            let k = split(n);
            merkle::node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// The largest power of two strictly below n (n > 1).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// PATH(m, D[n]) (RFC 9162 2.1.3.1).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        [path(m, &d[..k]), vec![mth(&d[k..])]].concat()
    } else {
        [path(m - k, &d[k..]), vec![mth(&d[..k])]].concat()
    }
}

/// SUBPROOF(m, D[n], b) (RFC 9162 2.1.4.1).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = split(n);
    if m <= k {
        [subproof(m, &d[..k], b), vec![mth(&d[k..])]].concat()
    } else {
        [subproof(m - k, &d[k..], false), vec![mth(&d[..k])]].concat()
    }
}

#[test]
fn the_reference_mth_agrees_with_the_vectors() {
    let v = load("rfc6962.json");
    let (_, leaves) = reference_tree(&v);
    for (size, want) in hashes(&v["roots"]).iter().enumerate() {
        assert_eq!(mth(&leaves[..size]), *want);
    }
    for n in 2..100 {
        assert_eq!(split(n), mth_split(n), "{n}");
    }
    fn mth_split(n: usize) -> usize {
        (0..usize::BITS)
            .map(|b| 1usize << b)
            .filter(|k| *k < n)
            .max()
            .unwrap()
    }
}

#[test]
fn every_proof_of_every_tree_up_to_70_leaves() {
    const N: usize = 70;
    let leaves: Vec<Hash> = (0..N)
        .map(|i| merkle::leaf_hash(format!("leaf {i}").as_bytes()))
        .collect();
    let mut tree = Tree::new();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    let roots: Vec<Hash> = (0..=N).map(|n| mth(&leaves[..n])).collect();
    let (mut inclusions, mut consistencies) = (0, 0);
    for n in 1..=N {
        let size = n as u64;
        assert_eq!(merkle::root(&tree, size), Ok(roots[n]), "root {n}");
        assert_eq!(tree.root_at(size), Some(roots[n]));
        for m in 0..n {
            let index = m as u64;
            let proof = merkle::inclusion_proof(&tree, index, size).unwrap();
            assert_eq!(proof, path(m, &leaves[..n]), "PATH({m}, {n})");
            assert_eq!(
                merkle::verify_inclusion(&leaves[m], index, size, &proof, &roots[n]),
                Ok(())
            );
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i] = flip(&wrong[i], 7);
                assert!(
                    merkle::verify_inclusion(&leaves[m], index, size, &wrong, &roots[n]).is_err()
                );
            }
            let longer = [&proof[..], &[roots[n]]].concat();
            assert_eq!(
                merkle::verify_inclusion(&leaves[m], index, size, &longer, &roots[n]),
                Err(ProofError::WrongLength),
                "PATH({m}, {n}) + 1"
            );
            if let Some((_, shorter)) = proof.split_last() {
                assert_eq!(
                    merkle::verify_inclusion(&leaves[m], index, size, shorter, &roots[n]),
                    Err(ProofError::WrongLength),
                    "PATH({m}, {n}) - 1"
                );
            }
            inclusions += 1;
        }
        for m in 0..=n {
            let old = m as u64;
            let proof = merkle::consistency_proof(&tree, old, size).unwrap();
            let want = if m == 0 {
                vec![]
            } else {
                subproof(m, &leaves[..n], true)
            };
            assert_eq!(proof, want, "PROOF({m}, {n})");
            assert_eq!(
                merkle::verify_consistency(old, size, &roots[m], &roots[n], &proof),
                Ok(()),
                "PROOF({m}, {n})"
            );
            for i in 0..proof.len() {
                let mut wrong = proof.clone();
                wrong[i] = flip(&wrong[i], 1);
                assert!(
                    merkle::verify_consistency(old, size, &roots[m], &roots[n], &wrong).is_err()
                );
            }
            let longer = [&proof[..], &[roots[n]]].concat();
            assert!(
                merkle::verify_consistency(old, size, &roots[m], &roots[n], &longer).is_err(),
                "PROOF({m}, {n}) + 1"
            );
            if let Some((_, shorter)) = proof.split_last() {
                assert!(
                    merkle::verify_consistency(old, size, &roots[m], &roots[n], shorter).is_err(),
                    "PROOF({m}, {n}) - 1"
                );
            }
            if m < n {
                assert!(
                    merkle::verify_consistency(size, old, &roots[n], &roots[m], &proof).is_err(),
                    "old > new"
                );
                // A root of another size is never consistent (the empty tree is a prefix of
                // anything, and its proof proves nothing about the new root).
                if m > 0 {
                    assert!(merkle::verify_consistency(
                        old,
                        size,
                        &roots[m],
                        &roots[n - 1],
                        &proof
                    )
                    .is_err());
                }
            }
            consistencies += 1;
        }
    }
    assert_eq!(inclusions, N * (N + 1) / 2);
    assert_eq!(consistencies, (N + 1) * (N + 2) / 2 - 1);
}

// ---------------------------------------------------------------------------------------
// Tiles

/// A reader that answers `subtree` only from hash tiles, the way a tlog-tiles client
/// does: each tile was made by `hash_tile` at the width the tree size calls for.
struct TileReader {
    tiles: HashMap<(u8, u64), Vec<u8>>,
}

impl TileReader {
    fn new(tree: &Tree, size: u64) -> TileReader {
        let mut tiles = HashMap::new();
        for level in 0..=7u8 {
            let mut index = 0;
            while let Some(width) = tile::tile_width(level, index, size) {
                let bytes = tile::hash_tile(tree, level, index, width).unwrap();
                assert_eq!(bytes.len(), usize::from(width) * 32);
                // The path round-trips, as a client would fetch it.
                let path = tile::tile_path(level, index, width);
                assert_eq!(
                    tile::parse_path(&path),
                    Ok(tile::TilePath::Hash {
                        level,
                        index,
                        width
                    })
                );
                tiles.insert((level, index), bytes);
                index += 1;
            }
        }
        TileReader { tiles }
    }
}

impl HashReader for TileReader {
    type Error = &'static str;

    fn subtree(&self, level: u8, index: u64) -> Result<Hash, &'static str> {
        let slot = tile::tile_for_subtree(level, index).ok_or("no such subtree")?;
        let tile = self
            .tiles
            .get(&(slot.level, slot.index))
            .ok_or("tile not published")?;
        if tile.len() < usize::from(slot.min_width) * 32 {
            return Err("tile too narrow");
        }
        tile::subtree_from_tile(tile, slot.k, slot.first).ok_or("bad slot")
    }
}

#[test]
fn a_reader_of_hash_tiles_gives_the_trees_roots_and_proofs() {
    let larger = [1023u64, 1024, 4097, 65_535, 65_536, 65_537, 70_000, 131_329];
    let max = *larger.iter().max().unwrap();
    let mut tree = Tree::new();
    for i in 0..max {
        tree.push(merkle::leaf_hash(&i.to_be_bytes()));
    }
    let mut checked = 0;
    for size in (1..=600).chain(larger) {
        let reader = TileReader::new(&tree, size);
        assert_eq!(
            merkle::root(&reader, size),
            Ok(tree.root_at(size).unwrap()),
            "size {size}"
        );
        let samples = [0, 1, size / 3, size / 2, size.saturating_sub(2), size - 1];
        for index in samples.into_iter().filter(|i| *i < size) {
            assert_eq!(
                merkle::inclusion_proof(&reader, index, size).unwrap(),
                merkle::inclusion_proof(&tree, index, size).unwrap(),
                "inclusion {index} of {size}"
            );
        }
        for old in samples.into_iter().map(|i| i + 1).filter(|o| *o <= size) {
            assert_eq!(
                merkle::consistency_proof(&reader, old, size).unwrap(),
                merkle::consistency_proof(&tree, old, size).unwrap(),
                "consistency {old} to {size}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 608);
}

#[test]
fn every_complete_subtree_of_a_tree_is_in_its_tiles() {
    // All subtrees of a 1,000-leaf tree, not only those a proof happens to need.
    let size = 1000u64;
    let mut tree = Tree::new();
    for i in 0..size {
        tree.push(merkle::leaf_hash(&i.to_be_bytes()));
    }
    let reader = TileReader::new(&tree, size);
    let mut count = 0;
    for level in 0..10u8 {
        for index in 0..(size >> level) {
            assert_eq!(
                reader.subtree(level, index),
                Ok(tree.subtree(level, index).unwrap())
            );
            count += 1;
        }
    }
    assert_eq!(count, 1994);
}

#[test]
fn entry_bundles_match_level_zero_tiles() {
    let entries: Vec<Vec<u8>> = (0..300u32)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    let mut tree = Tree::new();
    for e in &entries {
        tree.push(merkle::leaf_hash(e));
    }
    let size = entries.len() as u64;
    for index in 0..2 {
        let width = tile::tile_width(0, index, size).unwrap();
        let first = (index * 256) as usize;
        let chunk: Vec<&[u8]> = entries[first..first + usize::from(width)]
            .iter()
            .map(Vec::as_slice)
            .collect();
        let bundle = tile::entry_bundle(&chunk).unwrap();
        let parsed = tile::parse_entry_bundle(&bundle).unwrap();
        let hashes: Vec<u8> = parsed.iter().flat_map(|e| merkle::leaf_hash(e)).collect();
        assert_eq!(hashes, tile::hash_tile(&tree, 0, index, width).unwrap());
        assert_eq!(
            tile::parse_path(&tile::entries_path(index, width)),
            Ok(tile::TilePath::Entries { index, width })
        );
    }
}

// ---------------------------------------------------------------------------------------
// Signed notes

fn error_code(e: NoteError) -> &'static str {
    match e {
        NoteError::TooLarge => "too_large",
        NoteError::TooManySignatures => "too_many_signatures",
        NoteError::Malformed => "malformed",
        NoteError::KeyName => "key_name",
        NoteError::MalformedKey => "malformed_key",
        NoteError::KeyIdMismatch => "key_id_mismatch",
        NoteError::UnsupportedKeyType => "unsupported_key_type",
        NoteError::InvalidKey => "invalid_key",
        NoteError::AmbiguousKey => "ambiguous_key",
        NoteError::InvalidSignature => "invalid_signature",
        NoteError::NoVerifiedSignature => "no_verified_signature",
        NoteError::UnsignableText => "unsignable_text",
        _ => "other",
    }
}

fn note_keys(v: &Value) -> HashMap<String, VerifierKey> {
    let keys: HashMap<String, VerifierKey> = v["keys"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, s)| {
            let s = s.as_str().unwrap();
            let key = VerifierKey::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(key.to_string(), s, "Display writes the parsed key back");
            (name.clone(), key)
        })
        .collect();
    assert!(keys.len() >= 4);
    keys
}

#[test]
fn signed_note_vectors() {
    let v = load("signed-note.json");
    let keys = note_keys(&v);
    assert_eq!(keys["peter"].key_id(), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(keys["peter"].name(), "PeterNeumann");
    assert_eq!(keys["example"].key_id(), [0x53, 0x0d, 0x90, 0x3a]);
    let mut opened = 0;
    for case in array(&v, "notes", 20) {
        let known: Vec<VerifierKey> = case["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| keys[k.as_str().unwrap()].clone())
            .collect();
        let result = note::open(case["note"].as_str().unwrap().as_bytes(), &known);
        let expect = &case["expect"];
        match expect["error"].as_str() {
            Some(code) => assert_eq!(result.map_err(error_code), Err(code), "{}", case["name"]),
            None => {
                let got = result.unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
                assert_eq!(got.text, expect["text"].as_str().unwrap());
                let by: Vec<VerifierKey> = expect["verified_by"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| keys[k.as_str().unwrap()].clone())
                    .collect();
                assert_eq!(got.verified_by, by, "{}", case["name"]);
                opened += 1;
            }
        }
    }
    assert!(opened >= 5);
    for case in array(&v, "bad_keys", 7) {
        let got = VerifierKey::parse(case["key"].as_str().unwrap()).map_err(error_code);
        assert_eq!(got.err(), case["error"].as_str(), "{case}");
    }
}

#[cfg(feature = "sign")]
fn signer(v: &Value) -> (String, ed25519_dalek::SigningKey) {
    use base64::Engine as _;
    let name = v["name"].as_str().unwrap().to_owned();
    let seed: [u8; 32] = match (v["skey"].as_str(), v["seed_hex"].as_str()) {
        (Some(skey), _) => {
            // PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)
            let fields: Vec<&str> = skey.splitn(5, '+').collect();
            assert_eq!(&fields[..3], ["PRIVATE", "KEY", name.as_str()]);
            let raw = base64::engine::general_purpose::STANDARD
                .decode(fields[4])
                .unwrap();
            assert_eq!(raw[0], 1);
            raw[1..].try_into().unwrap()
        }
        (None, Some(seed)) => hex(seed).try_into().unwrap(),
        _ => panic!("signer without key: {v}"),
    };
    (name, ed25519_dalek::SigningKey::from_bytes(&seed))
}

#[cfg(feature = "sign")]
#[test]
fn signing_reproduces_the_published_signatures() {
    let v = load("signed-note.json");
    let keys = note_keys(&v);
    let mut count = 0;
    for case in array(&v, "signatures", 2) {
        let who = case["signer"].as_str().unwrap();
        let (name, key) = signer(&v["signers"][who]);
        // The signer's public key is the published verifier key.
        assert_eq!(
            VerifierKey::new(&name, &key.verifying_key()).as_ref(),
            Ok(&keys[who])
        );
        let signed = note::sign(case["text"].as_str().unwrap(), &name, &key).unwrap();
        assert_eq!(signed, case["note"].as_str().unwrap(), "{who}");
        count += 1;
    }
    assert_eq!(count, 2);
}

// ---------------------------------------------------------------------------------------
// Checkpoints

fn checkpoint_code(e: CheckpointError) -> &'static str {
    match e {
        CheckpointError::TooLarge => "too_large",
        CheckpointError::Malformed => "malformed",
        CheckpointError::Origin => "origin",
        CheckpointError::Size => "size",
        CheckpointError::Root => "root",
        CheckpointError::Extension => "extension",
        CheckpointError::OriginMismatch => "origin_mismatch",
        CheckpointError::Note(_) => "note",
        _ => "other",
    }
}

#[test]
fn checkpoint_vectors() {
    use base64::Engine as _;
    let v = load("checkpoint.json");
    for case in array(&v, "valid", 3) {
        let text = case["text"].as_str().unwrap();
        let cp = Checkpoint::parse(text).unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_eq!(cp.origin, case["origin"].as_str().unwrap());
        assert_eq!(cp.size, case["size"].as_u64().unwrap());
        let root = base64::engine::general_purpose::STANDARD
            .decode(case["root_base64"].as_str().unwrap())
            .unwrap();
        assert_eq!(cp.root.to_vec(), root);
        let ext: Vec<&str> = case["extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_str().unwrap())
            .collect();
        assert_eq!(cp.extensions, ext);
        assert_eq!(cp.format(), text);
    }
    for case in array(&v, "invalid", 12) {
        let got = Checkpoint::parse(case["text"].as_str().unwrap()).map_err(checkpoint_code);
        assert_eq!(got.err(), case["error"].as_str(), "{}", case["name"]);
    }
}

#[test]
fn the_trustmark_checkpoint_example() {
    let v = load("trustmark-checkpoint.json");
    let key = VerifierKey::parse(v["vkey"].as_str().unwrap()).unwrap();
    assert_eq!(key.name(), v["origin"].as_str().unwrap());
    let signed = v["note"].as_str().unwrap();
    let cp = checkpoint::open_checkpoint(signed.as_bytes(), &key).unwrap();
    assert_eq!(cp.size, v["size"].as_u64().unwrap());
    assert_eq!(cp.root, hash(&v["root_hex"]));
    // It is the checkpoint of the CT reference tree.
    let reference = load("rfc6962.json");
    assert_eq!(cp.root, hash(&reference["roots"][8]));
    assert_eq!(cp.size, 8);
    // Any change to the signed text is refused.
    let tampered = signed.replacen("\n8\n", "\n9\n", 1);
    assert_eq!(
        checkpoint::open_checkpoint(tampered.as_bytes(), &key),
        Err(CheckpointError::Note(NoteError::InvalidSignature))
    );

    // docs/spec/log-formats.md shows this very note and key.
    let doc = std::fs::read_to_string(root_dir().join("docs/spec/log-formats.md")).unwrap();
    assert!(
        doc.contains(&format!("```\n{signed}```")),
        "the spec's checkpoint example is stale"
    );
    assert!(
        doc.contains(v["vkey"].as_str().unwrap()),
        "the spec's verifier key is stale"
    );
    assert!(doc.starts_with("# "), "the spec opens with its title");
}

#[cfg(feature = "sign")]
#[test]
fn the_example_log_key_is_the_checkpoints_key() {
    let jwk = std::fs::read(root_dir().join("keys-example/registry-log.jwk")).unwrap();
    let key = trustmark_core::sign::SigningKey::from_jwk_json(&jwk).unwrap();
    let v = load("trustmark-checkpoint.json");
    let origin = v["origin"].as_str().unwrap();
    let vkey = VerifierKey::new(origin, &key.as_ed25519().verifying_key()).unwrap();
    assert_eq!(vkey.to_string(), v["vkey"].as_str().unwrap());
}
