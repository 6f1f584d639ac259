//! Change markers of DNS zones, for incremental sync: per (account, zone), the marker
//! the upstream showed just before the zone's last complete listing of records. What a
//! marker means and when it may be trusted is the vendor crate's and the engine's
//! (`engine::sync`); the store keeps rows, newest observation wins.

use crate::{first_column, ReadRows, Result, SqlStore};
use async_trait::async_trait;
use idcgate_core::ResourceKind;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per statement: four parameters each stays far below every backend's limit.
const CHUNK: usize = 500;

#[async_trait]
pub trait ZoneMarkerStore: Send + Sync {
    /// Every zone of `account` with a marker (none forgotten).
    async fn zone_markers(&self, account: &str) -> Result<HashMap<String, String>>;

    /// Sets the markers of zones of `account` as observed at `at_ms`; an empty marker
    /// forgets the zone's (it is listed at the next sync). A row observed later than
    /// `at_ms` is kept: a write made while a sync was listing forgets the zone's marker
    /// at the write's time, and the sync's older observation does not bring it back.
    async fn put_zone_markers(
        &self,
        account: &str,
        markers: &[(String, String)],
        at_ms: i64,
    ) -> Result<()>;

    /// The keys of every live resource of (account, kind), nothing else: what a sync
    /// keeps of zones it did not list again.
    async fn live_keys(&self, account: &str, kind: ResourceKind) -> Result<Vec<String>>;
}

#[async_trait]
impl ZoneMarkerStore for SqlStore {
    async fn zone_markers(&self, account: &str) -> Result<HashMap<String, String>> {
        sqlx::query("SELECT zone, marker FROM zone_markers WHERE account = $1 AND marker <> ''")
            .bind(account)
            .read_all(&self.pool, |r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .await
    }

    async fn put_zone_markers(
        &self,
        account: &str,
        markers: &[(String, String)],
        at_ms: i64,
    ) -> Result<()> {
        // One row per zone in a statement (PostgreSQL refuses to update a row twice in
        // one): the last given wins.
        let unique: HashMap<&str, &str> = markers
            .iter()
            .map(|(z, m)| (z.as_str(), m.as_str()))
            .collect();
        let unique: Vec<(&str, &str)> = unique.into_iter().collect();
        let mut tx = self.begin_write().await?;
        for chunk in unique.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 4;
                    format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
                })
                .collect();
            let sql = format!(
                "INSERT INTO zone_markers (account, zone, marker, at) VALUES {}
                 ON CONFLICT (account, zone) DO UPDATE SET marker = excluded.marker, at = excluded.at
                 WHERE zone_markers.at <= excluded.at",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for (zone, marker) in chunk {
                q = q
                    .bind(crate::sql::text(account).into_owned())
                    .bind(crate::sql::text(zone).into_owned())
                    .bind(crate::sql::text(marker).into_owned())
                    .bind(at_ms);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn live_keys(&self, account: &str, kind: ResourceKind) -> Result<Vec<String>> {
        sqlx::query(
            "SELECT rkey FROM resources WHERE account = $1 AND kind = $2 AND gone_at IS NULL",
        )
        .bind(crate::sql::text(account).into_owned())
        .bind(kind.as_str())
        .read_all(&self.pool, first_column)
        .await
    }
}
