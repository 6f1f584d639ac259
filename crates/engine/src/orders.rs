//! Purchases through the order journal: quote, write the order, mark it submitted,
//! call the upstream once, book what it cost — and, when the answer was lost, find out
//! by reading the upstream instead of buying again.
//!
//! The journal's rules (one order per idempotency key; `pending → submitted` is written
//! before the upstream call; `unknown` moves only by reconciliation) live in the store
//! and in [`OrderState::may_become`]; this module decides what to ask and what to book.

use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::ledger::{LedgerAccount, Transaction};
use idcgate_core::{Error, Money, OrderState, PriceQuote, ResourceKind};
use idcgate_store::{Move, NewOrder, OrderFilter, OrderRow, Placed};
use serde_json::json;

/// Something idcgate can buy through the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purchase {
    RegisterDomain { name: String, years: u32 },
    RenewDomain { name: String, years: u32 },
}

impl Purchase {
    fn kind(&self) -> ResourceKind {
        match self {
            Purchase::RegisterDomain { .. } | Purchase::RenewDomain { .. } => ResourceKind::Domain,
        }
    }

    fn operation(&self) -> &'static str {
        match self {
            Purchase::RegisterDomain { .. } => "register",
            Purchase::RenewDomain { .. } => "renew",
        }
    }

    fn target(&self) -> &str {
        match self {
            Purchase::RegisterDomain { name, .. } | Purchase::RenewDomain { name, .. } => name,
        }
    }

    fn years(&self) -> u32 {
        match self {
            Purchase::RegisterDomain { years, .. } | Purchase::RenewDomain { years, .. } => *years,
        }
    }

    /// Reads an order's stored description back.
    pub fn of_order(row: &OrderRow) -> Result<Self> {
        let years = row.order.params["years"]
            .as_u64()
            .and_then(|y| u32::try_from(y).ok())
            .ok_or_else(|| EngineError::Invalid(format!("order {}: no years", row.id)))?;
        let name = row.order.target.clone();
        match row.order.operation.as_str() {
            "register" => Ok(Purchase::RegisterDomain { name, years }),
            "renew" => Ok(Purchase::RenewDomain { name, years }),
            other => Err(EngineError::Invalid(format!(
                "order {}: unknown operation {other:?}",
                row.id
            ))),
        }
    }

    fn validate(&self) -> Result<()> {
        let years = self.years();
        if !(1..=10).contains(&years) {
            return Err(EngineError::Invalid(format!(
                "years must be 1 to 10, not {years}"
            )));
        }
        let name = self.target();
        if name.is_empty() || name.len() > 253 || !name.contains('.') || name != name.trim() {
            return Err(EngineError::Invalid(format!(
                "{name:?} is not a domain name"
            )));
        }
        Ok(())
    }
}

/// An idempotency key nobody else will have picked.
pub fn new_idempotency_key() -> String {
    format!("idg-{:032x}", rand::random::<u128>())
}

impl Engine {
    /// What the upstream asks for this purchase now.
    pub async fn quote(&self, account: &str, purchase: &Purchase) -> Result<PriceQuote> {
        purchase.validate()?;
        let conn = self.connection(account).await?;
        let registrar = conn
            .registrar()
            .ok_or_else(|| unsupported(&*conn, "domains"))?;
        Ok(match purchase {
            Purchase::RegisterDomain { name, years } => {
                registrar.quote_registration(name, *years).await?
            }
            Purchase::RenewDomain { name, years } => registrar.quote_renewal(name, *years).await?,
        })
    }

