//! The one interface between the registry's HTTP API, operator commands and demo setup
//! and where the registry's state lives. Two implementations: [`embedded`] (the journal
//! and sled indexes in a data directory, one process) and [`pg`] (PostgreSQL, shared by
//! several processes). Nothing above this trait knows which one runs.

pub mod embedded;
pub mod pg;
pub mod spec;

use crate::engine::{Command, CommandError, Done, SignedList};
use crate::evidence::LogView;
use crate::records::{AuditorRecord, BadgeRecord};
use std::sync::Arc;

pub use spec::{StoreSpec, StoreUrlError};

/// A queued state change and where its store's writer sends the result.
pub type Job = (
    Command,
    tokio::sync::oneshot::Sender<Result<Done, CommandError>>,
);

/// Hands `command` to a writer through `send` (which gives the job back when the writer
/// is gone) and waits for its answer: the one way both stores take a command.
pub(crate) async fn submit(
    command: Command,
    send: impl FnOnce(Job) -> Result<(), Job>,
) -> Result<Done, CommandError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    send((command, tx)).map_err(|_| CommandError::WriterStopped)?;
    rx.await.map_err(|_| CommandError::WriterStopped)?
}

/// Why a read of the registry's state failed.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The database cannot be reached right now (answered 503; retry later).
    #[error("the registry's database is unavailable")]
    Unavailable,
    /// The embedded indexes failed.
    #[error(transparent)]
    Embedded(#[from] crate::store::StoreError),
    /// A stored record does not decode.
    #[error("stored record {0} does not decode")]
    Corrupt(&'static str),
}

/// The registry's state, as the HTTP API, operator commands and demo setup use it.
///
/// Contract: [`Storage::run`] returns `Ok` only once the change is durable (the journal
/// synced, or the PostgreSQL transaction committed); reads see at least every change this
/// process acknowledged. The signed documents (status lists, JWKS, the log view) are
/// served from memory: another process's change reaches them within about a second.
#[async_trait::async_trait]
pub trait Storage: Send + Sync {
    /// Runs a state change; `Ok` once it is durable.
    async fn run(&self, command: Command) -> Result<Done, CommandError>;
    /// A badge by id.
    async fn badge(&self, id: &str) -> Result<Option<BadgeRecord>, ReadError>;
    /// Every badge, by id.
    async fn badges(&self) -> Result<Vec<BadgeRecord>, ReadError>;
    /// The ids of the badges naming a canonical origin.
    async fn badges_for_origin(&self, origin: &str) -> Result<Vec<String>, ReadError>;
    /// An auditor by id.
    async fn auditor(&self, id: &str) -> Result<Option<AuditorRecord>, ReadError>;
    /// Every auditor, by id.
    async fn auditors(&self) -> Result<Vec<AuditorRecord>, ReadError>;
    /// Evidence log entries `first..end`, in order (every one must exist).
    async fn log_entries(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>, ReadError>;
    /// Active auditors accredited with a published example key.
    async fn example_auditors(&self) -> Result<Vec<String>, ReadError> {
        Ok(self
            .auditors()
            .await?
            .into_iter()
            .filter(|a| a.active && crate::keys::is_example_jwk(&a.jwk))
            .map(|a| a.id)
            .collect())
    }
    /// The signed status lists as served (list n at position n-1).
    fn status_lists(&self) -> Vec<Arc<SignedList>>;
    /// Signed status list `n` (from 1).
    fn status_list(&self, n: usize) -> Option<Arc<SignedList>> {
        n.checked_sub(1)
            .and_then(|i| self.status_lists().get(i).cloned())
    }
    /// The published JWKS as served.
    fn jwks(&self) -> Arc<str>;
    /// The evidence log as served.
    fn log(&self) -> LogView;
    /// The log's checkpoint origin and C2SP verifier key.
    fn log_identity(&self) -> (String, String);
    /// The issuer URL.
    fn issuer(&self) -> &str;
    /// Finishes queued changes and releases the store (indexes flushed, connections
    /// closed). Later commands fail with [`CommandError::WriterStopped`].
    async fn shutdown(&self);
}

/// Why a store could not be opened for an operator command.
pub type OpenError = pg::PgOpenError;

/// Opens the PostgreSQL store `options` names for an operator command, under the issuer
/// URL its servers recorded.
pub async fn open_for_operator(options: &spec::PgOptions) -> Result<SharedStorage, OpenError> {
    Ok(Arc::new(pg::PgStorage::open_for_operator(options).await?))
}

/// A store shared by the handlers.
pub type SharedStorage = Arc<dyn Storage>;

/// Opens the store `spec` names for a registry serving as `issuer`.
pub async fn open(
    spec: &StoreSpec,
    issuer: &str,
    demo: bool,
) -> Result<SharedStorage, crate::ServeError> {
    match spec {
        StoreSpec::Embedded(data) => Ok(Arc::new(
            embedded::EmbeddedStorage::open(data, issuer, demo).await?,
        )),
        StoreSpec::Postgres(options) => Ok(Arc::new(
            pg::PgStorage::open(options, issuer)
                .await
                .map_err(crate::ServeError::Postgres)?,
        )),
    }
}
