//! The order journal and the double-entry ledger, on both backends.
//!
//! An order row is written before anything is sent upstream; its state only moves along
//! [`OrderState::may_become`], by compare-and-set, and every move is an appended event.
//! The ledger is two append-only tables (transactions, entries); a transaction is
//! written whole in one database transaction, together with the order move it explains.

use crate::sql::SqlStore;
use crate::{first_column, kind_of, parsed, ReadRows, Result, StoreError, Table};
use async_trait::async_trait;
use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::{Money, OrderState, ResourceKind};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

/// An order as the caller asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    /// The caller's idempotency key (or one we generated): the same key is the same order.
    pub idem_key: String,
    pub account: String,
    pub kind: ResourceKind,
    /// What is done to the resource: `register`, `renew`, `create`, ...
    pub operation: String,
    /// The resource: a domain name, a server id, an offer.
    pub target: String,
    /// The operation's arguments (years, months, ...), and what reconciliation needs
    /// to know about the resource before the call (e.g. the expiry before a renewal).
    pub params: serde_json::Value,
    /// The upstream's price when the order was placed.
    pub quoted_fen: i64,
    pub actor: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRow {
    pub id: i64,
    #[serde(flatten)]
    pub order: NewOrder,
    pub state: OrderState,
    /// What the upstream charged, when it said so (else the quote is what we book).
    pub charged_fen: Option<i64>,
    /// The upstream's own id for what was bought, when known.
    pub upstream_ref: Option<String>,
    /// The upstream's id of the resource the order made or changed (a server's id, a
    /// domain), when it said; what the downstream endpoint acts on after a purchase.
    pub resource_ref: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One move of an order, with what was learnt (the upstream's answer, what a
/// reconciliation read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    pub id: i64,
    pub order_id: i64,
    pub at_ms: i64,
    pub from: Option<OrderState>,
    pub to: OrderState,
    pub detail: String,
}

/// `create_order`'s answer: a new order, or the one placed earlier with the same key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    New(OrderRow),
    Existing(OrderRow),
}

/// A state move and everything it brings along, applied atomically.
#[derive(Debug, Clone)]
pub struct Move<'a> {
    pub from: OrderState,
    pub to: OrderState,
    pub detail: &'a str,
    pub upstream_ref: Option<&'a str>,
    pub resource_ref: Option<&'a str>,
    pub charged_fen: Option<i64>,
    /// The money this move books (a succeeded purchase: upstream → cost).
    pub transaction: Option<&'a Transaction>,
}