    /// Places an order through the journal. The same `idem_key` again returns the
    /// first order and calls nothing upstream, whatever state it is in.
    pub async fn place_order(
        &self,
        actor: &str,
        account: &str,
        purchase: &Purchase,
        idem_key: Option<&str>,
    ) -> Result<OrderRow> {
        purchase.validate()?;
        let key = match idem_key.map(str::trim) {
            Some("") => return Err(EngineError::Invalid("an empty idempotency key".into())),
            Some(k) if k.len() > 200 => {
                return Err(EngineError::Invalid(
                    "idempotency key over 200 characters".into(),
                ))
            }
            Some(k) => k.to_string(),
            None => new_idempotency_key(),
        };
        if let Some(existing) = self.store.order_by_key(&key).await? {
            return Ok(existing);
        }
        let conn = self.connection(account).await?;
        let registrar = conn
            .registrar()
            .ok_or_else(|| unsupported(&*conn, "domains"))?;
        let quote = self.quote(account, purchase).await?;
        let quoted_fen = fen(quote.price)?;
        // What reconciliation compares against: the expiry before a renewal.
        let before = match purchase {
            Purchase::RenewDomain { name, .. } => {
                let d = registrar.get_domain(name).await?;
                json!(d.expires_at.map(|t| t.as_millisecond()))
            }
            Purchase::RegisterDomain { .. } => serde_json::Value::Null,
        };
        let placed = self
            .store
            .create_order(&NewOrder {
                idem_key: key,
                account: account.to_string(),
                kind: purchase.kind(),
                operation: purchase.operation().to_string(),
                target: purchase.target().to_string(),
                params: json!({"years": purchase.years(), "expires_before_ms": before}),
                quoted_fen,
                actor: actor.to_string(),
            })
            .await?;
        let order = match placed {
            Placed::New(o) => o,
            Placed::Existing(o) => return Ok(o),
        };
        let submitted = Move::state(
            OrderState::Pending,
            OrderState::Submitted,
            "sending to the upstream",
        );
        if !self.store.move_order(order.id, &submitted).await? {
            // Another process took it between our insert and now; it is theirs to send.
            return self.order(order.id).await;
        }
        let key = order.order.idem_key.as_str();
        let answer = match purchase {
            Purchase::RegisterDomain { name, years } => registrar.register(name, *years, key).await,
            Purchase::RenewDomain { name, years } => registrar.renew(name, *years, key).await,
        };
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
        self.audit(
            actor,
            &format!("order.{}", purchase.operation()),
            &format!("{account}/{}", purchase.target()),
            &row,
            |o| {
                format!(
                    "order {} {} (key {})",
                    o.id,
                    o.state.as_str(),
                    o.order.idem_key
                )
            },
        )
        .await;
        result?;
        row
    }

