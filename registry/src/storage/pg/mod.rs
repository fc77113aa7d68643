//! The PostgreSQL store: several registry processes share one database.
//!
//! Writes: each process's writer task runs its queued commands as one transaction that
//! first locks the single `log_head` row (the global write lock), plans them with the
//! same planner as the embedded store against a snapshot prefetched in that transaction,
//! writes the records, appends the evidence log entries and signs the checkpoint over
//! them (refusing to sign one inconsistent with the stored head), re-signs the status
//! lists the batch changed, and commits with `synchronous_commit=on`; only then are the
//! commands acknowledged. Reads: records by query through a pool; the status lists, the
//! JWKS and the log view from memory, refreshed on `NOTIFY` and every second.
//!
//! `connect` (TLS, deadlines, pool), `migrate` (embedded schema migrations), `batch` (the
//! transaction), `snapshot` (the planner's view), `keys` (keys in the database),
//! `follow` (the served copies), `writer` (the writer task).

mod batch;
mod connect;
mod follow;
mod keys;
pub mod migrate;
mod snapshot;
mod writer;

use super::spec::{PgOptions, StoreUrlError};
use super::{ReadError, Storage};
use crate::engine::{Command, CommandError, Done, SignedList};
use crate::evidence::LogView;
use crate::records::{AuditorRecord, BadgeRecord};
use batch::{lock_head, TxError, WriterCtx};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;
use tokio_postgres_rustls::MakeRustlsConnect;

/// Why the PostgreSQL store could not be opened. Never carries the store URL's password.
#[derive(Debug, thiserror::Error)]
pub enum PgOpenError {
    /// The URL is unusable.
    #[error(transparent)]
    Url(StoreUrlError),
    /// The CA file could not be read or holds no usable certificate.
    #[error("--store-ca {}: not a readable PEM file of CA certificates", .0.display())]
    CaFile(PathBuf),
    /// TLS could not be set up (a build defect).
    #[error("TLS for the database connection could not be set up")]
    Tls,
    /// The database could not be reached or refused the login.
    #[error("cannot connect to the database {url}: {}", describe(source))]
    Connect {
        /// The redacted URL.
        url: String,
        /// Why.
        source: tokio_postgres::Error,
    },
    /// The database did not answer in time.
    #[error("the database {0} did not answer within {CONNECT_SECS} s")]
    Timeout(String),
    /// A query failed while preparing the database.
    #[error("preparing the database: {}", describe(.0))]
    Db(tokio_postgres::Error),
    /// The database was written by a newer registry.
    #[error("the database's schema is version {database}, newer than this registry knows ({known}); run the newer registry, or restore a backup taken before the upgrade")]
    SchemaTooNew {
        /// The database's version.
        database: i32,
        /// The newest this binary knows.
        known: i32,
    },
    /// The server runs with fsync off: commits would not survive power loss.
    #[error("the database server runs with fsync = off, so committed changes would not survive a power loss; the registry refuses to acknowledge changes on it")]
    FsyncOff,
    /// The pool could not be built.
    #[error("the database connection pool could not be set up")]
    Pool,
    /// Setting up keys, lists or the log failed.
    #[error("preparing the database: {0}")]
    Init(TxError),
    /// Operator commands need a registry to have served from this database once.
    #[error("no registry has served from this database yet (it records its issuer URL on start)")]
    NoRegistry,
}

const CONNECT_SECS: u64 = 4;

/// The server's own words for a driver error (the driver's `Display` says only "db
/// error"); neither ever holds the password.
fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

impl PgOpenError {
    /// What the operator can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            PgOpenError::Connect { .. } | PgOpenError::Timeout(_) => Some(
                "check the host, port, user, password and database in --store, and that the server accepts connections from here".into(),
            ),
            PgOpenError::NoRegistry => Some("start `trustmark-registry serve --store URL` once first".into()),
            PgOpenError::FsyncOff => Some("set fsync = on in postgresql.conf and restart the server".into()),
            _ => None,
        }
    }
}

impl From<TxError> for PgOpenError {
    fn from(e: TxError) -> Self {
        PgOpenError::Init(e)
    }
}

