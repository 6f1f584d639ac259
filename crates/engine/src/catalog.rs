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
use idcgate_core::money::plain_decimal;
use idcgate_core::purchase::{Operation, PurchaseRequest};
use idcgate_core::units::{Unit, Units, MAX_UNITS};
use idcgate_core::{Error, Money, ResourceKind};
use idcgate_store::{NewProduct, ProductRow, ProductState, ProductUnitRow, StoreError};
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
    #[serde(deserialize_with = "percent")]
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
            Some(p) => Basis::Markup(plain_decimal(p.trim()).ok_or_else(bad)?),
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

/// A percentage as `plain_decimal` reads it: `1e2` is not 100.
fn percent<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    plain_decimal(&text).ok_or_else(|| {
        serde::de::Error::custom(format!("{text:?} is not a percentage like 20 or 12.5"))
    })
}

fn percents<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<u32, Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Pct(#[serde(deserialize_with = "percent")] Decimal);
    let map = BTreeMap::<u32, Pct>::deserialize(d)?;
    Ok(map.into_iter().map(|(k, Pct(v))| (k, v)).collect())
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
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "percents"
    )]
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
                let pct = plain_decimal(p.strip_suffix('%').unwrap_or(p).trim())?;
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
        self.price_with(level, months, cost, Money::ZERO)
    }

    /// [`PriceRule::price`] of a configuration with units beyond the base: `cost` is
    /// the upstream's cost of the whole configuration (a markup applies to all of it);
    /// `fixed_units` what the units add a month at a fixed basis (ignored by a markup).
    /// The term's discount applies to base and units alike.
    pub fn price_with(
        &self,
        level: &str,
        months: u32,
        cost: Option<Money>,
        fixed_units: Money,
    ) -> Result<Money> {
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
                .checked_add(fixed_units.0)
                .and_then(|m| m.checked_mul(Decimal::from(months)))
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
    /// What it sells per unit beyond its base (`Engine::set_product_units`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<ProductUnit>,
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
            units: Vec::new(),
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
        if let Some(k) = spec
            .options
            .keys()
            .find(|k| idcgate_core::units::Unit::of_option(k).is_some())
        {
            return Err(Error::invalid(
                k,
                "units beyond the base are sold per unit (product units), not fixed in the template",
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
            units: Vec::new(),
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
        let mut p = Product::from_row(row)?;
        p.units = units_from(self.store.product_units(p.id).await?)?;
        Ok(p)
    }

    pub async fn products(&self, include_retired: bool) -> Result<Vec<Product>> {
        let mut units: BTreeMap<i64, Vec<idcgate_store::ProductUnitRow>> = BTreeMap::new();
        for u in self.store.all_product_units().await? {
            units.entry(u.product_id).or_default().push(u);
        }
        self.store
            .list_products(include_retired)
            .await?
            .into_iter()
            .map(|row| {
                let mut p = Product::from_row(row)?;
                p.units = units_from(units.remove(&p.id).unwrap_or_default())?;
                Ok(p)
            })
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

/// One unit a product sells beyond its base: at most `max_extra` of it per holding, at
/// the product's markup on the upstream's cost of it, or where the tenant's basis is a
/// fixed monthly price, at `fixed` a unit a month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductUnit {
    pub unit: Unit,
    pub max_extra: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Money>,
}

impl ProductUnit {
    /// Reads `UNIT=MAX` or `UNIT=MAX@PRICE` (`ip=8`, `bandwidth=100@17.60`), as the CLI
    /// takes it.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            EngineError::from(Error::invalid(
                "unit",
                format!("{text:?}: expected UNIT=MAX or UNIT=MAX@PRICE, UNIT one of ip, bandwidth, defense"),
            ))
        };
        let (unit, rest) = text.split_once('=').ok_or_else(bad)?;
        let unit = Unit::parse(unit).ok_or_else(bad)?;
        let (max, fixed) = match rest.split_once('@') {
            Some((m, p)) => (m, Some(p.trim().parse::<Money>().map_err(|_| bad())?)),
            None => (rest, None),
        };
        let max_extra = max.trim().parse::<u32>().map_err(|_| bad())?;
        let u = ProductUnit {
            unit,
            max_extra,
            fixed,
        };
        u.check()?;
        Ok(u)
    }

    fn check(&self) -> Result<()> {
        if self.max_extra == 0 || self.max_extra > MAX_UNITS {
            return Err(Error::invalid(
                "unit",
                format!("{}: at most 1 to {MAX_UNITS} beyond the base", self.unit),
            )
            .into());
        }
        if let Some(m) = self.fixed {
            if m.0 <= Decimal::ZERO || m.0 > Decimal::from(MAX_MONTHLY_YUAN) || m.to_fen().is_err()
            {
                return Err(Error::invalid(
                    "unit",
                    format!(
                        "{}: {m} a month: whole fen, above 0.00, at most {MAX_MONTHLY_YUAN}.00",
                        self.unit
                    ),
                )
                .into());
            }
        }
        Ok(())
    }
}