    /// Books a succeeded order: the state move and its ledger transaction together.
    async fn finish(
        &self,
        order: &OrderRow,
        from: OrderState,
        booked_fen: i64,
        detail: &str,
        upstream_ref: Option<&str>,
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
            charged_fen: Some(booked_fen),
            transaction: Some(&txn),
        };
        self.store.move_order(order.id, &mv).await.map(|_| ())
    }

    pub async fn order(&self, id: i64) -> Result<OrderRow> {
        self.store
            .get_order(id)
            .await?
            .ok_or_else(|| EngineError::Invalid(format!("no order {id}")))
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
        let purchase = Purchase::of_order(&order)?;
        let conn = self.connection(&order.order.account).await?;
        let registrar = conn
            .registrar()
            .ok_or_else(|| unsupported(&*conn, "domains"))?;
        let name = purchase.target();
        let read = match registrar.get_domain(name).await {
            Ok(d) => Some(d),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let happened = match (&purchase, &read) {
            (Purchase::RegisterDomain { .. }, Some(_)) => true,
            (Purchase::RegisterDomain { .. }, None) => false,
            (Purchase::RenewDomain { .. }, Some(d)) => {
                let before = order.order.params["expires_before_ms"].as_i64();
                let now = d.expires_at.map(|t| t.as_millisecond());
                matches!((before, now), (Some(b), Some(n)) if n > b)
            }
            (Purchase::RenewDomain { .. }, None) => false,
        };
        let seen = match &read {
            Some(d) => format!(
                "read {name}: in the account, expires {}",
                d.expires_at.map_or("unknown".into(), |t| t.to_string())
            ),
            None => format!("read {name}: not in the account"),
        };
        if happened {
            let detail = format!("{seen}: it happened; booked the quote");
            self.finish(&order, from, order.order.quoted_fen, &detail, Some(name))
                .await?;
        } else {
            let mv = Move {
                from,
                to: OrderState::Failed,
                detail: &format!("{seen}: it did not happen"),
                upstream_ref: None,
                charged_fen: None,
                transaction: None,
            };
            self.store.move_order(id, &mv).await?;
        }
        self.order(id).await
    }

    /// Reconciles every `unknown` order and every `submitted` one older than
    /// `stale_after_ms` (its process is presumed gone). Returns the orders it resolved.
    pub async fn reconcile_orders(&self, stale_after_ms: i64) -> Result<Vec<OrderRow>> {
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
        let mut done = Vec::new();
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

fn unsupported(conn: &dyn idcgate_core::Connection, what: &str) -> EngineError {
    EngineError::Upstream(Error::Unsupported {
        vendor: conn.vendor().to_string(),
        capability: what.into(),
    })
}

/// The statement check of one upstream account: what the ledger booked against what the
/// vendor's own finance record says it charged. Every difference is reported; nothing
/// is smoothed over or corrected.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Statement {
    pub account: String,
    pub since_ms: i64,
    /// Fen booked by succeeded orders placed since `since_ms`.
    pub booked_fen: i64,
    /// Fen the vendor's record shows charged since `since_ms`.
    pub charged_fen: i64,
    pub differences: Vec<String>,
}

impl Engine {
    pub async fn statement(&self, account: &str, since_ms: i64) -> Result<Statement> {
        let conn = self.connection(account).await?;
        let billing = conn
            .billing()
            .ok_or_else(|| unsupported(&*conn, "billing"))?;
        let since = jiff::Timestamp::from_millisecond(since_ms)
            .map_err(|e| EngineError::Invalid(format!("since: {e}")))?;
        let charges = billing.charges(since).await?;
        let mut orders: Vec<OrderRow> = self
            .store
            .list_orders(&OrderFilter {
                account: Some(account.to_string()),
                state: Some(OrderState::Succeeded),
                limit: Some(100_000),
                ..Default::default()
            })
            .await?
            .into_iter()
            .filter(|o| o.created_ms >= since_ms)
            .collect();
        let booked_fen = orders
            .iter()
            .map(|o| o.charged_fen.unwrap_or(o.order.quoted_fen))
            .sum();
        let mut differences = Vec::new();
        let mut charged_fen = 0i64;
        for c in &charges {
            let fen = fen(c.amount)?;
            charged_fen += fen;
            // Matched by the vendor's order id where both sides have it, else by what
            // was bought (the vendor's memo names it) and the amount.
            let by_ref = c.reference.as_deref().and_then(|r| {
                orders
                    .iter()
                    .position(|o| o.upstream_ref.as_deref() == Some(r))
            });
            let by_target = || {
                orders
                    .iter()
                    .position(|o| c.memo.contains(&o.order.target) && o.charged_fen == Some(fen))
            };
            let by_memo = || orders.iter().position(|o| c.memo.contains(&o.order.target));
            match by_ref.or_else(by_target).or_else(by_memo) {
                Some(i) => {
                    let o = orders.remove(i);
                    let booked = o.charged_fen.unwrap_or(o.order.quoted_fen);
                    if booked != fen {
                        differences.push(format!(
                            "order {} recorded {}, {account} charged {}",
                            o.id,
                            Money::from_fen(booked),
                            c.amount
                        ));
                    }
                }
                None => differences.push(format!(
                    "{account} charged {} on {} with no order of ours ({})",
                    c.amount,
                    c.at.strftime("%Y-%m-%d %H:%M:%S UTC"),
                    c.memo
                )),
            }
        }
        for o in &orders {
            differences.push(format!(
                "order {} booked {} but {account} shows no charge for it",
                o.id,
                Money::from_fen(o.charged_fen.unwrap_or(o.order.quoted_fen))
            ));
        }
        Ok(Statement {
            account: account.to_string(),
            since_ms,
            booked_fen,
            charged_fen,
            differences,
        })
    }
}