/// What the writer, the follower and the readers share.
pub(crate) struct Shared {
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    redacted: String,
    pool: deadpool_postgres::Pool,
    cache: follow::Cache,
}

/// The PostgreSQL store of one registry process.
pub struct PgStorage {
    shared: Arc<Shared>,
    issuer: String,
    log_identity: (String, String),
    tx: Mutex<Option<mpsc::UnboundedSender<writer::Job>>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

impl PgStorage {
    /// Connects, migrates the schema, prepares keys, the first status list and the log
    /// (all under the write lock, so processes starting together agree), records
    /// `issuer`, and starts the writer and the follower.
    pub async fn open(options: &PgOptions, issuer: &str) -> Result<PgStorage, PgOpenError> {
        let config = connect::config(options)?;
        let tls = connect::tls(options)?;
        let redacted = options.redacted();
        let mut client = tokio::time::timeout(
            Duration::from_secs(CONNECT_SECS),
            connect::connect(&config, &tls, None),
        )
        .await
        .map_err(|_| PgOpenError::Timeout(redacted.clone()))?
        .map_err(|source| PgOpenError::Connect {
            url: redacted.clone(),
            source,
        })?;
        let fsync: String = client
            .query_one("SHOW fsync", &[])
            .await
            .map_err(PgOpenError::Db)?
            .get(0);
        if fsync != "on" {
            return Err(PgOpenError::FsyncOff);
        }
        migrate::migrate(&mut client).await?;
        let origin = crate::evidence::origin_for(issuer);
        prepare(&mut client, issuer, &origin).await?;
        let log_public = keys::log_public(&client).await?;
        let vkey = trustmark_core::log::note::VerifierKey::new(&origin, log_public.verifying_key())
            .map_err(|_| PgOpenError::Init(TxError::Corrupt("log key")))?
            .to_string();
        let pool = connect::pool(config.clone(), tls.clone(), 16)?;
        let shared = Arc::new(Shared {
            config,
            tls,
            redacted,
            pool,
            cache: follow::Cache::new(log_public),
        });
        shared.cache.refresh(&client).await?;
        drop(client);
        let (tx, rx) = mpsc::unbounded_channel();
        let ctx = WriterCtx {
            issuer: issuer.to_owned(),
            origin: origin.clone(),
            keys: keys::KeyCache::default(),
        };
        let tasks = vec![
            tokio::spawn(writer::run(shared.clone(), ctx, rx)),
            tokio::spawn(follow_loop(shared.clone())),
        ];
        tracing::info!(store = %shared.redacted, "using the PostgreSQL store");
        Ok(PgStorage {
            shared,
            issuer: issuer.to_owned(),
            log_identity: (origin, vkey),
            tx: Mutex::new(Some(tx)),
            tasks: Mutex::new(tasks),
        })
    }

    /// Opens the store for an operator command, under the issuer the servers last
    /// recorded.
    pub async fn open_for_operator(options: &PgOptions) -> Result<PgStorage, PgOpenError> {
        let config = connect::config(options)?;
        let tls = connect::tls(options)?;
        let redacted = options.redacted();
        let client = tokio::time::timeout(
            Duration::from_secs(CONNECT_SECS),
            connect::connect(&config, &tls, None),
        )
        .await
        .map_err(|_| PgOpenError::Timeout(redacted.clone()))?
        .map_err(|source| PgOpenError::Connect {
            url: redacted.clone(),
            source,
        })?;
        let issuer = stored_issuer(&client).await?;
        drop(client);
        PgStorage::open(options, &issuer).await
    }

    /// Runs `commands` as one batch dated `now`, outside the writer queue: for offline
    /// tools and tests that need a chosen clock (as `Engine::execute` does for the
    /// embedded store).
    pub async fn execute_at(
        &self,
        commands: Vec<Command>,
        now: i64,
    ) -> Vec<Result<Done, CommandError>> {
        let n = commands.len();
        let failed = |e: CommandError| (0..n).map(|_| Err(clone_error(&e))).collect();
        let mut client = match connect::connect(&self.shared.config, &self.shared.tls, None).await {
            Ok(c) => c,
            Err(_) => return failed(CommandError::Unavailable),
        };
        let mut ctx = WriterCtx {
            issuer: self.issuer.clone(),
            origin: self.log_identity.0.clone(),
            keys: keys::KeyCache::default(),
        };
        let out = match batch::run_commands(&mut client, &mut ctx, commands, now).await {
            Ok(out) => out,
            Err(e) => return failed(e.command_error()),
        };
        let _ = self.shared.cache.refresh(&client).await;
        out
    }

