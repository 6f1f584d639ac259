//! The product catalog: what idcgate resells, which upstream account fulfils it, and at
//! what price.
//!
//! A product is a purchase template (kind, offer, options) that the account's
//! `Purchasing` sells as a create, plus a [`PriceRule`]. What it costs us is never
//! stored: it is the upstream's quote, read each time a price is shown (and, later,
//! each time one is sold), so a price change upstream shows at once in the margin.
//!
//! A resale price for `months` is the rule's basis — a markup on the cost of that term
//! or a fixed monthly price times the months, per tenant price level where the rule has
//! one — less the discount of the longest term threshold the months reach, rounded once,
//! at the end, to the fen by [`ROUNDING`].

use crate::tenants::check_name;
use crate::{now_ms, Engine, EngineError, Result};
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::{Error, Money, ResourceKind};
use idcgate_store::{NewProduct, ProductRow, ProductState, StoreError};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How a computed price becomes whole fen: half a fen and more rounds up (四舍五入),
/// as prices are written in China. The one place this is decided.
pub const ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// A decimal amount of yuan rounded to the fen by [`ROUNDING`].
pub fn round_to_fen(amount: Decimal) -> Money {
    Money(amount.round_dp_with_strategy(2, ROUNDING))
}

/// The target a template is quoted with: a create's name is a label the price never
/// depends on.
pub(crate) const QUOTE_TARGET: &str = "quote";

/// The term shown when a rule lists none: every product sells by the year.
const DEFAULT_MONTHS: u32 = 12;

/// The most a markup may add (percent) and a fixed monthly price may be (yuan): beyond
/// them is a typo.
const MAX_MARKUP: i64 = 1_000;
const MAX_MONTHLY_YUAN: i64 = 1_000_000;

/// What a price starts from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The upstream's cost of the term, plus this many percent.
    Markup(Decimal),
    /// This much a month, whatever the upstream asks.
    Fixed(Money),
}

impl FromStr for Basis {
    type Err = EngineError;
    /// `20%` is a 20 % markup; `99.00` a fixed monthly price.
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        let bad = || {
            EngineError::from(Error::invalid(
                "price",
                format!("{s:?}: a markup like 20% or a monthly price like 99.00"),
            ))
        };
        let basis = match s.strip_suffix('%') {
            Some(p) => Basis::Markup(Decimal::from_str(p.trim()).map_err(|_| bad())?),
            None => Basis::Fixed(s.parse().map_err(|_| bad())?),
        };
        basis.check()?;
        Ok(basis)
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Markup(p) => write!(f, "cost + {}%", p.normalize()),
            Basis::Fixed(m) => write!(f, "{m} a month"),
        }
    }
}

impl Basis {
    fn check(&self) -> Result<()> {
        match self {
            Basis::Markup(p) if *p < Decimal::ZERO || *p > Decimal::from(MAX_MARKUP) => {
                Err(Error::invalid("markup", format!("{p}%: from 0% to {MAX_MARKUP}%")).into())
            }
            Basis::Fixed(m)
                if m.0 <= Decimal::ZERO
                    || m.0 > Decimal::from(MAX_MONTHLY_YUAN)
                    || m.to_fen().is_err() =>
            {
                Err(Error::invalid(
                    "fixed",
                    format!("{m}: whole fen, above 0.00, at most {MAX_MONTHLY_YUAN}.00 a month"),
                )
                .into())
            }
            _ => Ok(()),
        }
    }
}

/// How a product is priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    /// The price for tenants whose level the rule does not name.
    pub basis: Basis,
    /// Price level name → its own basis.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub levels: BTreeMap<String, Basis>,
    /// Months → percent off, for that term and longer ones (the longest threshold the
    /// term reaches applies).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub discounts: BTreeMap<u32, Decimal>,
    /// The terms offered, in months; empty: whatever the upstream sells.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub periods: Vec<u32>,
}

