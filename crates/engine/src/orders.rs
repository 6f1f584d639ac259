//! Purchases through the order journal: quote, write the order, mark it submitted,
//! call the upstream once, book what it cost — and, when the answer was lost, find out
//! by reading the upstream instead of buying again.
//!
//! The journal's rules (one order per idempotency key; `pending → submitted` is written
//! before the upstream call; `unknown` moves only by reconciliation) live in the store
//! and in [`OrderState::may_become`]; this module decides what to ask and what to book.

use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::purchase::{is_secret_option, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::{Error, Money, OrderState, PriceQuote};
use idcgate_store::{Move, NewOrder, OrderFilter, OrderRow, Placed};
use serde_json::json;
use std::collections::BTreeMap;

/// The order's stored description of its purchase: everything but secret options.
fn journal_params(request: &PurchaseRequest, before: &serde_json::Value) -> serde_json::Value {
    let options: BTreeMap<&str, &str> = request
        .options
        .iter()
        .map(|(k, v)| {
            let shown = if is_secret_option(k) { "" } else { v.as_str() };
            (k.as_str(), shown)
        })
        .collect();
    json!({
        "offer": request.offer,
        "months": request.months,
        "options": options,
        "before": before,
    })
}

/// The journal's operation for money an upstream gave back (a refund of unused time):
/// booked at a negative amount, never placed or settled, and no purchase a finance
/// record of charges lists.
pub const UPSTREAM_RETURN: &str = "refund";

/// Reads an order's stored purchase back (secret options come back blank: settling
/// reads, it never sends them again).
pub fn purchase_of(row: &OrderRow) -> Result<PurchaseRequest> {
    let params = &row.order.params;
    let operation: Operation = row.order.operation.parse()?;
    // Orders journalled before months existed carry whole years.
    let months = params["months"]
        .as_u64()
        .or_else(|| params["years"].as_u64().map(|y| y * 12))
        .and_then(|m| u32::try_from(m).ok())
        .ok_or_else(|| EngineError::Invalid(format!("order {}: no length", row.id)))?;
    let options = params["options"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Ok(PurchaseRequest {
        kind: row.order.kind,
        operation,
        target: row.order.target.clone(),
        offer: params["offer"].as_str().map(str::to_string),
        months,
        options,
    })
}

/// What settling compares against, as journalled (older orders kept the expiry flat).
fn journalled_before(row: &OrderRow) -> serde_json::Value {
    let params = &row.order.params;
    if params.get("before").is_some() {
        params["before"].clone()
    } else {
        json!({"expires_before_ms": params["expires_before_ms"]})
    }
}

/// The order already placed under a key, if it is the purchase asked for now. A key
/// reused for another purchase is refused: answering with the first order would tell
/// the caller its new purchase was made (or failed) when it was never looked at.
fn same_purchase(
    existing: OrderRow,
    account: &str,
    purchase: &PurchaseRequest,
) -> Result<OrderRow> {
    // Compared as journalled: secret options are blank on both sides.
    let asked = journal_params(purchase, &serde_json::Value::Null);
    let same = existing.order.account == account
        && existing.order.operation == purchase.verb()
        && purchase_of(&existing).is_ok_and(|stored| {
            stored.kind == purchase.kind
                && stored.target == purchase.target
                && stored.offer == purchase.offer
                && stored.months == purchase.months
        })
        && existing.order.params["options"] == asked["options"];
    if same {
        return Ok(existing);
    }
    Err(EngineError::Invalid(format!(
        "idempotency key {} was used for order {} ({} {} {} at {}); this is another purchase: nothing was ordered",
        existing.order.idem_key,
        existing.id,
        existing.order.operation,
        existing.order.kind.as_str(),
        existing.order.target,
        existing.order.account
    )))
}

/// What a CLI or REST caller names, before it is a [`PurchaseRequest`]: the one
/// reading of "register example.com --years 2" both front ends share.
#[derive(Debug, Clone, Default)]
pub struct PurchaseTerms {
    /// A resource kind (`domain`, `server`, `hosting_site`, `database`, `mail_domain`,
    /// `dns_zone`); `domain` when not given.
    pub kind: Option<String>,
    /// `create` (or `register`), `renew`, `upgrade`, `transfer`.
    pub operation: String,
    pub target: String,
    pub offer: Option<String>,
    pub months: Option<u32>,
    pub years: Option<u32>,
    pub options: BTreeMap<String, String>,
}

impl PurchaseTerms {
    pub fn request(self) -> Result<PurchaseRequest> {
        let kind: idcgate_core::ResourceKind = self.kind.as_deref().unwrap_or("domain").parse()?;
        let operation: Operation = self.operation.parse()?;
        let months = match (self.months, self.years) {
            (Some(_), Some(_)) => {
                return Err(EngineError::Invalid(
                    "give months or years, not both".into(),
                ))
            }
            (Some(m), None) => m,
            // Named here: as months, 11 years would be refused as "at most 120 months".
            (None, Some(y)) if !(1..=10).contains(&y) => {
                return Err(EngineError::InvalidInput {
                    field: "years".into(),
                    reason: format!("{y} years: from 1 to 10"),
                })
            }
            (None, Some(y)) => y * 12,
            (None, None) => 12,
        };
        let mut target = self.target.trim().to_string();
        if matches!(
            kind,
            idcgate_core::ResourceKind::Domain | idcgate_core::ResourceKind::DnsZone
        ) {
            target = target.trim_end_matches('.').to_ascii_lowercase();
        }
        let request = PurchaseRequest {
            kind,
            operation,
            target,
            offer: self.offer.filter(|o| !o.trim().is_empty()),
            months,
            options: self.options,
        };
        request.validate()?;
        Ok(request)
    }
}

/// An idempotency key nobody else will have picked.
pub fn new_idempotency_key() -> String {
    format!("idg-{:032x}", rand::random::<u128>())
}

impl Engine {
    /// What the upstream asks for this purchase now.
    pub async fn quote(&self, account: &str, purchase: &PurchaseRequest) -> Result<PriceQuote> {
        purchase.validate()?;
        let conn = self.connection(account).await?;
        let seller = seller(&*conn, purchase)?;
        Ok(seller.quote(purchase).await?)
    }

    /// Places an order through the journal. The same `idem_key` again returns the
    /// first order and calls nothing upstream, whatever state it is in.
    pub async fn place_order(
        &self,
        actor: &str,
        account: &str,
        purchase: &PurchaseRequest,
        idem_key: Option<&str>,
    ) -> Result<OrderRow> {
        self.place_order_within(actor, account, purchase, idem_key, None)
            .await
    }

    /// [`Engine::place_order`], refusing before anything is written or sent when the
    /// upstream now asks more than `max_price`: what someone confirmed is a ceiling,
    /// and a price that rose between the confirmation and the order is not bought.
    pub async fn place_order_within(
        &self,
        actor: &str,
        account: &str,
        purchase: &PurchaseRequest,
        idem_key: Option<&str>,
        max_price: Option<Money>,
    ) -> Result<OrderRow> {
        self.place_order_placed(actor, account, purchase, idem_key, max_price)
            .await
            .map(|(order, _)| order)
    }

    /// [`Engine::place_order_within`], also saying whether this call wrote the order
    /// (`true`) or found it under its key (`false`): what a REST answer's 201 or 200
    /// must tell, also when two requests with one key race.
    pub async fn place_order_placed(
        &self,
        actor: &str,
        account: &str,
        purchase: &PurchaseRequest,
        idem_key: Option<&str>,
        max_price: Option<Money>,
    ) -> Result<(OrderRow, bool)> {
        purchase.validate()?;
        let key = match idem_key.map(str::trim) {
            Some("") => return Err(EngineError::Invalid("an empty idempotency key".into())),
            Some(k) if k.len() > 200 => {
                return Err(EngineError::Invalid(
                    "idempotency key over 200 characters".into(),
                ))
            }
            // Like a top-up's key: a tab or line break in it is a caller's mistake, and
            // it would be shown back in every listing and audit line.
            Some(k) if k.chars().any(char::is_control) => {
                return Err(EngineError::Invalid(
                    "an idempotency key must not contain control characters".into(),
                ))
            }
            Some(k) => k.to_string(),
            None => new_idempotency_key(),
        };
        if let Some(existing) = self.store.order_by_key(&key).await? {
            return same_purchase(existing, account, purchase).map(|o| (o, false));
        }
        if let Some(open) = self.overlapping(account, purchase, None, None).await? {
            // Our own key, placed by another process since we looked: that order.
            if open.order.idem_key == key {
                return same_purchase(open, account, purchase).map(|o| (o, false));
            }
            return Err(EngineError::Invalid(format!(
                "order {} on {} {} at {account} is still {}: settle it first (reconcile the orders); nothing was ordered",
                open.id,
                purchase.kind.as_str(),
                purchase.target,
                open.state.as_str()
            )));
        }
        let conn = self.connection(account).await?;
        let seller = seller(&*conn, purchase)?;
        let quote = seller.quote(purchase).await?;
        if let Some(max) = max_price.filter(|max| quote.price > *max) {
            return Err(EngineError::Invalid(format!(
                "the upstream now asks {} for {purchase}, more than the {max} confirmed; nothing was ordered",
                quote.price
            )));
        }
        let quoted_fen = fen(quote.price)?;
        // What settling a lost answer compares against (the expiry before a renewal).
        let read_from = now_ms();
        let before = seller.before(purchase).await?;
        let placed = self
            .store
            .create_order(&NewOrder {
                idem_key: key,
                account: account.to_string(),
                kind: purchase.kind,
                operation: purchase.verb().to_string(),
                target: purchase.target.clone(),
                params: journal_params(purchase, &before),
                quoted_fen,
                actor: actor.to_string(),
            })
            .await?;
        let order = match placed {
            Placed::New(o) => o,
            Placed::Existing(o) => return same_purchase(o, account, purchase).map(|o| (o, false)),
        };
        // Checked again now that ours is visible: of two placed at once, at least one
        // sees the other and stands down unsent.
        if let Some(other) = self
            .overlapping(account, purchase, Some(order.id), Some(read_from))
            .await?
        {
            let detail = format!(
                "not sent: order {} on the same {} overlapped this one",
                other.id,
                purchase.kind.as_str()
            );
            let mv = Move::state(OrderState::Pending, OrderState::Failed, &detail);
            self.store.move_order(order.id, &mv).await?;
            let row = self.order(order.id).await;
            self.audit_order(actor, account, purchase, &row, |o| {
                format!("order {} failed: {detail}", o.id)
            })
            .await;
            return row.map(|o| (o, true));
        }
        let submitted = Move::state(
            OrderState::Pending,
            OrderState::Submitted,
            "sending to the upstream",
        );
        if !self.store.move_order(order.id, &submitted).await? {
            // Another process took it between our insert and now; it is theirs to send.
            return self.order(order.id).await.map(|o| (o, true));
        }
        let key = order.order.idem_key.as_str();
        let answer = seller.buy(purchase, key).await;
        let result = match answer {
            Ok(done) => {
                let charged = fen(done.amount)?;
                // A vendor that does not say what it charged is booked at the quote, and
                // the order says so; the statement check compares with its records.
                let (booked, note) = if charged > 0 {
                    (charged, format!("charged {}", done.amount))
                } else {
                    (
                        quoted_fen,
                        format!("no amount in the answer; booked the quote {}", quote.price),
                    )
                };
                let detail = format!("upstream: done, order {}; {note}", done.id);
                self.finish(
                    &order,
                    OrderState::Submitted,
                    booked,
                    &detail,
                    // The vendor's order id ties the order to its finance record.
                    Some(done.id.as_str())
                        .filter(|id| !id.is_empty())
                        .or(done.upstream_id.as_deref()),
                    done.upstream_id.as_deref(),
                )
                .await
            }
            Err(e) => {
                // Only reading the upstream may settle a lost answer; a refusal is final.
                let (to, detail) = match e {
                    Error::UnknownOutcome { .. } => {
                        (OrderState::Unknown, format!("answer lost: {e}"))
                    }
                    _ => (OrderState::Failed, format!("upstream refused: {e}")),
                };
                let mv = Move::state(OrderState::Submitted, to, &detail);
                self.store.move_order(order.id, &mv).await.map(|_| ())
            }
        };
        let row = self.order(order.id).await;
        self.audit_order(actor, account, purchase, &row, |o| {
            format!(
                "order {} {} (key {})",
                o.id,
                o.state.as_str(),
                o.order.idem_key
            )
        })
        .await;
        result?;
        row.map(|o| (o, true))
    }

    /// Another order on the same resource at `account` that is open (pending, submitted,
    /// unknown) or, with `succeeded_since_ms`, succeeded since then. Settling a lost
    /// answer compares the resource with what was read before its order was placed, so
    /// two orders on one resource must never overlap: the other's effect (an expiry
    /// moved, the domain now there) would be taken for this one's and booked twice.
    async fn overlapping(
        &self,
        account: &str,
        purchase: &PurchaseRequest,
        except: Option<i64>,
        succeeded_since_ms: Option<i64>,
    ) -> Result<Option<OrderRow>> {
        let rows = self
            .store
            .list_orders(&OrderFilter {
                account: Some(account.to_string()),
                target: Some(purchase.target.clone()),
                limit: Some(i64::MAX),
                ..Default::default()
            })
            .await?;
        Ok(rows.into_iter().find(|o| {
            o.order.kind == purchase.kind
                && Some(o.id) != except
                && (!o.state.is_final()
                    || (o.state == OrderState::Succeeded
                        && succeeded_since_ms.is_some_and(|t| o.updated_ms >= t)))
        }))
    }

    /// Audits an order with the outcome its state says: a failed or unknown order is
    /// not "ok" because the journal wrote it without error.
    async fn audit_order(
        &self,
        actor: &str,
        account: &str,
        purchase: &PurchaseRequest,
        row: &Result<OrderRow>,
        detail: impl FnOnce(&OrderRow) -> String,
    ) {
        let action = format!("order.{}", purchase.verb());
        let target = format!("{account}/{}", purchase.target);
        let outcome = match row {
            Ok(o) => match o.state {
                OrderState::Succeeded => None,
                OrderState::Failed => Some("failed"),
                OrderState::Unknown => Some("unknown_outcome"),
                OrderState::Pending | OrderState::Submitted => Some("in_progress"),
            },
            Err(_) => None,
        };
        match (outcome, row) {
            (Some(outcome), Ok(o)) => {
                let entry = idcgate_store::AuditEntry {
                    id: 0,
                    at_ms: now_ms(),
                    actor: actor.to_string(),
                    action,
                    target,
                    outcome: outcome.to_string(),
                    detail: detail(o),
                    intent_id: None,
                };
                if let Err(e) = self.store.append_audit(&entry).await {
                    tracing::error!(error = %e, "could not write audit entry");
                }
            }
            _ => self.audit(actor, &action, &target, row, detail).await,
        }
    }

    /// Books a succeeded order: the state move and its ledger transaction together.
    async fn finish(
        &self,
        order: &OrderRow,
        from: OrderState,
        booked_fen: i64,
        detail: &str,
        upstream_ref: Option<&str>,
        resource_ref: Option<&str>,
    ) -> std::result::Result<(), idcgate_store::StoreError> {
        let memo = format!(
            "{} {} at {}",
            order.order.operation, order.order.target, order.order.account
        );
        let txn = Transaction::transfer(
            memo,
            Some(order.id),
            LedgerAccount::upstream(&order.order.account),
            LedgerAccount::cost(order.order.kind),
            Money::from_fen(booked_fen),
        )
        .map_err(|e| idcgate_store::StoreError::Database(e.to_string()))?;
        let mv = Move {
            from,
            to: OrderState::Succeeded,
            detail,
            upstream_ref,
            resource_ref,
            charged_fen: Some(booked_fen),
            transaction: Some(&txn),
        };
        self.store.move_order(order.id, &mv).await.map(|_| ())
    }

    pub async fn order(&self, id: i64) -> Result<OrderRow> {
        self.store
            .get_order(id)
            .await?
            .ok_or(EngineError::NoSuchOrder(id))
    }

    /// Resolves one `unknown` order (or one left `submitted` by a process that died) by
    /// reading the upstream. It never sends the purchase again.
    pub async fn reconcile_order(&self, id: i64) -> Result<OrderRow> {
        let order = self.order(id).await?;
        if !matches!(order.state, OrderState::Unknown | OrderState::Submitted) {
            return Ok(order);
        }
        // A submitted order first becomes unknown: its answer is lost with its process.
        let from = if order.state == OrderState::Submitted {
            let mv = Move::state(
                OrderState::Submitted,
                OrderState::Unknown,
                "left submitted (the process placing it stopped); reconciling",
            );
            if !self.store.move_order(id, &mv).await? {
                return self.order(id).await;
            }
            OrderState::Unknown
        } else {
            order.state
        };
        let purchase = purchase_of(&order)?;
        let conn = self.connection(&order.order.account).await?;
        let seller = seller(&*conn, &purchase)?;
        let before = journalled_before(&order);
        match seller
            .settle(&purchase, &order.order.idem_key, &before)
            .await?
        {
            Settled::Happened {
                upstream_ref,
                charged,
                evidence,
            } => {
                let (booked, note) = match charged.map(fen).transpose()? {
                    Some(c) if c > 0 => (c, format!("charged {}", Money::from_fen(c))),
                    _ => (order.order.quoted_fen, "booked the quote".to_string()),
                };
                let detail = format!("{evidence}; {note}");
                // Settling reads the resource back, so its reference is the resource's.
                let r = upstream_ref.as_deref();
                self.finish(&order, from, booked, &detail, r, r).await?;
            }
            Settled::DidNotHappen { evidence } => {
                let mv = Move {
                    from,
                    to: OrderState::Failed,
                    detail: &evidence,
                    upstream_ref: None,
                    resource_ref: None,
                    charged_fen: None,
                    transaction: None,
                };
                self.store.move_order(id, &mv).await?;
            }
        }
        self.order(id).await
    }

    /// Reconciles every `unknown` order and every `submitted` one older than
    /// `stale_after_ms` (its process is presumed gone), and fails every `pending` one as
    /// old (never sent: `submitted` is written before the upstream call). Returns the
    /// orders it resolved.
    pub async fn reconcile_orders(&self, stale_after_ms: i64) -> Result<Vec<OrderRow>> {
        let stale_pending = self
            .store
            .list_orders(&OrderFilter {
                state: Some(OrderState::Pending),
                updated_before_ms: Some(now_ms() - stale_after_ms),
                limit: Some(i64::MAX),
                ..Default::default()
            })
            .await?;
        let mut done = Vec::new();
        for o in stale_pending {
            // Compare-and-set: a process still alive that moves it to submitted first
            // sends it; once failed here, that process finds it taken and sends nothing.
            let mv = Move::state(
                OrderState::Pending,
                OrderState::Failed,
                "never sent: the process placing it stopped before sending",
            );
            if self.store.move_order(o.id, &mv).await? {
                done.push(self.order(o.id).await?);
            }
        }
        let mut todo = self
            .store
            .list_orders(&OrderFilter {
                state: Some(OrderState::Unknown),
                ..Default::default()
            })
            .await?;
        todo.extend(
            self.store
                .list_orders(&OrderFilter {
                    state: Some(OrderState::Submitted),
                    updated_before_ms: Some(now_ms() - stale_after_ms),
                    ..Default::default()
                })
                .await?,
        );
        for o in todo {
            match self.reconcile_order(o.id).await {
                Ok(row) => done.push(row),
                // One upstream down must not stop the others; the next run retries.
                Err(e) => tracing::warn!(order = o.id, error = %e, "could not reconcile"),
            }
        }
        Ok(done)
    }
}

fn fen(m: Money) -> Result<i64> {
    m.to_fen()
        .map_err(|e| EngineError::Invalid(format!("price {m}: {e}")))
}

/// The account's purchasing capability, if it sells this kind and operation.
fn seller<'c>(
    conn: &'c dyn idcgate_core::Connection,
    purchase: &PurchaseRequest,
) -> Result<&'c dyn Purchasing> {
    let not_sold =
        || EngineError::Upstream(idcgate_core::purchase::not_sold(conn.vendor(), purchase));
    let seller = conn.purchasing().ok_or_else(not_sold)?;
    if !seller
        .sells()
        .contains(&(purchase.kind, purchase.operation))
    {
        return Err(not_sold());
    }
    Ok(seller)
}

