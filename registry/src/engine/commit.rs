//! Committing: a batch's events and the evidence log checkpoint that covers them are made
//! durable with one journal append, then applied to the indexes, the status lists, the
//! published keys and the served log.

use super::command::CommandError;
use super::plan::Batch;
use super::Engine;
use crate::event::Event;
use std::collections::BTreeSet;

impl Engine {
    /// Appends `events` durably, then applies them. After a failed append the engine
    /// refuses every further change: its in-memory allocations no longer match the
    /// journal.
    pub(super) fn commit(
        &mut self,
        mut events: Vec<Event>,
        batch: &Batch,
        now: i64,
    ) -> Result<(), CommandError> {
        let first_seq = self.journal.len();
        let (leaves, checkpoint) = match self.log.stage(&events) {
            Ok(staged) => staged,
            Err(e) => {
                self.broken = true;
                tracing::error!(error = %e, "evidence log refused the batch; refusing further changes");
                return Err(CommandError::Journal);
            }
        };
        events.push(checkpoint);
        if let Err(e) = self.journal.append(&events) {
            self.broken = true;
            tracing::error!(error = %e, "journal append failed; refusing further changes");
            return Err(CommandError::Journal);
        }
        let mut changed_lists = BTreeSet::new();
        for (i, event) in events.iter().enumerate() {
            let leaf = leaves.get(i).and_then(Option::as_ref);
            if let Err(e) = self.store.apply(first_seq + i as u64, event, leaf) {
                // The journal has it; the index will catch up on the next start.
                tracing::error!(error = %e, "index update failed after a durable write");
            }
            match event {
                Event::StatusChanged { badge, status, .. } => {
                    if let Some(p) = batch.badges.get(badge) {
                        if let Some(l) = self.lists.get_mut(p.list) {
                            if l.list.set(p.idx as usize, status.list_value()).is_ok() {
                                changed_lists.insert(p.list);
                            }
                        }
                    }
                }
                Event::BadgeIssued { list, .. } => {
                    // A list's first badge: the list has never been served yet.
                    let unsigned = self
                        .signed
                        .read()
                        .map(|s| s.len() < *list as usize)
                        .unwrap_or(false);
                    if unsigned {
                        changed_lists.insert(*list);
                    }
                }
                Event::KeysRotated { .. } | Event::KeyWithdrawn { .. } => {
                    // Every list is re-signed with the current key at once.
                    self.republish_keys();
                    changed_lists.extend(1..=self.lists.0.len() as u32);
                }
                Event::AuditorAdded { .. }
                | Event::AuditorSuspended { .. }
                | Event::BadgeResigned { .. } => {}
                Event::LogCheckpoint { .. } => self.log.publish(event),
            }
        }
        for n in changed_lists {
            if let Err(e) = self.sign_list(n, now) {
                tracing::error!(list = n, error = %e, "status list signing failed");
            }
        }
        Ok(())
    }
}