impl PriceRule {
    pub fn new(basis: Basis) -> Self {
        PriceRule {
            basis,
            levels: BTreeMap::new(),
            discounts: BTreeMap::new(),
            periods: Vec::new(),
        }
    }

    /// Reads the rule's text forms, as the CLI takes them: a basis (`20%`, `99.00`),
    /// levels `gold=15%`, discounts `12=10%` (months=percent off), periods `1,3,12`.
    pub fn parse(
        basis: &str,
        levels: &[String],
        discounts: &[String],
        periods: Option<&str>,
    ) -> Result<Self> {
        let mut rule = PriceRule::new(basis.parse()?);
        for l in levels {
            let (name, b) = l.split_once('=').ok_or_else(|| {
                EngineError::from(Error::invalid(
                    "level",
                    format!("{l:?}: expected LEVEL=PRICE, e.g. gold=15% or vip=80.00"),
                ))
            })?;
            rule.levels.insert(name.trim().to_string(), b.parse()?);
        }
        for d in discounts {
            let parsed = d.split_once('=').and_then(|(m, p)| {
                let months = m.trim().parse::<u32>().ok()?;
                let p = p.trim();
                let pct = Decimal::from_str(p.strip_suffix('%').unwrap_or(p).trim()).ok()?;
                Some((months, pct))
            });
            let (months, pct) = parsed.ok_or_else(|| {
                EngineError::from(Error::invalid(
                    "discount",
                    format!("{d:?}: expected MONTHS=PERCENT, e.g. 12=10%"),
                ))
            })?;
            rule.discounts.insert(months, pct);
        }
        if let Some(p) = periods {
            for m in p.split(',').map(str::trim).filter(|m| !m.is_empty()) {
                rule.periods.push(m.parse().map_err(|_| {
                    EngineError::from(Error::invalid(
                        "periods",
                        format!("{m:?} is not a number of months"),
                    ))
                })?);
            }
        }
        rule.validate()?;
        Ok(rule)
    }

    pub fn validate(&self) -> Result<()> {
        self.basis.check()?;
        for (name, b) in &self.levels {
            check_name("level", name)?;
            b.check()?;
        }
        for (months, pct) in &self.discounts {
            if !(1..=120).contains(months) {
                return Err(
                    Error::invalid("discount", format!("{months} months: 1 to 120")).into(),
                );
            }
            if *pct < Decimal::ZERO || *pct >= Decimal::ONE_HUNDRED {
                return Err(Error::invalid(
                    "discount",
                    format!("{pct}% off: from 0% to below 100%"),
                )
                .into());
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.periods {
            if !(1..=120).contains(m) || !seen.insert(*m) {
                return Err(Error::invalid(
                    "periods",
                    format!("{m} months: each term once, 1 to 120"),
                )
                .into());
            }
        }
        Ok(())
    }

    /// The basis a tenant at `level` buys at, and the level it comes from (`""`: base).
    pub fn basis_for<'r>(&'r self, level: &'r str) -> (&'r Basis, &'r str) {
        match self.levels.get(level) {
            Some(b) => (b, level),
            None => (&self.basis, ""),
        }
    }

    /// Percent off for a term of `months`: the discount of the longest threshold it
    /// reaches.
    pub fn discount_for(&self, months: u32) -> Decimal {
        self.discounts
            .range(..=months)
            .next_back()
            .map_or(Decimal::ZERO, |(_, d)| *d)
    }

    /// Whether the rule sells this term.
    pub fn check_months(&self, months: u32) -> Result<()> {
        if !(1..=120).contains(&months) {
            return Err(Error::invalid("months", format!("{months}: 1 to 120")).into());
        }
        if !self.periods.is_empty() && !self.periods.contains(&months) {
            return Err(Error::invalid(
                "months",
                format!(
                    "{months} months is not offered (terms: {})",
                    self.periods
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into());
        }
        Ok(())
    }

    /// The terms to show: the offered ones, or a year.
    pub fn shown_periods(&self) -> Vec<u32> {
        if self.periods.is_empty() {
            vec![DEFAULT_MONTHS]
        } else {
            self.periods.clone()
        }
    }

    /// The resale price of `months` at `level`, given the upstream's cost of that term
    /// (a markup needs it; a fixed price does not).
    pub fn price(&self, level: &str, months: u32, cost: Option<Money>) -> Result<Money> {
        self.check_months(months)?;
        let overflow = || EngineError::from(Error::invalid("price", "amount out of range"));
        let raw = match self.basis_for(level).0 {
            Basis::Markup(pct) => {
                let cost = cost.ok_or_else(|| {
                    EngineError::Invalid("a markup price needs the upstream's cost".into())
                })?;
                if cost.is_negative() {
                    return Err(EngineError::Invalid(format!(
                        "the upstream quoted {cost}, below zero"
                    )));
                }
                let factor = Decimal::ONE_HUNDRED
                    .checked_add(*pct)
                    .and_then(|f| f.checked_div(Decimal::ONE_HUNDRED))
                    .ok_or_else(overflow)?;
                cost.0.checked_mul(factor).ok_or_else(overflow)?
            }
            Basis::Fixed(monthly) => monthly
                .0
                .checked_mul(Decimal::from(months))
                .ok_or_else(overflow)?,
        };
        let keep = Decimal::ONE_HUNDRED
            .checked_sub(self.discount_for(months))
            .and_then(|k| k.checked_div(Decimal::ONE_HUNDRED))
            .ok_or_else(overflow)?;
        let price = round_to_fen(raw.checked_mul(keep).ok_or_else(overflow)?);
        price.to_fen().map_err(|_| overflow())?;
        Ok(price)
    }
}

impl fmt::Display for PriceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.basis)?;
        for (name, b) in &self.levels {
            write!(f, "; {name}: {b}")?;
        }
        for (m, d) in &self.discounts {
            write!(f, "; {}% off from {m} months", d.normalize())?;
        }
        if !self.periods.is_empty() {
            let p: Vec<String> = self.periods.iter().map(u32::to_string).collect();
            write!(f, "; terms {} months", p.join(", "))?;
        }
        Ok(())
    }
}

