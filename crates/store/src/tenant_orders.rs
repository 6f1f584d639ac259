//! What tenants bought through the downstream endpoint, and every movement of their
//! money for it.
//!
//! A tenant order is the downstream's view of one service: its id is the guid the
//! tenant acts on. Each charge (a purchase, a renewal) and each return (a refund, the
//! money of an order the upstream refused) is a `tenant_charges` row written in the
//! same transaction as its ledger lines, so the tenant's balance and the order's money
//! never disagree. A charge's key is also the idempotency key of the upstream journal
//! order it pays for: the margin of a tenant order is its charges minus what those
//! upstream orders cost, read from the books.
//!
//! A charge is checked against what the tenant may spend (balance + credit limit −
//! credit drawn) inside its write transaction, with the tenant's row locked, so two
//! purchases at once can never both spend the same money.

use crate::migrations::Dialect;
use crate::orders::insert_transaction;
use crate::sql::with_texts;
use crate::{first_column, kind_of, parsed, ReadRows, Result, SqlStore, StoreError, Table};
use async_trait::async_trait;
use idcgate_core::ledger::{Entry, LedgerAccount, Transaction};
use idcgate_core::ResourceKind;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantOrderState {
    /// Paid for; the upstream order is being placed (or its answer was lost).
    Pending,
    /// The upstream delivered.
    Active,
    /// The upstream refused; the money went back.
    Failed,
    /// Given back before its end; the unused value went back.
    Refunded,
}

