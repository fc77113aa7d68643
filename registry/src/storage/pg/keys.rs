//! The registry's keys in the `keys` table: created once on first start, rotated and
//! withdrawn as commands under the global write lock, so once a key change commits every
//! later transaction of every process signs with the new current keys. Private keys are
//! cached per process by key id; the JWKS is built from the public halves only.

use super::batch::{finish, lock_head, revoked_value, Changes, TxError, WriterCtx};
use super::snapshot::Snapshot;
use crate::engine::{resign_if_signed_by, CommandError, Done};
use crate::event::Event;
use crate::keys::{fresh_key, KeyRingError};
use crate::records::BadgeRecord;
use std::collections::HashMap;
use tokio_postgres::{GenericClient, Transaction};
use trustmark_core::sign::SigningKey;
use trustmark_core::{Jwks, KeyUse, PublicKey};
use zeroize::Zeroizing;

/// The keys signing now.
pub struct Current {
    pub(super) badge: SigningKey,
    pub(super) status: SigningKey,
    pub(super) log: SigningKey,
}

/// Private keys loaded so far, by key id.
#[derive(Default)]
pub struct KeyCache {
    by_kid: HashMap<String, SigningKey>,
}

fn use_name(usage: KeyUse) -> &'static str {
    match usage {
        KeyUse::Badge => "badge",
        _ => "status",
    }
}

impl KeyCache {
    /// The current keys as committed (read under the write lock).
    pub async fn current(&mut self, tx: &Transaction<'_>) -> Result<Current, TxError> {
        let mut found: HashMap<String, SigningKey> = HashMap::new();
        for row in tx
            .query_typed("SELECT kid, use FROM keys WHERE current", &[])
            .await?
        {
            let (kid, usage): (String, String) = (row.try_get(0)?, row.try_get(1)?);
            let key = match self.by_kid.get(&kid) {
                Some(k) => k.clone(),
                None => {
                    let text: String = tx
                        .query_one("SELECT private_jwk FROM keys WHERE kid = $1", &[&kid])
                        .await?
                        .try_get(0)?;
                    let text = Zeroizing::new(text);
                    let key = SigningKey::from_jwk_json(text.as_bytes())
                        .map_err(|_| TxError::Corrupt("key"))?;
                    if key.kid() != kid {
                        return Err(TxError::Corrupt("key id"));
                    }
                    self.by_kid.insert(kid, key.clone());
                    key
                }
            };
            found.insert(usage, key);
        }
        let mut take = |name: &str| found.remove(name).ok_or(TxError::Corrupt("current keys"));
        Ok(Current {
            badge: take("badge")?,
            status: take("status")?,
            log: take("log")?,
        })
    }
}

async fn insert_key(
    tx: &Transaction<'_>,
    key: &SigningKey,
    usage: KeyUse,
    now: i64,
) -> Result<(), TxError> {
    let private = Zeroizing::new(key.to_private_jwk_json());
    let public = key
        .public()
        .with_use(usage)
        .with_window(Some(now), None)
        .to_jwk_value()
        .to_string();
    tx.execute(
        "INSERT INTO keys (kid, use, private_jwk, public_jwk, valid_from, current)
         VALUES ($1, $2, $3, $4, $5, true)",
        &[
            &key.kid(),
            &use_name(usage),
            &private.as_str(),
            &public,
            &now,
        ],
    )
    .await?;
    Ok(())
}

/// Creates whichever of the badge, status list and log keys has no current key yet
/// (first start). The log key is never replaced afterwards.
pub async fn ensure(tx: &Transaction<'_>, now: i64) -> Result<(), TxError> {
    let have: Vec<String> = tx
        .query("SELECT use FROM keys WHERE current", &[])
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()?;
    for name in ["badge", "status", "log"] {
        if have.iter().any(|h| h == name) {
            continue;
        }
        let key = fresh_key().map_err(|_| TxError::Corrupt("OS randomness"))?;
        match name {
            "badge" => insert_key(tx, &key, KeyUse::Badge, now).await?,
            "status" => insert_key(tx, &key, KeyUse::Status, now).await?,
            _ => insert_log_key(tx, &key, now).await?,
        }
    }
    Ok(())
}

/// Inserts the log key (it has no JWK use: it signs checkpoints, not JWTs).
async fn insert_log_key(tx: &Transaction<'_>, key: &SigningKey, now: i64) -> Result<(), TxError> {
    let private = Zeroizing::new(key.to_private_jwk_json());
    let public = key.public().to_jwk_value().to_string();
    tx.execute(
        "INSERT INTO keys (kid, use, private_jwk, public_jwk, valid_from, current)
         VALUES ($1, 'log', $2, $3, $4, true)",
        &[&key.kid(), &private.as_str(), &public, &now],
    )
    .await?;
    Ok(())
}

/// Replaces the badge and status list keys: the old ones stay published, their window
/// closed at `now`.
async fn rotate(
    tx: &Transaction<'_>,
    cache: &mut KeyCache,
    current: &mut Current,
    now: i64,
    changes: &mut Changes,
) -> Result<Done, TxError> {
    let badge = fresh_key().map_err(|_| TxError::Corrupt("OS randomness"))?;
    let status = fresh_key().map_err(|_| TxError::Corrupt("OS randomness"))?;
    tx.execute(
        "UPDATE keys SET current = false, valid_until = $1
         WHERE current AND use IN ('badge', 'status')",
        &[&now],
    )
    .await?;
    insert_key(tx, &badge, KeyUse::Badge, now).await?;
    insert_key(tx, &status, KeyUse::Status, now).await?;
    let (badge_kid, status_kid) = (badge.kid().to_owned(), status.kid().to_owned());
    cache.by_kid.insert(badge_kid.clone(), badge.clone());
    cache.by_kid.insert(status_kid.clone(), status.clone());
    current.badge = badge;
    current.status = status;
    changes.events.push(Event::KeysRotated {
        badge_kid: badge_kid.clone(),
        status_kid: status_kid.clone(),
        at: now,
    });
    Ok(Done::KeysRotated {
        badge_kid,
        status_kid,
    })
}