/// What a product is made of, as a caller gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductSpec {
    pub name: String,
    /// Default: the name.
    pub title: Option<String>,
    pub account: String,
    pub kind: ResourceKind,
    pub offer: Option<String>,
    pub options: BTreeMap<String, String>,
    pub rule: PriceRule,
}

/// A catalog product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub account: String,
    pub kind: ResourceKind,
    pub offer: Option<String>,
    pub options: BTreeMap<String, String>,
    pub rule: PriceRule,
    pub state: ProductState,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Product {
    fn from_row(row: ProductRow) -> Result<Self> {
        let corrupt = |what: &str, e: String| {
            EngineError::Store(StoreError::Corrupt(format!(
                "product {} {what}: {e}",
                row.product.name
            )))
        };
        let rule: PriceRule = serde_json::from_value(row.product.rule.clone())
            .map_err(|e| corrupt("rule", e.to_string()))?;
        let options: BTreeMap<String, String> = serde_json::from_value(row.product.options.clone())
            .map_err(|e| corrupt("options", e.to_string()))?;
        let p = row.product;
        Ok(Product {
            id: row.id,
            name: p.name,
            title: p.title,
            account: p.account,
            kind: p.kind,
            offer: p.offer,
            options,
            rule,
            state: row.state,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
        })
    }

    /// The purchase that sells this product for `months`, creating `target`.
    pub fn purchase(&self, target: &str, months: u32) -> PurchaseRequest {
        PurchaseRequest {
            kind: self.kind,
            operation: Operation::Create,
            target: target.to_string(),
            offer: self.offer.clone(),
            months,
            options: self.options.clone(),
        }
    }
}