idcgate_core::word_enum!(TenantOrderState {
    Pending => "pending",
    Active => "active",
    Failed => "failed",
    Refunded => "refunded",
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTenantOrder {
    pub tenant: String,
    /// The tenant's `order_id` (namespaced by tenant) or one we drew: the same key is
    /// the same order, charged once.
    pub idem_key: String,
    pub product: String,
    pub kind: ResourceKind,
    /// The upstream account that fulfils it.
    pub account: String,
    pub months: i64,
    pub client_order_id: String,
    pub client_user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantOrderRow {
    pub id: i64,
    #[serde(flatten)]
    pub order: NewTenantOrder,
    pub state: TenantOrderState,
    /// The upstream's id of the resource, once delivered.
    pub resource: Option<String>,
    pub expires_ms: Option<i64>,
    /// The last thing that happened to it, for people.
    pub detail: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A movement of a tenant order's money: `fen` > 0 charged to the tenant, < 0 given
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewCharge {
    /// Unique: the same key is the same charge. For a purchase or a renewal it is also
    /// the key of the upstream journal order it pays for.
    pub idem_key: String,
    /// `create`, `renew`, `refund`, `return` (an upstream refusal).
    pub what: String,
    pub fen: i64,
    pub months: i64,
    pub memo: String,
}

/// What a renewal or upgrade of a tenant order was priced from: its end and product.
/// Another follow-up settled since (a renewal moved the end, an upgrade the product)
/// makes that price wrong, so its charge is refused, not booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedAs<'a> {
    pub expires_ms: Option<i64>,
    pub product: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantCharge {
    pub id: i64,
    pub tenant_order_id: i64,
    pub idem_key: String,
    pub what: String,
    pub fen: i64,
    pub months: i64,
    pub txn_id: i64,
    pub at_ms: i64,
}

/// Opening a tenant order: done, found under its key, or refused for want of money.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    New(TenantOrderRow),
    Existing(TenantOrderRow),
    /// What the tenant may spend now, less than the charge: nothing was written.
    Short {
        available_fen: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charged {
    New(TenantCharge),
    Existing(TenantCharge),
    Short {
        available_fen: i64,
    },
    /// Another charge of the order is still being placed (charged, not given back, its
    /// journal order absent or not settled): nothing written.
    Busy,
}

/// A state move of a tenant order, with what was learnt.
#[derive(Debug, Clone, Default)]
pub struct TenantOrderPatch<'a> {
    pub resource: Option<&'a str>,
    /// The product it now is (an upgrade moves it to another).
    pub product: Option<&'a str>,
    pub expires_ms: Option<i64>,
    pub months: Option<i64>,
    pub detail: Option<&'a str>,
}

#[derive(Debug, Clone, Default)]
pub struct TenantOrderFilter {
    pub tenant: Option<String>,
    pub kind: Option<ResourceKind>,
    pub state: Option<TenantOrderState>,
    /// Only orders with an id above (paging).
    pub after_id: Option<i64>,
    pub offset: Option<i64>,
    pub limit: Option<i64>,
}

impl TenantOrderFilter {
    /// The WHERE clause with only the conditions given (a planner cannot use an index
    /// through `$1 IS NULL OR tenant = $1`), and its values in order.
    fn clause(&self) -> (String, Vec<String>) {
        let mut conds = Vec::new();
        let mut values = Vec::new();
        let mut add = |col: &str, v: String| {
            values.push(v);
            conds.push(format!("{col} = ${}", values.len()));
        };
        if let Some(t) = &self.tenant {
            add("tenant", t.clone());
        }
        if let Some(k) = self.kind {
            add("kind", k.as_str().to_string());
        }
        if let Some(s) = self.state {
            add("state", s.as_str().to_string());
        }
        let mut sql = if conds.is_empty() {
            "WHERE 1 = 1".to_string()
        } else {
            format!("WHERE {}", conds.join(" AND "))
        };
        if let Some(after) = self.after_id {
            sql.push_str(&format!(" AND id > {after}"));
        }
        (sql, values)
    }
}

/// Per product: what tenants paid net of what went back, and what the upstream orders
/// those charges paid for cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarginRow {
    pub tenant: String,
    pub product: String,
    pub orders: i64,
    pub revenue_fen: i64,
    pub cost_fen: i64,
}

#[async_trait]
pub trait TenantOrderStore: Send + Sync {
    /// Writes the order (`pending`) and its first charge with their ledger lines, if the
    /// tenant is active and may spend `charge.fen`; the same key again returns the first
    /// order and charges nothing. `Conflict` for a tenant that is not active.
    async fn open_tenant_order(
        &self,
        order: &NewTenantOrder,
        charge: &NewCharge,
        now_ms: i64,
    ) -> Result<Opened>;
    /// Writes an order the tenant got with nothing to pay (a hosting plan's bundled
    /// database): `active` at once, holding `resource` until `expires_ms`, with no
    /// charge and no ledger line. The same key again returns the first order and
    /// writes nothing. `Conflict` for a tenant that is not active.
    async fn open_free_tenant_order(
        &self,
        order: &NewTenantOrder,
        resource: &str,
        expires_ms: Option<i64>,
        detail: &str,
        now_ms: i64,
    ) -> Result<Opened>;
    /// Books one more charge (`fen` > 0: needs an active tenant with the money, and no
    /// other charge of the order still being placed, `Busy`) or return (`fen` < 0:
    /// repays drawn credit first) on an order; once per key. A charge `priced` from the
    /// order as it was is `Busy` too unless the order is still so, and active.
    async fn charge_tenant_order(
        &self,
        id: i64,
        charge: &NewCharge,
        priced: Option<&PricedAs<'_>>,
        now_ms: i64,
    ) -> Result<Charged>;
    /// Settles a refund the upstream has made, in one transaction: the order moves
    /// from `active` to `refunded`, what the upstream gave back is booked (`upstream`:
    /// the journal order at the negative amount, the amount, when it was sent; once by
    /// its key) and what goes back to the tenant is returned (`back`, `fen` < 0).
    /// `false`, with nothing written, when the order was no longer active.
    async fn refund_tenant_order(
        &self,
        id: i64,
        upstream: Option<(&crate::NewOrder, i64, i64)>,
        back: Option<&NewCharge>,
        detail: &str,
        now_ms: i64,
    ) -> Result<bool>;
    /// Moves an order by compare-and-set; `false` if it was no longer in `from`.
    async fn move_tenant_order(
        &self,
        id: i64,
        from: TenantOrderState,
        to: TenantOrderState,
        patch: &TenantOrderPatch<'_>,
        now_ms: i64,
    ) -> Result<bool>;
    async fn get_tenant_order(&self, id: i64) -> Result<Option<TenantOrderRow>>;
    async fn tenant_order_by_key(&self, idem_key: &str) -> Result<Option<TenantOrderRow>>;
    async fn list_tenant_orders(&self, filter: &TenantOrderFilter) -> Result<Vec<TenantOrderRow>>;
    /// How many orders `filter` matches (its offset and limit aside).
    async fn count_tenant_orders(&self, filter: &TenantOrderFilter) -> Result<i64>;
    /// A page of what `filter` matches and how many it matches in all (its offset and
    /// limit aside): one statement when the page holds a row.
    async fn page_tenant_orders(
        &self,
        filter: &TenantOrderFilter,
    ) -> Result<(Vec<TenantOrderRow>, i64)>;
    async fn tenant_order_charges(&self, id: i64) -> Result<Vec<TenantCharge>>;
    /// The stored purchases (journal `params`) that the positive charges of
    /// `tenant_orders` paid for and the journal saw succeed, each with its tenant
    /// order, in the order they were charged: what a page of holdings sums its units
    /// from in one read (at most 1000 orders at once).
    async fn paid_purchases(&self, tenant_orders: &[i64]) -> Result<Vec<(i64, serde_json::Value)>>;
    /// Every charge and return of one tenant's orders, oldest first.
    async fn tenant_charges(&self, tenant: &str) -> Result<Vec<TenantCharge>>;
    /// Margins per tenant and product (`tenant` to keep to one).
    async fn margins(&self, tenant: Option<&str>) -> Result<Vec<MarginRow>>;
}

const ORDER_COLUMNS: &str = "id, tenant, idem_key, product, kind, account, months, state, client_order_id, client_user_id, resource, expires_at, detail, created_at, updated_at";
const CHARGE_COLUMNS: &str = "id, tenant_order_id, idem_key, what, fen, months, txn_id, at";

const ORDERS: Table<TenantOrderRow> = Table::new("tenant_orders", ORDER_COLUMNS, order_from);
const CHARGES: Table<TenantCharge> = Table::new("tenant_charges", CHARGE_COLUMNS, charge_from);

fn order_from(r: &AnyRow) -> Result<TenantOrderRow> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    Ok(read_row!(r => TenantOrderRow {
        id,
        order = read_row!(r => NewTenantOrder {
            tenant,
            idem_key,
            product,
            kind = kind_of("tenant order", &kind)?,
            account,
            months,
            client_order_id,
            client_user_id,
        }),
        state = parsed(TenantOrderState::from_word, "tenant order state", &state)?,
        resource,
        expires_ms: "expires_at",
        detail,
        created_ms: "created_at",
        updated_ms: "updated_at",
    }))
}

fn charge_from(r: &AnyRow) -> Result<TenantCharge> {
    Ok(read_row!(r => TenantCharge {
        id, tenant_order_id, idem_key, what, fen, months, txn_id, at_ms: "at",
    }))
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

async fn balance_in(tx: &mut Tx, account: &LedgerAccount) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(fen), 0) AS BIGINT) FROM ledger_entries WHERE account = $1",
    )
    .bind(account.to_string())
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get(0)?)
}

