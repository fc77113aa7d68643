//! The embedded store: the engine (journal, sled indexes, status lists, evidence log) in
//! a data directory, driven by one writer thread that batches queued commands into one
//! `fdatasync` each. One process at a time holds the directory (sled's lock).

use super::{Job, ReadError, Storage};
use crate::engine::{Command, CommandError, Done, Engine, PublishedKeys, SignedList, SignedLists};
use crate::evidence::LogView;
use crate::records::{AuditorRecord, BadgeRecord};
use crate::store::Store;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The engine behind its writer thread, and the read side it shares.
pub struct EmbeddedStorage {
    store: Store,
    lists: SignedLists,
    jwks: PublishedKeys,
    log: LogView,
    log_identity: (String, String),
    issuer: String,
    /// The writer's queue; taken on shutdown so the writer ends.
    tx: Mutex<Option<std::sync::mpsc::Sender<Job>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// Runs the single writer: batches whatever is queued, executes it as one durable group,
/// answers, and re-signs aging status lists between batches.
fn spawn_writer(
    mut engine: Engine,
    rx: std::sync::mpsc::Receiver<Job>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || loop {
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(first) => {
                let mut jobs = vec![first];
                while jobs.len() < 1024 {
                    match rx.try_recv() {
                        Ok(job) => jobs.push(job),
                        Err(_) => break,
                    }
                }
                let (commands, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
                for (result, reply) in engine.execute(commands, now()).into_iter().zip(replies) {
                    let _ = reply.send(result);
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                engine.flush();
                return;
            }
        }
        engine.refresh_lists(now());
    })
}

impl EmbeddedStorage {
    /// Opens the data directory (creating it) and starts the writer.
    pub async fn open(data: &Path, issuer: &str, demo: bool) -> Result<Self, crate::ServeError> {
        let (data, engine_issuer) = (data.to_owned(), issuer.to_owned());
        let engine =
            tokio::task::spawn_blocking(move || Engine::open(&data, &engine_issuer, now(), demo))
                .await
                .map_err(crate::ServeError::Task)??;
        let (tx, rx) = std::sync::mpsc::channel();
        let storage = EmbeddedStorage {
            store: engine.store(),
            lists: engine.signed_lists(),
            jwks: engine.published_keys(),
            log: engine.log_view(),
            log_identity: engine.log_identity(),
            issuer: issuer.to_owned(),
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(None),
        };
        let writer = spawn_writer(engine, rx);
        if let Ok(mut slot) = storage.writer.lock() {
            *slot = Some(writer);
        }
        Ok(storage)
    }
}

#[async_trait::async_trait]
impl Storage for EmbeddedStorage {
    async fn run(&self, command: Command) -> Result<Done, CommandError> {
        let queue = self.tx.lock().ok().and_then(|q| q.clone());
        super::submit(command, |job| match queue {
            Some(q) => q.send(job).map_err(|e| e.0),
            None => Err(job),
        })
        .await
    }

    async fn badge(&self, id: &str) -> Result<Option<BadgeRecord>, ReadError> {
        Ok(self.store.badge(id)?)
    }

    async fn badges(&self) -> Result<Vec<BadgeRecord>, ReadError> {
        Ok(self.store.badges()?)
    }

    async fn badges_for_origin(&self, origin: &str) -> Result<Vec<String>, ReadError> {
        Ok(self.store.badges_for_origin(origin)?)
    }

    async fn auditor(&self, id: &str) -> Result<Option<AuditorRecord>, ReadError> {
        Ok(self.store.auditor(id)?)
    }

    async fn auditors(&self) -> Result<Vec<AuditorRecord>, ReadError> {
        Ok(self.store.auditors()?)
    }

    async fn log_entries(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>, ReadError> {
        (first..end)
            .map(|i| {
                self.store
                    .log_entry(i)?
                    .ok_or(ReadError::Corrupt("log entry"))
            })
            .collect()
    }

    fn status_lists(&self) -> Vec<Arc<SignedList>> {
        self.lists.read().map(|l| l.clone()).unwrap_or_default()
    }

    fn status_list(&self, n: usize) -> Option<Arc<SignedList>> {
        let lists = self.lists.read().ok()?;
        n.checked_sub(1).and_then(|i| lists.get(i)).cloned()
    }

    fn jwks(&self) -> Arc<str> {
        self.jwks
            .read()
            .map(|j| j.clone())
            .unwrap_or_else(|_| Arc::from("{\"keys\":[]}"))
    }

    fn log(&self) -> LogView {
        self.log.clone()
    }

    fn log_identity(&self) -> (String, String) {
        self.log_identity.clone()
    }

    fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn shutdown(&self) {
        // Dropping the queue ends the writer, which flushes the indexes.
        drop(self.tx.lock().ok().and_then(|mut q| q.take()));
        let writer = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}