/// One price: what the upstream asks for the term now, what we ask, what we keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PriceView {
    pub product: String,
    pub account: String,
    pub months: u32,
    /// The tenant priced for, if any.
    pub tenant: Option<String>,
    /// The level whose basis applied (`""`: the base rule).
    pub level: String,
    /// What the upstream names the purchase it quoted.
    pub upstream_product: String,
    pub cost: Money,
    pub price: Money,
    /// Percent off for this term.
    pub discount: Decimal,
    /// Price minus cost (below zero: sold at a loss).
    pub margin: Money,
}

/// The prices of one term at every level, for `product show`; a failed quote is kept
/// as its message (a fixed price still shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TermPrices {
    pub months: u32,
    pub cost: Option<Money>,
    pub error: Option<String>,
    /// (level, price); `""` is the base rule.
    pub prices: Vec<(String, Option<Money>)>,
}

fn check_product_name(name: &str) -> Result<()> {
    check_name("name", name)?;
    // All digits would read as a product id.
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return Err(Error::invalid("name", format!("{name:?}: start with a letter")).into());
    }
    Ok(())
}

fn check_title(title: &str) -> Result<()> {
    if title.trim().is_empty() || title.chars().count() > 100 || title.chars().any(char::is_control)
    {
        return Err(Error::invalid("title", "1 to 100 printable characters").into());
    }
    Ok(())
}

fn rule_json(rule: &PriceRule) -> Result<serde_json::Value> {
    serde_json::to_value(rule).map_err(|e| EngineError::Invalid(format!("price rule: {e}")))
}

impl Engine {
    /// Adds a product after checking that its account sells the template as a create
    /// and quotes it now (the quote only checks; it is not kept).
    pub async fn add_product(&self, actor: &str, spec: ProductSpec) -> Result<Product> {
        let result = self.insert_product(spec.clone()).await;
        self.audit(actor, "product.add", &spec.name, &result, |p| {
            format!(
                "{} {} at {} (offer {}), {}",
                p.kind.as_str(),
                p.title,
                p.account,
                p.offer.as_deref().unwrap_or("-"),
                p.rule
            )
        })
        .await;
        result
    }

