//! Status list slots: drawn at random, never handed out twice, and a new list once the
//! current one is three quarters full.

use trustmark_core::status::StatusListError;
use trustmark_core::StatusList;

/// Entries per status list (SPEC 3.2: at least 131,072).
pub const LIST_SIZE: usize = 131_072;
/// A new list is opened when this many indexes of the current one are allocated, so
/// random allocation never searches a nearly full list.
pub const LIST_FILL: usize = LIST_SIZE / 4 * 3;

/// One status list: its values and which slots are taken.
pub(crate) struct ListState {
    pub(crate) list: StatusList,
    allocated: Vec<u64>,
    pub(crate) count: usize,
}

impl ListState {
    pub(crate) fn new() -> Result<Self, StatusListError> {
        Ok(ListState {
            list: StatusList::new(2, LIST_SIZE)?,
            allocated: vec![0; LIST_SIZE / 64],
            count: 0,
        })
    }

    fn is_allocated(&self, idx: usize) -> bool {
        self.allocated
            .get(idx / 64)
            .is_some_and(|w| w & (1 << (idx % 64)) != 0)
    }

    /// Marks `idx` taken (also when rebuilding from the indexes on start).
    pub(crate) fn allocate(&mut self, idx: usize) {
        if let Some(w) = self.allocated.get_mut(idx / 64) {
            if *w & (1 << (idx % 64)) == 0 {
                *w |= 1 << (idx % 64);
                self.count += 1;
            }
        }
    }
}

/// Every list, list n at position n-1.
pub(crate) struct Lists(pub(crate) Vec<ListState>);

impl Lists {
    /// Takes a free slot at random, opening a new list when the current one is full
    /// enough. Returns (list number, index).
    pub(crate) fn allocate(&mut self) -> Result<(u32, u64), StatusListError> {
        if self.0.last().is_none_or(|l| l.count >= LIST_FILL) {
            self.0.push(ListState::new()?);
        }
        let n = self.0.len() as u32;
        let Some(state) = self.0.last_mut() else {
            return Err(StatusListError::Empty);
        };
        loop {
            let idx = (random_u64() % LIST_SIZE as u64) as usize;
            if !state.is_allocated(idx) {
                state.allocate(idx);
                return Ok((n, idx as u64));
            }
        }
    }

    /// The list numbered `n` (from 1).
    pub(crate) fn get_mut(&mut self, n: u32) -> Option<&mut ListState> {
        (n as usize).checked_sub(1).and_then(|i| self.0.get_mut(i))
    }

    /// The list numbered `n`, created (with every list before it) if missing.
    pub(crate) fn ensure(&mut self, n: u32) -> Result<Option<&mut ListState>, StatusListError> {
        while self.0.len() < n as usize {
            self.0.push(ListState::new()?);
        }
        Ok(self.get_mut(n))
    }
}

/// 64 random bits from the OS (the process stops without OS randomness: it could not hand
/// out unguessable indexes).
pub fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    // Without OS randomness the registry cannot allocate unguessable indexes at all.
    if getrandom::fill(&mut b).is_err() {
        std::process::abort();
    }
    u64::from_le_bytes(b)
}

/// A fresh badge id: `b_` and 128 random bits.
pub fn badge_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        std::process::abort();
    }
    format!("b_{}", trustmark_core::b64::encode(b))
}

#[cfg(test)]
mod tests {
    // Index allocation: random, never repeated, and a new list once one is full enough.
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn allocation_never_repeats_and_opens_a_new_list() {
        let mut lists = Lists(vec![]);
        let mut seen = HashSet::new();
        for _ in 0..5000 {
            assert!(
                seen.insert(lists.allocate().unwrap()),
                "an index was handed out twice"
            );
        }
        assert!(seen
            .iter()
            .all(|(list, idx)| *list == 1 && (*idx as usize) < LIST_SIZE));
        // Fill list 1 to the threshold: the next index comes from a fresh list 2.
        if let Some(first) = lists.0.first_mut() {
            first.count = LIST_FILL;
        }
        let (list, idx) = lists.allocate().unwrap();
        assert_eq!(list, 2);
        assert!((idx as usize) < LIST_SIZE);
        assert_eq!(lists.0.len(), 2);
    }
}