impl<'a> Move<'a> {
    /// A move that books nothing and learns no upstream reference.
    pub fn state(from: OrderState, to: OrderState, detail: &'a str) -> Self {
        Move {
            from,
            to,
            detail,
            upstream_ref: None,
            resource_ref: None,
            charged_fen: None,
            transaction: None,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub account: Option<String>,
    pub state: Option<OrderState>,
    /// Only orders not updated since (for the reconciler: stale `submitted`).
    pub updated_before_ms: Option<i64>,
    /// Only orders on this resource (the journal keeps two from overlapping).
    pub target: Option<String>,
    pub limit: Option<i64>,
}

/// One ledger line as stored: an entry with its transaction's memo and order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerLine {
    pub txn_id: i64,
    pub at_ms: i64,
    pub memo: String,
    pub order_id: Option<i64>,
    pub account: String,
    pub fen: i64,
}

#[derive(Debug, Clone, Default)]
pub struct LedgerFilter {
    /// An exact account (`upstream:sandbox-west`) or a prefix ending in `:` (`cost:`).
    pub account: Option<String>,
    pub since_ms: Option<i64>,
    pub limit: Option<i64>,
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Writes a `pending` order, or returns the one already placed under its key.
    async fn create_order(&self, order: &NewOrder) -> Result<Placed>;
    /// Moves an order by compare-and-set; `false` if it was no longer in `from` (another
    /// process moved it first). The event and the ledger transaction land with it or
    /// not at all. A move the state machine forbids is refused.
    async fn move_order(&self, id: i64, mv: &Move<'_>) -> Result<bool>;
    /// Books `fen` (> 0) an upstream gave back for `o` (a refund of unused time) as a
    /// journal order already succeeded at `-fen`, with its ledger transaction (the
    /// upstream account debited, `cost:<kind>` credited), once per key: `false` when the
    /// key was booked before. `started_ms` is when the call that returned it was sent,
    /// so the statement places it between the balance readings around that call.
    async fn book_upstream_return(&self, o: &NewOrder, fen: i64, started_ms: i64) -> Result<bool>;
    async fn get_order(&self, id: i64) -> Result<Option<OrderRow>>;
    async fn order_by_key(&self, idem_key: &str) -> Result<Option<OrderRow>>;
    async fn list_orders(&self, filter: &OrderFilter) -> Result<Vec<OrderRow>>;
    /// A page of the orders `filter` names (its limit aside), newest first unless sorted
    /// by `id`, `account`, `kind`, `operation`, `target`, `quoted`, `charged` (none
    /// charged below any), `state` or `updated` (ties by id the same way round); the
    /// search looks in the id, account, kind, operation, target and key. With the total.
    async fn page_orders(
        &self,
        filter: &OrderFilter,
        page: &crate::ListPage,
    ) -> Result<(Vec<OrderRow>, i64)>;
    async fn order_events(&self, id: i64) -> Result<Vec<OrderEvent>>;
    /// Books a transaction that belongs to no order move (a top-up, a correction).
    async fn post_transaction(&self, t: &Transaction) -> Result<i64>;
    async fn ledger_lines(&self, filter: &LedgerFilter) -> Result<Vec<LedgerLine>>;
    /// A page of the lines `filter` names (its limit aside), newest transaction first
    /// unless sorted by `txn`, `at`, `account`, `amount` or `order` (none below any; ties
    /// by transaction, then line, the same way round); the search looks in the memo, the
    /// account and the transaction's id. With the total.
    async fn page_ledger(
        &self,
        filter: &LedgerFilter,
        page: &crate::ListPage,
    ) -> Result<(Vec<LedgerLine>, i64)>;
    /// The sum of the lines `filter` names (its start and limit aside) in each window
    /// `[bounds[i], bounds[i + 1])` of their transactions' times: one fewer than bounds.
    async fn ledger_sums(&self, filter: &LedgerFilter, bounds: &[i64]) -> Result<Vec<i64>>;
    /// Every account's balance in fen, derived from the entries.
    async fn ledger_balances(&self) -> Result<Vec<(String, i64)>>;
    /// Transactions whose entries do not sum to zero: always empty unless someone
    /// wrote to the database behind idcgate's back.
    async fn unbalanced_transactions(&self) -> Result<Vec<i64>>;
}

const ORDER_COLUMNS: &str = "id, idem_key, account, kind, operation, target, params, quoted_fen, actor, state, charged_fen, upstream_ref, resource_ref, created_at, updated_at";

const ORDERS: Table<OrderRow> = Table::new("orders", ORDER_COLUMNS, order_from);

pub(crate) fn order_from(r: &AnyRow) -> Result<OrderRow> {
    let kind: String = r.try_get("kind")?;
    let state: String = r.try_get("state")?;
    let params: String = r.try_get("params")?;
    Ok(read_row!(r => OrderRow {
        id,
        order = read_row!(r => NewOrder {
            idem_key,
            account,
            kind = kind_of("order", &kind)?,
            operation,
            target,
            params = serde_json::from_str(&params)
                .map_err(|e| StoreError::Corrupt(format!("order params: {e}")))?,
            quoted_fen,
            actor,
        }),
        state = parsed(OrderState::parse, "order state", &state)?,
        charged_fen,
        upstream_ref,
        resource_ref,
        created_ms: "created_at",
        updated_ms: "updated_at",
    }))
}

pub(crate) async fn insert_transaction(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    t: &Transaction,
    at: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO ledger_transactions (at, memo, order_id) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(at)
    .bind(t.memo())
    .bind(t.order_id())
    .fetch_one(&mut **tx)
    .await?;
    let txn_id: i64 = row.try_get(0)?;
    for e in t.entries() {
        sqlx::query("INSERT INTO ledger_entries (txn_id, account, fen) VALUES ($1, $2, $3)")
            .bind(txn_id)
            .bind(e.account.to_string())
            .bind(e.fen)
            .execute(&mut **tx)
            .await?;
    }
    Ok(txn_id)
}

/// Writes an order in `state` and its first event, unless its key is taken (ON CONFLICT
/// DO NOTHING: of two writers racing on one key exactly one inserts). Its id, if new.
/// `created_ms`: when it began, if before now (an upstream call already answered).
/// Books money an upstream gave back inside `tx`: a succeeded order at the negative
/// amount with its ledger lines, once by its key (`false`: booked before, nothing
/// written).
pub(crate) async fn book_return_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    o: &NewOrder,
    fen: i64,
    started_ms: i64,
) -> Result<bool> {
    if fen <= 0 {
        return Err(StoreError::Database(
            "an upstream return books a positive amount".into(),
        ));
    }
    let amount = Money::from_fen(fen);
    let Some(id) = insert_order(
        tx,
        o,
        OrderState::Succeeded,
        Some(-fen),
        Some(started_ms),
        format!("{amount} given back by the upstream; booked by {}", o.actor),
    )
    .await?
    else {
        return Ok(false);
    };
    let txn = Transaction::transfer(
        format!("{} {} at {}", o.operation, o.target, o.account),
        Some(id),
        LedgerAccount::cost(o.kind),
        LedgerAccount::upstream(&o.account),
        amount,
    )
    .map_err(|e| StoreError::Database(e.to_string()))?;
    insert_transaction(tx, &txn, crate::sql::now_ms()).await?;
    Ok(true)
}

async fn insert_order(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    o: &NewOrder,
    state: OrderState,
    charged_fen: Option<i64>,
    created_ms: Option<i64>,
    event: String,
) -> Result<Option<i64>> {
    let now = crate::sql::now_ms();
    let params = serde_json::to_string(&o.params)
        .map_err(|e| StoreError::Database(format!("order params: {e}")))?;
    let inserted = sqlx::query(
        "INSERT INTO orders (idem_key, account, kind, operation, target, params, quoted_fen, actor, state, charged_fen, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (idem_key) DO NOTHING RETURNING id",
    )
    .bind(&o.idem_key)
    .bind(&o.account)
    .bind(o.kind.as_str())
    .bind(&o.operation)
    .bind(&o.target)
    .bind(&params)
    .bind(o.quoted_fen)
    .bind(&o.actor)
    .bind(state.as_str())
    .bind(charged_fen)
    .bind(created_ms.map_or(now, |c| c.min(now)))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = inserted else {
        return Ok(None);
    };
    let id: i64 = r.try_get(0)?;
    sqlx::query(
        "INSERT INTO order_events (order_id, at, from_state, to_state, detail) VALUES ($1, $2, NULL, $3, $4)",
    )
    .bind(id)
    .bind(now)
    .bind(state.as_str())
    .bind(event)
    .execute(&mut **tx)
    .await?;
    Ok(Some(id))
}

#[async_trait]
impl OrderStore for SqlStore {
    async fn create_order(&self, o: &NewOrder) -> Result<Placed> {
        let mut tx = self.begin_write().await?;
        // Of two processes placing one key, the other reads the winner's row.
        let inserted = insert_order(
            &mut tx,
            o,
            OrderState::Pending,
            None,
            None,
            format!("placed by {}", o.actor),
        )
        .await?;
        tx.commit().await?;
        let row = sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders WHERE idem_key = $1"
        ))
        .bind(&o.idem_key)
        .fetch_one(&self.pool)
        .await?;
        let row = order_from(&row)?;
        Ok(if inserted.is_some() {
            Placed::New(row)
        } else {
            Placed::Existing(row)
        })
    }

    async fn book_upstream_return(&self, o: &NewOrder, fen: i64, started_ms: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if !book_return_in(&mut tx, o, fen, started_ms).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn move_order(&self, id: i64, mv: &Move<'_>) -> Result<bool> {
        if !mv.from.may_become(mv.to) {
            return Err(StoreError::Conflict(format!(
                "order {id}: {} may not become {}",
                mv.from.as_str(),
                mv.to.as_str()
            )));
        }
        let now = crate::sql::now_ms();
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE orders SET state = $1, updated_at = $2,
                upstream_ref = COALESCE($3, upstream_ref), charged_fen = COALESCE($4, charged_fen),
                resource_ref = COALESCE($7, resource_ref)
             WHERE id = $5 AND state = $6",
        )
        .bind(mv.to.as_str())
        .bind(now)
        .bind(mv.upstream_ref)
        .bind(mv.charged_fen)
        .bind(id)
        .bind(mv.from.as_str())
        .bind(mv.resource_ref)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if moved != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO order_events (order_id, at, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(now)
        .bind(mv.from.as_str())
        .bind(mv.to.as_str())
        .bind(mv.detail)
        .execute(&mut *tx)
        .await?;
        if let Some(t) = mv.transaction {
            insert_transaction(&mut tx, t, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn get_order(&self, id: i64) -> Result<Option<OrderRow>> {
        self.row_by(&ORDERS, "id", id).await
    }

    async fn order_by_key(&self, idem_key: &str) -> Result<Option<OrderRow>> {
        self.row_by(&ORDERS, "idem_key", idem_key).await
    }

    async fn list_orders(&self, f: &OrderFilter) -> Result<Vec<OrderRow>> {
        sqlx::query(&format!(
            "SELECT {ORDER_COLUMNS} FROM orders
             WHERE ($1 IS NULL OR account = $1) AND ($2 IS NULL OR state = $2)
               AND ($3 IS NULL OR updated_at < $3) AND ($4 IS NULL OR target = $4)
             ORDER BY id DESC LIMIT $5"
        ))
        .bind(f.account.as_deref())
        .bind(f.state.map(OrderState::as_str))
        .bind(f.updated_before_ms)
        .bind(f.target.as_deref())
        .bind(f.limit.unwrap_or(1000))
        .read_all(&self.pool, order_from)
        .await
    }

    async fn page_orders(
        &self,
        f: &OrderFilter,
        page: &crate::ListPage,
    ) -> Result<(Vec<OrderRow>, i64)> {
        let mut texts: Vec<String> = Vec::new();
        let mut clauses: Vec<String> = Vec::new();
        for (column, v) in [
            ("account", f.account.clone()),
            ("state", f.state.map(|s| s.as_str().to_string())),
            ("target", f.target.clone()),
        ] {
            if let Some(v) = v {
                texts.push(crate::sql::text(&v).into_owned());
                clauses.push(format!("{column} = ${}", texts.len()));
            }
        }
        if let Some(t) = f.updated_before_ms {
            clauses.push(format!("updated_at < {t}"));
        }
        if let Some(s) = &page.search {
            let columns = [
                "CAST(id AS TEXT)",
                "account",
                "kind",
                "operation",
                "target",
                "idem_key",
            ];
            clauses.push(self.contains_any(&mut texts, &columns, s));
        }
        let where_sql = crate::sql::where_sql(&clauses);
        let (column, d) = match page.sort.as_deref() {
            Some(
                c @ ("account" | "kind" | "operation" | "target" | "state" | "id" | "quoted"
                | "charged" | "updated"),
            ) => (c, if page.descending { "DESC" } else { "ASC" }),
            _ => ("id", "DESC"),
        };
        let column = match column {
            "quoted" => format!("quoted_fen {d}, "),
            "charged" => {
                format!("CASE WHEN charged_fen IS NULL THEN 0 ELSE 1 END {d}, charged_fen {d}, ")
            }
            "updated" => format!("updated_at {d}, "),
            "id" => String::new(),
            c => format!("{c} {d}, "),
        };
        let of = crate::sql::PageOf {
            columns: ORDER_COLUMNS,
            from: "orders",
            where_sql: &where_sql,
            order: &format!("{column}id {d}"),
            limit: page.limit.max(0),
            offset: page.offset.max(0),
        };
        self.page_and_total(&of, &texts, order_from).await
    }

    async fn order_events(&self, id: i64) -> Result<Vec<OrderEvent>> {
        sqlx::query(
            "SELECT id, order_id, at, from_state, to_state, detail FROM order_events WHERE order_id = $1 ORDER BY id",
        )
        .bind(id)
        .read_all(&self.pool, |r| {
            let state = |col: &str| -> Result<Option<OrderState>> {
                let s: Option<String> = r.try_get(col)?;
                s.map(|s| parsed(OrderState::parse, "order state", &s))
                    .transpose()
            };
            Ok(read_row!(r => OrderEvent {
                id,
                order_id,
                at_ms: "at",
                from = state("from_state")?,
                to = state("to_state")?
                    .ok_or_else(|| StoreError::Corrupt("order event without a state".into()))?,
                detail,
            }))
        })
        .await
    }

    async fn post_transaction(&self, t: &Transaction) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_transaction(&mut tx, t, crate::sql::now_ms()).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn ledger_lines(&self, f: &LedgerFilter) -> Result<Vec<LedgerLine>> {
        let (exact, prefix) = match f.account.as_deref() {
            Some(a) if a.ends_with(':') => (None, Some(format!("{a}%"))),
            Some(a) => (Some(a.to_string()), None),
            None => (None, None),
        };
        sqlx::query(
            "SELECT t.id AS txn_id, t.at, t.memo, t.order_id, e.account, e.fen
             FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
             WHERE ($1 IS NULL OR e.account = $1) AND ($2 IS NULL OR e.account LIKE $2)
               AND ($3 IS NULL OR t.at >= $3)
             ORDER BY t.id, e.id LIMIT $4",
        )
        .bind(exact)
        .bind(prefix)
        .bind(f.since_ms)
        .bind(f.limit.unwrap_or(10_000))
        .read_all(&self.pool, ledger_line)
        .await
    }

    async fn page_ledger(
        &self,
        f: &LedgerFilter,
        page: &crate::ListPage,
    ) -> Result<(Vec<LedgerLine>, i64)> {
        let mut texts: Vec<String> = Vec::new();
        let mut clauses: Vec<String> = Vec::new();
        match f.account.as_deref() {
            Some(a) if a.ends_with(':') => {
                texts.push(format!(
                    "{}%",
                    crate::sql::escape_like(&crate::sql::text(a))
                ));
                clauses.push(format!("e.account LIKE ${} ESCAPE '\\'", texts.len()));
            }
            Some(a) => {
                texts.push(crate::sql::text(a).into_owned());
                clauses.push(format!("e.account = ${}", texts.len()));
            }
            None => {}
        }
        if let Some(t) = f.since_ms {
            clauses.push(format!("t.at >= {t}"));
        }
        if let Some(s) = &page.search {
            let columns = ["t.memo", "e.account", "CAST(t.id AS TEXT)"];
            clauses.push(self.contains_any(&mut texts, &columns, s));
        }
        let where_sql = crate::sql::where_sql(&clauses);
        let from = "ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id";
        let (column, d) = match page.sort.as_deref() {
            Some(c @ ("txn" | "at" | "account" | "amount" | "order")) => {
                (c, if page.descending { "DESC" } else { "ASC" })
            }
            _ => ("txn", "DESC"),
        };
        let column = match column {
            "at" => format!("t.at {d}, "),
            "account" => format!("e.account {d}, "),
            "amount" => format!("e.fen {d}, "),
            "order" => {
                format!("CASE WHEN t.order_id IS NULL THEN 0 ELSE 1 END {d}, t.order_id {d}, ")
            }
            _ => String::new(),
        };
        let of = crate::sql::PageOf {
            columns: "t.id AS txn_id, t.at, t.memo, t.order_id, e.account, e.fen",
            from,
            where_sql: &where_sql,
            order: &format!("{column}t.id {d}, e.id {d}"),
            limit: page.limit.max(0),
            offset: page.offset.max(0),
        };
        self.page_and_total(&of, &texts, ledger_line).await
    }

    async fn ledger_sums(&self, f: &LedgerFilter, bounds: &[i64]) -> Result<Vec<i64>> {
        let (Some(first), Some(last)) = (bounds.first(), bounds.last()) else {
            return Ok(Vec::new());
        };
        if bounds.len() < 2 {
            return Ok(Vec::new());
        }
        let (account, bind) = match f.account.as_deref() {
            Some(a) if a.ends_with(':') => (
                "AND e.account LIKE $1 ESCAPE '\\'",
                Some(format!(
                    "{}%",
                    crate::sql::escape_like(&crate::sql::text(a))
                )),
            ),
            Some(a) => ("AND e.account = $1", Some(crate::sql::text(a).into_owned())),
            None => ("", None),
        };
        // CAST: PostgreSQL sums BIGINT into NUMERIC, which the Any driver cannot read.
        let windows: Vec<String> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                format!(
                    "CAST(COALESCE(SUM(CASE WHEN t.at >= {} AND t.at < {} THEN e.fen ELSE 0 END), 0) AS BIGINT) AS w{i}",
                    w[0], w[1]
                )
            })
            .collect();
        let sql = format!(
            "SELECT {} FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.txn_id
             WHERE t.at >= {first} AND t.at < {last} {account}",
            windows.join(", ")
        );
        let mut q = sqlx::query(&sql);
        if let Some(b) = bind {
            q = q.bind(b);
        }
        let row = q.fetch_one(&self.pool).await?;
        (0..bounds.len() - 1)
            .map(|i| row.try_get::<i64, _>(i).map_err(StoreError::from))
            .collect()
    }

    async fn ledger_balances(&self) -> Result<Vec<(String, i64)>> {
        // CAST: PostgreSQL sums BIGINT into NUMERIC, which the Any driver cannot read.
        sqlx::query(
            "SELECT account, CAST(SUM(fen) AS BIGINT) AS balance FROM ledger_entries GROUP BY account ORDER BY account",
        )
        .read_all(&self.pool, |r| Ok((r.try_get("account")?, r.try_get("balance")?)))
        .await
    }

    async fn unbalanced_transactions(&self) -> Result<Vec<i64>> {
        sqlx::query(
            "SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING SUM(fen) <> 0 ORDER BY txn_id",
        )
        .read_all(&self.pool, first_column)
        .await
    }
}

/// A ledger line as the listings select it (`txn_id`, `at`, `memo`, `order_id`,
/// `account`, `fen`).
fn ledger_line(r: &sqlx::any::AnyRow) -> Result<LedgerLine> {
    Ok(read_row!(r => LedgerLine { txn_id, at_ms: "at", memo, order_id, account, fen }))
}
