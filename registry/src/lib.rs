//! The TrustMark registry: turns passing, auditor-signed audits into badges, keeps their
//! status, and publishes keys and status lists.
//!
//! Run with `trustmark-registry serve` (see `docs/registry.md`). Tests and embedders use
//! [`start`], which binds, opens the data directory and serves until stopped.
//!
//! Layout: `http` (routes, the only module that knows HTTP), [`admin`] and [`demo`] use
//! the [`storage::Storage`] trait. Its embedded implementation drives the [`engine`], the
//! single writer: it plans, makes changes durable in the [`journal`] (group-committed
//! `fdatasync`), then updates the sled [`store`] and the status lists. Its PostgreSQL
//! implementation (`storage::pg`) runs the same planner in one transaction per batch,
//! shared by several registry processes.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod admin;
pub mod demo;
pub mod durable;
pub mod engine;
pub mod event;
pub mod evidence;
pub mod http;
pub mod i18n;
pub mod journal;
pub mod keys;
pub mod records;
pub mod server;
pub mod storage;
pub mod store;

pub use http::{app, AppState};
pub use server::Limits;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use storage::StoreSpec;
use tokio::sync::oneshot;

/// How to run the registry.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory (keys, journal, indexes; the admin socket). Unused with PostgreSQL.
    pub data: PathBuf,
    /// A PostgreSQL store instead of the embedded one in `data`.
    pub store: Option<storage::spec::PgOptions>,
    /// Issuer URL; default `http://<bound address>`.
    pub public_url: Option<String>,
    /// Demo mode: example auditor, a badge for the registry's own origin.
    pub demo: bool,
    /// Deadlines, caps and sizes for clients.
    pub limits: Limits,
}

/// Why the registry could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The public URL is not an http(s) origin with an optional path.
    #[error("--public-url must be a canonical https URL (http only for loopback), without a trailing slash")]
    PublicUrl,
    /// The data directory could not be opened.
    #[error(transparent)]
    Open(#[from] engine::OpenError),
    /// The server failed.
    #[error("server: {0}")]
    Server(std::io::Error),
    /// The admin socket could not be created.
    #[error("admin socket: {0}")]
    Admin(std::io::Error),
    /// Active auditors hold a published example key, outside demo mode.
    #[error("active auditor(s) {} hold a published example key (keys-example/): anyone could sign audits as them", ids.join(", "))]
    ExampleAuditors {
        /// The auditors.
        ids: Vec<String>,
        /// The data directory.
        data: PathBuf,
    },
    /// Demo setup failed.
    #[error("demo setup: {0}")]
    Demo(#[from] demo::DemoError),
    /// The built-in indicator catalogue does not load (a build defect).
    #[error("the built-in indicator catalogue is invalid: {0}")]
    Catalogue(trustmark_core::catalogue::CatalogueError),
    /// Opening the data directory panicked or was cancelled.
    #[error("opening the data directory did not finish: {0}")]
    Task(tokio::task::JoinError),
    /// The PostgreSQL store could not be opened.
    #[error(transparent)]
    Postgres(storage::pg::PgOpenError),
    /// Demo mode needs the embedded store.
    #[error("--demo runs on the embedded store only; leave out --store")]
    DemoNeedsEmbedded,
    /// The store failed while checking the accredited auditors.
    #[error("reading the accredited auditors: {0}")]
    Read(storage::ReadError),
}

impl ServeError {
    /// What the operator can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            ServeError::ExampleAuditors { ids, data } => Some(format!(
                "suspend them with {}, or serve this directory with --demo",
                ids.iter()
                    .map(|id| format!("`trustmark-registry auditor suspend {id} --data {}`", data.display()))
                    .collect::<Vec<_>>()
                    .join(" and ")
            )),
            ServeError::Postgres(e) => e.hint(),
            ServeError::Open(engine::OpenError::Keys(crate::keys::KeyRingError::ExampleKey { .. })) => {
                Some("example keys are for `serve --demo` only; give a fresh --data directory".into())
            }
            ServeError::Open(engine::OpenError::Store(_)) => Some(
                "another registry (or operator command) holds this data directory; stop it or choose another --data".into(),
            ),
            _ => None,
        }
    }
}

/// A running registry.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The issuer URL.
    pub issuer: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<Result<(), ServeError>>,
    storage: storage::SharedStorage,
    admin: Option<tokio::task::JoinHandle<()>>,
    data: PathBuf,
}

/// Binds, opens the store, starts the writer and the server.
pub async fn start(config: Config) -> Result<Running, ServeError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| ServeError::Bind(config.listen, e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServeError::Bind(config.listen, e))?;
    let issuer = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    if !trustmark_core::claims::is_issuer_url(&issuer) {
        return Err(ServeError::PublicUrl);
    }
    let spec = match &config.store {
        Some(_) if config.demo => return Err(ServeError::DemoNeedsEmbedded),
        Some(pg) => StoreSpec::Postgres(pg.clone()),
        None => StoreSpec::Embedded(config.data.clone()),
    };
    let storage = storage::open(&spec, &issuer, config.demo).await?;
    if !config.demo {
        let ids = match storage.example_auditors().await {
            Ok(ids) => ids,
            Err(e) => {
                storage.shutdown().await;
                return Err(ServeError::Read(e));
            }
        };
        if !ids.is_empty() {
            storage.shutdown().await;
            return Err(ServeError::ExampleAuditors {
                ids,
                data: config.data.clone(),
            });
        }
    }
    let state = AppState {
        storage: storage.clone(),
        issuer: Arc::from(issuer.as_str()),
        catalogue: Arc::new(
            trustmark_core::Catalogue::rcep_b2b_web_1().map_err(ServeError::Catalogue)?,
        ),
        demo: config.demo,
        metrics: Arc::default(),
        limits: config.limits,
    };
    if config.demo {
        demo::setup(&state).await?;
    }
    // With PostgreSQL the operator's authority is the database credentials: operator
    // commands run against the database, not through a socket of one process.
    let admin = match spec {
        StoreSpec::Embedded(_) => Some(
            admin::serve(&config.data, state.clone())
                .await
                .map_err(ServeError::Admin)?,
        ),
        StoreSpec::Postgres(_) => None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let router = app(state);
    let server = tokio::spawn(async move {
        server::serve(listener, router, config.limits, async {
            let _ = stopped.await;
        })
        .await;
        Ok(())
    });
    tracing::info!(%addr, %issuer, "registry listening");
    Ok(Running {
        addr,
        issuer,
        stop,
        server,
        storage,
        admin,
        data: config.data,
    })
}

impl Running {
    /// Stops accepting, drains in-flight requests, stops the writer and flushes the store.
    pub async fn stop(self) -> Result<(), ServeError> {
        if let Some(admin) = self.admin {
            admin.abort();
            let _ = admin.await;
            let _ = std::fs::remove_file(admin::socket_path(&self.data));
        }
        let _ = self.stop.send(());
        let served = self
            .server
            .await
            .map_err(|e| ServeError::Server(std::io::Error::other(e)))?;
        self.storage.shutdown().await;
        served
    }
}
