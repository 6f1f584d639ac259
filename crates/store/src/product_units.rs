//! What a catalog product sells per unit beyond its base configuration (extra IPs,
//! bandwidth, defense): per unit, the most a holding may add and, for products priced
//! at a fixed monthly price, the fixed monthly price of one unit in fen. A unit's cost
//! is never stored: it is the upstream's quote, like the base's.

use crate::{Result, SqlStore, StoreError};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUnitRow {
    pub product_id: i64,
    /// `ip`, `bandwidth` or `defense` (the engine's `Unit`).
    pub unit: String,
    /// A fixed monthly price of one unit in fen; `None`: the product's markup on the
    /// upstream's cost of it.
    pub monthly_fen: Option<i64>,
    /// The most a holding may have beyond the base.
    pub max_extra: i64,
}

#[async_trait]
pub trait ProductUnitStore: Send + Sync {
    /// Replaces what `product_id` sells per unit, in one transaction (empty: nothing).
    async fn set_product_units(&self, product_id: i64, units: &[ProductUnitRow]) -> Result<()>;
    async fn product_units(&self, product_id: i64) -> Result<Vec<ProductUnitRow>>;
    /// Every product's units, by product id then unit.
    async fn all_product_units(&self) -> Result<Vec<ProductUnitRow>>;
}

const COLUMNS: &str = "product_id, unit, monthly_fen, max_extra";

fn unit_from(r: &AnyRow) -> Result<ProductUnitRow> {
    Ok(read_row!(r => ProductUnitRow { product_id, unit, monthly_fen, max_extra }))
}

#[async_trait]
impl ProductUnitStore for SqlStore {
    async fn set_product_units(&self, product_id: i64, units: &[ProductUnitRow]) -> Result<()> {
        for u in units {
            if u.product_id != product_id
                || u.max_extra < 0
                || u.monthly_fen.is_some_and(|f| f <= 0)
            {
                return Err(StoreError::Database(format!(
                    "product unit {} of product {product_id}: a positive price and a maximum of at least 0",
                    u.unit
                )));
            }
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM product_units WHERE product_id = $1")
            .bind(product_id)
            .execute(&mut *tx)
            .await?;
        for u in units {
            sqlx::query(
                "INSERT INTO product_units (product_id, unit, monthly_fen, max_extra) VALUES ($1, $2, $3, $4)",
            )
            .bind(product_id)
            .bind(&u.unit)
            .bind(u.monthly_fen)
            .bind(u.max_extra)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn product_units(&self, product_id: i64) -> Result<Vec<ProductUnitRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM product_units WHERE product_id = $1 ORDER BY unit");
        self.rows_for(&sql, product_id, unit_from).await
    }

    async fn all_product_units(&self) -> Result<Vec<ProductUnitRow>> {
        let sql =
            format!("SELECT {COLUMNS} FROM product_units WHERE $1 = 1 ORDER BY product_id, unit");
        self.rows_for(&sql, 1i64, unit_from).await
    }
}
