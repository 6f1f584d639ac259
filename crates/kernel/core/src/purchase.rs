//! Purchases in vendor-neutral terms: what can be bought, what it costs, buying it
//! once, and finding out by reading whether a purchase whose answer was lost happened.
//!
//! The order journal (in the engine and store) decides *when* to call these; a vendor
//! crate only says how its upstream quotes, sells and shows what was sold. Everything
//! here is read-only except [`Purchasing::buy`], and `buy` is called at most once per
//! order: a lost answer is settled by [`Purchasing::settle`], never by buying again.

use crate::capability::Registrar;
use crate::error::{Error, Result};
use crate::model::{Order, PriceQuote, ResourceKind};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a purchase does to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A new resource: register a domain, provision a server, open a hosting site.
    Create,
    /// More time on an existing resource.
    Renew,
    /// A bigger (or different) plan for an existing resource, or a DNS plan grade.
    Upgrade,
    /// Bring an existing resource in from another provider (domain transfer in).
    Transfer,
}

crate::word_enum!(Operation {
    Create => "create",
    Renew => "renew",
    Upgrade => "upgrade",
    Transfer => "transfer",
});

impl FromStr for Operation {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        // Domains were journalled as "register" before other kinds existed.
        let s = if s == "register" { "create" } else { s };
        Operation::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| {
                Error::invalid(
                    "operation",
                    format!("{s:?} is not one of create, renew, upgrade, transfer"),
                )
            })
    }
}

/// Whether an option (by its vendor parameter name) carries a secret: sent upstream,
/// never journalled, never kept in a catalog. `auth` is a domain's transfer code
/// (CNDNS `authcode`, EPP authinfo): whoever has it can move the domain.
pub fn is_secret_option(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["pass", "pwd", "secret", "token", "key", "auth", "cred"]
        .iter()
        .any(|s| k.contains(s))
}

/// One thing to buy, in terms every vendor shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurchaseRequest {
    pub kind: ResourceKind,
    pub operation: Operation,
    /// For `Create` and `Transfer`: the name the resource takes (a domain name, a
    /// site's domain, a server's label). Otherwise the upstream id of the resource the
    /// purchase acts on (a domain name is a domain's id).
    pub target: String,
    /// The vendor's product, plan or configuration code (a West server config, a
    /// CNDNS product id, a Zonkvm package, a DNSPod grade); `None` where the kind has
    /// one product (domains: the suffix decides).
    pub offer: Option<String>,
    /// Length of the purchase or renewal; 0 for an upgrade that does not extend.
    pub months: u32,
    /// Vendor settings the offer needs (region, image, ...). Keys are the vendor's
    /// documented parameter names; secret ones (passwords) never reach the journal.
    pub options: BTreeMap<String, String>,
}

impl PurchaseRequest {
    pub fn new(kind: ResourceKind, operation: Operation, target: impl Into<String>) -> Self {
        PurchaseRequest {
            kind,
            operation,
            target: target.into(),
            offer: None,
            months: 12,
            options: BTreeMap::new(),
        }
    }

    pub fn offer(mut self, offer: impl Into<String>) -> Self {
        self.offer = Some(offer.into());
        self
    }