impl fmt::Display for ProductUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} up to {} more", self.unit, self.max_extra)?;
        if let Some(m) = self.fixed {
            write!(
                f,
                " ({m} a {} a month at a fixed price)",
                self.unit.measure()
            )?;
        }
        Ok(())
    }
}

/// The stored units in `Unit` order (IPs, bandwidth, defense).
fn units_from(rows: Vec<ProductUnitRow>) -> Result<Vec<ProductUnit>> {
    let mut units = rows
        .into_iter()
        .map(|r| {
            let corrupt = || {
                EngineError::Store(StoreError::Corrupt(format!(
                    "product {} unit {:?}",
                    r.product_id, r.unit
                )))
            };
            Ok(ProductUnit {
                unit: Unit::parse(&r.unit).ok_or_else(corrupt)?,
                max_extra: u32::try_from(r.max_extra).map_err(|_| corrupt())?,
                fixed: r.monthly_fen.map(Money::from_fen),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    units.sort_by_key(|u| u.unit);
    Ok(units)
}

/// The purchase options that carry `units` (a unit at zero is left out).
pub fn unit_options(units: &Units) -> BTreeMap<String, String> {
    units
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(u, n)| (u.option_key().to_string(), n.to_string()))
        .collect()
}

/// What one unit costs at the upstream and sells for, per month, at one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitPrices {
    pub unit: Unit,
    pub max_extra: u32,
    /// The upstream's cost of one more a month (from its quotes), when it quoted.
    pub cost: Option<Money>,
    pub error: Option<String>,
    /// (level, monthly price of one unit); `""` is the base rule.
    pub prices: Vec<(String, Option<Money>)>,
}

impl Product {
    /// The unit `unit` as this product sells it, or why not.
    pub fn unit(&self, unit: Unit) -> Result<&ProductUnit> {
        self.units.iter().find(|u| u.unit == unit).ok_or_else(|| {
            Error::invalid(
                unit.option_key(),
                format!("product {} sells no {unit} beyond its base", self.name),
            )
            .into()
        })
    }

    /// What `units` add a month at `level` where its basis is a fixed price (zero at a
    /// markup, which prices them from the upstream's cost with the base).
    pub fn fixed_units(&self, level: &str, units: &Units) -> Result<Money> {
        if matches!(self.rule.basis_for(level).0, Basis::Markup(_)) {
            return Ok(Money::ZERO);
        }
        let mut sum = Decimal::ZERO;
        for (unit, n) in units.iter().filter(|(_, n)| **n > 0) {
            let fixed = self.unit(*unit)?.fixed.ok_or_else(|| {
                EngineError::from(Error::invalid(
                    unit.option_key(),
                    format!(
                        "product {} has no fixed price for {unit} at a fixed-price level",
                        self.name
                    ),
                ))
            })?;
            sum = fixed
                .0
                .checked_mul(Decimal::from(*n))
                .and_then(|x| x.checked_add(sum))
                .ok_or_else(|| EngineError::from(Error::invalid("units", "out of range")))?;
        }
        Ok(Money(sum))
    }

    /// `units` checked against what the product sells: each unit sold, and `have` +
    /// `units` within its maximum. Returns the sum.
    pub fn add_units(&self, have: &Units, units: &Units) -> Result<Units> {
        let mut out = have.clone();
        for (unit, n) in units {
            if *n == 0 || *n > MAX_UNITS {
                return Err(Error::invalid(
                    unit.option_key(),
                    format!("{n}: a whole number from 1 to {MAX_UNITS}"),
                )
                .into());
            }
            let sold = self.unit(*unit)?;
            let total = have.get(unit).copied().unwrap_or(0).checked_add(*n);
            match total {
                Some(t) if t <= sold.max_extra => {
                    out.insert(*unit, t);
                }
                _ => {
                    return Err(Error::invalid(
                        unit.option_key(),
                        format!(
                            "at most {} {} beyond the base",
                            sold.max_extra,
                            unit.measure()
                        ),
                    )
                    .into())
                }
            }
        }
        Ok(out)
    }

    /// The create of this product with `units` beyond the base.
    pub fn purchase_with(&self, target: &str, months: u32, units: &Units) -> PurchaseRequest {
        let mut p = self.purchase(target, months);
        p.options.extend(unit_options(units));
        p
    }
}

impl Engine {
    /// Sets what a server product sells per unit beyond its base (replacing what it
    /// sold; empty: nothing). Each unit is checked at the upstream: a create with the
    /// most of it quotes (so the maximum is within what the upstream sells), and one
    /// more costs more than the base (else it needs a fixed price: nothing is sold at
    /// a markup on zero). A fixed-price basis or level needs each unit's fixed price.
    pub async fn set_product_units(
        &self,
        actor: &str,
        name: &str,
        units: Vec<ProductUnit>,
    ) -> Result<Product> {
        let result = self.write_product_units(name, units).await;
        self.audit(actor, "product.units", name, &result, |p| {
            if p.units.is_empty() {
                "no units beyond the base".to_string()
            } else {
                p.units
                    .iter()
                    .map(ProductUnit::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            }
        })
        .await;
        result
    }

    async fn write_product_units(&self, name: &str, units: Vec<ProductUnit>) -> Result<Product> {
        let p = self.product(name).await?;
        if p.state != ProductState::OnSale {
            return Err(EngineError::Conflict(format!(
                "product {} is retired",
                p.name
            )));
        }
        if !units.is_empty() && p.kind != ResourceKind::Server {
            return Err(Error::invalid(
                "unit",
                format!(
                    "{} products sell no units: only servers do",
                    p.kind.as_str()
                ),
            )
            .into());
        }
        let mut seen = std::collections::BTreeSet::new();
        let any_fixed = std::iter::once(&p.rule.basis)
            .chain(p.rule.levels.values())
            .any(|b| matches!(b, Basis::Fixed(_)));
        let months = p.rule.shown_periods()[0];
        // Only what the upstream's crate provisions: an option it ignored would be
        // paid for and never delivered, whatever its quote says.
        let conn = self.connection(&p.account).await?;
        let provisioned = conn
            .purchasing()
            .map(|s| s.units_provisioned(&p.purchase(QUOTE_TARGET, months)))
            .unwrap_or_default();
        if let Some(u) = units.iter().find(|u| !provisioned.contains(&u.unit)) {
            let sold: Vec<&str> = provisioned.iter().map(|u| u.as_str()).collect();
            return Err(Error::invalid(
                "unit",
                format!(
                    "{}: product {}'s upstream ({}, account {}) provisions no {} per unit for it (it does: {})",
                    u.unit,
                    p.name,
                    conn.vendor(),
                    p.account,
                    u.unit,
                    if sold.is_empty() { "none".to_string() } else { sold.join(", ") }
                ),
            )
            .into());
        }
        let base = self
            .quote(&p.account, &p.purchase(QUOTE_TARGET, months))
            .await?;
        for u in &units {
            u.check()?;
            if !seen.insert(u.unit) {
                return Err(Error::invalid("unit", format!("{} given twice", u.unit)).into());
            }
            if any_fixed && u.fixed.is_none() {
                return Err(Error::invalid(
                    "unit",
                    format!(
                        "{}: the product has a fixed price, so the unit needs one (UNIT=MAX@PRICE)",
                        u.unit
                    ),
                )
                .into());
            }
            let most: Units = [(u.unit, u.max_extra)].into_iter().collect();
            if let Err(e) = self
                .quote(&p.account, &p.purchase_with(QUOTE_TARGET, months, &most))
                .await
            {
                return Err(self.cannot_sell_unit(&p, u, e).await);
            }
            if u.fixed.is_none() {
                let one: Units = [(u.unit, 1)].into_iter().collect();
                let more = self
                    .quote(&p.account, &p.purchase_with(QUOTE_TARGET, months, &one))
                    .await?;
                if more.price <= base.price {
                    return Err(Error::invalid(
                        "unit",
                        format!(
                            "{}: the upstream charges nothing for it, so a markup sells it for nothing; give a fixed price (UNIT=MAX@PRICE)",
                            u.unit
                        ),
                    )
                    .into());
                }
            }
        }
        let rows: Vec<ProductUnitRow> = units
            .iter()
            .map(|u| {
                Ok(ProductUnitRow {
                    product_id: p.id,
                    unit: u.unit.as_str().to_string(),
                    monthly_fen: u
                        .fixed
                        .map(|m| m.to_fen())
                        .transpose()
                        .map_err(|_| Error::invalid("unit", "whole fen"))?,
                    max_extra: i64::from(u.max_extra),
                })
            })
            .collect::<std::result::Result<_, Error>>()?;
        self.store.set_product_units(p.id, &rows).await?;
        self.product(&p.name).await
    }

    /// Why `p` cannot sell `u`, naming its upstream's vendor: the upstream refused a
    /// create with the most of it (beyond what its line sells, say). Other errors (the
    /// upstream unreachable) are kept as they are.
    async fn cannot_sell_unit(&self, p: &Product, u: &ProductUnit, e: EngineError) -> EngineError {
        let EngineError::Upstream(
            up @ (Error::InvalidInput { .. }
            | Error::Unsupported { .. }
            | Error::NotImplemented { .. }),
        ) = &e
        else {
            return e;
        };
        let vendor = match self.account(&p.account).await {
            Ok(a) => a.vendor.to_string(),
            Err(_) => "its upstream".to_string(),
        };
        Error::invalid(
            "unit",
            format!(
                "{}: product {}'s upstream ({vendor}, account {}) refused a create with {} more: {up}",
                u.unit, p.name, p.account, u.max_extra
            ),
        )
        .into()
    }

    /// The upstream's monthly cost of one more of each unit a product sells (the
    /// quote of its first term with one more, less the base's, per month) and its
    /// monthly price at the base rule and each level, for `product show`.
    pub async fn unit_prices(&self, p: &Product) -> Vec<UnitPrices> {
        let mut levels = vec![String::new()];
        levels.extend(p.rule.levels.keys().cloned());
        let mut out = Vec::new();
        for u in &p.units {
            let (cost, error) = match self.unit_cost(p, u.unit).await {
                Ok(c) => (Some(c), None),
                Err(e) => (None, Some(e.to_string())),
            };
            let prices = levels
                .iter()
                .map(|l| (l.clone(), p.unit_monthly(l, u, cost).ok()))
                .collect();
            out.push(UnitPrices {
                unit: u.unit,
                max_extra: u.max_extra,
                cost,
                error,
                prices,
            });
        }
        out
    }

    /// The upstream's cost of one more `unit` a month: its quote of the product's
    /// first term with one more, less the base's, over the months.
    pub async fn unit_cost(&self, p: &Product, unit: Unit) -> Result<Money> {
        let months = p.rule.shown_periods()[0];
        let base = self
            .quote(&p.account, &p.purchase(QUOTE_TARGET, months))
            .await?;
        let one: Units = [(unit, 1)].into_iter().collect();
        let more = self
            .quote(&p.account, &p.purchase_with(QUOTE_TARGET, months, &one))
            .await?;
        Ok(round_to_fen(
            (more.price - base.price).0 / Decimal::from(months),
        ))
    }
}

impl Product {
    /// One unit's monthly price at `level`: its fixed price where the level's basis is
    /// fixed, else the markup on `cost` (the upstream's monthly cost of one), to the fen.
    pub fn unit_monthly(&self, level: &str, u: &ProductUnit, cost: Option<Money>) -> Result<Money> {
        match self.rule.basis_for(level).0 {
            Basis::Fixed(_) => u.fixed.ok_or_else(|| {
                EngineError::Invalid(format!(
                    "{}: no fixed price for a fixed-price level",
                    u.unit
                ))
            }),
            Basis::Markup(pct) => {
                let cost = cost.ok_or_else(|| {
                    EngineError::Invalid("a markup price needs the upstream's cost".into())
                })?;
                let factor = (Decimal::ONE_HUNDRED + *pct) / Decimal::ONE_HUNDRED;
                Ok(round_to_fen(cost.0 * factor))
            }
        }
    }
}