/// Where callers found it before the statement check had a module of its own.
pub use crate::statement::Statement;

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_core::ResourceKind;

    #[test]
    fn years_are_named_when_out_of_range() {
        let terms = |years| PurchaseTerms {
            operation: "register".into(),
            target: "example.com".into(),
            years: Some(years),
            ..Default::default()
        };
        for years in [0, 11, u32::MAX] {
            match terms(years).request() {
                Err(EngineError::InvalidInput { field, .. }) => assert_eq!(field, "years"),
                other => panic!("{years} years: {other:?}"),
            }
        }
        assert_eq!(terms(10).request().unwrap().months, 120);
    }

    #[test]
    fn secret_options_are_sent_but_never_journalled() {
        let request = PurchaseRequest::new(ResourceKind::Server, Operation::Create, "web-1")
            .offer("c1m1")
            .option("serverroom", "3")
            .option("password", "Hunter2-secret")
            .option("ftppassword", "ftp-secret")
            .option("authcode", "EPP-secret")
            .option("api_token", "tok-secret")
            .option("credential", "cred-secret");
        let params = journal_params(&request, &json!({"ids": ["1"]}));
        let stored = params.to_string();
        for secret in [
            "Hunter2-secret",
            "ftp-secret",
            "EPP-secret",
            "tok-secret",
            "cred-secret",
        ] {
            assert!(!stored.contains(secret), "{secret} journalled: {stored}");
        }
        assert_eq!(params["options"]["serverroom"], "3");
        // The key is kept (blank) so the order still says what was set.
        assert_eq!(params["options"]["password"], "");
        assert_eq!(params["before"]["ids"][0], "1");
    }
}
