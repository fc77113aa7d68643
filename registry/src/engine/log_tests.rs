// The evidence log as the writer builds it: thousands of events over many batches, every
// entry's inclusion proof, consistency between random pairs of the checkpoints actually
// published, and a reopened registry that keeps extending the same tree.
use super::tests::{add, engine, issue, lab, one, operator_change, ISSUER, T};
use super::*;
use trustmark_core::claims::Action;
use trustmark_core::evidence::{Entry, Event as LogEvent};
use trustmark_core::log::checkpoint::{open_checkpoint, Checkpoint};
use trustmark_core::log::merkle::{self, Hash};
use trustmark_core::log::note::VerifierKey;

/// A small deterministic generator (xorshift), so a failure replays exactly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn published(e: &Engine, key: &VerifierKey) -> Checkpoint {
    let note = e
        .log_view()
        .read()
        .unwrap()
        .checkpoint()
        .unwrap()
        .note
        .clone();
    open_checkpoint(note.as_bytes(), key).unwrap()
}

#[test]
fn thousands_of_events_prove_inclusion_and_consistency_at_every_checkpoint() {
    let (mut e, data) = engine("log-many", false);
    let key = VerifierKey::parse(&e.log_identity().1).unwrap();
    one(&mut e, add("lab", &lab()), T).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut checkpoints: Vec<Checkpoint> = vec![published(&e, &key)];
    let mut badges: Vec<(String, BadgeStatusSeen)> = Vec::new();
    let mut jti = 0;
    let mut now = T;
    while checkpoints.last().unwrap().size < 3000 {
        now += 1;
        let mut commands = Vec::new();
        for _ in 0..1 + rng.below(48) {
            if badges.is_empty() || rng.below(3) > 0 {
                jti += 1;
                commands.push(issue("lab", &lab(), &format!("j{jti}"), now));
            } else {
                let (id, seen) = &badges[rng.below(badges.len() as u64) as usize];
                let action = match seen {
                    BadgeStatusSeen::Valid => Action::Suspend,
                    BadgeStatusSeen::Suspended => Action::Reinstate,
                };
                commands.push(operator_change(id, action));
            }
        }
        for result in e.execute(commands, now) {
            match result {
                Ok(Done::Issued { id, .. }) => badges.push((id, BadgeStatusSeen::Valid)),
                Ok(Done::StatusChanged { .. }) | Err(CommandError::NoChange(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        // Track statuses from the store (a batch may change one badge twice).
        for (id, seen) in badges.iter_mut() {
            *seen = match e.store().badge(id).unwrap().unwrap().status {
                crate::event::BadgeStatus::Suspended => BadgeStatusSeen::Suspended,
                _ => BadgeStatusSeen::Valid,
            };
        }
        let cp = published(&e, &key);
        let last = checkpoints.last().unwrap();
        assert!(cp.size > last.size, "a batch of changes added no entries");
        checkpoints.push(cp);
    }
    let view = e.log_view();
    let log = view.read().unwrap();
    let last = checkpoints.last().unwrap().clone();
    assert_eq!(log.size(), last.size);

    // Every entry: stored bytes, their leaf in the tree, an inclusion proof at the final
    // size, and a badge store in step with the log.
    let store = e.store();
    let mut issued = 0;
    for index in 0..last.size {
        let bytes = store.log_entry(index).unwrap().expect("entry stored");
        let entry = Entry::parse(&bytes).unwrap();
        let leaf = merkle::leaf_hash(&bytes);
        assert_eq!(log.leaf_hash(index).unwrap(), leaf);
        let proof = log.inclusion(index, last.size).unwrap();
        merkle::verify_inclusion(&leaf, index, last.size, &proof, &last.root).unwrap();
        if let LogEvent::Issued { badge, token, .. } = &entry.event {
            let record = store.badge(badge).unwrap().expect("logged badge is stored");
            assert_eq!(&record.token, token);
            assert_eq!(record.log.first().map(|l| l.index), Some(index));
            issued += 1;
        }
    }
    assert_eq!(issued, badges.len());

    // Consistency between random pairs of published checkpoints, and inclusion of random
    // entries in random older checkpoints.
    for _ in 0..300 {
        let a = &checkpoints[rng.below(checkpoints.len() as u64) as usize];
        let b = &checkpoints[rng.below(checkpoints.len() as u64) as usize];
        let (old, new) = if a.size <= b.size { (a, b) } else { (b, a) };
        let proof = log.consistency(old.size, new.size).unwrap();
        merkle::verify_consistency(old.size, new.size, &old.root, &new.root, &proof).unwrap();
        if old.size < new.size {
            let forged: Hash = merkle::leaf_hash(b"forged");
            assert!(
                merkle::verify_consistency(old.size, new.size, &forged, &new.root, &proof).is_err()
            );
        }
        let index = rng.below(new.size);
        let proof = log.inclusion(index, new.size).unwrap();
        merkle::verify_inclusion(
            &log.leaf_hash(index).unwrap(),
            index,
            new.size,
            &proof,
            &new.root,
        )
        .unwrap();
    }
    // Beyond the published tree nothing is answered.
    assert!(log.inclusion(0, last.size + 1).is_err());
    assert!(log.consistency(1, last.size + 1).is_err());
    drop(log);
    drop(store);
    drop(e);

    // Reopened, the registry rebuilds the same tree, checks it against every stored
    // checkpoint, and its next checkpoint extends the last one.
    let mut e = Engine::open(&data, ISSUER, now, false).unwrap();
    assert_eq!(published(&e, &key), last);
    jti += 1;
    one(
        &mut e,
        issue("lab", &lab(), &format!("j{jti}"), now + 1),
        now + 1,
    )
    .unwrap();
    let next = published(&e, &key);
    assert_eq!(next.size, last.size + 1);
    let proof = e
        .log_view()
        .read()
        .unwrap()
        .consistency(last.size, next.size)
        .unwrap();
    merkle::verify_consistency(last.size, next.size, &last.root, &next.root, &proof).unwrap();
    drop(e);
    let _ = std::fs::remove_dir_all(&data);
}

#[derive(Clone, Copy)]
enum BadgeStatusSeen {
    Valid,
    Suspended,
}

#[test]
fn a_journal_altered_after_its_checkpoint_is_refused_on_open() {
    let (mut e, data) = engine("log-altered", false);
    one(&mut e, add("lab", &lab()), T).unwrap();
    one(&mut e, issue("lab", &lab(), "a-1", T), T).unwrap();
    let Done::Issued { id, .. } = one(&mut e, issue("lab", &lab(), "a-2", T), T).unwrap() else {
        panic!("not issued");
    };
    one(&mut e, operator_change(&id, Action::Revoke), T + 1).unwrap();
    drop(e);
    // Rewrite the journal without the revocation, frames re-checksummed, as someone
    // hiding it would: replay succeeds, but the checkpoint stored with it no longer
    // matches. (Cutting whole frames off the end is a crash before they were written:
    // only a client that saw the later checkpoint can tell, see `trustmark log verify`.)
    let path = data.join("journal");
    let bytes = std::fs::read(&path).unwrap();
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let payload = &bytes[at + 8..at + 8 + len];
        let mut events: Vec<serde_json::Value> = serde_json::from_slice(payload).unwrap();
        events.retain(|e| e["type"] != "status_changed");
        let payload = serde_json::to_vec(&events).unwrap();
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
        at += 8 + len;
    }
    std::fs::write(&path, out).unwrap();
    std::fs::remove_dir_all(data.join("index")).unwrap();
    match Engine::open(&data, ISSUER, T + 2, false) {
        Err(OpenError::Log(LogError::Mismatch { .. })) => {}
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("a journal with a hidden revocation was accepted"),
    }
    // A replaced log key is refused too: the stored checkpoints are not its signatures.
    let (mut e, data) = engine("log-key", false);
    one(&mut e, add("lab", &lab()), T).unwrap();
    drop(e);
    std::fs::remove_file(data.join("keys/log.jwk")).unwrap();
    match Engine::open(&data, ISSUER, T + 2, false) {
        Err(OpenError::Log(LogError::Signature { .. })) => {}
        Err(other) => panic!("wrong error: {other}"),
        Ok(_) => panic!("checkpoints of another log key were accepted"),
    }
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_signer_refuses_a_checkpoint_that_contradicts_the_last_one() {
    let (mut e, data) = engine("log-guard", false);
    one(&mut e, add("lab", &lab()), T).unwrap();
    // A tree that lost an entry the last checkpoint covered cannot be signed.
    let mut log = EvidenceLog::new(e.keys.log.clone(), ISSUER).unwrap();
    log.sign().unwrap();
    let first = log.stage(&[crate::event::Event::AuditorSuspended {
        id: "lab".into(),
        at: T,
    }]);
    assert!(first.is_ok());
    let mut other = EvidenceLog::new(e.keys.log.clone(), ISSUER).unwrap();
    other
        .replay(
            0,
            &crate::event::Event::AuditorSuspended {
                id: "someone-else".into(),
                at: T,
            },
        )
        .unwrap();
    other.adopt_last_for_test(&log);
    match other.sign() {
        Err(LogError::Inconsistent { .. }) => {}
        other => panic!("signed a checkpoint inconsistent with the last: {other:?}"),
    }
    drop(e);
    let _ = std::fs::remove_dir_all(&data);
}
