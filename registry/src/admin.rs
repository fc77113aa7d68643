//! Operator commands, whether or not the server runs.
//!
//! A running registry listens on `DATA/admin/admin.sock`, a Unix socket inside a
//! directory of mode 0700 (so the socket is never reachable by another account, not
//! even between `bind` and `chmod`), and serves only peers whose uid (`SO_PEERCRED`)
//! equals its own: root, which ignores file modes, is refused too unless the registry
//! runs as root. It runs each command through its own writer. When no server answers
//! there, the command opens the data directory itself — the same engine, journal and
//! indexes. One JSON line in, one JSON line out.
//!
//! With `--store postgres://…` there is no socket: the command runs against the database
//! directly, through the same storage interface the servers use, and the database
//! credentials are the operator's authority.

use crate::engine::{Command, CommandError, Done, Engine, OpenError};
use crate::event::Actor;
use crate::http::AppState;
use crate::records::{AuditorRecord, BadgeRecord};
use crate::storage::{ReadError, Storage};
use crate::store::StoreError;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use trustmark_core::claims::Action;

/// An operator command.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Accredit an auditor.
    AuditorAdd {
        /// Id.
        id: String,
        /// Name.
        name: String,
        /// Public JWK.
        jwk: serde_json::Value,
    },
    /// Suspend an auditor.
    AuditorSuspend {
        /// Id.
        id: String,
    },
    /// List auditors.
    AuditorList,
    /// List badges.
    BadgeList,
    /// Rotate the registry's signing keys.
    KeyRotate,
    /// Withdraw a compromised registry key.
    KeyWithdraw {
        /// The key's id.
        kid: String,
    },
    /// Revoke, suspend or reinstate a badge.
    BadgeChange {
        /// Badge id.
        id: String,
        /// What to do.
        action: Action,
        /// Why.
        reason: String,
    },
}

/// Why an operator command failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The registry refused or failed the command.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The indexes could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The data directory could not be opened (no server runs on it).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// No registry has ever run on this data directory.
    #[error("no registry in {}", .0.display())]
    NoRegistry(PathBuf),
    /// Talking to the running registry's socket failed.
    #[error("admin socket {}: {source}", path.display())]
    Socket {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The running registry answered something unreadable.
    #[error("the running registry gave an unreadable answer")]
    BadReply,
    /// The running registry refused the command (its words).
    #[error("{0}")]
    Refused(String),
    /// The store could not be read.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The store named by `--store` could not be opened.
    #[error(transparent)]
    StoreOpen(#[from] crate::storage::OpenError),
    /// The async runtime for the database client could not start.
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl AdminError {
    /// What the operator can do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            AdminError::NoRegistry(data) => Some(format!(
                "start it once with `trustmark-registry serve --data {}`",
                data.display()
            )),
            AdminError::StoreOpen(e) => e.hint(),
            AdminError::Command(CommandError::ExampleKey) => Some(
                "make a real key with `trustmark keygen -o FILE`; example keys are for `serve --demo` only"
                    .into(),
            ),
            _ => None,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Reply {
    ok: bool,
    lines: Vec<String>,
    error: Option<String>,
}

/// The directory holding the socket.
pub fn socket_dir(data: &Path) -> PathBuf {
    data.join("admin")
}

/// The socket path for a data directory.
pub fn socket_path(data: &Path) -> PathBuf {
    socket_dir(data).join("admin.sock")
}

/// One line per auditor: id, state, key id, name.
fn auditor_lines(auditors: Vec<AuditorRecord>) -> Vec<String> {
    auditors
        .into_iter()
        .map(|a| {
            format!(
                "{}\t{}\t{}\t{}",
                a.id,
                if a.active { "active" } else { "suspended" },
                a.jwk.get("kid").and_then(|k| k.as_str()).unwrap_or(""),
                a.name
            )
        })
        .collect()
}

/// One line per badge: id, status, auditor, origins.
fn badge_lines(badges: Vec<BadgeRecord>) -> Vec<String> {
    badges
        .into_iter()
        .map(|b| {
            format!(
                "{}\t{}\t{}\t{}",
                b.id,
                b.status.as_str(),
                b.auditor,
                b.origins.join(",")
            )
        })
        .collect()
}

/// The state change an operation makes; `None` for the read-only listings.
fn to_command(op: Op) -> Option<Command> {
    Some(match op {
        Op::AuditorAdd { id, name, jwk } => Command::AddAuditor { id, name, jwk },
        Op::AuditorSuspend { id } => Command::SuspendAuditor { id },
        Op::KeyRotate => Command::RotateKeys,
        Op::KeyWithdraw { kid } => Command::WithdrawKey { kid },
        Op::BadgeChange { id, action, reason } => Command::ChangeStatus {
            badge: id,
            action,
            reason,
            by: Actor::Operator,
            request: None,
        },
        Op::AuditorList | Op::BadgeList => return None,
    })
}

fn describe(op: &Op, done: Done) -> String {
    match (op, done) {
        (Op::AuditorAdd { id, .. }, _) => format!("auditor {id} accredited"),
        (Op::AuditorSuspend { id }, _) => format!("auditor {id} suspended"),
        (Op::BadgeChange { id, .. }, Done::StatusChanged { status }) => {
            format!("{id} is now {}", status.as_str())
        }
        (
            Op::KeyRotate,
            Done::KeysRotated {
                badge_kid,
                status_kid,
            },
        ) => {
            format!("new badge key {badge_kid}, new status list key {status_kid}; the old keys stay published, retired")
        }
        (Op::KeyWithdraw { kid }, Done::KeyWithdrawn { rotated, resigned }) => {
            format!(
            "key {kid} withdrawn{}; {resigned} current badge(s) re-signed under the current key",
            if rotated { " (it was current: keys rotated first)" } else { "" }
        )
        }
        _ => "done".into(),
    }
}

/// Runs `op` on a store; returns the lines to print.
pub async fn execute(storage: &dyn Storage, op: Op) -> Result<Vec<String>, AdminError> {
    let Some(command) = to_command(op.clone()) else {
        return Ok(match op {
            Op::AuditorList => auditor_lines(storage.auditors().await?),
            _ => badge_lines(storage.badges().await?),
        });
    };
    let done = storage.run(command).await?;
    Ok(vec![describe(&op, done)])
}

async fn execute_online(state: &AppState, op: Op) -> Result<Vec<String>, AdminError> {
    let changes_status = matches!(op, Op::BadgeChange { .. });
    let lines = execute(&*state.storage, op).await?;
    if changes_status {
        state.metrics.record_status_change();
    }
    Ok(lines)
}

/// Runs an operator command directly against the database store `--store` names (no
/// server needed, any number may run). Returns the lines to print.
pub fn run_postgres(
    options: &crate::storage::spec::PgOptions,
    op: Op,
) -> Result<Vec<String>, AdminError> {
    // A thread of its own, so this works from inside another runtime too (tests).
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(AdminError::Runtime)?;
                runtime.block_on(async {
                    let storage = crate::storage::pg::PgStorage::open_for_operator(options).await?;
                    let result = execute(&storage, op).await;
                    storage.shutdown().await;
                    result
                })
            })
            .join()
            .unwrap_or(Err(AdminError::BadReply))
    })
}

