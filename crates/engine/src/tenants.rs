//! Tenants: the downstream resellers idcgate sells to. Each has an appid and appkey to
//! call the Zonkvm-dialect endpoint with, a price level, and money that lives only in
//! the ledger:
//!
//! - `tenant:<name>` holds what it paid in (a top-up: `funding` → `tenant:<name>`);
//! - `tenant-credit:<name>` is its credit line, negative by the credit drawn. The limit
//!   itself is a setting on the tenant, not money: granting credit moves nothing, so no
//!   ledger transaction records it (the audit log does). A top-up repays drawn credit
//!   first, so a tenant never holds money and owes credit at once.
//!
//! What it may spend is balance + limit − credit drawn, always summed from entries.

use crate::orders::new_idempotency_key;
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::ledger::{Entry, LedgerAccount, Transaction};
use idcgate_core::{Error, Money};
use idcgate_store::{
    AppKey, DepositRow, Deposited, NewDeposit, NewTenant, Removal, StoreError, TenantPatch,
    TenantRow, TenantState,
};
use serde::Serialize;

/// The most one top-up (or a credit limit) may be: 100 million yuan. Anything above is
/// a typo, and it keeps every sum far from overflowing.
const MAX_FEN: i64 = 10_000_000_000;

/// A tenant with its money, as the ledger says now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TenantView {
    #[serde(flatten)]
    pub tenant: TenantRow,
    /// What it paid in and has not spent (the `tenant:<name>` balance).
    pub balance: Money,
    pub credit_limit: Money,
    /// Credit in use (minus the `tenant-credit:<name>` balance).
    pub credit_drawn: Money,
    /// What it may spend now: balance + limit − drawn (never below zero).
    pub available: Money,
}

/// A top-up's outcome: the deposit, whether it was made earlier under the same key
/// (then nothing moved now), and the tenant after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topup {
    pub deposit: DepositRow,
    pub repeated: bool,
    pub tenant: TenantView,
}

/// A tenant or price-level name: it is part of ledger account names and URLs.
pub fn check_name(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!(
                "{name:?}: 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit"
            ),
        )
        .into())
    }
}

/// An amount in whole fen, from zero (`allow_zero`) or one fen up to [`MAX_FEN`].
pub(crate) fn amount_fen(field: &str, m: Money, allow_zero: bool) -> Result<i64> {
    let fen = m
        .to_fen()
        .map_err(|e| Error::invalid(field, e.to_string()))?;
    let least = i64::from(!allow_zero);
    if !(least..=MAX_FEN).contains(&fen) {
        return Err(Error::invalid(
            field,
            format!(
                "{m}: from {} to {}",
                Money::from_fen(least),
                Money::from_fen(MAX_FEN)
            ),
        )
        .into());
    }
    Ok(fen)
}

fn no_tenant(name: &str) -> EngineError {
    Error::not_found(format!("tenant {name:?}")).into()
}

