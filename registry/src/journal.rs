//! The append-only event journal: the registry's source of truth.
//!
//! sled 0.34's `flush` uses `sync_file_range`, which does not reach the drive's cache or
//! the file's metadata, so acknowledging on it could lose a badge on power loss. Every
//! event is therefore appended here and made durable with `fdatasync` before anything is
//! acknowledged; sled holds indexes derived from the journal and is rebuilt from it.
//!
//! Frame layout: `len: u32 LE | crc32(payload): u32 LE | payload`, where the payload is
//! the JSON array of one batch's events (journals written before batches were framed hold
//! one JSON event per frame; both are read). A batch is written with one `write` and one
//! `fdatasync` and acknowledged only after that returns, and the next batch is written
//! only after it, so a crash can damage the last frame only. Hence the rule on open: a
//! damaged last frame is a torn, unacknowledged write and is cut off; damage followed by
//! any intact frame is corruption of acknowledged data, and the journal is refused with
//! the offset, never cut (see "Journal damage" in docs/registry.md).

use crate::event::Event;
use serde::Deserialize;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

/// Largest frame accepted: a batch of 1,024 issuances with 8 KiB statements fits.
const MAX_FRAME: usize = 32 * 1024 * 1024;
const HEADER: usize = 8;

/// Why the journal could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The file could not be read, written or synced.
    #[error("journal I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A frame with a valid checksum did not decode: written by another version.
    #[error("journal frame at byte {offset} has a valid checksum but does not decode (written by another version?)")]
    Undecodable {
        /// Byte offset of the frame.
        offset: u64,
    },
    /// A frame is damaged and intact frames follow it: acknowledged events would be lost
    /// by cutting, so the registry does not start.
    #[error(
        "the journal is damaged at byte {offset} (after {events_before} intact events), \
         and an intact frame follows at byte {next_intact}: acknowledged events would be lost \
         by cutting it, so the registry will not start. See \"Journal damage\" in \
         docs/registry.md to restore the damaged range from a backup"
    )]
    Damaged {
        /// Byte offset of the first damaged frame.
        offset: u64,
        /// Events in the intact frames before it.
        events_before: u64,
        /// Byte offset of the first intact frame after the damage.
        next_intact: u64,
    },
    /// A batch too large for one frame.
    #[error("a batch of {0} bytes is larger than a journal frame may be")]
    TooLarge(usize),
    /// Events could not be serialised.
    #[error("an event could not be serialised")]
    Serialise,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Frame {
    Batch(Vec<Event>),
    One(Event),
}

/// What one position of the file holds.
enum Read1 {
    /// An intact frame: its events and its length in bytes.
    Frame(Vec<Event>, usize),
    /// Checksum good, JSON not an event batch.
    Undecodable,
    /// Short, oversized or failing its checksum.
    Damaged,
}

fn read_frame(bytes: &[u8]) -> Read1 {
    let Some((header, body)) = bytes.split_first_chunk::<HEADER>() else {
        return Read1::Damaged;
    };
    let (len, crc) = header.split_at(4);
    let len = u32::from_le_bytes(len.try_into().unwrap_or_default()) as usize;
    let crc = u32::from_le_bytes(crc.try_into().unwrap_or_default());
    let Some(payload) = body.get(..len).filter(|_| len > 0 && len <= MAX_FRAME) else {
        return Read1::Damaged;
    };
    if crc32fast::hash(payload) != crc {
        return Read1::Damaged;
    }
    match serde_json::from_slice::<Frame>(payload) {
        Ok(Frame::Batch(events)) if !events.is_empty() => Read1::Frame(events, HEADER + len),
        Ok(Frame::One(event)) => Read1::Frame(vec![event], HEADER + len),
        _ => Read1::Undecodable,
    }
}

/// The offset of the first intact frame at or after `from`, if any.
fn next_intact(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len()).find(|&at| {
        // Cheap filters first: a JSON payload starts with `[` or `{`.
        matches!(bytes.get(at + HEADER), Some(b'[' | b'{'))
            && matches!(bytes.get(at..).map(read_frame), Some(Read1::Frame(..)))
    })
}

/// An open journal, positioned at its end.
pub struct Journal {
    file: File,
    records: u64,
}