/// Creates the socket's directory with mode 0700 (or checks the one there), owned by
/// this process's user.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => crate::durable::sync_parent(dir)?,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    if !meta.is_dir() || meta.uid() != rustix::process::geteuid().as_raw() {
        return Err(std::io::Error::other(format!(
            "{} must be a directory owned by the registry's user",
            dir.display()
        )));
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// A command line is read within this time, or the connection is dropped.
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

async fn answer(stream: tokio::net::UnixStream, state: AppState) {
    let own = rustix::process::geteuid().as_raw();
    let peer = stream.peer_cred().map(|c| c.uid()).ok();
    let (read, mut write) = stream.into_split();
    // Read the command even from a peer that will be refused, so the refusal reaches it
    // rather than a reset connection.
    let mut line = String::new();
    let mut reader = tokio::io::BufReader::new(read).take(64 * 1024);
    let read = reader.read_line(&mut line);
    if !matches!(tokio::time::timeout(READ_TIMEOUT, read).await, Ok(Ok(_))) {
        return;
    }
    let reply = if peer != Some(own) {
        tracing::warn!(peer = ?peer, "admin socket: refused a peer of another user");
        Reply {
            ok: false,
            lines: vec![],
            error: Some("the admin socket serves only the registry's own user".into()),
        }
    } else {
        match serde_json::from_str::<Op>(&line) {
            Ok(op) => match execute_online(&state, op).await {
                Ok(lines) => Reply {
                    ok: true,
                    lines,
                    error: None,
                },
                Err(e) => Reply {
                    ok: false,
                    lines: vec![],
                    error: Some(e.to_string()),
                },
            },
            Err(e) => Reply {
                ok: false,
                lines: vec![],
                error: Some(format!("unreadable command: {e}")),
            },
        }
    };
    let mut text = serde_json::to_string(&reply).unwrap_or_default();
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

/// Serves the admin socket until the task is dropped.
pub async fn serve(data: &Path, state: AppState) -> std::io::Result<tokio::task::JoinHandle<()>> {
    private_dir(&socket_dir(data))?;
    let path = socket_path(data);
    // A socket file left by a crashed server: the store lock proves none runs now.
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(answer(stream, state.clone()));
        }
    }))
}

fn run_online(
    path: &Path,
    mut stream: std::os::unix::net::UnixStream,
    op: &Op,
) -> Result<Vec<String>, AdminError> {
    let socket = |source| AdminError::Socket {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_string(op).map_err(|_| AdminError::BadReply)?;
    text.push('\n');
    stream.write_all(text.as_bytes()).map_err(socket)?;
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .map_err(socket)?;
    let reply: Reply = serde_json::from_str(&line).map_err(|_| AdminError::BadReply)?;
    if reply.ok {
        Ok(reply.lines)
    } else {
        Err(AdminError::Refused(reply.error.unwrap_or_default()))
    }
}

/// Runs an operator command: through the running server's socket if one answers, else
/// directly on the data directory (never in demo mode: example keys are refused).
/// Returns the lines to print.
pub fn run(data: &Path, op: Op) -> Result<Vec<String>, AdminError> {
    let path = socket_path(data);
    if let Ok(stream) = std::os::unix::net::UnixStream::connect(&path) {
        return run_online(&path, stream, &op);
    }
    let issuer =
        Engine::stored_issuer(data).ok_or_else(|| AdminError::NoRegistry(data.to_owned()))?;
    let now = chrono::Utc::now().timestamp();
    let mut engine = Engine::open(data, &issuer, now, false)?;
    let result = match to_command(op.clone()) {
        None => match op {
            Op::AuditorList => engine.store().auditors().map(auditor_lines),
            _ => engine.store().badges().map(badge_lines),
        }
        .map_err(AdminError::from),
        Some(command) => match engine.execute(vec![command], now).pop() {
            Some(Ok(done)) => Ok(vec![describe(&op, done)]),
            Some(Err(e)) => Err(e.into()),
            None => Err(CommandError::WriterStopped.into()),
        },
    };
    engine.flush();
    result
}
