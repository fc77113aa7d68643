//! Schema migrations: SQL files embedded in the binary, applied in order on start, each
//! in a transaction under an advisory lock (so processes starting together apply each
//! once), recorded in `schema_version`. A database written by a newer binary is refused.

use super::PgOpenError;
use tokio_postgres::Client;

/// The migrations this binary knows, in order: (version, SQL).
pub const MIGRATIONS: &[(i32, &str)] = &[(1, include_str!("../../../migrations/0001_init.sql"))];

/// The advisory lock key the migrations take ("tmrk").
const LOCK: i64 = 0x746d_726b;

/// The newest schema version this binary knows.
pub fn latest() -> i32 {
    MIGRATIONS.iter().map(|(v, _)| *v).max().unwrap_or(0)
}

/// The migrations to apply to a database at `current`, in order, or the refusal of a
/// database newer than this binary.
pub fn pending(current: i32) -> Result<Vec<(i32, &'static str)>, PgOpenError> {
    if current > latest() {
        return Err(PgOpenError::SchemaTooNew {
            database: current,
            known: latest(),
        });
    }
    let mut todo: Vec<(i32, &'static str)> = MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > current)
        .copied()
        .collect();
    todo.sort_by_key(|(v, _)| *v);
    Ok(todo)
}

/// Brings the database's schema to [`latest`].
pub async fn migrate(client: &mut Client) -> Result<(), PgOpenError> {
    let tx = client.transaction().await.map_err(PgOpenError::Db)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(PgOpenError::Db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_version (
             version    integer PRIMARY KEY,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(PgOpenError::Db)?;
    let current: i32 = tx
        .query_one("SELECT coalesce(max(version), 0) FROM schema_version", &[])
        .await
        .map_err(PgOpenError::Db)?
        .get(0);
    for (version, sql) in pending(current)? {
        tx.batch_execute(sql).await.map_err(PgOpenError::Db)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&version],
        )
        .await
        .map_err(PgOpenError::Db)?;
        tracing::info!(version, "applied database migration");
    }
    tx.commit().await.map_err(PgOpenError::Db)
}

#[cfg(test)]
mod tests {
    // Migrations apply in order from any known version; a newer database is refused.
    use super::*;

    #[test]
    fn migrations_are_ordered_and_newer_schemas_refused() {
        let versions: Vec<i32> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let mut sorted = versions.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            versions, sorted,
            "migration versions must be unique and in order"
        );
        assert_eq!(versions.first(), Some(&1));
        assert_eq!(
            pending(0)
                .unwrap()
                .iter()
                .map(|(v, _)| *v)
                .collect::<Vec<_>>(),
            versions
        );
        assert!(pending(latest()).unwrap().is_empty());
        assert!(matches!(
            pending(latest() + 1),
            Err(PgOpenError::SchemaTooNew { database, known }) if database == latest() + 1 && known == latest()
        ));
    }
}
