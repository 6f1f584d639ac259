//! The double-entry ledger's vocabulary: accounts, entries, balanced transactions.
//!
//! Every movement of money idcgate knows about is one [`Transaction`] whose entries sum
//! to zero fen. A positive amount is a debit (money arrives in that account), a negative
//! one a credit (money leaves it). Balances are sums of entries, never a stored amount,
//! so the store only appends. Amounts are integer fen here because this is what is
//! stored; [`crate::Money`] converts exactly.

use crate::error::{Error, Result};
use crate::model::ResourceKind;
use crate::money::Money;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A ledger account. Its name is its identity in storage (`upstream:sandbox-west`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum LedgerAccount {
    /// Our prepaid money at one upstream account.
    Upstream(String),
    /// What we paid upstreams for one kind of product (domains, servers, ...).
    Cost(String),
    /// Money returned to us by an upstream (refunds of unused time).
    Refunds,
    /// Money we put into an upstream account (top-ups) comes from here.
    Funding,
    /// A downstream reseller's money held with us.
    Tenant(String),
    /// A downstream reseller's credit line (negative balance = credit drawn).
    TenantCredit(String),
    /// What tenants paid us, per product kind.
    Revenue(String),
}

impl LedgerAccount {
    pub fn upstream(account: &str) -> Self {
        LedgerAccount::Upstream(account.to_string())
    }

    pub fn cost(kind: ResourceKind) -> Self {
        LedgerAccount::Cost(kind.as_str().to_string())
    }

    pub fn parse(name: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "ledger account",
                format!("{name:?} is not a ledger account"),
            )
        };
        let (head, rest) = match name.split_once(':') {
            Some((h, r)) if !r.is_empty() => (h, Some(r.to_string())),
            Some(_) => return Err(bad()),
            None => (name, None),
        };
        Ok(match (head, rest) {
            ("upstream", Some(r)) => LedgerAccount::Upstream(r),
            ("cost", Some(r)) => LedgerAccount::Cost(r),
            ("refunds", None) => LedgerAccount::Refunds,
            ("funding", None) => LedgerAccount::Funding,
            ("tenant", Some(r)) => LedgerAccount::Tenant(r),
            ("tenant-credit", Some(r)) => LedgerAccount::TenantCredit(r),
            ("revenue", Some(r)) => LedgerAccount::Revenue(r),
            _ => return Err(bad()),
        })
    }
}

impl fmt::Display for LedgerAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LedgerAccount::Upstream(a) => write!(f, "upstream:{a}"),
            LedgerAccount::Cost(k) => write!(f, "cost:{k}"),
            LedgerAccount::Refunds => f.write_str("refunds"),
            LedgerAccount::Funding => f.write_str("funding"),
            LedgerAccount::Tenant(t) => write!(f, "tenant:{t}"),
            LedgerAccount::TenantCredit(t) => write!(f, "tenant-credit:{t}"),
            LedgerAccount::Revenue(k) => write!(f, "revenue:{k}"),
        }
    }
}

impl From<LedgerAccount> for String {
    fn from(a: LedgerAccount) -> String {
        a.to_string()
    }
}

impl TryFrom<String> for LedgerAccount {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        LedgerAccount::parse(&s)
    }
}

/// One line of a transaction: `fen` > 0 debits (money arrives), < 0 credits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub account: LedgerAccount,
    pub fen: i64,
}

/// A set of entries that sum to zero, with what it is about. Only [`Transaction::new`]
/// builds one, so an unbalanced transaction cannot reach the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    memo: String,
    /// The order this movement belongs to, if any.
    order_id: Option<i64>,
    entries: Vec<Entry>,
}

impl Transaction {
    pub fn new(
        memo: impl Into<String>,
        order_id: Option<i64>,
        entries: Vec<Entry>,
    ) -> Result<Self> {
        if entries.len() < 2 {
            return Err(Error::invalid(
                "entries",
                "a transaction needs at least two entries",
            ));
        }
        let mut sum: i64 = 0;
        for e in &entries {
            if e.fen == 0 {
                return Err(Error::invalid(
                    "entries",
                    format!("a zero entry on {}", e.account),
                ));
            }
            sum = sum
                .checked_add(e.fen)
                .ok_or_else(|| Error::invalid("entries", "amounts overflow"))?;
        }
        if sum != 0 {
            return Err(Error::invalid(
                "entries",
                format!("entries sum to {sum} fen, not zero"),
            ));
        }
        Ok(Transaction {
            memo: memo.into(),
            order_id,
            entries,
        })
    }

    /// Money moved from one account to another (`amount` > 0).
    pub fn transfer(
        memo: impl Into<String>,
        order_id: Option<i64>,
        from: LedgerAccount,
        to: LedgerAccount,
        amount: Money,
    ) -> Result<Self> {
        let fen = amount
            .to_fen()
            .map_err(|e| Error::invalid("amount", e.to_string()))?;
        if fen <= 0 {
            return Err(Error::invalid(
                "amount",
                "a transfer moves a positive amount",
            ));
        }
        Transaction::new(
            memo,
            order_id,
            vec![
                Entry {
                    account: from,
                    fen: -fen,
                },
                Entry { account: to, fen },
            ],
        )
    }

    pub fn memo(&self) -> &str {
        &self.memo
    }

    pub fn order_id(&self) -> Option<i64> {
        self.order_id
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_balanced_transactions_exist() {
        let up = LedgerAccount::upstream("sandbox-west");
        let cost = LedgerAccount::cost(ResourceKind::Domain);
        let t = Transaction::transfer(
            "register a.com",
            Some(1),
            up.clone(),
            cost.clone(),
            Money::from_fen(5500),
        )
        .unwrap();
        assert_eq!(t.entries().iter().map(|e| e.fen).sum::<i64>(), 0);
        assert_eq!(
            t.entries()[0],
            Entry {
                account: up.clone(),
                fen: -5500
            }
        );
        for bad in [
            vec![
                Entry {
                    account: up.clone(),
                    fen: -1,
                },
                Entry {
                    account: cost.clone(),
                    fen: 2,
                },
            ],
            vec![
                Entry {
                    account: up.clone(),
                    fen: 0,
                },
                Entry {
                    account: cost.clone(),
                    fen: 0,
                },
            ],
            vec![Entry {
                account: up.clone(),
                fen: 1,
            }],
            vec![
                Entry {
                    account: up.clone(),
                    fen: i64::MAX,
                },
                Entry {
                    account: cost.clone(),
                    fen: 1,
                },
            ],
        ] {
            assert!(Transaction::new("x", None, bad).is_err());
        }
        assert!(Transaction::transfer("x", None, up, cost, Money::from_fen(0)).is_err());
    }

    #[test]
    fn account_names_round_trip_and_bad_ones_are_refused() {
        for a in [
            LedgerAccount::upstream("sandbox-west"),
            LedgerAccount::cost(ResourceKind::Server),
            LedgerAccount::Refunds,
            LedgerAccount::Funding,
            LedgerAccount::Tenant("t1".into()),
            LedgerAccount::TenantCredit("t1".into()),
            LedgerAccount::Revenue("server".into()),
        ] {
            assert_eq!(LedgerAccount::parse(&a.to_string()).unwrap(), a);
        }
        for bad in ["", "upstream", "upstream:", "bank:x", "refunds:x"] {
            assert!(LedgerAccount::parse(bad).is_err(), "{bad}");
        }
    }
}