    pub fn months(mut self, months: u32) -> Self {
        self.months = months;
        self
    }

    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.insert(key.into(), value.into());
        self
    }

    /// The operation as people say it for this kind: a domain is registered, anything
    /// else created. What the journal and the audit log name.
    pub fn verb(&self) -> &'static str {
        match (self.kind, self.operation) {
            (ResourceKind::Domain, Operation::Create) => "register",
            (_, op) => op.as_str(),
        }
    }

    /// Whole years, for upstreams that sell domains by the year.
    pub fn years(&self) -> Result<u32> {
        if self.months == 0 || self.months % 12 != 0 || self.months > 120 {
            return Err(Error::invalid(
                "months",
                format!(
                    "{} months: domains are sold by whole years, 1 to 10",
                    self.months
                ),
            ));
        }
        Ok(self.months / 12)
    }

    /// The offer, or an error naming what is missing.
    pub fn need_offer(&self) -> Result<&str> {
        self.offer
            .as_deref()
            .filter(|o| !o.trim().is_empty())
            .ok_or_else(|| {
                Error::invalid(
                    "offer",
                    format!(
                        "a {} {} needs an offer (product code)",
                        self.kind.as_str(),
                        self.operation
                    ),
                )
            })
    }

    /// An option, or an error naming it.
    pub fn need_option(&self, key: &str) -> Result<&str> {
        self.options
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid(key, "required for this offer"))
    }

    /// The checks every vendor would otherwise repeat: a target that is a plain token,
    /// a sane length, no control characters in options.
    pub fn validate(&self) -> Result<()> {
        let t = &self.target;
        if t.is_empty() || t.len() > 253 || t != t.trim() || t.chars().any(char::is_control) {
            return Err(Error::invalid(
                "target",
                format!("{t:?} is not a resource name or id"),
            ));
        }
        if self.months > 120 {
            return Err(Error::invalid("months", "at most 120 months"));
        }
        if self.kind == ResourceKind::Domain {
            if !t.contains('.') {
                return Err(Error::invalid(
                    "target",
                    format!("{t:?} is not a domain name"),
                ));
            }
            self.years()?;
        }
        for (k, v) in &self.options {
            if k.is_empty() || v.len() > 1000 || v.chars().any(char::is_control) {
                return Err(Error::invalid(k, "not a usable option value"));
            }
        }
        Ok(())
    }
}

impl fmt::Display for PurchaseRequest {
    /// "create domain example.com for 12 months (offer X)": what a confirmation names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.verb(), self.kind.as_str(), self.target)?;
        if self.months > 0 {
            write!(f, " for {} months", self.months)?;
        }
        if let Some(offer) = &self.offer {
            write!(f, " (offer {offer})")?;
        }
        Ok(())
    }
}

/// What [`Purchasing::settle`] found when it read the upstream after a lost answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// The purchase happened. `upstream_ref` is the resource or order id read back;
    /// `charged` what the upstream's record says it took, when it says.
    Happened {
        upstream_ref: Option<String>,
        charged: Option<crate::Money>,
        evidence: String,
    },
    /// Reading shows it did not happen (and, having read, it will not later).
    DidNotHappen { evidence: String },
}

/// A capability for buying: every vendor that sells something implements it, for the
/// kinds and operations it lists in [`Purchasing::sells`]; anything else answers
/// `Error::Unsupported`.
#[async_trait]
pub trait Purchasing: Send + Sync {
    /// The (kind, operation) pairs this account can buy.
    fn sells(&self) -> Vec<(ResourceKind, Operation)>;

    /// What the upstream asks for this purchase now.
    async fn quote(&self, request: &PurchaseRequest) -> Result<PriceQuote>;

    /// What settling a lost answer will compare against, read before buying (the expiry
    /// before a renewal, the ids that exist before a create). Stored with the order.
    async fn before(&self, request: &PurchaseRequest) -> Result<serde_json::Value>;

    /// Buys once. `client_order_id` is passed where the upstream takes one (and used as
    /// a marker where it takes a remark); a lost answer is `Error::UnknownOutcome`.
    async fn buy(&self, request: &PurchaseRequest, client_order_id: &str) -> Result<Order>;

    /// After a lost answer: reads the upstream (never writes) and says whether the
    /// purchase happened, with what it read.
    async fn settle(
        &self,
        request: &PurchaseRequest,
        client_order_id: &str,
        before: &serde_json::Value,
    ) -> Result<Settled>;

    /// The units ([`crate::units`]) this upstream provisions for what the create
    /// `request` buys: carried in its options (`units.*`) on that create, and as
    /// increments on an upgrade of what it made. A product sells only these per unit;
    /// none by default, so an upstream whose crate sends no such change is never sold
    /// units it would not deliver (an option it ignores would still be paid for).
    fn units_provisioned(&self, request: &PurchaseRequest) -> Vec<crate::units::Unit> {
        let _ = request;
        Vec::new()
    }
}

