//! Resale's rows: tenants (downstream resellers), their deposits, and the product
//! catalog.
//!
//! A tenant's `appkey` is generated here, handed out once and kept only as a SHA-256
//! digest (it is 192 random bits, so a slow hash would add nothing). A tenant's money
//! is never a column: balances are sums of ledger entries, and a deposit is a ledger
//! transaction written in the same database transaction as the row that makes its
//! idempotency key used. A tenant that ever held money is never deleted, only removed
//! from selling; its name stays taken so its ledger accounts keep one owner.
//!
//! A product's price rule and purchase template are opaque JSON here; what they mean
//! (and what the upstream charges, which is never stored) is the engine's `catalog`.

use crate::crypto::{digest, random_hex};
use crate::orders::insert_transaction;
use crate::{first_column, kind_of, parsed, ReadRows, Result, SqlStore, StoreError, Table};
use async_trait::async_trait;
use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::ResourceKind;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Where a tenant stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    /// Reads and buys.
    Active,
    /// Reads, pays in, cannot buy.
    Suspended,
    /// No longer sells or buys; kept because its money and orders are history.
    Removed,
}

idcgate_core::word_enum!(TenantState {
    Active => "active",
    Suspended => "suspended",
    Removed => "removed",
});

impl TenantState {}

/// A tenant's secret. It exists in clear only between its creation and the moment it
/// is shown; it has no `Display` or `Serialize`, and its `Debug` shows nothing.
pub struct AppKey(String);