    async fn insert_product(&self, spec: ProductSpec) -> Result<Product> {
        check_product_name(&spec.name)?;
        let title = spec.title.clone().unwrap_or_else(|| spec.name.clone());
        check_title(&title)?;
        spec.rule.validate()?;
        if matches!(
            spec.kind,
            ResourceKind::Domain | ResourceKind::DnsRecord | ResourceKind::Balance
        ) {
            return Err(Error::invalid(
                "kind",
                format!(
                    "{} is not a catalog product (domains are sold by name)",
                    spec.kind.as_str()
                ),
            )
            .into());
        }
        if let Some(k) = spec
            .options
            .keys()
            .find(|k| idcgate_core::purchase::is_secret_option(k))
        {
            return Err(Error::invalid(
                k,
                "a secret is given with each order, never kept in the catalog",
            )
            .into());
        }
        let offer = spec.offer.clone().filter(|o| !o.trim().is_empty());
        let draft = Product {
            id: 0,
            name: spec.name.clone(),
            title: title.clone(),
            account: spec.account.clone(),
            kind: spec.kind,
            offer: offer.clone(),
            options: spec.options.clone(),
            rule: spec.rule.clone(),
            state: ProductState::OnSale,
            created_ms: 0,
            updated_ms: 0,
        };
        let months = spec.rule.shown_periods()[0];
        // `quote` refuses what the account does not sell as a create.
        self.quote(&spec.account, &draft.purchase(QUOTE_TARGET, months))
            .await?;
        let row = self
            .store
            .add_product(
                &NewProduct {
                    name: spec.name.clone(),
                    title,
                    account: spec.account,
                    kind: spec.kind,
                    offer,
                    options: serde_json::to_value(&spec.options)
                        .map_err(|e| EngineError::Invalid(format!("options: {e}")))?,
                    rule: rule_json(&spec.rule)?,
                },
                now_ms(),
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => EngineError::Conflict(format!(
                    "a product named {:?} exists (or existed: retired products keep their names)",
                    spec.name
                )),
                e => e.into(),
            })?;
        Product::from_row(row)
    }

    pub async fn product(&self, name: &str) -> Result<Product> {
        let row = self
            .store
            .get_product(name)
            .await?
            .ok_or_else(|| EngineError::from(Error::not_found(format!("product {name:?}"))))?;
        Product::from_row(row)
    }

    pub async fn products(&self, include_retired: bool) -> Result<Vec<Product>> {
        self.store
            .list_products(include_retired)
            .await?
            .into_iter()
            .map(Product::from_row)
            .collect()
    }

    /// Changes a product's title or price rule (its template is what orders were
    /// placed with, so it never changes: retire and add another instead).
    pub async fn update_product(
        &self,
        actor: &str,
        name: &str,
        title: Option<&str>,
        rule: Option<&PriceRule>,
    ) -> Result<Product> {
        let result = async {
            let before = self.product(name).await?;
            if let Some(t) = title {
                check_title(t)?;
            }
            let rule = rule
                .map(|r| {
                    r.validate()?;
                    rule_json(r)
                })
                .transpose()?;
            let row = self
                .store
                .update_product(&before.name, title, rule.as_ref(), now_ms())
                .await?
                .ok_or_else(|| EngineError::Invalid(format!("product {name} vanished")))?;
            Ok((before, Product::from_row(row)?))
        }
        .await;
        self.audit(actor, "product.set", name, &result, |(b, p)| {
            format!("{} ({}) -> {} ({})", b.title, b.rule, p.title, p.rule)
        })
        .await;
        result.map(|(_, p)| p)
    }

    /// Stops selling a product; it stays on record (orders name it).
    pub async fn retire_product(&self, actor: &str, name: &str) -> Result<Product> {
        let result = async {
            let p = self.product(name).await?;
            if !self.store.retire_product(&p.name, now_ms()).await? {
                return Err(EngineError::Conflict(format!(
                    "product {} is retired already",
                    p.name
                )));
            }
            self.product(&p.name).await
        }
        .await;
        self.audit(actor, "product.retire", name, &result, |p| {
            format!("{} no longer sold", p.name)
        })
        .await;
        result
    }

    /// Cost (the upstream's quote now), price and margin of a product for `months`
    /// (default: its first term), at a tenant's price level or the base rule.
    pub async fn product_price(
        &self,
        name: &str,
        tenant: Option<&str>,
        months: Option<u32>,
    ) -> Result<PriceView> {
        let p = self.product(name).await?;
        let level = match tenant {
            Some(t) => self.tenant(t).await?.tenant.price_level,
            None => String::new(),
        };
        let months = months.unwrap_or_else(|| p.rule.shown_periods()[0]);
        p.rule.check_months(months)?;
        let quote = self
            .quote(&p.account, &p.purchase(QUOTE_TARGET, months))
            .await?;
        let price = p.rule.price(&level, months, Some(quote.price))?;
        let applied = p.rule.basis_for(&level).1.to_string();
        Ok(PriceView {
            product: p.name.clone(),
            account: p.account.clone(),
            months,
            tenant: tenant.map(str::to_string),
            level: applied,
            upstream_product: quote.product,
            cost: quote.price,
            discount: p.rule.discount_for(months),
            margin: price - quote.price,
            price,
        })
    }

    /// Every offered term of a product with its live cost and the price at the base
    /// rule and each level.
    pub async fn product_prices(&self, p: &Product) -> Vec<TermPrices> {
        let mut levels = vec![String::new()];
        levels.extend(p.rule.levels.keys().cloned());
        let mut out = Vec::new();
        for months in p.rule.shown_periods() {
            let (cost, error) = match self
                .quote(&p.account, &p.purchase(QUOTE_TARGET, months))
                .await
            {
                Ok(q) => (Some(q.price), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let prices = levels
                .iter()
                .map(|l| (l.clone(), p.rule.price(l, months, cost).ok()))
                .collect();
            out.push(TermPrices {
                months,
                cost,
                error,
                prices,
            });
        }
        out
    }
}