impl Journal {
    /// Opens (or creates) the journal and returns every event in order. A torn last
    /// frame is cut off; any other damage is an error.
    pub fn open(path: &Path) -> Result<(Journal, Vec<Event>), JournalError> {
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(!existed)
            .open(path)?;
        if !existed {
            // The new name must survive power loss like the frames written under it.
            crate::durable::sync_parent(path)?;
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        let mut events = Vec::new();
        let mut good = 0usize;
        while good < bytes.len() {
            match bytes.get(good..).map(read_frame) {
                Some(Read1::Frame(batch, len)) => {
                    events.extend(batch);
                    good += len;
                }
                Some(Read1::Undecodable) => {
                    return Err(JournalError::Undecodable {
                        offset: good as u64,
                    })
                }
                Some(Read1::Damaged) | None => break,
            }
        }
        if good < bytes.len() {
            if let Some(next) = next_intact(&bytes, good + 1) {
                return Err(JournalError::Damaged {
                    offset: good as u64,
                    events_before: events.len() as u64,
                    next_intact: next as u64,
                });
            }
            tracing::warn!(
                offset = good,
                dropped = bytes.len() - good,
                "journal: cutting off a torn last frame (a write that was never acknowledged)"
            );
            file.set_len(good as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        let records = events.len() as u64;
        Ok((Journal { file, records }, events))
    }

    /// Appends a batch as one frame and makes it durable with one `fdatasync` (group
    /// commit).
    pub fn append(&mut self, events: &[Event]) -> Result<(), JournalError> {
        if events.is_empty() {
            return Ok(());
        }
        let payload = serde_json::to_vec(events).map_err(|_| JournalError::Serialise)?;
        if payload.len() > MAX_FRAME {
            return Err(JournalError::TooLarge(payload.len()));
        }
        let len =
            u32::try_from(payload.len()).map_err(|_| JournalError::TooLarge(payload.len()))?;
        let mut buf = Vec::with_capacity(HEADER + payload.len());
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        buf.extend_from_slice(&payload);
        self.file.write_all(&buf)?;
        self.file.sync_data()?;
        self.records += events.len() as u64;
        Ok(())
    }

    /// Number of events.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether the journal has no event.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

#[cfg(test)]
mod tests {
    // Durable append, replay, recovery from a torn last frame, and refusal of damage
    // that intact frames follow.
    use super::*;
    use crate::event::Event;

    fn event(i: u64) -> Event {
        Event::AuditorSuspended {
            id: format!("a{i}"),
            at: i as i64,
        }
    }

    fn journal(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tm-journal-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("journal")
    }

    #[test]
    fn replays_what_was_appended_and_cuts_a_torn_last_frame() {
        let path = journal("torn");
        let (mut j, events) = Journal::open(&path).unwrap();
        assert!(events.is_empty());
        j.append(&[event(1), event(2)]).unwrap();
        j.append(&[event(3)]).unwrap();
        drop(j);
        let intact = std::fs::metadata(&path).unwrap().len();
        // A crash in the middle of the next frame: half a header and some bytes.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[200, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let (mut j, events) = Journal::open(&path).unwrap();
        assert_eq!(events, vec![event(1), event(2), event(3)]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), intact);
        j.append(&[event(4)]).unwrap();
        drop(j);
        let (_, events) = Journal::open(&path).unwrap();
        assert_eq!(events.len(), 4);
        // A whole last frame whose bytes never reached the disk (zeros) is torn too.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[0u8; 300]).unwrap();
        drop(f);
        assert_eq!(Journal::open(&path).unwrap().1.len(), 4);
        // So is a complete last frame whose checksum fails.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 3;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
        let (_, events) = Journal::open(&path).unwrap();
        assert_eq!(events, vec![event(1), event(2), event(3)]);
    }

    #[test]
    fn damage_before_intact_frames_refuses_to_open_and_keeps_the_file() {
        let path = journal("damaged");
        let (mut j, _) = Journal::open(&path).unwrap();
        j.append(&[event(1)]).unwrap();
        let first = std::fs::metadata(&path).unwrap().len();
        j.append(&[event(2), event(3)]).unwrap();
        let second = std::fs::metadata(&path).unwrap().len();
        j.append(&[event(4)]).unwrap();
        drop(j);
        let mut bytes = std::fs::read(&path).unwrap();
        let original = bytes.clone();
        // One flipped byte inside the second frame's payload.
        bytes[first as usize + 12] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        match Journal::open(&path) {
            Err(JournalError::Damaged {
                offset,
                events_before,
                next_intact,
            }) => assert_eq!((offset, events_before, next_intact), (first, 1, second)),
            Err(e) => panic!("wrong error: {e}"),
            Ok((_, events)) => panic!("opened a damaged journal, {} events", events.len()),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "the file was changed");
        // A length field damaged so the frame seems to run past the end is no excuse.
        let mut bytes = original.clone();
        bytes[first as usize + 2] = 0x7f;
        std::fs::write(&path, &bytes).unwrap();
        assert!(matches!(
            Journal::open(&path),
            Err(JournalError::Damaged { offset, .. }) if offset == first
        ));
        // Restoring the damaged range from a copy brings every event back.
        std::fs::write(&path, &original).unwrap();
        assert_eq!(Journal::open(&path).unwrap().1.len(), 4);
    }

    #[test]
    fn reads_journals_of_one_event_per_frame() {
        let path = journal("legacy");
        let mut bytes = Vec::new();
        for i in 1..=3 {
            let payload = serde_json::to_vec(&event(i)).unwrap();
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
            bytes.extend_from_slice(&payload);
        }
        std::fs::write(&path, &bytes).unwrap();
        let (mut j, events) = Journal::open(&path).unwrap();
        assert_eq!(events, vec![event(1), event(2), event(3)]);
        j.append(&[event(4), event(5)]).unwrap();
        drop(j);
        assert_eq!(Journal::open(&path).unwrap().1.len(), 5);
    }
}