    async fn query(
        &self,
        sql: &str,
        params: &[(&(dyn ToSql + Sync), Type)],
    ) -> Result<Vec<Row>, ReadError> {
        let run = async {
            let client = self
                .shared
                .pool
                .get()
                .await
                .map_err(|_| ReadError::Unavailable)?;
            // Typed: one round trip, no statement to prepare first.
            client.query_typed(sql, params).await.map_err(|e| {
                if connect::is_unavailable(&e) {
                    ReadError::Unavailable
                } else {
                    tracing::error!(error = %e, "a read query failed");
                    ReadError::Corrupt("query")
                }
            })
        };
        tokio::time::timeout(connect::QUERY_TIMEOUT, run)
            .await
            .map_err(|_| ReadError::Unavailable)?
    }
}

/// The issuer a server recorded, if one has served from this database.
async fn stored_issuer(client: &tokio_postgres::Client) -> Result<String, PgOpenError> {
    let exists: bool = client
        .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
        .await
        .map_err(PgOpenError::Db)?
        .get(0);
    if !exists {
        return Err(PgOpenError::NoRegistry);
    }
    client
        .query_opt("SELECT value FROM meta WHERE key = 'issuer'", &[])
        .await
        .map_err(PgOpenError::Db)?
        .map(|r| r.get(0))
        .ok_or(PgOpenError::NoRegistry)
}

/// First-start and every-start preparation under the write lock: the issuer, the keys,
/// list 1 signed, and a checkpoint under this issuer's log origin.
async fn prepare(
    client: &mut tokio_postgres::Client,
    issuer: &str,
    origin: &str,
) -> Result<(), PgOpenError> {
    let t = now();
    let tx = client.transaction().await.map_err(PgOpenError::Db)?;
    let head = lock_head(&tx).await?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('issuer', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[&issuer],
    )
    .await
    .map_err(PgOpenError::Db)?;
    keys::ensure(&tx, t).await?;
    let mut ctx = WriterCtx {
        issuer: issuer.to_owned(),
        origin: origin.to_owned(),
        keys: keys::KeyCache::default(),
    };
    let current = ctx.keys.current(&tx).await?;
    tx.execute(
        "INSERT INTO lists (n, allocated) VALUES (1, 0) ON CONFLICT DO NOTHING",
        &[],
    )
    .await
    .map_err(PgOpenError::Db)?;
    let same_origin = head
        .note
        .as_deref()
        .and_then(|n| n.lines().next())
        .is_some_and(|o| o == origin);
    // A new registry, or its public URL changed: checkpoints carry the new origin from
    // now on (the tree is unchanged) and the lists name the new URL.
    let changes = batch::Changes {
        new_checkpoint: !same_origin,
        all_lists: !same_origin && head.note.is_some(),
        ..batch::Changes::default()
    };
    batch::finish(
        tx,
        &ctx,
        &current,
        head,
        &snapshot::Snapshot::default(),
        changes,
        t,
    )
    .await?;
    Ok(())
}

/// Keeps the served copies fresh: on every notification of a commit, and every second.
async fn follow_loop(shared: Arc<Shared>) {
    let (notices, mut heard) = mpsc::unbounded_channel();
    let mut listener: Option<tokio_postgres::Client> = None;
    loop {
        if listener
            .as_ref()
            .is_none_or(tokio_postgres::Client::is_closed)
        {
            listener = None;
            let attempt = tokio::time::timeout(
                connect::CONNECT_TIMEOUT * 2,
                connect::connect(&shared.config, &shared.tls, Some(notices.clone())),
            )
            .await;
            if let Ok(Ok(client)) = attempt {
                if client.batch_execute("LISTEN trustmark").await.is_ok() {
                    listener = Some(client);
                }
            }
        }
        tokio::select! {
            _ = heard.recv() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
        while heard.try_recv().is_ok() {}
        let refresh = async {
            let client = shared.pool.get().await.ok()?;
            shared.cache.refresh(&**client).await.ok()
        };
        let _ = tokio::time::timeout(connect::QUERY_TIMEOUT, refresh).await;
    }
}

fn clone_error(e: &CommandError) -> CommandError {
    match e {
        CommandError::Unavailable => CommandError::Unavailable,
        _ => CommandError::Database,
    }
}

fn decode<T: serde::de::DeserializeOwned>(row: &Row, what: &'static str) -> Result<T, ReadError> {
    let text: String = row.try_get(0).map_err(|_| ReadError::Corrupt(what))?;
    serde_json::from_str(&text).map_err(|_| ReadError::Corrupt(what))
}

#[async_trait::async_trait]
impl Storage for PgStorage {
    async fn run(&self, command: Command) -> Result<Done, CommandError> {
        let queue = self.tx.lock().ok().and_then(|q| q.clone());
        super::submit(command, |job| match queue {
            Some(q) => q.send(job).map_err(|e| e.0),
            None => Err(job),
        })
        .await
    }

    async fn badge(&self, id: &str) -> Result<Option<BadgeRecord>, ReadError> {
        let rows = self
            .query(
                "SELECT record FROM badges WHERE id = $1",
                &[(&id, Type::TEXT)],
            )
            .await?;
        rows.first().map(|r| decode(r, "badge")).transpose()
    }

    async fn badges(&self) -> Result<Vec<BadgeRecord>, ReadError> {
        let rows = self
            .query("SELECT record FROM badges ORDER BY id", &[])
            .await?;
        rows.iter().map(|r| decode(r, "badge")).collect()
    }

    async fn badges_for_origin(&self, origin: &str) -> Result<Vec<String>, ReadError> {
        let rows = self
            .query(
                "SELECT badge FROM origins WHERE origin = $1 ORDER BY badge",
                &[(&origin, Type::TEXT)],
            )
            .await?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(|_| ReadError::Corrupt("origin")))
            .collect()
    }

    async fn auditor(&self, id: &str) -> Result<Option<AuditorRecord>, ReadError> {
        let rows = self
            .query(
                "SELECT record FROM auditors WHERE id = $1",
                &[(&id, Type::TEXT)],
            )
            .await?;
        rows.first().map(|r| decode(r, "auditor")).transpose()
    }

    async fn auditors(&self) -> Result<Vec<AuditorRecord>, ReadError> {
        let rows = self
            .query("SELECT record FROM auditors ORDER BY id", &[])
            .await?;
        rows.iter().map(|r| decode(r, "auditor")).collect()
    }

    async fn log_entries(&self, first: u64, end: u64) -> Result<Vec<Vec<u8>>, ReadError> {
        let rows = self
            .query(
                "SELECT entry FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                &[(&(first as i64), Type::INT8), (&(end as i64), Type::INT8)],
            )
            .await?;
        if rows.len() as u64 != end.saturating_sub(first) {
            return Err(ReadError::Corrupt("log entries"));
        }
        rows.iter()
            .map(|r| r.try_get(0).map_err(|_| ReadError::Corrupt("log entry")))
            .collect()
    }

    fn status_lists(&self) -> Vec<Arc<SignedList>> {
        self.shared.cache.lists()
    }

    fn status_list(&self, n: usize) -> Option<Arc<SignedList>> {
        self.shared.cache.list(n)
    }

    fn jwks(&self) -> Arc<str> {
        self.shared.cache.jwks()
    }

    fn log(&self) -> LogView {
        self.shared.cache.log()
    }

    fn log_identity(&self) -> (String, String) {
        self.log_identity.clone()
    }

    fn issuer(&self) -> &str {
        &self.issuer
    }

    async fn shutdown(&self) {
        drop(self.tx.lock().ok().and_then(|mut q| q.take()));
        let tasks: Vec<_> = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        let mut tasks = tasks.into_iter();
        // The writer finishes what is queued; the follower has nothing to finish.
        if let Some(writer) = tasks.next() {
            let _ = tokio::time::timeout(Duration::from_secs(60), writer).await;
        }
        for task in tasks {
            task.abort();
        }
        self.shared.pool.close();
    }
}