impl Engine {
    /// Adds a tenant; its appkey is in the answer and nowhere else, ever.
    pub async fn add_tenant(
        &self,
        actor: &str,
        name: &str,
        price_level: &str,
        credit_limit: Money,
    ) -> Result<(TenantView, AppKey)> {
        check_name("name", name)?;
        if !price_level.is_empty() {
            check_name("level", price_level)?;
        }
        let credit = amount_fen("credit", credit_limit, true)?;
        let added = self
            .store
            .add_tenant(
                &NewTenant {
                    name: name.to_string(),
                    price_level: price_level.to_string(),
                    credit_limit_fen: credit,
                },
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => EngineError::Conflict(format!(
                    "a tenant named {name:?} exists (or existed: a removed tenant keeps its name)"
                )),
                e => e.into(),
            });
        self.audit(actor, "tenant.add", name, &added, |(t, _)| {
            format!(
                "appid {}, level {:?}, credit limit {}",
                t.appid,
                t.price_level,
                Money::from_fen(t.credit_limit_fen)
            )
        })
        .await;
        let (row, key) = added?;
        Ok((self.view(row).await?, key))
    }

    async fn view(&self, tenant: TenantRow) -> Result<TenantView> {
        let balance = self
            .store
            .account_balance(&tenant.account().to_string())
            .await?;
        let drawn = -self
            .store
            .account_balance(&tenant.credit_account().to_string())
            .await?;
        let available = (balance + tenant.credit_limit_fen - drawn).max(0);
        Ok(TenantView {
            balance: Money::from_fen(balance),
            credit_limit: Money::from_fen(tenant.credit_limit_fen),
            credit_drawn: Money::from_fen(drawn),
            available: Money::from_fen(available),
            tenant,
        })
    }

    pub async fn tenant(&self, name: &str) -> Result<TenantView> {
        let row = self
            .store
            .get_tenant(name)
            .await?
            .ok_or_else(|| no_tenant(name))?;
        self.view(row).await
    }

    pub async fn tenants(&self, include_removed: bool) -> Result<Vec<TenantView>> {
        let mut out = Vec::new();
        for t in self.store.list_tenants(include_removed).await? {
            out.push(self.view(t).await?);
        }
        Ok(out)
    }

    /// Pays money in for a tenant (a bank transfer received, say). The same
    /// `idem_key` again deposits nothing and answers with the first deposit; a key
    /// used for another tenant or amount is refused.
    pub async fn topup_tenant(
        &self,
        actor: &str,
        name: &str,
        amount: Money,
        idem_key: Option<&str>,
        memo: Option<&str>,
    ) -> Result<Topup> {
        let result = self.topup(actor, name, amount, idem_key, memo).await;
        self.audit(actor, "tenant.topup", name, &result, |t| {
            if t.repeated {
                format!(
                    "key {} was used before: nothing deposited",
                    t.deposit.deposit.idem_key
                )
            } else {
                format!(
                    "deposited {} (key {}, ledger transaction {}); balance {}",
                    Money::from_fen(t.deposit.deposit.fen),
                    t.deposit.deposit.idem_key,
                    t.deposit.txn_id,
                    t.tenant.balance
                )
            }
        })
        .await;
        result
    }

    async fn topup(
        &self,
        actor: &str,
        name: &str,
        amount: Money,
        idem_key: Option<&str>,
        memo: Option<&str>,
    ) -> Result<Topup> {
        let fen = amount_fen("amount", amount, false)?;
        let key = match idem_key.map(str::trim) {
            Some("") => return Err(Error::invalid("idempotency key", "empty").into()),
            Some(k) if k.len() > 200 || k.chars().any(char::is_control) => {
                return Err(
                    Error::invalid("idempotency key", "at most 200 printable characters").into(),
                )
            }
            Some(k) => k.to_string(),
            None => new_idempotency_key(),
        };
        let memo = memo.map(str::trim).filter(|m| !m.is_empty());
        if memo.is_some_and(|m| m.chars().count() > 200 || m.chars().any(char::is_control)) {
            return Err(Error::invalid("memo", "at most 200 printable characters").into());
        }
        let tenant = self.tenant(name).await?;
        if tenant.tenant.state == TenantState::Removed {
            if let Some(earlier) = self.store.deposit_by_key(&key).await? {
                return self.repeated(earlier, name, fen).await;
            }
            return Err(EngineError::Invalid(format!(
                "tenant {name} is removed; it takes no deposits"
            )));
        }
        // Drawn credit is repaid first. Read before writing: a charge drawing more in
        // between leaves some of it unrepaid, never the sum wrong.
        let drawn = tenant.credit_drawn.to_fen().unwrap_or(0).clamp(0, fen);
        let mut entries = vec![Entry {
            account: LedgerAccount::Funding,
            fen: -fen,
        }];
        if drawn > 0 {
            entries.push(Entry {
                account: tenant.tenant.credit_account(),
                fen: drawn,
            });
        }
        if fen > drawn {
            entries.push(Entry {
                account: tenant.tenant.account(),
                fen: fen - drawn,
            });
        }
        let text = match memo {
            Some(m) => format!("top-up {name}: {m}"),
            None => format!("top-up {name}"),
        };
        let txn = Transaction::new(text, None, entries)?;
        let deposit = NewDeposit {
            idem_key: key,
            tenant: name.to_string(),
            fen,
            actor: actor.to_string(),
        };
        match self.store.deposit(&deposit, &txn, now_ms()).await {
            Ok(Deposited::New(row)) => Ok(Topup {
                deposit: row,
                repeated: false,
                tenant: self.tenant(name).await?,
            }),
            Ok(Deposited::Existing(row)) => self.repeated(row, name, fen).await,
            Err(StoreError::Conflict(m)) => Err(EngineError::Conflict(m)),
            Err(StoreError::NotFound(_)) => Err(no_tenant(name)),
            Err(e) => Err(e.into()),
        }
    }

    async fn repeated(&self, earlier: DepositRow, name: &str, fen: i64) -> Result<Topup> {
        let d = &earlier.deposit;
        if d.tenant != name || d.fen != fen {
            return Err(EngineError::Invalid(format!(
                "idempotency key {} was used for a top-up of {} to {}; nothing was deposited",
                d.idem_key,
                Money::from_fen(d.fen),
                d.tenant
            )));
        }
        Ok(Topup {
            tenant: self.tenant(name).await?,
            deposit: earlier,
            repeated: true,
        })
    }

    /// Sets how far below zero the tenant's balance may go. Lowering it under the credit
    /// already drawn is allowed: the tenant then buys nothing until it pays in.
    pub async fn set_tenant_credit(
        &self,
        actor: &str,
        name: &str,
        limit: Money,
    ) -> Result<TenantView> {
        let result = async {
            let fen = amount_fen("credit", limit, true)?;
            let before = self.tenant(name).await?;
            let patch = TenantPatch {
                credit_limit_fen: Some(fen),
                ..Default::default()
            };
            Ok((before.credit_limit, self.patch(name, patch).await?))
        }
        .await;
        self.audit(actor, "tenant.credit", name, &result, |(was, t)| {
            format!(
                "credit limit {was} -> {} (drawn {})",
                t.credit_limit, t.credit_drawn
            )
        })
        .await;
        result.map(|(_, t)| t)
    }

    /// Sets the price level the tenant buys at (`""`: the base rules).
    pub async fn set_tenant_level(
        &self,
        actor: &str,
        name: &str,
        level: &str,
    ) -> Result<TenantView> {
        if !level.is_empty() {
            check_name("level", level)?;
        }
        let result = self
            .patch(
                name,
                TenantPatch {
                    price_level: Some(level.to_string()),
                    ..Default::default()
                },
            )
            .await;
        self.audit(actor, "tenant.level", name, &result, |t| {
            format!("price level {:?}", t.tenant.price_level)
        })
        .await;
        result
    }

    async fn patch(&self, name: &str, patch: TenantPatch) -> Result<TenantView> {
        match self.store.update_tenant(name, &patch, now_ms()).await? {
            Some(row) => self.view(row).await,
            None => match self.store.get_tenant(name).await? {
                Some(_) => Err(EngineError::Conflict(format!(
                    "tenant {name} is removed; its settings no longer change"
                ))),
                None => Err(no_tenant(name)),
            },
        }
    }

    /// An active tenant stops buying; it still reads and pays in.
    pub async fn suspend_tenant(&self, actor: &str, name: &str) -> Result<TenantView> {
        self.move_tenant(
            actor,
            "tenant.suspend",
            name,
            TenantState::Active,
            TenantState::Suspended,
        )
        .await
    }

    pub async fn resume_tenant(&self, actor: &str, name: &str) -> Result<TenantView> {
        self.move_tenant(
            actor,
            "tenant.resume",
            name,
            TenantState::Suspended,
            TenantState::Active,
        )
        .await
    }

    /// What the store `done`, or why it did nothing: the tenant's state now, then `why`
    /// ("tenant t1 is removed already").
    async fn done_or_state<T>(&self, name: &str, done: Option<T>, why: &str) -> Result<T> {
        match done {
            Some(v) => Ok(v),
            None => {
                let t = self.tenant(name).await?;
                Err(EngineError::Conflict(format!(
                    "tenant {name} is {}{why}",
                    t.tenant.state.as_str()
                )))
            }
        }
    }

    async fn move_tenant(
        &self,
        actor: &str,
        action: &str,
        name: &str,
        from: TenantState,
        to: TenantState,
    ) -> Result<TenantView> {
        let result = async {
            let moved = self.store.move_tenant(name, from, to, now_ms()).await?;
            let why = format!(", not {}", from.as_str());
            self.done_or_state(name, moved.then_some(()), &why).await?;
            self.tenant(name).await
        }
        .await;
        self.audit(actor, action, name, &result, |t| {
            format!("{} -> {}", from.as_str(), t.tenant.state.as_str())
        })
        .await;
        result
    }

    /// Takes a tenant out of selling for good. One that never held money is deleted
    /// (its name free again); any other is kept, removed, with its history.
    pub async fn remove_tenant(&self, actor: &str, name: &str) -> Result<Removal> {
        let result = async {
            let removed = self.store.remove_tenant(name, now_ms()).await?;
            self.done_or_state(name, removed, " already").await
        }
        .await;
        self.audit(actor, "tenant.remove", name, &result, |r| match r {
            Removal::Deleted => "deleted: it never held money".to_string(),
            Removal::Retired => "removed from selling; kept with its money and history".into(),
        })
        .await;
        result
    }

    /// A new appkey for the tenant (the old one stops working at once); shown once.
    pub async fn rekey_tenant(&self, actor: &str, name: &str) -> Result<AppKey> {
        let result = async {
            let key = self.store.rekey_tenant(name, now_ms()).await?;
            self.done_or_state(name, key, "; it has no key to replace")
                .await
        }
        .await;
        self.audit(actor, "tenant.rekey", name, &result, |_| {
            "new appkey issued; the old one no longer works".to_string()
        })
        .await;
        result
    }

    /// Whether the tenant may buy something costing `amount` now: it is active and its
    /// balance plus credit covers it. Reads only; the charge itself is booked with the
    /// order.
    pub async fn tenant_may_spend(&self, name: &str, amount: Money) -> Result<TenantView> {
        let t = self.tenant(name).await?;
        match t.tenant.state {
            TenantState::Active => {}
            state => {
                return Err(EngineError::Invalid(format!(
                    "tenant {name} is {}: it may read but not buy",
                    state.as_str()
                )))
            }
        }
        let need = amount_fen("amount", amount, true)?;
        if need > t.available.to_fen().unwrap_or(0) {
            return Err(Error::InsufficientBalance {
                vendor: "idcgate".into(),
                message: format!(
                    "tenant {name}: balance {} + credit {} (drawn {}) does not cover {amount}",
                    t.balance, t.credit_limit, t.credit_drawn
                ),
            }
            .into());
        }
        Ok(t)
    }
}
