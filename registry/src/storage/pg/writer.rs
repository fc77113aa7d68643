//! The writer task each process runs: it batches queued commands (up to 1,024) into one
//! transaction (key changes each in their own), answers only after the commit returned
//! and this process's served copies caught up, and re-signs aging status lists.
//! Its connection is its own, not the pool's: after any failure it is dropped, so a
//! transaction in an unknown state never serves another batch.

use super::batch::{self, lock_head, resign_list, TxError, WriterCtx};
use super::connect::{self, QUERY_TIMEOUT};
use super::Shared;
use crate::engine::{Command, CommandError, Done, LIST_RESIGN_AFTER};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_postgres::Client;

pub use crate::storage::Job;

/// A transaction may take this long (a list's `iat` wait included) before its
/// connection is given up and its commands answered 503.
const TX_TIMEOUT: Duration = Duration::from_secs(45);

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The writer's loop; ends when every queue sender is gone.
pub async fn run(shared: Arc<Shared>, mut ctx: WriterCtx, mut rx: mpsc::UnboundedReceiver<Job>) {
    let mut client: Option<Client> = None;
    loop {
        let first = match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(_) => {
                refresh_stale_lists(&shared, &mut ctx, &mut client).await;
                continue;
            }
        };
        let mut jobs = vec![first];
        while jobs.len() < 1024 {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (commands, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        let results = execute(&shared, &mut ctx, &mut client, commands).await;
        for (result, reply) in results.into_iter().zip(replies) {
            let _ = reply.send(result);
        }
        refresh_stale_lists(&shared, &mut ctx, &mut client).await;
    }
}

/// The writer's connection, opened (and checked) if there is none.
async fn ensure_client<'a>(
    shared: &Shared,
    slot: &'a mut Option<Client>,
) -> Option<&'a mut Client> {
    if slot.as_ref().is_some_and(Client::is_closed) {
        *slot = None;
    }
    if slot.is_none() {
        let attempt = tokio::time::timeout(
            connect::CONNECT_TIMEOUT * 2,
            connect::connect(&shared.config, &shared.tls, None),
        )
        .await;
        match attempt {
            Ok(Ok(client)) => *slot = Some(client),
            Ok(Err(e)) => {
                tracing::warn!(store = %shared.redacted, error = %e, "cannot reach the database");
                return None;
            }
            Err(_) => {
                tracing::warn!(store = %shared.redacted, "the database did not answer in time");
                return None;
            }
        }
    }
    slot.as_mut()
}

fn all_failed(n: usize, e: &CommandError) -> Vec<Result<Done, CommandError>> {
    (0..n)
        .map(|_| {
            Err(match e {
                CommandError::Unavailable => CommandError::Unavailable,
                _ => CommandError::Database,
            })
        })
        .collect()
}

/// Runs the commands in order: runs of ordinary commands as one transaction each, key
/// changes alone. A failed transaction fails every command in it, with 503 when the
/// database is away (or the commit's outcome is unknown).
async fn execute(
    shared: &Shared,
    ctx: &mut WriterCtx,
    slot: &mut Option<Client>,
    commands: Vec<Command>,
) -> Vec<Result<Done, CommandError>> {
    let total = commands.len();
    let mut out: Vec<Result<Done, CommandError>> = Vec::with_capacity(total);
    let mut pending: Vec<Command> = Vec::new();
    let mut committed = false;
    let mut queue = commands.into_iter().peekable();
    while queue.peek().is_some() || !pending.is_empty() {
        let next = queue.next();
        let key_change = match next {
            Some(Command::RotateKeys) => Some(None),
            Some(Command::WithdrawKey { kid }) => Some(Some(kid)),
            Some(other) => {
                pending.push(other);
                if queue.peek().is_some() {
                    continue;
                }
                None
            }
            None => None,
        };
        if !pending.is_empty() {
            let segment = std::mem::take(&mut pending);
            let n = segment.len();
            match ensure_client(shared, slot).await {
                None => out.extend(all_failed(n, &CommandError::Unavailable)),
                Some(client) => {
                    let run = batch::run_commands(client, ctx, segment, now());
                    match tokio::time::timeout(TX_TIMEOUT, run).await {
                        Ok(Ok(results)) => {
                            committed = true;
                            out.extend(results);
                        }
                        Ok(Err(e)) => {
                            fail(shared, slot, &e);
                            out.extend(all_failed(n, &e.command_error()));
                        }
                        Err(_) => {
                            *slot = None;
                            out.extend(all_failed(n, &CommandError::Unavailable));
                        }
                    }
                }
            }
        }
        if let Some(withdraw) = key_change {
            match ensure_client(shared, slot).await {
                None => out.push(Err(CommandError::Unavailable)),
                Some(client) => {
                    let run = super::keys::run_key_change(client, ctx, withdraw, now());
                    match tokio::time::timeout(TX_TIMEOUT, run).await {
                        Ok(Ok(result)) => {
                            committed |= result.is_ok();
                            out.push(result);
                        }
                        Ok(Err(e)) => {
                            fail(shared, slot, &e);
                            out.push(Err(e.command_error()));
                        }
                        Err(_) => {
                            *slot = None;
                            out.push(Err(CommandError::Unavailable));
                        }
                    }
                }
            }
        }
    }
    if committed {
        // Readers of this process see what it acknowledges.
        if let Some(client) = slot.as_ref() {
            match tokio::time::timeout(QUERY_TIMEOUT, shared.cache.refresh(client)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "refreshing the served documents failed"),
                Err(_) => tracing::warn!("refreshing the served documents timed out"),
            }
        }
    }
    out
}

/// Logs a failed transaction and drops the connection it ran on.
fn fail(shared: &Shared, slot: &mut Option<Client>, e: &TxError) {
    if matches!(e.command_error(), CommandError::Unavailable) {
        tracing::warn!(store = %shared.redacted, error = %e, "a batch failed: the database is unavailable");
    } else {
        tracing::error!(error = %e, "a batch failed in the database; nothing of it was acknowledged");
    }
    *slot = None;
}

/// Re-signs lists older than [`LIST_RESIGN_AFTER`] (whichever process gets there first;
/// the others then find nothing stale under the lock).
async fn refresh_stale_lists(shared: &Shared, ctx: &mut WriterCtx, slot: &mut Option<Client>) {
    let t = now();
    let stale = shared
        .cache
        .lists()
        .iter()
        .any(|l| t - l.iat >= LIST_RESIGN_AFTER);
    if !stale {
        return;
    }
    let Some(client) = ensure_client(shared, slot).await else {
        return;
    };
    let run = async {
        let tx = client.transaction().await?;
        lock_head(&tx).await?;
        let current = ctx.keys.current(&tx).await?;
        let rows = tx
            .query(
                "SELECT n, iat FROM lists WHERE token IS NOT NULL AND iat <= $1 ORDER BY n",
                &[&(t - LIST_RESIGN_AFTER)],
            )
            .await?;
        for row in rows {
            let n: i64 = row.try_get(0)?;
            let n = u32::try_from(n).map_err(|_| TxError::Corrupt("list number"))?;
            resign_list(&tx, &ctx.issuer, &current.status, n, row.try_get(1)?, t).await?;
        }
        tx.execute(
            "UPDATE log_head SET generation = generation + 1 WHERE id = 1",
            &[],
        )
        .await?;
        tx.execute("SELECT pg_notify('trustmark', '')", &[]).await?;
        tx.commit().await?;
        shared.cache.refresh(&*client).await
    };
    match tokio::time::timeout(TX_TIMEOUT, run).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => fail(shared, slot, &e),
        Err(_) => *slot = None,
    }
}
