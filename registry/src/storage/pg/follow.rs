//! What every process serves from memory: the status lists, the JWKS and the evidence
//! log view, refreshed from the database after this process's own commits (before they
//! are acknowledged), on every `NOTIFY trustmark` from another process's commit, and at
//! least every second in case a notification was missed. A change committed by another
//! process is served here within that second.

use super::batch::TxError;
use crate::engine::SignedList;
use crate::evidence::LogView;
use std::sync::{Arc, RwLock};
use tokio_postgres::types::Type;
use tokio_postgres::GenericClient;
use trustmark_core::PublicKey;

/// The served copies.
pub struct Cache {
    lists: RwLock<Vec<Arc<SignedList>>>,
    jwks: RwLock<Arc<str>>,
    log: LogView,
    log_key: PublicKey,
    /// What was read last; one refresh at a time.
    seen: tokio::sync::Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    generation: Option<i64>,
    keys_version: Option<i64>,
}

impl Cache {
    /// An empty cache for a log signed by `log_key`.
    pub fn new(log_key: PublicKey) -> Cache {
        Cache {
            lists: RwLock::default(),
            jwks: RwLock::new(Arc::from("{\"keys\":[]}")),
            log: LogView::default(),
            log_key,
            seen: tokio::sync::Mutex::default(),
        }
    }

    /// The lists as served.
    pub fn lists(&self) -> Vec<Arc<SignedList>> {
        self.lists.read().map(|l| l.clone()).unwrap_or_default()
    }

    /// List `n` as served.
    pub fn list(&self, n: usize) -> Option<Arc<SignedList>> {
        let lists = self.lists.read().ok()?;
        n.checked_sub(1).and_then(|i| lists.get(i)).cloned()
    }

    /// The JWKS as served.
    pub fn jwks(&self) -> Arc<str> {
        self.jwks
            .read()
            .map(|j| j.clone())
            .unwrap_or_else(|_| Arc::from("{\"keys\":[]}"))
    }

    /// The log as served.
    pub fn log(&self) -> LogView {
        self.log.clone()
    }

    /// Brings the served copies up to what is committed.
    pub async fn refresh(&self, client: &impl GenericClient) -> Result<(), TxError> {
        let mut seen = self.seen.lock().await;
        let head = client
            .query_typed(
                "SELECT size, note, generation, keys_version FROM log_head WHERE id = 1",
                &[],
            )
            .await?;
        let head = head.first().ok_or(TxError::Corrupt("log head"))?;
        let (size, note, generation, keys_version): (i64, Option<String>, i64, i64) = (
            head.try_get(0)?,
            head.try_get(1)?,
            head.try_get(2)?,
            head.try_get(3)?,
        );
        if seen.generation == Some(generation) {
            return Ok(());
        }
        tokio::try_join!(
            self.refresh_log(client, size as u64, note.as_deref()),
            self.refresh_lists(client)
        )?;
        if seen.keys_version != Some(keys_version) {
            let jwks = super::keys::published(client).await?;
            if let Ok(mut j) = self.jwks.write() {
                *j = Arc::from(jwks);
            }
            seen.keys_version = Some(keys_version);
        }
        seen.generation = Some(generation);
        Ok(())
    }

    async fn refresh_log(
        &self,
        client: &impl GenericClient,
        size: u64,
        note: Option<&str>,
    ) -> Result<(), TxError> {
        let have = self.log.read().map(|l| l.tree_len()).unwrap_or(0);
        if size > have {
            // Entries up to the head's size were committed with (or before) it.
            let rows = client
                .query_typed(
                    "SELECT hash FROM log_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx",
                    &[(&(have as i64), Type::INT8), (&(size as i64), Type::INT8)],
                )
                .await?;
            let hashes = rows
                .iter()
                .map(|r| {
                    let h: Vec<u8> = r.try_get(0)?;
                    <[u8; 32]>::try_from(h.as_slice()).map_err(|_| TxError::Corrupt("log hash"))
                })
                .collect::<Result<Vec<_>, TxError>>()?;
            if hashes.len() as u64 != size - have {
                return Err(TxError::Corrupt("log entries"));
            }
            if let Ok(mut log) = self.log.write() {
                log.push_hashes(hashes);
            }
        }
        if let (Some(note), Ok(mut log)) = (note, self.log.write()) {
            let unchanged = log.checkpoint().is_some_and(|c| &*c.note == note);
            if !unchanged {
                // A checkpoint that does not match the entries is never served.
                log.publish_note(note, &self.log_key)?;
            }
        }
        Ok(())
    }

    async fn refresh_lists(&self, client: &impl GenericClient) -> Result<(), TxError> {
        let current: Vec<(i64, String)> = self
            .lists()
            .iter()
            .enumerate()
            .map(|(i, l)| (i as i64 + 1, l.etag.clone()))
            .collect();
        let rows = client
            .query_typed(
                "SELECT n, etag FROM lists WHERE token IS NOT NULL ORDER BY n",
                &[],
            )
            .await?;
        let mut stale = Vec::new();
        for row in &rows {
            let (n, etag): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            if !current.iter().any(|(m, e)| *m == n && *e == etag) {
                stale.push(n);
            }
        }
        if stale.is_empty() {
            return Ok(());
        }
        let mut lists = self.lists();
        for row in client
            .query_typed(
                "SELECT n, iat, token, etag FROM lists WHERE n = ANY($1) ORDER BY n",
                &[(&stale, Type::INT8_ARRAY)],
            )
            .await?
        {
            let n: i64 = row.try_get(0)?;
            let signed = Arc::new(SignedList {
                iat: row.try_get(1)?,
                token: row.try_get(2)?,
                etag: row.try_get(3)?,
            });
            let i = usize::try_from(n - 1).map_err(|_| TxError::Corrupt("list number"))?;
            while lists.len() <= i {
                lists.push(signed.clone());
            }
            if let Some(slot) = lists.get_mut(i) {
                *slot = signed;
            }
        }
        if let Ok(mut l) = self.lists.write() {
            *l = lists;
        }
        Ok(())
    }
}
