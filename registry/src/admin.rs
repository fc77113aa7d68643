//! Operator commands, whether or not the server runs.
//!
//! A running registry listens on `DATA/admin.sock` (a Unix socket, mode 0600, so only
//! the operator's account can use it) and runs each command through its own writer. When
//! no server answers there, the command opens the data directory itself — the same
//! engine, journal and indexes. One JSON line in, one JSON line out.

use crate::engine::{Command, Done, Engine};
use crate::event::Actor;
use crate::http::AppState;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
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

#[derive(Serialize, Deserialize)]
struct Reply {
    ok: bool,
    lines: Vec<String>,
    error: Option<String>,
}

/// The socket path for a data directory.
pub fn socket_path(data: &Path) -> PathBuf {
    data.join("admin.sock")
}

fn listing(store: &Store, op: &Op) -> Result<Vec<String>, String> {
    Ok(match op {
        Op::AuditorList => store
            .auditors()
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|a| {
                format!(
                    "{}\t{}\t{}\t{}",
                    a.id,
                    if a.active { "active" } else { "suspended" },
                    a.jwk["kid"].as_str().unwrap_or(""),
                    a.name
                )
            })
            .collect(),
        _ => store
            .badges()
            .map_err(|e| e.to_string())?
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
            .collect(),
    })
}

/// The state change an operation makes; `None` for the read-only listings.
fn to_command(op: Op) -> Option<Command> {
    Some(match op {
        Op::AuditorAdd { id, name, jwk } => Command::AddAuditor { id, name, jwk },
        Op::AuditorSuspend { id } => Command::SuspendAuditor { id },
        Op::KeyRotate => Command::RotateKeys,
        Op::BadgeChange { id, action, reason } => Command::ChangeStatus {
            badge: id,
            action,
            reason,
            by: Actor::Operator,
            request_jti: None,
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
        _ => "done".into(),
    }
}

async fn execute_online(state: &AppState, op: Op) -> Result<Vec<String>, String> {
    let Some(command) = to_command(op.clone()) else {
        return listing(&state.store, &op);
    };
    let done = state.writer.run(command).await.map_err(|e| e.to_string())?;
    Ok(vec![describe(&op, done)])
}

/// Serves the admin socket until the task is dropped.
pub async fn serve(data: &Path, state: AppState) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let path = socket_path(data);
    // A socket file left by a crashed server: the store lock proves none runs now.
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let state = state.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                if tokio::io::BufReader::new(read)
                    .take(64 * 1024)
                    .read_line(&mut line)
                    .await
                    .is_err()
                {
                    return;
                }
                let reply = match serde_json::from_str::<Op>(&line) {
                    Ok(op) => match execute_online(&state, op).await {
                        Ok(lines) => Reply {
                            ok: true,
                            lines,
                            error: None,
                        },
                        Err(e) => Reply {
                            ok: false,
                            lines: vec![],
                            error: Some(e),
                        },
                    },
                    Err(e) => Reply {
                        ok: false,
                        lines: vec![],
                        error: Some(format!("unreadable command: {e}")),
                    },
                };
                let mut text = serde_json::to_string(&reply).unwrap_or_default();
                text.push('\n');
                let _ = write.write_all(text.as_bytes()).await;
            });
        }
    }))
}

/// Runs an operator command: through the running server's socket if one answers, else
/// directly on the data directory. Returns the lines to print.
pub fn run(data: &Path, op: Op) -> Result<Vec<String>, String> {
    let path = socket_path(data);
    if let Ok(mut stream) = std::os::unix::net::UnixStream::connect(&path) {
        let mut text = serde_json::to_string(&op).map_err(|e| e.to_string())?;
        text.push('\n');
        stream
            .write_all(text.as_bytes())
            .map_err(|e| format!("admin socket: {e}"))?;
        let mut line = String::new();
        BufReader::new(stream)
            .read_line(&mut line)
            .map_err(|e| format!("admin socket: {e}"))?;
        let reply: Reply = serde_json::from_str(&line)
            .map_err(|_| "the registry gave an unreadable answer".to_owned())?;
        return if reply.ok {
            Ok(reply.lines)
        } else {
            Err(reply.error.unwrap_or_default())
        };
    }
    let issuer = Engine::stored_issuer(data).ok_or_else(|| {
        format!(
            "no registry in {}\nhint: start it once with `trustmark-registry serve --data {}`",
            data.display(),
            data.display()
        )
    })?;
    let now = chrono::Utc::now().timestamp();
    let mut engine = Engine::open(data, &issuer, now, true).map_err(|e| e.to_string())?;
    let result = match to_command(op.clone()) {
        None => listing(&engine.store(), &op),
        Some(command) => engine
            .execute(vec![command], now)
            .pop()
            .ok_or_else(|| "no result".to_owned())
            .and_then(|r| r.map_err(|e| e.to_string()))
            .map(|done| vec![describe(&op, done)]),
    };
    engine.flush();
    result
}