/// The `Unsupported` answer for a purchase a vendor does not sell.
pub fn not_sold(vendor: impl fmt::Display, request: &PurchaseRequest) -> Error {
    Error::unsupported(
        vendor,
        format!("{} {}", request.operation, request.kind.as_str()),
    )
}

/// Domain purchases for any [`Registrar`]: the one place that says how a registration,
/// renewal or transfer is quoted, bought and settled by reading the domain back.
pub mod domains {
    use super::*;
    use serde_json::json;

    pub const SELLS: [(ResourceKind, Operation); 2] = [
        (ResourceKind::Domain, Operation::Create),
        (ResourceKind::Domain, Operation::Renew),
    ];

    /// A registration or renewal takes nothing but the name and the years: an option
    /// would be journalled and then dropped without a word (a `price` among them would
    /// look as if it had been honoured).
    fn no_options(request: &PurchaseRequest) -> Result<()> {
        match request.options.keys().next() {
            Some(k) => Err(Error::invalid(
                k,
                format!("a domain {} takes no options", request.verb()),
            )),
            None => Ok(()),
        }
    }

    pub async fn quote(registrar: &dyn Registrar, request: &PurchaseRequest) -> Result<PriceQuote> {
        no_options(request)?;
        let years = request.years()?;
        match request.operation {
            Operation::Create => registrar.quote_registration(&request.target, years).await,
            Operation::Renew => registrar.quote_renewal(&request.target, years).await,
            _ => Err(not_sold("this registrar", request)),
        }
    }

    pub async fn before(
        registrar: &dyn Registrar,
        request: &PurchaseRequest,
    ) -> Result<serde_json::Value> {
        Ok(match request.operation {
            Operation::Renew => {
                let d = registrar.get_domain(&request.target).await?;
                json!({"expires_before_ms": d.expires_at.map(|t| t.as_millisecond())})
            }
            _ => serde_json::Value::Null,
        })
    }

    pub async fn buy(
        registrar: &dyn Registrar,
        request: &PurchaseRequest,
        client_order_id: &str,
    ) -> Result<Order> {
        no_options(request)?;
        let years = request.years()?;
        match request.operation {
            Operation::Create => {
                registrar
                    .register(&request.target, years, client_order_id)
                    .await
            }
            Operation::Renew => {
                registrar
                    .renew(&request.target, years, client_order_id)
                    .await
            }
            _ => Err(not_sold("this registrar", request)),
        }
    }

    /// A registration happened if the domain is now in the account; a renewal if its
    /// expiry moved past the one read before.
    pub async fn settle(
        registrar: &dyn Registrar,
        request: &PurchaseRequest,
        before: &serde_json::Value,
    ) -> Result<Settled> {
        let name = &request.target;
        let read = match registrar.get_domain(name).await {
            Ok(d) => Some(d),
            Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        let seen = match &read {
            Some(d) => format!(
                "read {name}: in the account, expires {}",
                d.expires_at.map_or("unknown".into(), |t| t.to_string())
            ),
            None => format!("read {name}: not in the account"),
        };
        let happened = match (request.operation, &read) {
            (Operation::Create | Operation::Transfer, Some(_)) => true,
            (Operation::Renew, Some(d)) => {
                let before = before["expires_before_ms"].as_i64();
                let now = d.expires_at.map(|t| t.as_millisecond());
                matches!((before, now), (Some(b), Some(n)) if n > b)
            }
            _ => false,
        };
        Ok(if happened {
            Settled::Happened {
                upstream_ref: Some(name.clone()),
                charged: None,
                evidence: format!("{seen}: it happened"),
            }
        } else {
            Settled::DidNotHappen {
                evidence: format!("{seen}: it did not happen"),
            }
        })
    }
}