/// Runs a key rotation or withdrawal in its own transaction. `Ok(Err(_))` is a refusal
/// (nothing written); `Err` a failed transaction.
pub async fn run_key_change(
    client: &mut tokio_postgres::Client,
    ctx: &mut WriterCtx,
    withdraw: Option<String>,
    now: i64,
) -> Result<Result<Done, CommandError>, TxError> {
    let tx = client.transaction().await?;
    let head = lock_head(&tx).await?;
    let mut current = ctx.keys.current(&tx).await?;
    let mut changes = Changes::default();
    let mut snapshot = Snapshot::default();
    let done = match withdraw {
        None => rotate(&tx, &mut ctx.keys, &mut current, now, &mut changes).await?,
        Some(kid) => {
            let row = tx
                .query_opt(
                    "SELECT current, withdrawn_at FROM keys WHERE kid = $1 AND use <> 'log'",
                    &[&kid],
                )
                .await?;
            let Some(row) = row else {
                return Ok(Err(KeyRingError::UnknownKid(kid).into()));
            };
            let (is_current, withdrawn): (bool, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            if withdrawn.is_some() {
                return Ok(Err(KeyRingError::AlreadyWithdrawn(kid).into()));
            }
            if is_current {
                rotate(&tx, &mut ctx.keys, &mut current, now, &mut changes).await?;
            }
            tx.execute(
                "UPDATE keys SET withdrawn_at = $2 WHERE kid = $1",
                &[&kid, &now],
            )
            .await?;
            changes.events.push(Event::KeyWithdrawn {
                kid: kid.clone(),
                at: now,
            });
            let resigned =
                resign_badges(&tx, &kid, &current.badge, now, &mut changes, &mut snapshot).await?;
            Done::KeyWithdrawn {
                rotated: is_current,
                resigned,
            }
        }
    };
    finish(tx, ctx, &current, head, &snapshot, changes, now).await?;
    Ok(Ok(done))
}

/// Signs every current badge that `kid` signed again under `key` (same claims, new
/// `iat`), as the embedded store does.
async fn resign_badges(
    tx: &Transaction<'_>,
    kid: &str,
    key: &SigningKey,
    now: i64,
    changes: &mut Changes,
    snapshot: &mut Snapshot,
) -> Result<usize, TxError> {
    let mut resigned = 0;
    for row in tx
        .query(
            "SELECT record FROM badges WHERE status <> $1 ORDER BY id",
            &[&revoked_value()],
        )
        .await?
    {
        let text: String = row.try_get(0)?;
        let record: BadgeRecord =
            serde_json::from_str(&text).map_err(|_| TxError::Corrupt("badge"))?;
        let Some(token) = resign_if_signed_by(&record.token, kid, now, key)? else {
            continue;
        };
        changes.events.push(Event::BadgeResigned {
            id: record.id.clone(),
            token,
            at: now,
        });
        snapshot.badges.insert(record.id.clone(), record);
        resigned += 1;
    }
    Ok(resigned)
}

/// The published JWKS: every badge and status list key with its window, withdrawn keys
/// listed apart. Reads public halves only.
pub async fn published(client: &impl GenericClient) -> Result<String, TxError> {
    let mut keys = Vec::new();
    let mut withdrawn = Vec::new();
    for row in client
        .query(
            "SELECT kid, use, public_jwk, valid_from, valid_until, withdrawn_at
             FROM keys WHERE use <> 'log' ORDER BY added",
            &[],
        )
        .await?
    {
        let kid: String = row.try_get(0)?;
        let usage: String = row.try_get(1)?;
        let public: String = row.try_get(2)?;
        let (from, until, gone): (i64, Option<i64>, Option<i64>) =
            (row.try_get(3)?, row.try_get(4)?, row.try_get(5)?);
        if let Some(at) = gone {
            withdrawn.push((kid, at));
            continue;
        }
        let usage = if usage == "badge" {
            KeyUse::Badge
        } else {
            KeyUse::Status
        };
        let key = PublicKey::from_jwk_json(public.as_bytes())
            .map_err(|_| TxError::Corrupt("public key"))?
            .with_use(usage)
            .with_window(Some(from), until);
        keys.push(key);
    }
    let mut jwks = Jwks::from_keys(keys);
    for (kid, at) in withdrawn {
        jwks = jwks.with_withdrawn(&kid, at);
    }
    Ok(jwks.to_json())
}

/// The log key's public half.
pub async fn log_public(client: &impl GenericClient) -> Result<PublicKey, TxError> {
    let public: String = client
        .query_one(
            "SELECT public_jwk FROM keys WHERE use = 'log' AND current",
            &[],
        )
        .await?
        .try_get(0)?;
    PublicKey::from_jwk_json(public.as_bytes()).map_err(|_| TxError::Corrupt("log key"))
}
