//! The append-only event journal: the registry's source of truth.
//!
//! sled 0.34's `flush` uses `sync_file_range`, which does not reach the drive's cache or
//! the file's metadata, so acknowledging on it could lose a badge on power loss. Every
//! event is therefore appended here and made durable with `fdatasync` before anything is
//! acknowledged; sled holds indexes derived from the journal and is rebuilt from it.
//!
//! Record layout: `len: u32 LE | crc32(payload): u32 LE | payload (JSON event)`. A torn
//! record at the tail (a crash mid-write) is detected by length or checksum and cut off on
//! open; nothing after a bad record is trusted.

use crate::event::Event;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Largest record accepted when reading back (a badge event is a few KiB).
const MAX_RECORD: u32 = 1024 * 1024;

/// Why the journal could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read, written or synced.
    #[error("journal I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A record with a valid checksum did not decode: written by another version.
    #[error("journal record {index} does not decode")]
    Corrupt {
        /// Position of the record.
        index: u64,
    },
}

/// An open journal, positioned at its end.
pub struct Journal {
    file: File,
    records: u64,
}

impl Journal {
    /// Opens (or creates) the journal and returns every intact event in order. A torn
    /// tail is truncated away.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Event>), JournalError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut events = Vec::new();
        let mut good = 0usize;
        let mut rest = bytes.as_slice();
        while let Some((header, body)) = rest.split_first_chunk::<8>() {
            let (len, crc) = header.split_at(4);
            let len = u32::from_le_bytes(len.try_into().unwrap_or_default());
            let crc = u32::from_le_bytes(crc.try_into().unwrap_or_default());
            if len > MAX_RECORD || body.len() < len as usize {
                break;
            }
            let (payload, after) = body.split_at(len as usize);
            if crc32fast::hash(payload) != crc {
                break;
            }
            let event: Event =
                serde_json::from_slice(payload).map_err(|_| JournalError::Corrupt {
                    index: events.len() as u64,
                })?;
            events.push(event);
            good += 8 + len as usize;
            rest = after;
        }
        if good < bytes.len() {
            tracing::warn!(
                kept = good,
                dropped = bytes.len() - good,
                "journal: cutting off a torn tail"
            );
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        let records = events.len() as u64;
        Ok((Journal { file, records }, events))
    }

    /// Appends a batch and makes it durable with one `fdatasync` (group commit).
    pub fn append(&mut self, events: &[Event]) -> Result<(), JournalError> {
        let mut buf = Vec::new();
        for e in events {
            let payload = serde_json::to_vec(e).map_err(|_| JournalError::Corrupt {
                index: self.records,
            })?;
            let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            buf.extend_from_slice(&payload);
        }
        self.file.write_all(&buf)?;
        self.file.sync_data()?;
        self.records += events.len() as u64;
        Ok(())
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether the journal has no record.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

#[cfg(test)]
mod tests {
    // Durable append, replay, and recovery from a torn tail.
    use super::*;
    use crate::event::Event;

    fn event(i: u64) -> Event {
        Event::AuditorSuspended {
            id: format!("a{i}"),
            at: i as i64,
        }
    }

    #[test]
    fn replays_what_was_appended_and_cuts_a_torn_tail() {
        let dir = std::env::temp_dir().join(format!("tm-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("journal");
        let (mut j, events) = Journal::open(&path).unwrap();
        assert!(events.is_empty());
        j.append(&[event(1), event(2)]).unwrap();
        j.append(&[event(3)]).unwrap();
        drop(j);
        // A crash in the middle of the next record: half a header and some bytes.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let (mut j, events) = Journal::open(&path).unwrap();
        assert_eq!(events, vec![event(1), event(2), event(3)]);
        j.append(&[event(4)]).unwrap();
        drop(j);
        let (_, events) = Journal::open(&path).unwrap();
        assert_eq!(events.len(), 4);
        // A flipped byte inside a record ends the trusted prefix there.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let (_, events) = Journal::open(&path).unwrap();
        assert_eq!(events.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
