//! Resale commands: `tenant add|list|show|orders|statement|margins|topup|credit|level|
//! suspend|resume|remove|rekey`
//! and `product add|list|show|price|set|retire`, and the sandbox's seeded catalog.

use crate::commands::{actor, fmt_ms};
use crate::output::{Column, Out};
use crate::safety::confirm;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use idcgate_core::{Money, ResourceKind};
use idcgate_engine::catalog::{
    PriceRule, Product, ProductSpec, ProductUnit, TermPrices, UnitPrices,
};
use idcgate_engine::tenants::TenantView;
use idcgate_engine::{Engine, EngineError};
use idcgate_store::{AppKey, Removal, TenantState};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum TenantCmd {
    /// Add a downstream reseller; its appkey is printed once and kept only as a hash.
    Add {
        /// The tenant's name (its appid downstream).
        name: String,
        /// The price level it buys at (a level named in product rules; default: base).
        #[arg(long, default_value = "")]
        level: String,
        /// How far below zero its balance may go, e.g. 500.00.
        #[arg(long, default_value = "0")]
        credit: String,
    },
    /// Tenants with their balances (from the ledger).
    List {
        /// Also removed ones.
        #[arg(long)]
        all: bool,
    },
    /// One tenant with its deposits.
    Show {
        /// The tenant.
        name: String,
    },
    /// What a tenant bought through the downstream endpoint (its guids), with what each
    /// was paid.
    Orders {
        /// The tenant.
        name: String,
    },
    /// A tenant's statement: deposits, charges and refunds, each with its ledger
    /// transaction.
    Statement {
        /// The tenant.
        name: String,
    },
    /// Resale price minus upstream cost per tenant and product, from the ledger.
    Margins {
        /// Keep to one tenant.
        name: Option<String>,
    },
    /// Record money paid in by a tenant (funding -> tenant:<name>).
    Topup {
        /// The tenant.
        name: String,
        /// Amount in yuan, e.g. 1000.00.
        amount: String,
        /// The same key again deposits nothing (default: a new key).
        #[arg(long)]
        idempotency_key: Option<String>,
        /// What the money is (a bank reference).
        #[arg(long)]
        memo: Option<String>,
        /// Go ahead without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Set the credit limit (a setting; no money moves).
    Credit {
        /// The tenant.
        name: String,
        /// How far below zero its balance may go, e.g. 500.00.
        limit: String,
    },
    /// Set the price level ("" for the base rules).
    Level {
        /// The tenant.
        name: String,
        /// The level's name, or "" for the base rules.
        level: String,
    },
    /// Stop a tenant buying; it still reads and pays in.
    Suspend {
        /// The tenant.
        name: String,
    },
    /// Let a suspended tenant buy again.
    Resume {
        /// The tenant.
        name: String,
    },
    /// Remove from selling (deleted only if it never held money).
    Remove {
        /// The tenant.
        name: String,
        /// Go ahead without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Issue a new appkey (the old one stops working); printed once.
    Rekey {
        /// The tenant.
        name: String,
        /// Go ahead without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// A price rule in text: `--price 20%` or `--price 99.00` (a month), levels, discounts
/// and the terms offered.
#[derive(Args, Debug, Default)]
pub struct RuleArgs {
    /// A markup on the upstream's cost (`20%`) or a fixed monthly price (`99.00`).
    #[arg(long)]
    pub price: Option<String>,
    /// A price level's own price: LEVEL=PRICE, e.g. gold=15% or vip=80.00 (repeatable).
    #[arg(long = "level", value_name = "LEVEL=PRICE")]
    pub levels: Vec<String>,
    /// Percent off from a term on: MONTHS=PERCENT, e.g. 12=10% (repeatable).
    #[arg(long = "discount", value_name = "MONTHS=PERCENT")]
    pub discounts: Vec<String>,
    /// The terms offered, in months, e.g. 1,3,6,12 (default: any the upstream sells).
    #[arg(long)]
    pub periods: Option<String>,
}

impl RuleArgs {
    fn rule(&self) -> Result<Option<PriceRule>> {
        let Some(price) = &self.price else {
            if !self.levels.is_empty() || !self.discounts.is_empty() || self.periods.is_some() {
                bail!("a new price rule is given whole: add --price");
            }
            return Ok(None);
        };
        Ok(Some(PriceRule::parse(
            price,
            &self.levels,
            &self.discounts,
            self.periods.as_deref(),
        )?))
    }
}

#[derive(Subcommand)]
pub enum ProductCmd {
    /// Add a product: an upstream account's offer and a price rule. The account must
    /// sell it, and quote it now.
    Add {
        /// The product's name (what tenants order).
        name: String,
        /// The upstream account that fulfils it.
        #[arg(long)]
        account: String,
        /// server, hosting_site, database, mail_domain, ...
        #[arg(long)]
        kind: String,
        /// The upstream's offer (plan or product code).
        #[arg(long)]
        offer: Option<String>,
        /// A purchase option as KEY=VALUE (repeatable; never a password).
        #[arg(long = "opt", value_name = "KEY=VALUE")]
        options: Vec<String>,
        /// What tenants see it as (default: the name).
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Products with their price rules.
    List {
        /// Also retired ones.
        #[arg(long)]
        all: bool,
    },
    /// A product with each term's live cost and prices.
    Show {
        /// The product's name.
        product: String,
    },
    /// Cost (the upstream's quote now), price and margin.
    Price {
        /// The product's name.
        product: String,
        /// Price at this tenant's level.
        #[arg(long)]
        tenant: Option<String>,
        /// The term (default: the product's first).
        #[arg(long)]
        months: Option<u32>,
    },
    /// Set what a server product sells per unit beyond its base (extra IPs, Mbps of
    /// bandwidth, G of defense), replacing what it sold. Only units its upstream
    /// provisions: Zonkvm dedicated servers and colocation all three, Zonkvm cloud
    /// servers bandwidth and defense, West and CNDNS cloud servers bandwidth. Each unit
    /// is checked at the upstream: it must sell the most given and charge for one more
    /// (else give a fixed price). A product priced at a fixed monthly price (or with
    /// such a level) needs each unit's fixed monthly price.
    Units {
        /// The product's name.
        product: String,
        /// UNIT=MAX (at the product's markup on the upstream's cost) or UNIT=MAX@PRICE
        /// (a fixed monthly price where the tenant's price is fixed); UNIT is ip,
        /// bandwidth or defense (repeatable), e.g. --unit ip=8 --unit bandwidth=100@17.60.
        #[arg(long = "unit", value_name = "UNIT=MAX[@PRICE]")]
        units: Vec<String>,
        /// Sell no units: the product is one fixed configuration again.
        #[arg(long, conflicts_with = "units")]
        none: bool,
    },
    /// Change a product's title or (whole) price rule.
    Set {
        /// The product's name.
        product: String,
        /// A new title for tenants to see.
        #[arg(long)]
        title: Option<String>,
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Stop selling a product (kept: orders name it).
    Retire {
        /// The product's name.
        product: String,
        /// Go ahead without asking (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
}

fn money(field: &str, s: &str) -> Result<Money> {
    s.parse()
        .ok()
        .with_context(|| format!("{field} {s:?}: expected an amount like 100.00"))
}

const TENANT_COLUMNS: [Column<TenantView>; 8] = [
    ("name", |t| t.tenant.name.clone()),
    ("appid", |t| t.tenant.appid.clone()),
    ("state", |t| t.tenant.state.as_str().to_string()),
    ("level", |t| t.tenant.price_level.clone()),
    ("balance", |t| t.balance.to_string()),
    ("credit", |t| t.credit_limit.to_string()),
    ("drawn", |t| t.credit_drawn.to_string()),
    ("available", |t| t.available.to_string()),
];

const TENANT_ORDER_COLUMNS: [Column<idcgate_engine::storefront::TenantOrderView>; 9] = [
    ("guid", |o| o.order.id.to_string()),
    ("product", |o| o.order.order.product.clone()),
    ("state", |o| o.order.state.as_str().to_string()),
    ("months", |o| o.order.order.months.to_string()),
    ("paid", |o| o.paid.to_string()),
    ("expires", |o| {
        o.order.expires_ms.map(fmt_ms).unwrap_or_default()
    }),
    ("upstream", |o| {
        format!(
            "{}/{}",
            o.order.order.account,
            o.order.resource.as_deref().unwrap_or("-")
        )
    }),
    ("order_id", |o| o.order.order.client_order_id.clone()),
    ("detail", |o| o.order.detail.clone()),
];

const STATEMENT_COLUMNS: [Column<idcgate_engine::storefront::TenantStatementLine>; 5] = [
    ("at", |l| fmt_ms(l.at_ms)),
    ("what", |l| l.what.clone()),
    ("guid", |l| {
        l.guid.map(|g| g.to_string()).unwrap_or_default()
    }),
    ("amount", |l| l.amount.to_string()),
    ("txn", |l| l.txn_id.to_string()),
];

const MARGIN_COLUMNS: [Column<idcgate_engine::storefront::Margin>; 6] = [
    ("tenant", |m| m.tenant.clone()),
    ("product", |m| m.product.clone()),
    ("orders", |m| m.orders.to_string()),
    ("revenue", |m| m.revenue.to_string()),
    ("cost", |m| m.cost.to_string()),
    ("margin", |m| m.margin.to_string()),
];

fn show_key(out: &Out, view: &TenantView, key: &AppKey, what: &str) -> Result<()> {
    let t = &view.tenant;
    out.message(
        &json!({"tenant": view, "appid": t.appid, "appkey": key.expose()}),
        &format!(
            "tenant {} {what}: appid {} appkey {}\nthe appkey is shown only now; it is stored as a hash and cannot be shown again",
            t.name,
            t.appid,
            key.expose()
        ),
    )
}

pub async fn tenant(out: &Out, engine: &Arc<Engine>, cmd: TenantCmd) -> Result<()> {
    let actor = actor();
    match cmd {
        TenantCmd::Add {
            name,
            level,
            credit,
        } => {
            let credit = money("--credit", &credit)?;
            let (view, key) = engine.add_tenant(&actor, &name, &level, credit).await?;
            show_key(out, &view, &key, "added")
        }
        TenantCmd::List { all } => {
            let tenants = engine.tenants(all).await?;
            out.list(&tenants, &TENANT_COLUMNS)
        }
        TenantCmd::Show { name } => {
            let view = engine.tenant(&name).await?;
            let deposits = engine.reads().deposits(&name).await?;
            if out.json_only(&json!({"tenant": view, "deposits": deposits}))? {
                return Ok(());
            }
            out.one(&view, &TENANT_COLUMNS)?;
            for d in &deposits {
                println!(
                    "  {}  deposit {}  key {}  by {}  (ledger transaction {})",
                    fmt_ms(d.at_ms),
                    Money::from_fen(d.deposit.fen),
                    d.deposit.idem_key,
                    d.deposit.actor,
                    d.txn_id
                );
            }
            Ok(())
        }
        TenantCmd::Orders { name } => {
            let orders = engine.tenant_orders(&name).await?;
            out.list(&orders, &TENANT_ORDER_COLUMNS)
        }
        TenantCmd::Statement { name } => {
            let st = engine.tenant_statement(&name).await?;
            if out.json_only(&st)? {
                return Ok(());
            }
            out.table(&st, &st.lines, &STATEMENT_COLUMNS)?;
            println!(
                "deposits {}  charges {}  refunds {}  balance {}  (credit drawn {} of {})",
                st.deposits,
                st.charges,
                st.refunds,
                st.tenant.balance,
                st.tenant.credit_drawn,
                st.tenant.credit_limit
            );
            Ok(())
        }
        TenantCmd::Margins { name } => {
            let margins = engine.margins(name.as_deref()).await?;
            if out.json_only(&margins)? {
                return Ok(());
            }
            out.list(&margins, &MARGIN_COLUMNS)?;
            let total = |f: fn(&idcgate_engine::storefront::Margin) -> Money| {
                margins.iter().fold(Money::ZERO, |a, m| a + f(m))
            };
            println!(
                "total: revenue {}  cost {}  margin {}",
                total(|m| m.revenue),
                total(|m| m.cost),
                total(|m| m.margin)
            );
            Ok(())
        }
        TenantCmd::Topup {
            name,
            amount,
            idempotency_key,
            memo,
            yes,
        } => {
            let amount = money("amount", &amount)?;
            let t = engine.tenant(&name).await?;
            confirm(
                &format!(
                    "deposit {amount} for tenant {name} (balance now {})",
                    t.balance
                ),
                "the tenant may spend it; the ledger keeps the deposit for good",
                yes,
            )?;
            let t = engine
                .topup_tenant(
                    &actor,
                    &name,
                    amount,
                    idempotency_key.as_deref(),
                    memo.as_deref(),
                )
                .await?;
            let text = if t.repeated {
                format!(
                    "key {} was used before: nothing deposited; {name} balance {}",
                    t.deposit.deposit.idem_key, t.tenant.balance
                )
            } else {
                format!(
                    "deposited {amount} for {name} (key {}); balance {}, available {}",
                    t.deposit.deposit.idem_key, t.tenant.balance, t.tenant.available
                )
            };
            out.message(&t, &text)
        }
        TenantCmd::Credit { name, limit } => {
            let limit = money("limit", &limit)?;
            let t = engine.set_tenant_credit(&actor, &name, limit).await?;
            out.one(&t, &TENANT_COLUMNS)
        }
        TenantCmd::Level { name, level } => {
            let t = engine.set_tenant_level(&actor, &name, &level).await?;
            out.one(&t, &TENANT_COLUMNS)
        }
        TenantCmd::Suspend { name } => {
            let t = engine.suspend_tenant(&actor, &name).await?;
            out.one(&t, &TENANT_COLUMNS)
        }
        TenantCmd::Resume { name } => {
            let t = engine.resume_tenant(&actor, &name).await?;
            out.one(&t, &TENANT_COLUMNS)
        }
        TenantCmd::Remove { name, yes } => {
            let t = engine.tenant(&name).await?;
            confirm(
                &format!("remove tenant {name} (balance {})", t.balance),
                "it can no longer buy or sign in downstream",
                yes,
            )?;
            let removal = engine.remove_tenant(&actor, &name).await?;
            let text = match removal {
                Removal::Deleted => format!("tenant {name} deleted (it never held money)"),
                Removal::Retired => {
                    format!("tenant {name} removed from selling; kept with its money and history")
                }
            };
            out.message(&json!({"removed": name, "how": removal}), &text)
        }
        TenantCmd::Rekey { name, yes } => {
            engine.tenant(&name).await?;
            confirm(
                &format!("issue a new appkey for tenant {name}"),
                "its current appkey stops working at once",
                yes,
            )?;
            let key = engine.rekey_tenant(&actor, &name).await?;
            let view = engine.tenant(&name).await?;
            show_key(out, &view, &key, "has a new key")
        }
    }
}

fn options(kv: &[String]) -> Result<BTreeMap<String, String>> {
    let mut options = BTreeMap::new();
    for kv in kv {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("--opt {kv:?}: expected KEY=VALUE"))?;
        options.insert(k.trim().to_string(), v.to_string());
    }
    Ok(options)
}

const PRODUCT_COLUMNS: [Column<Product>; 8] = [
    ("id", |p| p.id.to_string()),
    ("name", |p| p.name.clone()),
    ("title", |p| p.title.clone()),
    ("account", |p| p.account.clone()),
    ("kind", |p| p.kind.as_str().to_string()),
    ("offer", |p| p.offer.clone().unwrap_or_default()),
    ("price rule", |p| p.rule.to_string()),
    ("state", |p| p.state.as_str().to_string()),
];

fn price_rows(terms: &[TermPrices]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for t in terms {
        for (level, price) in &t.prices {
            let margin = match (price, t.cost) {
                (Some(p), Some(c)) => (*p - c).to_string(),
                _ => String::new(),
            };
            rows.push(vec![
                t.months.to_string(),
                level_cell(level),
                cost_cell(t.cost, t.error.as_deref()),
                price.map(|p| p.to_string()).unwrap_or_default(),
                margin,
            ]);
        }
    }
    rows
}

/// A price level as people read it: the base rule is `""` in the catalog.
fn level_cell(level: &str) -> String {
    if level.is_empty() {
        "(base)".into()
    } else {
        level.to_owned()
    }
}

/// The upstream's cost, or why it could not be quoted.
fn cost_cell(cost: Option<Money>, error: Option<&str>) -> String {
    cost.map(|c| c.to_string())
        .unwrap_or_else(|| format!("unavailable: {}", error.unwrap_or_default()))
}

/// Each unit's monthly cost and price at every level, for people.
fn unit_rows(units: &[UnitPrices]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for u in units {
        for (level, price) in &u.prices {
            rows.push(vec![
                format!("{} ({})", u.unit, u.unit.measure()),
                u.max_extra.to_string(),
                level_cell(level),
                cost_cell(u.cost, u.error.as_deref()),
                price.map(|p| p.to_string()).unwrap_or_default(),
            ]);
        }
    }
    rows
}

pub async fn product(out: &Out, engine: &Arc<Engine>, cmd: ProductCmd) -> Result<()> {
    let actor = actor();
    match cmd {
        ProductCmd::Add {
            name,
            account,
            kind,
            offer,
            options: opts,
            title,
            rule,
        } => {
            let Some(rule) = rule.rule()? else {
                bail!("a product needs a price: --price 20% (markup) or --price 99.00 (a month)");
            };
            let spec = ProductSpec {
                name,
                title,
                account,
                kind: kind.parse::<ResourceKind>()?,
                offer,
                options: options(&opts)?,
                rule,
            };
            let p = engine.add_product(&actor, spec).await?;
            out.one(&p, &PRODUCT_COLUMNS)
        }
        ProductCmd::List { all } => {
            let products = engine.products(all).await?;
            out.list(&products, &PRODUCT_COLUMNS)
        }
        ProductCmd::Show { product } => {
            let p = engine.product(&product).await?;
            let terms = engine.product_prices(&p).await;
            let units = engine.unit_prices(&p).await;
            if out.json_only(&json!({"product": p, "prices": terms, "units": units}))? {
                return Ok(());
            }
            out.one(&p, &PRODUCT_COLUMNS)?;
            if !p.options.is_empty() {
                let opts: Vec<String> = p.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
                println!("options: {}", opts.join(" "));
            }
            out.show(
                &terms,
                &["months", "level", "cost now", "price", "margin"],
                price_rows(&terms),
            )?;
            if units.is_empty() {
                return Ok(());
            }
            out.show(
                &units,
                &["unit", "up to", "level", "cost a month", "price a month"],
                unit_rows(&units),
            )
        }
        ProductCmd::Units {
            product,
            units,
            none,
        } => {
            if units.is_empty() && !none {
                bail!("give each unit sold as --unit ip=8 (or UNIT=MAX@PRICE), or --none");
            }
            let units = units
                .iter()
                .map(|u| ProductUnit::parse(u))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let p = engine.set_product_units(&actor, &product, units).await?;
            let prices = engine.unit_prices(&p).await;
            out.show(
                &prices,
                &["unit", "up to", "level", "cost a month", "price a month"],
                unit_rows(&prices),
            )
        }
        ProductCmd::Price {
            product,
            tenant,
            months,
        } => {
            let v = engine
                .product_price(&product, tenant.as_deref(), months)
                .await?;
            out.show(
                &v,
                &[
                    "product", "tenant", "level", "months", "cost", "price", "discount", "margin",
                ],
                vec![vec![
                    v.product.clone(),
                    v.tenant.clone().unwrap_or_default(),
                    level_cell(&v.level),
                    v.months.to_string(),
                    v.cost.to_string(),
                    v.price.to_string(),
                    format!("{}%", v.discount.normalize()),
                    v.margin.to_string(),
                ]],
            )
        }
        ProductCmd::Set {
            product,
            title,
            rule,
        } => {
            let rule = rule.rule()?;
            if title.is_none() && rule.is_none() {
                bail!("nothing to change: give --title or a price rule (--price ...)");
            }
            let p = engine
                .update_product(&actor, &product, title.as_deref(), rule.as_ref())
                .await?;
            out.one(&p, &PRODUCT_COLUMNS)
        }
        ProductCmd::Retire { product, yes } => {
            confirm(
                &format!("retire product {product}"),
                "tenants can no longer order it",
                yes,
            )?;
            let p = engine.retire_product(&actor, &product).await?;
            out.one(&p, &PRODUCT_COLUMNS)
        }
    }
}

/// The sandbox's tenant: its appkey is replaced (and printed) at every start, as the
/// store keeps only a hash of it.
pub const SANDBOX_TENANT: &str = "sandbox-tenant";

/// One product of the sandbox catalog.
struct Seed {
    name: &'static str,
    title: &'static str,
    account: &'static str,
    kind: ResourceKind,
    offer: Option<&'static str>,
    options: &'static [(&'static str, &'static str)],
    price: &'static str,
    levels: &'static [&'static str],
    discounts: &'static [&'static str],
    periods: &'static str,
    /// Units sold beyond the base (`ip=8`, `bandwidth=100@17.60`), as `product units`.
    units: &'static [&'static str],
}

const WEST_SERVER: [(&str, &str); 2] = [("serverroom", "3"), ("os", "centos7.9")];

/// The Zonkvm sandbox's OS image, which its cloud and dedicated lines install.
const ZONKVM_SYSTEM: (&str, &str) = ("system_guid", "1659170791658716");

/// One of each line the sandbox upstreams sell, priced the ways a reseller would.
const SANDBOX_CATALOG: [Seed; 11] = [
    Seed {
        name: "west-cloud-1c1g",
        title: "West cloud server 1C1G, 40 GB, 5 Mbps",
        account: "sandbox-west",
        kind: ResourceKind::Server,
        offer: Some("c1m1"),
        options: &WEST_SERVER,
        price: "20%",
        levels: &["gold=15%"],
        discounts: &["12=5%"],
        periods: "1,3,6,12",
        units: &[],
    },
    Seed {
        name: "west-cloud-2c4g",
        title: "West cloud server 2C4G, 40 GB, 5 Mbps",
        account: "sandbox-west",
        kind: ResourceKind::Server,
        offer: Some("c2m4"),
        options: &WEST_SERVER,
        price: "20%",
        levels: &["gold=15%"],
        discounts: &["12=5%"],
        periods: "1,3,6,12",
        units: &[],
    },
    Seed {
        name: "cndns-cloud-2c2g",
        title: "CNDNS 橙云 host 2C2G, 50 GB, 2 Mbps",
        account: "sandbox-cndns",
        kind: ResourceKind::Server,
        offer: None,
        options: idcgate_cndns::sim::SAMPLE_HOST_2C2G,
        price: "25%",
        levels: &["gold=18%"],
        discounts: &[],
        periods: "1,3,6,12",
        units: &[],
    },
    Seed {
        name: "west-host-l1",
        title: "West virtual host L1",
        account: "sandbox-west",
        kind: ResourceKind::HostingSite,
        offer: Some("L1"),
        options: &[],
        price: "15.00",
        levels: &["gold=12.00"],
        discounts: &["24=5%", "36=10%"],
        periods: "12,24,36",
        units: &[],
    },
    Seed {
        name: "cndns-host-bz",
        title: "CNDNS standard virtual host, 500 MB",
        account: "sandbox-cndns",
        kind: ResourceKind::HostingSite,
        offer: Some("bz"),
        options: &[("hostsize", "5"), ("Location", "cn"), ("linetype", "dx")],
        price: "20%",
        levels: &["gold=15%"],
        discounts: &[],
        periods: "12,24",
        units: &[],
    },
    Seed {
        name: "west-mssql-100",
        title: "West MSSQL 2019, 100 MB",
        account: "sandbox-west",
        kind: ResourceKind::Database,
        offer: Some("100"),
        options: &[("version", "2019")],
        price: "30%",
        levels: &["gold=20%"],
        discounts: &[],
        periods: "12,24",
        units: &[],
    },
    Seed {
        name: "zonkvm-cloud-1c1g",
        title: "Zonkvm 德阳电信 cloud 1C1G, more bandwidth and defense to order",
        account: "sandbox-zonkvm",
        kind: ResourceKind::Server,
        offer: Some("德阳电信-1核1G"),
        options: &[ZONKVM_SYSTEM],
        price: "15%",
        levels: &["gold=10%"],
        discounts: &[],
        periods: "1,3,6,12",
        units: &["bandwidth=50", "defense=30"],
    },
    Seed {
        name: "zonkvm-dedicated",
        title: "Zonkvm dedicated server, more IPs and bandwidth to order",
        account: "sandbox-zonkvm",
        kind: ResourceKind::Server,
        offer: Some("lease:1721941250649658"),
        options: &[ZONKVM_SYSTEM],
        price: "10%",
        levels: &["gold=8%"],
        discounts: &["12=5%"],
        periods: "1,3,6,12",
        units: &["ip=8", "bandwidth=100"],
    },
    Seed {
        name: "zonkvm-colocation",
        title: "Zonkvm colocation, 1U",
        account: "sandbox-zonkvm",
        kind: ResourceKind::Server,
        offer: Some("idc:20250409132727581219"),
        options: &[],
        price: "10%",
        levels: &["gold=8%"],
        discounts: &[],
        periods: "1,12",
        units: &[],
    },
    Seed {
        name: "zonkvm-host",
        title: "Zonkvm virtual host",
        account: "sandbox-zonkvm",
        kind: ResourceKind::HostingSite,
        offer: Some("20250408030033590712"),
        options: &[],
        price: "20%",
        levels: &["gold=15%"],
        discounts: &[],
        periods: "1,12",
        units: &[],
    },
    Seed {
        name: "zonkvm-db",
        title: "Zonkvm database",
        account: "sandbox-zonkvm",
        kind: ResourceKind::Database,
        offer: Some("20250407053315151712"),
        options: &[],
        price: "20%",
        levels: &["gold=15%"],
        discounts: &[],
        periods: "1,12",
        units: &[],
    },
];

/// A believable catalog over the sandbox upstreams, and one funded tenant. Products
/// already there are left as they are (an operator may have changed them); a product
/// the sandbox cannot quote is reported and skipped, never fatal.
pub async fn seed_sandbox(engine: &Engine) {
    let actor = "sandbox";
    for seed in &SANDBOX_CATALOG {
        match engine.reads().product(seed.name).await {
            Ok(Some(_)) => continue,
            Ok(None) => {}
            Err(e) => {
                eprintln!("sandbox catalog: cannot read product {}: {e}", seed.name);
                continue;
            }
        }
        let texts = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let rule = PriceRule::parse(
            seed.price,
            &texts(seed.levels),
            &texts(seed.discounts),
            Some(seed.periods),
        );
        let added = match rule {
            Ok(rule) => {
                let spec = ProductSpec {
                    name: seed.name.into(),
                    title: Some(seed.title.into()),
                    account: seed.account.into(),
                    kind: seed.kind,
                    offer: seed.offer.map(str::to_string),
                    options: seed
                        .options
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    rule,
                };
                match engine.add_product(actor, spec).await {
                    Ok(p) if seed.units.is_empty() => Ok(p),
                    Ok(_) => match seed
                        .units
                        .iter()
                        .map(|u| ProductUnit::parse(u))
                        .collect::<std::result::Result<Vec<_>, _>>()
                    {
                        Ok(units) => engine.set_product_units(actor, seed.name, units).await,
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        };
        if let Err(e) = added {
            eprintln!("sandbox catalog: product {} not added: {e}", seed.name);
        }
    }
    match sandbox_tenant(engine, actor).await {
        Ok((view, key)) => eprintln!(
            "sandbox tenant {} (level {}, balance {}, credit {}): appid={} appkey={}",
            view.tenant.name,
            view.tenant.price_level,
            view.balance,
            view.credit_limit,
            view.tenant.appid,
            key.expose()
        ),
        Err(e) => eprintln!("sandbox tenant not ready: {e:#}"),
    }
}

async fn sandbox_tenant(engine: &Engine, actor: &str) -> Result<(TenantView, AppKey)> {
    let known = match engine.tenant(SANDBOX_TENANT).await {
        Ok(t) => Some(t.tenant),
        Err(EngineError::Upstream(idcgate_core::Error::NotFound { .. })) => None,
        Err(e) => return Err(e.into()),
    };
    let key = match known {
        None => {
            engine
                .add_tenant(actor, SANDBOX_TENANT, "gold", money("credit", "500.00")?)
                .await?
                .1
        }
        Some(t) if t.state == TenantState::Removed => {
            bail!("{SANDBOX_TENANT} was removed; it is not brought back")
        }
        Some(_) => engine.rekey_tenant(actor, SANDBOX_TENANT).await?,
    };
    // Funded once: the key makes every later start deposit nothing.
    engine
        .topup_tenant(
            actor,
            SANDBOX_TENANT,
            money("amount", "1000.00")?,
            Some("sandbox-seed-topup"),
            Some("sandbox funds"),
        )
        .await?;
    Ok((engine.tenant(SANDBOX_TENANT).await?, key))
}