/// The tenant's state and credit limit, its row locked until the transaction ends
/// (SQLite's `BEGIN IMMEDIATE` already holds the database's one write lock).
async fn lock_tenant(tx: &mut Tx, dialect: Dialect, name: &str) -> Result<(String, i64)> {
    let sql = match dialect {
        Dialect::Sqlite => "SELECT state, credit_limit_fen FROM tenants WHERE name = $1",
        Dialect::Postgres => {
            "SELECT state, credit_limit_fen FROM tenants WHERE name = $1 FOR UPDATE"
        }
    };
    let row = sqlx::query(sql)
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("tenant {name}")))?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// Whether tenant order `id` is active with the end and product it was priced from.
async fn still_as_priced(tx: &mut Tx, id: i64, p: &PricedAs<'_>) -> Result<bool> {
    let row = sqlx::query("SELECT state, expires_at, product FROM tenant_orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(false) };
    let state: String = row.try_get(0)?;
    let expires: Option<i64> = row.try_get(1)?;
    let product: String = row.try_get(2)?;
    Ok(state == TenantOrderState::Active.as_str()
        && expires == p.expires_ms
        && product == p.product)
}

/// Whether a charge of tenant order `id` is still being placed: paid, not given back,
/// and its journal order (under the charge's key) absent or not yet settled.
async fn charge_in_flight(tx: &mut Tx, id: i64) -> Result<bool> {
    let open: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM tenant_charges c
         LEFT JOIN orders o ON o.idem_key = c.idem_key
         WHERE c.tenant_order_id = $1 AND c.fen > 0
           AND (o.state IS NULL OR o.state IN ('pending', 'submitted', 'unknown'))
           AND NOT EXISTS (
               SELECT 1 FROM tenant_charges r WHERE r.idem_key = c.idem_key || ':return'
           )",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    Ok(open > 0)
}

/// A write transaction with the ledger lines of a charge on `tenant`'s money, or (the
/// transaction rolled back, nothing written) what the tenant has available when short.
async fn begin_charge(
    store: &SqlStore,
    tenant: &str,
    kind: ResourceKind,
    fen: i64,
) -> Result<std::result::Result<(Tx, Vec<Entry>), i64>> {
    let mut tx = store.begin_write().await?;
    match money_lines(&mut tx, store.dialect, tenant, kind, fen).await {
        Ok(Ok(lines)) => Ok(Ok((tx, lines))),
        Ok(Err(available_fen)) => {
            tx.rollback().await?;
            Ok(Err(available_fen))
        }
        Err(e) => {
            tx.rollback().await?;
            Err(e)
        }
    }
}

/// The ledger lines of a charge (`fen` > 0) or return (`fen` < 0) on `tenant`'s money:
/// a charge spends the balance first and then draws credit; a return repays drawn
/// credit first, as a top-up does. `None` when a charge exceeds what may be spent.
async fn money_lines(
    tx: &mut Tx,
    dialect: Dialect,
    tenant: &str,
    kind: ResourceKind,
    fen: i64,
) -> Result<std::result::Result<Vec<Entry>, i64>> {
    let (state, limit) = lock_tenant(tx, dialect, tenant).await?;
    let own = LedgerAccount::Tenant(tenant.to_string());
    let credit = LedgerAccount::TenantCredit(tenant.to_string());
    let revenue = LedgerAccount::Revenue(kind.as_str().to_string());
    let balance = balance_in(tx, &own).await?;
    let drawn = -balance_in(tx, &credit).await?;
    let mut lines = Vec::new();
    if fen > 0 {
        if state != "active" {
            return Err(StoreError::Conflict(format!(
                "tenant {tenant} is {state}; it cannot buy"
            )));
        }
        let available = balance.saturating_add(limit).saturating_sub(drawn).max(0);
        if fen > available {
            return Ok(Err(available));
        }
        let from_balance = fen.min(balance.max(0));
        if from_balance > 0 {
            lines.push(Entry {
                account: own,
                fen: -from_balance,
            });
        }
        if fen > from_balance {
            lines.push(Entry {
                account: credit,
                fen: -(fen - from_balance),
            });
        }
        lines.push(Entry {
            account: revenue,
            fen,
        });
    } else {
        let back = -fen;
        let repay = drawn.clamp(0, back);
        lines.push(Entry {
            account: revenue,
            fen: -back,
        });
        if repay > 0 {
            lines.push(Entry {
                account: credit,
                fen: repay,
            });
        }
        if back > repay {
            lines.push(Entry {
                account: own,
                fen: back - repay,
            });
        }
    }
    Ok(Ok(lines))
}

fn txn(charge: &NewCharge, lines: Vec<Entry>) -> Result<Transaction> {
    Transaction::new(charge.memo.clone(), None, lines)
        .map_err(|e| StoreError::Database(format!("tenant charge: {e}")))
}

fn key_taken(charge: &NewCharge) -> StoreError {
    StoreError::Conflict(format!("tenant charge key {}", charge.idem_key))
}

/// Writes a charge with its ledger lines inside `tx`; `false` when its key is taken
/// (the caller rolls back: the ledger lines must not stand alone).
async fn write_charge(
    tx: &mut Tx,
    order_id: i64,
    charge: &NewCharge,
    lines: Vec<Entry>,
    now_ms: i64,
) -> Result<bool> {
    let txn_id = insert_transaction(tx, &txn(charge, lines)?, now_ms).await?;
    insert_charge(tx, order_id, charge, txn_id, now_ms).await
}

async fn insert_charge(
    tx: &mut Tx,
    order_id: i64,
    charge: &NewCharge,
    txn_id: i64,
    now_ms: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO tenant_charges (tenant_order_id, idem_key, what, fen, months, txn_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (idem_key) DO NOTHING",
    )
    .bind(order_id)
    .bind(&charge.idem_key)
    .bind(&charge.what)
    .bind(charge.fen)
    .bind(charge.months)
    .bind(txn_id)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// How a new tenant order starts.
struct Held<'a> {
    state: TenantOrderState,
    resource: Option<&'a str>,
    expires_ms: Option<i64>,
    detail: &'a str,
}

/// Inserts a tenant order inside `tx`; `None` when its key is taken (DO NOTHING: of
/// two opens racing on one key, the second writes nothing at all).
async fn insert_order(
    tx: &mut Tx,
    o: &NewTenantOrder,
    held: &Held<'_>,
    now_ms: i64,
) -> Result<Option<i64>> {
    let inserted = sqlx::query(
        "INSERT INTO tenant_orders (tenant, idem_key, product, kind, account, months, state, client_order_id, client_user_id, resource, expires_at, detail, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
         ON CONFLICT (idem_key) DO NOTHING RETURNING id",
    )
    .bind(&o.tenant)
    .bind(&o.idem_key)
    .bind(&o.product)
    .bind(o.kind.as_str())
    .bind(&o.account)
    .bind(o.months)
    .bind(held.state.as_str())
    .bind(&o.client_order_id)
    .bind(&o.client_user_id)
    .bind(held.resource)
    .bind(held.expires_ms)
    .bind(held.detail)
    .bind(now_ms)
    .fetch_optional(&mut **tx)
    .await?;
    inserted
        .map(|r| r.try_get(0))
        .transpose()
        .map_err(Into::into)
}

impl SqlStore {
    async fn charge_by_key(&self, key: &str) -> Result<Option<TenantCharge>> {
        self.row_by(&CHARGES, "idem_key", key).await
    }
}

#[async_trait]
impl TenantOrderStore for SqlStore {
    async fn open_tenant_order(
        &self,
        o: &NewTenantOrder,
        charge: &NewCharge,
        now_ms: i64,
    ) -> Result<Opened> {
        if charge.fen <= 0 {
            return Err(StoreError::Database(
                "a tenant order opens with a positive charge".into(),
            ));
        }
        if let Some(existing) = self.tenant_order_by_key(&o.idem_key).await? {
            return Ok(Opened::Existing(existing));
        }
        let (mut tx, lines) = match begin_charge(self, &o.tenant, o.kind, charge.fen).await? {
            Ok(paid) => paid,
            Err(available_fen) => return Ok(Opened::Short { available_fen }),
        };
        let placing = Held {
            state: TenantOrderState::Pending,
            resource: None,
            expires_ms: None,
            detail: "paid; placing the upstream order",
        };
        let inserted = insert_order(&mut tx, o, &placing, now_ms).await?;
        let Some(id) = inserted else {
            tx.rollback().await?;
            let existing = self
                .tenant_order_by_key(&o.idem_key)
                .await?
                .ok_or_else(|| {
                    StoreError::Database("a tenant order key in use but not readable".into())
                })?;
            return Ok(Opened::Existing(existing));
        };
        if !write_charge(&mut tx, id, charge, lines, now_ms).await? {
            tx.rollback().await?;
            return Err(key_taken(charge));
        }
        tx.commit().await?;
        let row = self
            .get_tenant_order(id)
            .await?
            .ok_or_else(|| StoreError::Database("tenant order vanished after insert".into()))?;
        Ok(Opened::New(row))
    }

    async fn open_free_tenant_order(
        &self,
        o: &NewTenantOrder,
        resource: &str,
        expires_ms: Option<i64>,
        detail: &str,
        now_ms: i64,
    ) -> Result<Opened> {
        if let Some(existing) = self.tenant_order_by_key(&o.idem_key).await? {
            return Ok(Opened::Existing(existing));
        }
        let mut tx = self.begin_write().await?;
        // The tenant's row locked as a purchase locks it: a tenant suspended or removed
        // meanwhile gets nothing.
        let (state, _) = match lock_tenant(&mut tx, self.dialect, &o.tenant).await {
            Ok(t) => t,
            Err(e) => {
                tx.rollback().await?;
                return Err(e);
            }
        };
        if state != "active" {
            tx.rollback().await?;
            return Err(StoreError::Conflict(format!(
                "tenant {} is {state}; it cannot take an order",
                o.tenant
            )));
        }
        let held = Held {
            state: TenantOrderState::Active,
            resource: Some(resource),
            expires_ms,
            detail,
        };
        let inserted = insert_order(&mut tx, o, &held, now_ms).await?;
        tx.commit().await?;
        let row = match inserted {
            Some(id) => self.get_tenant_order(id).await?.map(Opened::New),
            None => self
                .tenant_order_by_key(&o.idem_key)
                .await?
                .map(Opened::Existing),
        };
        row.ok_or_else(|| StoreError::Database("a free tenant order not readable".into()))
    }

    async fn charge_tenant_order(
        &self,
        id: i64,
        charge: &NewCharge,
        priced: Option<&PricedAs<'_>>,
        now_ms: i64,
    ) -> Result<Charged> {
        if charge.fen == 0 {
            return Err(StoreError::Database("a tenant charge of zero".into()));
        }
        if let Some(earlier) = self.charge_by_key(&charge.idem_key).await? {
            return Ok(Charged::Existing(earlier));
        }
        let order = self
            .get_tenant_order(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tenant order {id}")))?;
        let (mut tx, lines) =
            match begin_charge(self, &order.order.tenant, order.order.kind, charge.fen).await? {
                Ok(paid) => paid,
                Err(available_fen) => return Ok(Charged::Short { available_fen }),
            };
        // One follow-up of an order at a time, under the tenant's lock that every charge
        // takes: each is priced from the order as it stood (its end, its product), so an
        // upgrade placed while a renewal moves the end was charged for the old term.
        let moved = match priced {
            Some(p) => !still_as_priced(&mut tx, id, p).await?,
            None => false,
        };
        if moved || (charge.fen > 0 && charge_in_flight(&mut tx, id).await?) {
            tx.rollback().await?;
            return Ok(Charged::Busy);
        }
        if !write_charge(&mut tx, id, charge, lines, now_ms).await? {
            tx.rollback().await?;
            let earlier = self.charge_by_key(&charge.idem_key).await?.ok_or_else(|| {
                StoreError::Database("a tenant charge key in use but not readable".into())
            })?;
            return Ok(Charged::Existing(earlier));
        }
        tx.commit().await?;
        let done = self
            .charge_by_key(&charge.idem_key)
            .await?
            .ok_or_else(|| StoreError::Database("tenant charge vanished after insert".into()))?;
        Ok(Charged::New(done))
    }

    async fn refund_tenant_order(
        &self,
        id: i64,
        upstream: Option<(&crate::NewOrder, i64, i64)>,
        back: Option<&NewCharge>,
        detail: &str,
        now_ms: i64,
    ) -> Result<bool> {
        if back.is_some_and(|b| b.fen >= 0) {
            return Err(StoreError::Database(
                "a refund gives back a negative charge".into(),
            ));
        }
        let order = self
            .get_tenant_order(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tenant order {id}")))?;
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE tenant_orders SET state = $1, detail = $2, updated_at = $3
             WHERE id = $4 AND state = $5",
        )
        .bind(TenantOrderState::Refunded.as_str())
        .bind(detail)
        .bind(now_ms)
        .bind(id)
        .bind(TenantOrderState::Active.as_str())
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some((o, fen, sent_ms)) = upstream {
            crate::orders::book_return_in(&mut tx, o, fen, sent_ms).await?;
        }
        if let Some(charge) = back {
            let lines = match money_lines(
                &mut tx,
                self.dialect,
                &order.order.tenant,
                order.order.kind,
                charge.fen,
            )
            .await?
            {
                Ok(lines) => lines,
                // A return never needs money; this cannot be reached.
                Err(_) => {
                    tx.rollback().await?;
                    return Err(StoreError::Database("a return refused for money".into()));
                }
            };
            if !write_charge(&mut tx, id, charge, lines, now_ms).await? {
                tx.rollback().await?;
                return Err(key_taken(charge));
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn move_tenant_order(
        &self,
        id: i64,
        from: TenantOrderState,
        to: TenantOrderState,
        p: &TenantOrderPatch<'_>,
        now_ms: i64,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE tenant_orders SET state = $3, resource = COALESCE($4, resource),
                expires_at = COALESCE($5, expires_at), months = COALESCE($6, months),
                detail = COALESCE($7, detail), updated_at = $8, product = COALESCE($9, product)
             WHERE id = $1 AND state = $2",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(p.resource)
        .bind(p.expires_ms)
        .bind(p.months)
        .bind(p.detail)
        .bind(now_ms)
        .bind(p.product)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn get_tenant_order(&self, id: i64) -> Result<Option<TenantOrderRow>> {
        self.row_by(&ORDERS, "id", id).await
    }

    async fn tenant_order_by_key(&self, idem_key: &str) -> Result<Option<TenantOrderRow>> {
        self.row_by(&ORDERS, "idem_key", idem_key).await
    }

    async fn list_tenant_orders(&self, f: &TenantOrderFilter) -> Result<Vec<TenantOrderRow>> {
        let (clause, values) = f.clause();
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM tenant_orders {clause} ORDER BY id LIMIT {} OFFSET {}",
            f.limit.unwrap_or(1000).clamp(1, i64::MAX),
            f.offset.unwrap_or(0).max(0)
        );
        with_texts(&sql, &values)
            .read_all(&self.pool, order_from)
            .await
    }

    async fn count_tenant_orders(&self, f: &TenantOrderFilter) -> Result<i64> {
        let (clause, values) = f.clause();
        let sql = format!("SELECT COUNT(*) FROM tenant_orders {clause}");
        with_texts(&sql, &values)
            .read_one(&self.pool, first_column)
            .await
    }

    async fn page_tenant_orders(
        &self,
        f: &TenantOrderFilter,
    ) -> Result<(Vec<TenantOrderRow>, i64)> {
        let (clause, values) = f.clause();
        let of = crate::sql::PageOf {
            columns: ORDER_COLUMNS,
            from: "tenant_orders",
            where_sql: &format!(" {clause}"),
            order: "id",
            limit: f.limit.unwrap_or(1000).clamp(1, i64::MAX),
            offset: f.offset.unwrap_or(0).max(0),
        };
        self.page_and_total(&of, &values, order_from).await
    }

    async fn tenant_order_charges(&self, id: i64) -> Result<Vec<TenantCharge>> {
        let sql = format!(
            "SELECT {CHARGE_COLUMNS} FROM tenant_charges WHERE tenant_order_id = $1 ORDER BY id"
        );
        self.rows_for(&sql, id, charge_from).await
    }

    async fn paid_purchases(&self, tenant_orders: &[i64]) -> Result<Vec<(i64, serde_json::Value)>> {
        if tenant_orders.is_empty() {
            return Ok(Vec::new());
        }
        let marks = crate::sql::in_list(1, tenant_orders.len(), "tenant orders")?;
        let sql = format!(
            "SELECT c.tenant_order_id, o.params FROM tenant_charges c
             JOIN orders o ON o.idem_key = c.idem_key
             WHERE c.fen > 0 AND o.state = 'succeeded' AND c.tenant_order_id IN ({marks})
             ORDER BY c.id"
        );
        let mut q = sqlx::query(&sql);
        for id in tenant_orders {
            q = q.bind(*id);
        }
        q.read_all(&self.pool, |r| {
            let params: String = r.try_get("params")?;
            let params = serde_json::from_str(&params)
                .map_err(|e| StoreError::Corrupt(format!("order params: {e}")))?;
            Ok((r.try_get("tenant_order_id")?, params))
        })
        .await
    }

    async fn tenant_charges(&self, tenant: &str) -> Result<Vec<TenantCharge>> {
        let sql = format!(
            "SELECT {} FROM tenant_charges c JOIN tenant_orders t ON t.id = c.tenant_order_id
             WHERE t.tenant = $1 ORDER BY c.id",
            CHARGE_COLUMNS
                .split(", ")
                .map(|c| format!("c.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.rows_for(&sql, tenant, charge_from).await
    }

    async fn margins(&self, tenant: Option<&str>) -> Result<Vec<MarginRow>> {
        // Cost: the upstream orders that a charge paid for (its key is theirs) and
        // that succeeded; an order that failed or is unsettled cost nothing yet.
        // A refund's upstream return is keyed `<tenant order key>:refund`; when the
        // tenant got something back a charge carries that key, and when it got nothing
        // (an expired order) the second part finds the return all the same.
        sqlx::query(
            "SELECT tenant, product, COUNT(DISTINCT id),
                CAST(COALESCE(SUM(rev), 0) AS BIGINT), CAST(COALESCE(SUM(cost), 0) AS BIGINT)
             FROM (
                SELECT t.tenant, t.product, t.id, c.fen AS rev,
                    CASE WHEN o.state = 'succeeded' THEN o.charged_fen ELSE 0 END AS cost
                FROM tenant_orders t
                JOIN tenant_charges c ON c.tenant_order_id = t.id
                LEFT JOIN orders o ON o.idem_key = c.idem_key
                UNION ALL
                SELECT t.tenant, t.product, t.id, 0 AS rev, o.charged_fen AS cost
                FROM tenant_orders t
                JOIN orders o ON o.idem_key = t.idem_key || ':refund'
                WHERE o.state = 'succeeded'
                  AND NOT EXISTS (SELECT 1 FROM tenant_charges c WHERE c.idem_key = o.idem_key)
             ) m
             WHERE ($1 IS NULL OR tenant = $1)
             GROUP BY tenant, product ORDER BY tenant, product",
        )
        .bind(tenant)
        .read_all(&self.pool, |r| {
            Ok(MarginRow {
                tenant: r.try_get(0)?,
                product: r.try_get(1)?,
                orders: r.try_get(2)?,
                revenue_fen: r.try_get(3)?,
                cost_fen: r.try_get(4)?,
            })
        })
        .await
    }
}