impl AppKey {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for AppKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppKey([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTenant {
    pub name: String,
    /// The price level its prices are taken at (`""`: the products' base rules).
    pub price_level: String,
    pub credit_limit_fen: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantRow {
    pub name: String,
    /// The tenant's user id in the Zonkvm dialect: digits, not secret.
    pub appid: String,
    pub state: TenantState,
    pub price_level: String,
    /// How far below zero its balance may go, in fen. A setting, not money.
    pub credit_limit_fen: i64,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl TenantRow {
    /// The ledger account holding the tenant's money.
    pub fn account(&self) -> LedgerAccount {
        LedgerAccount::Tenant(self.name.clone())
    }

    /// The ledger account of the tenant's credit line (negative: credit drawn).
    pub fn credit_account(&self) -> LedgerAccount {
        LedgerAccount::TenantCredit(self.name.clone())
    }
}

/// A change to a tenant's settings: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenantPatch {
    pub price_level: Option<String>,
    pub credit_limit_fen: Option<i64>,
}

/// What `remove_tenant` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// It never held money: the row is gone and the name free again.
    Deleted,
    /// It held money (or still does): marked removed, kept with its history.
    Retired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDeposit {
    /// The same key is the same deposit, once.
    pub idem_key: String,
    pub tenant: String,
    pub fen: i64,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepositRow {
    #[serde(flatten)]
    pub deposit: NewDeposit,
    /// The ledger transaction that moved the money.
    pub txn_id: i64,
    pub at_ms: i64,
}

/// `deposit`'s answer: money moved now, or the deposit made earlier under the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deposited {
    New(DepositRow),
    Existing(DepositRow),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductState {
    OnSale,
    /// No longer sold; kept because orders name it.
    Retired,
}

idcgate_core::word_enum!(ProductState {
    OnSale => "on_sale",
    Retired => "retired",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProduct {
    /// The product's handle (`cloud-2c4g`); unique, never reused.
    pub name: String,
    pub title: String,
    /// The upstream account that fulfils it.
    pub account: String,
    pub kind: ResourceKind,
    /// The upstream's offer code, as a purchase names it.
    pub offer: Option<String>,
    /// The purchase's options (vendor parameter names), never secrets.
    pub options: serde_json::Value,
    /// The price rule, as the engine's catalog writes it.
    pub rule: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductRow {
    /// A number for dialects that name products by id.
    pub id: i64,
    #[serde(flatten)]
    pub product: NewProduct,
    pub state: ProductState,
    pub created_ms: i64,
    pub updated_ms: i64,
}

#[async_trait]
pub trait ResaleStore: Send + Sync {
    /// Adds a tenant with a new appid and appkey; the key is returned here and never
    /// again. `Conflict` if the name was ever taken by a tenant still on record.
    async fn add_tenant(&self, tenant: &NewTenant, now_ms: i64) -> Result<(TenantRow, AppKey)>;
    async fn get_tenant(&self, name: &str) -> Result<Option<TenantRow>>;
    async fn tenant_by_appid(&self, appid: &str) -> Result<Option<TenantRow>>;
    /// The tenant whose appid and appkey these are, whatever its state (a suspended
    /// tenant still reads); `None` for any mismatch.
    async fn verify_tenant(&self, appid: &str, appkey: &str) -> Result<Option<TenantRow>>;
    async fn list_tenants(&self, include_removed: bool) -> Result<Vec<TenantRow>>;
    /// Changes settings of a tenant that is not removed; `None` if there is none.
    async fn update_tenant(
        &self,
        name: &str,
        patch: &TenantPatch,
        now_ms: i64,
    ) -> Result<Option<TenantRow>>;
    /// Moves a tenant from `from` to `to` by compare-and-set; `false` if it was not in
    /// `from`.
    async fn move_tenant(
        &self,
        name: &str,
        from: TenantState,
        to: TenantState,
        now_ms: i64,
    ) -> Result<bool>;
    /// A new appkey for a tenant that is not removed (the old one stops working).
    async fn rekey_tenant(&self, name: &str, now_ms: i64) -> Result<Option<AppKey>>;
    /// Deletes a tenant that never held money, else marks it removed. `None` if there
    /// is no such tenant (or it is removed already).
    async fn remove_tenant(&self, name: &str, now_ms: i64) -> Result<Option<Removal>>;
    /// Books `transaction` as the deposit `deposit`, unless its key was used before:
    /// then nothing is written and the earlier deposit is returned. Refused for a tenant
    /// that is unknown or removed.
    async fn deposit(
        &self,
        deposit: &NewDeposit,
        transaction: &Transaction,
        now_ms: i64,
    ) -> Result<Deposited>;
    async fn deposit_by_key(&self, idem_key: &str) -> Result<Option<DepositRow>>;
    async fn deposits(&self, tenant: &str) -> Result<Vec<DepositRow>>;
    /// One ledger account's balance in fen, summed from its entries.
    async fn account_balance(&self, account: &str) -> Result<i64>;

    /// `Conflict` if the name is taken (retired products keep theirs).
    async fn add_product(&self, product: &NewProduct, now_ms: i64) -> Result<ProductRow>;
    /// By name, or by id when `name_or_id` is all digits.
    async fn get_product(&self, name_or_id: &str) -> Result<Option<ProductRow>>;
    async fn list_products(&self, include_retired: bool) -> Result<Vec<ProductRow>>;
    /// Replaces a product's rule (and title, when given); `None` if no such product.
    async fn update_product(
        &self,
        name: &str,
        title: Option<&str>,
        rule: Option<&serde_json::Value>,
        now_ms: i64,
    ) -> Result<Option<ProductRow>>;
    /// `false` if there is no such product on sale.
    async fn retire_product(&self, name: &str, now_ms: i64) -> Result<bool>;
}

const TENANT_COLUMNS: &str =
    "name, appid, state, price_level, credit_limit_fen, created_at, updated_at";
const PRODUCT_COLUMNS: &str =
    "id, name, title, account, kind, offer, options, rule, state, created_at, updated_at";
const DEPOSIT_COLUMNS: &str = "idem_key, tenant, fen, actor, txn_id, at";

fn new_appkey() -> Result<AppKey> {
    Ok(AppKey(random_hex::<24>("a tenant key")?))
}

/// Eight digits, never starting with 0: the Zonkvm dialect's appid is a user id.
fn new_appid() -> Result<String> {
    let n = u64::from_le_bytes(crate::crypto::random_bytes::<8>("a tenant appid")?);
    Ok((10_000_000 + n % 90_000_000).to_string())
}

const TENANTS: Table<TenantRow> = Table::new("tenants", TENANT_COLUMNS, tenant_from);
const DEPOSITS: Table<DepositRow> = Table::new("tenant_deposits", DEPOSIT_COLUMNS, deposit_from);
const PRODUCTS: Table<ProductRow> = Table::new("products", PRODUCT_COLUMNS, product_from);

fn tenant_from(r: &AnyRow) -> Result<TenantRow> {
    let state: String = r.try_get("state")?;
    Ok(read_row!(r => TenantRow {
        name,
        appid,
        state = parsed(TenantState::from_word, "tenant state", &state)?,
        price_level,
        credit_limit_fen,
        created_ms: "created_at",
        updated_ms: "updated_at",
    }))
}

fn deposit_from(r: &AnyRow) -> Result<DepositRow> {
    Ok(read_row!(r => DepositRow {
        deposit = read_row!(r => NewDeposit { idem_key, tenant, fen, actor }),
        txn_id,
        at_ms: "at",
    }))
}

fn product_from(r: &AnyRow) -> Result<ProductRow> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let json = |col: &str| -> Result<serde_json::Value> {
        let text: String = r.try_get(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("product {col}: {e}")))
    };
    Ok(read_row!(r => ProductRow {
        id,
        product = read_row!(r => NewProduct {
            name,
            title,
            account,
            kind = kind_of("product", &kind)?,
            offer,
            options = json("options")?,
            rule = json("rule")?,
        }),
        state = parsed(ProductState::from_word, "product state", &state)?,
        created_ms: "created_at",
        updated_ms: "updated_at",
    }))
}

fn to_text(v: &serde_json::Value) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("product json: {e}")))
}

impl SqlStore {
    async fn tenant_where(&self, column: &str, value: &str) -> Result<Option<TenantRow>> {
        self.row_by(&TENANTS, column, value).await
    }
}

#[async_trait]
impl ResaleStore for SqlStore {
    async fn add_tenant(&self, t: &NewTenant, now_ms: i64) -> Result<(TenantRow, AppKey)> {
        let key = new_appkey()?;
        // An appid drawn twice is drawn again; a name taken is the caller's conflict.
        for _ in 0..16 {
            let appid = new_appid()?;
            let inserted = sqlx::query(
                "INSERT INTO tenants (name, appid, appkey_hash, state, price_level, credit_limit_fen, created_at, updated_at)
                 VALUES ($1, $2, $3, 'active', $4, $5, $6, $6) ON CONFLICT DO NOTHING",
            )
            .bind(&t.name)
            .bind(&appid)
            .bind(digest(key.expose()))
            .bind(&t.price_level)
            .bind(t.credit_limit_fen)
            .bind(now_ms)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if inserted == 1 {
                let row = self
                    .get_tenant(&t.name)
                    .await?
                    .ok_or_else(|| StoreError::Database("tenant vanished after insert".into()))?;
                return Ok((row, key));
            }
            if self.get_tenant(&t.name).await?.is_some() {
                return Err(StoreError::Conflict(format!("tenant {}", t.name)));
            }
        }
        Err(StoreError::Database(
            "could not draw an unused appid".into(),
        ))
    }

    async fn get_tenant(&self, name: &str) -> Result<Option<TenantRow>> {
        self.tenant_where("name", name).await
    }

    async fn tenant_by_appid(&self, appid: &str) -> Result<Option<TenantRow>> {
        self.tenant_where("appid", appid).await
    }

    async fn verify_tenant(&self, appid: &str, appkey: &str) -> Result<Option<TenantRow>> {
        sqlx::query(&format!(
            "SELECT {TENANT_COLUMNS}, appkey_hash FROM tenants WHERE appid = $1"
        ))
        .bind(appid)
        .read_verified(&self.pool, "appkey_hash", appkey, tenant_from)
        .await
    }

    async fn list_tenants(&self, include_removed: bool) -> Result<Vec<TenantRow>> {
        let sql = format!(
            "SELECT {TENANT_COLUMNS} FROM tenants WHERE ($1 = 1 OR state <> 'removed') ORDER BY name"
        );
        self.rows_for(&sql, i64::from(include_removed), tenant_from)
            .await
    }

    async fn update_tenant(
        &self,
        name: &str,
        patch: &TenantPatch,
        now_ms: i64,
    ) -> Result<Option<TenantRow>> {
        let done = sqlx::query(
            "UPDATE tenants SET price_level = COALESCE($2, price_level),
                credit_limit_fen = COALESCE($3, credit_limit_fen), updated_at = $4
             WHERE name = $1 AND state <> 'removed'",
        )
        .bind(name)
        .bind(patch.price_level.as_deref())
        .bind(patch.credit_limit_fen)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_tenant(name).await
    }

    async fn move_tenant(
        &self,
        name: &str,
        from: TenantState,
        to: TenantState,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tenants SET state = $3, updated_at = $4 WHERE name = $1 AND state = $2",
        )
        .bind(name)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn rekey_tenant(&self, name: &str, now_ms: i64) -> Result<Option<AppKey>> {
        let key = new_appkey()?;
        let done = sqlx::query(
            "UPDATE tenants SET appkey_hash = $2, updated_at = $3 WHERE name = $1 AND state <> 'removed'",
        )
        .bind(name)
        .bind(digest(key.expose()))
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(key))
    }

    async fn remove_tenant(&self, name: &str, now_ms: i64) -> Result<Option<Removal>> {
        let mut tx = self.begin_write().await?;
        let live = sqlx::query("SELECT state FROM tenants WHERE name = $1 AND state <> 'removed'")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if live.is_none() {
            tx.rollback().await?;
            return Ok(None);
        }
        // Any ledger line on its accounts (a deposit, a charge, credit drawn) is money
        // it held: that history keeps the tenant, and its name, on record.
        let held =
            sqlx::query("SELECT 1 FROM ledger_entries WHERE account = $1 OR account = $2 LIMIT 1")
                .bind(LedgerAccount::Tenant(name.to_string()).to_string())
                .bind(LedgerAccount::TenantCredit(name.to_string()).to_string())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        let deposited = sqlx::query("SELECT 1 FROM tenant_deposits WHERE tenant = $1 LIMIT 1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        let removal = if held || deposited {
            sqlx::query("UPDATE tenants SET state = 'removed', updated_at = $2 WHERE name = $1")
                .bind(name)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            Removal::Retired
        } else {
            sqlx::query("DELETE FROM tenants WHERE name = $1")
                .bind(name)
                .execute(&mut *tx)
                .await?;
            Removal::Deleted
        };
        tx.commit().await?;
        Ok(Some(removal))
    }

    async fn deposit(&self, d: &NewDeposit, t: &Transaction, now_ms: i64) -> Result<Deposited> {
        let mut tx = self.begin_write().await?;
        let state = sqlx::query("SELECT state FROM tenants WHERE name = $1")
            .bind(&d.tenant)
            .fetch_optional(&mut *tx)
            .await?;
        let earlier = sqlx::query(&format!(
            "SELECT {DEPOSIT_COLUMNS} FROM tenant_deposits WHERE idem_key = $1"
        ))
        .bind(&d.idem_key)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(r) = earlier {
            tx.rollback().await?;
            return Ok(Deposited::Existing(deposit_from(&r)?));
        }
        match state.map(|r| r.try_get::<String, _>(0)).transpose()? {
            None => {
                tx.rollback().await?;
                return Err(StoreError::NotFound(format!("tenant {}", d.tenant)));
            }
            Some(s) if s == TenantState::Removed.as_str() => {
                tx.rollback().await?;
                return Err(StoreError::Conflict(format!(
                    "tenant {} is removed; it takes no deposits",
                    d.tenant
                )));
            }
            Some(_) => {}
        }
        let txn_id = insert_transaction(&mut tx, t, now_ms).await?;
        // DO NOTHING: of two deposits racing on one key, the second finds the first's
        // row here (PostgreSQL waits for it to commit) and writes nothing at all.
        let inserted = sqlx::query(
            "INSERT INTO tenant_deposits (idem_key, tenant, fen, actor, txn_id, at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idem_key) DO NOTHING",
        )
        .bind(&d.idem_key)
        .bind(&d.tenant)
        .bind(d.fen)
        .bind(&d.actor)
        .bind(txn_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            let earlier = self.deposit_by_key(&d.idem_key).await?.ok_or_else(|| {
                StoreError::Database("a deposit key in use but not readable".into())
            })?;
            return Ok(Deposited::Existing(earlier));
        }
        tx.commit().await?;
        Ok(Deposited::New(DepositRow {
            deposit: d.clone(),
            txn_id,
            at_ms: now_ms,
        }))
    }

    async fn deposit_by_key(&self, idem_key: &str) -> Result<Option<DepositRow>> {
        self.row_by(&DEPOSITS, "idem_key", idem_key).await
    }

    async fn deposits(&self, tenant: &str) -> Result<Vec<DepositRow>> {
        let sql = format!(
            "SELECT {DEPOSIT_COLUMNS} FROM tenant_deposits WHERE tenant = $1 ORDER BY at, txn_id"
        );
        self.rows_for(&sql, tenant, deposit_from).await
    }

    async fn account_balance(&self, account: &str) -> Result<i64> {
        // CAST: PostgreSQL sums BIGINT into NUMERIC, which the Any driver cannot read.
        sqlx::query(
            "SELECT CAST(COALESCE(SUM(fen), 0) AS BIGINT) FROM ledger_entries WHERE account = $1",
        )
        .bind(account)
        .read_one(&self.pool, first_column)
        .await
    }

    async fn add_product(&self, p: &NewProduct, now_ms: i64) -> Result<ProductRow> {
        let inserted = sqlx::query(
            "INSERT INTO products (name, title, account, kind, offer, options, rule, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'on_sale', $8, $8) ON CONFLICT (name) DO NOTHING",
        )
        .bind(&p.name)
        .bind(&p.title)
        .bind(&p.account)
        .bind(p.kind.as_str())
        .bind(p.offer.as_deref())
        .bind(to_text(&p.options)?)
        .bind(to_text(&p.rule)?)
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("product {}", p.name)));
        }
        self.get_product(&p.name)
            .await?
            .ok_or_else(|| StoreError::Database("product vanished after insert".into()))
    }

    async fn get_product(&self, name_or_id: &str) -> Result<Option<ProductRow>> {
        let by_id = name_or_id
            .bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| name_or_id.parse::<i64>().ok())
            .flatten();
        match by_id {
            Some(id) => self.row_by(&PRODUCTS, "id", id).await,
            None => self.row_by(&PRODUCTS, "name", name_or_id).await,
        }
    }

    async fn list_products(&self, include_retired: bool) -> Result<Vec<ProductRow>> {
        let sql = format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE ($1 = 1 OR state = 'on_sale') ORDER BY id"
        );
        self.rows_for(&sql, i64::from(include_retired), product_from)
            .await
    }

    async fn update_product(
        &self,
        name: &str,
        title: Option<&str>,
        rule: Option<&serde_json::Value>,
        now_ms: i64,
    ) -> Result<Option<ProductRow>> {
        let rule = rule.map(to_text).transpose()?;
        let done = sqlx::query(
            "UPDATE products SET title = COALESCE($2, title), rule = COALESCE($3, rule), updated_at = $4
             WHERE name = $1",
        )
        .bind(name)
        .bind(title)
        .bind(rule)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get_product(name).await
    }

    async fn retire_product(&self, name: &str, now_ms: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE products SET state = 'retired', updated_at = $2 WHERE name = $1 AND state = 'on_sale'",
        )
        .bind(name)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
