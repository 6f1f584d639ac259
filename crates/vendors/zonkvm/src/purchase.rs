//! What Zonkvm sells through the order journal: cloud servers (云服务器), dedicated
//! servers (物理服务器, `lease`), colocation (托管, `idc`), web hosting and databases —
//! each bought, renewed and upgraded through `POST /api/same/index`.
//!
//! # Requests
//!
//! | kind | create: `offer` | renew / upgrade: `target` |
//! |---|---|---|
//! | server | a cloud package name, `lease:<product_guid>` or `idc:<product_guid>` | `server_<id>`, `lease_<id>`, `idc_<id>` |
//! | hosting_site | a `hosting_product` guid | the hosting order id |
//! | database | a `sql_product` guid | the database order id |
//!
//! Options carry the document's own parameter names: `system_guid` (cloud and dedicated),
//! `line_guid` (cloud, hosting, databases; the product's line when absent),
//! `content.bandwidth`, `content.defense`, `content.harddisksValues`, `content.ip_num` /
//! `content.ipnum`, `content.power`, `content.loginPassword`, `pwd`, `user_id`, ... for a
//! purchase; `cpu`, `memory`, `bandwidth`, `defense`, `harddisks` (a cloud upgrade, new
//! absolute values; an offer names a package whose CPU and memory to take),
//! `ipnumAdd`, `bandwidthAdd`, `defenseAdd` (dedicated and colocation upgrades) and
//! `flow` (hosting) for an upgrade, whose `offer` is the new product for hosting and
//! databases. Anything else must be a parameter of the action; what idcgate sets itself
//! (order ids, the term, `prefix`, coupons, which would make the quote wrong) is refused.
//! A create's `target` is a label for the journal: `create_order` takes no name.
//! idcgate's vendor-neutral units (`idcgate_core::units`: `units.ip`,
//! `units.bandwidth`, `units.defense`) are taken too for dedicated servers and
//! colocation: on a create, that many beyond the model's bandwidth and defense and the
//! one IP; on an upgrade, the increments. Either spelling, not both; bandwidth, IPs and
//! defense beyond the line's maxima (`bandwidth_max_size`, `ip_max_size`,
//! `defense_max_size`) are refused before anything is sent, as the finance system
//! refuses them, and so is a dedicated upgrade on a line whose `upgrade_status` is 0.
//! Cloud servers take `units.bandwidth` and `units.defense` the same way (beyond the
//! package's on a create, increments of the order's on an upgrade, within the line's
//! `bandwidthMinSize`..`bandwidthMaxSize` and `defenseMaxSize`); a cloud line prices no
//! IP, so `units.ip` is refused there.
//!
//! # Quotes
//!
//! The document has no price query. Prices are worked out the way the finance system
//! charges, from its documented reads: the cloud line and package (`getlines`,
//! `getproduct`), the dedicated and colocation line and model (`lease_lines`,
//! `lease_product`, `idc_lines`, `idc_product`), the hosting and database products and,
//! for hosting and databases, the order's `renew_price` (its monthly list price). A
//! purchase and a renewal take a term the line (hosting, databases: the product) lists
//! in `months`, with that term's discount; hosting traffic beyond the product's
//! (`content.flow`, up to `max_flow`) costs `up_flow_price` per started `up_flow` step a
//! month; an upgrade pays the monthly list difference for the whole days left (a
//! started day counts) of a 30-day month.
//!
//! # Client order ids and settling
//!
//! `create_order` takes `order_id`, `server_renew`, `lease_renew` and `lease_upgrade`
//! take `client_order_id`: the journal's key goes there. No documented read finds an
//! order by them, so a lost answer is settled by listing, never by sending again:
//!
//! - a purchase happened if the family's listing shows one new order (an id above the
//!   highest read before buying) that is ours: hosting and databases carry our marker
//!   in their FTP / database name (`prefix`, derived from the key); servers carry
//!   nothing of ours, so the new order must have the configuration bought, and more
//!   than one such order leaves the outcome unknown for a person to decide;
//! - a renewal happened if the order's end time moved past the one read before;
//! - an upgrade happened if the order shows the configuration asked for.

use crate::capability::{created_id, i, parse_china_time, parse_server_id, s, Family};
use crate::client::ZonkvmClient;
use crate::spec::spec;
use async_trait::async_trait;
use idcgate_core::purchase::{not_sold, Operation, PurchaseRequest, Purchasing, Settled};
use idcgate_core::units::{Unit, MAX_UNITS};
use idcgate_core::{
    Charge, Error, Money, Order, OrderState, PriceQuote, ResourceKind, Result, Vendor,
};
use jiff::{Span, Timestamp};
use md5::{Digest, Md5};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The longest term any action takes (the document's month lists stop at 36).
const MAX_MONTHS: u32 = 120;

/// Options idcgate sets itself: a caller's value would break settling or the quote.
const RESERVED: [&str; 13] = [
    "order_id",
    "client_order_id",
    "guid",
    "obj_type",
    "operate",
    "content",
    "content.months",
    "content.number",
    "months",
    "renewLength",
    "newEndTimeStr",
    "prefix",
    "coupon_id",
];

/// The five order families Zonkvm sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fam {
    Cloud,
    Lease,
    Idc,
    Hosting,
    Sql,
}

impl Fam {
    pub(crate) const ALL: [Fam; 5] = [Fam::Cloud, Fam::Lease, Fam::Idc, Fam::Hosting, Fam::Sql];

    fn get(self) -> &'static str {
        match self {
            Fam::Cloud => "getserver",
            Fam::Lease => "getlease",
            Fam::Idc => "getidc",
            Fam::Hosting => "gethosting",
            Fam::Sql => "getsql",
        }
    }

    fn list(self) -> &'static str {
        match self {
            Fam::Cloud => "getservers",
            Fam::Lease => "lease_orders",
            Fam::Idc => "idc_orders",
            Fam::Hosting => "hosting_orders",
            Fam::Sql => "sql_orders",
        }
    }

    fn create(self) -> &'static str {
        match self {
            Fam::Cloud => "create_order#create_server",
            Fam::Lease => "create_order#create_lease",
            Fam::Idc => "create_order#create_idc",
            Fam::Hosting => "create_order#create_hosting",
            Fam::Sql => "create_order#create_database",
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Fam::Cloud => "cloud server",
            Fam::Lease => "dedicated server",
            Fam::Idc => "colocation",
            Fam::Hosting => "hosting",
            Fam::Sql => "database",
        }
    }

    /// The cloud record spells its times in camelCase, the others in snake_case.
    fn time_key(self, end: bool) -> &'static str {
        match (self, end) {
            (Fam::Cloud, true) => "endTime",
            (Fam::Cloud, false) => "buyTime",
            (_, true) => "end_time",
            (_, false) => "buy_time",
        }
    }

    /// How the inventory names an order: `server_1001`, `lease_3`, `idc_2`, `7`.
    pub(crate) fn upstream_id(self, id: i64) -> String {
        match self {
            Fam::Cloud => format!("server_{id}"),
            Fam::Lease => format!("lease_{id}"),
            Fam::Idc => format!("idc_{id}"),
            Fam::Hosting | Fam::Sql => id.to_string(),
        }
    }

    /// How the order journal and the statement name a purchase: the inventory id, except
    /// that hosting and database orders are numbered apart (both have an order 2), so
    /// their references say which family they are.
    pub(crate) fn order_ref(self, id: i64) -> String {
        match self {
            Fam::Hosting => format!("hosting_{id}"),
            Fam::Sql => format!("sql_{id}"),
            _ => self.upstream_id(id),
        }
    }

    /// The record fields an upgrade changes (what settling an upgrade compares).
    fn upgraded(self) -> &'static [&'static str] {
        match self {
            Fam::Cloud => &["cpu", "memory", "bandwidth", "defense", "harddisks"],
            Fam::Lease | Fam::Idc => &["bandwidth", "ipnum", "defense"],
            Fam::Hosting => &["product_guid", "flow"],
            Fam::Sql => &["product_guid"],
        }
    }
}

/// Which family a request is about, and the order number it acts on (renew, upgrade).
fn family_of(r: &PurchaseRequest) -> Result<(Fam, String)> {
    let create = r.operation == Operation::Create;
    match (r.kind, r.operation) {
        (_, Operation::Transfer) => Err(not_sold(Vendor::Zonkvm, r)),
        (ResourceKind::Server, Operation::Create) => {
            let offer = r.need_offer()?;
            let fam = if offer.starts_with("lease:") {
                Fam::Lease
            } else if offer.starts_with("idc:") {
                Fam::Idc
            } else {
                Fam::Cloud
            };
            Ok((fam, String::new()))
        }
        (ResourceKind::Server, _) => {
            let (family, num) = parse_server_id(&r.target).map_err(|_| {
                Error::invalid(
                    "target",
                    format!("{:?} is not server_<n>, lease_<n> or idc_<n>", r.target),
                )
            })?;
            let fam = match family {
                Family::Cloud => Fam::Cloud,
                Family::Lease => Fam::Lease,
                Family::Idc => Fam::Idc,
            };
            Ok((fam, num))
        }
        (ResourceKind::HostingSite | ResourceKind::Database, _) => {
            let fam = if r.kind == ResourceKind::HostingSite {
                Fam::Hosting
            } else {
                Fam::Sql
            };
            if create {
                return Ok((fam, String::new()));
            }
            let num = r.target.trim();
            if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::invalid(
                    "target",
                    format!("{:?} is not a {} order id", r.target, fam.noun()),
                ));
            }
            Ok((fam, num.to_string()))
        }
        _ => Err(not_sold(Vendor::Zonkvm, r)),
    }
}

/// A purchase worked out: what to send, what it costs, and how its result shows.
struct Plan {
    fam: Fam,
    action: &'static str,
    params: Vec<(String, String)>,
    /// In fen, as the finance system rounds: once, half up.
    price_fen: i64,
    product: String,
    /// Record fields the order shows once the purchase happened (a create: the
    /// configuration bought; an upgrade: the configuration asked for).
    expect: Map<String, Value>,
}

impl Plan {
    fn new(fam: Fam, action: &'static str, product: String) -> Self {
        Plan {
            fam,
            action,
            params: Vec::new(),
            price_fen: 0,
            product,
            expect: Map::new(),
        }
    }

    fn send(&mut self, key: &str, value: impl ToString) {
        self.params.push((key.to_string(), value.to_string()));
    }

    fn expect(&mut self, key: &str, value: impl ToString) {
        self.expect
            .insert(key.to_string(), Value::String(value.to_string()));
    }

    /// Passes on the options the plan did not read itself: each must be a parameter of
    /// the action, and none may be one idcgate sets.
    fn pass_rest(&mut self, r: &PurchaseRequest, read: &[&str], refused: &[&str]) -> Result<()> {
        let action = spec().find(self.action).ok_or_else(|| {
            Error::invalid("action", format!("{} is not in the spec", self.action))
        })?;
        for (k, v) in &r.options {
            if read.contains(&k.as_str()) {
                continue;
            }
            if RESERVED.contains(&k.as_str()) || refused.contains(&k.as_str()) {
                return Err(Error::invalid(
                    k,
                    "set by idcgate for this purchase (order ids, term, marker, coupons)",
                ));
            }
            if action.param(k).is_none() {
                return Err(Error::invalid(
                    k,
                    format!("not a parameter of Zonkvm's {}", self.action),
                ));
            }
            self.params.push((k.clone(), v.clone()));
        }
        Ok(())
    }
}

/// A non-empty option.
fn opt<'a>(r: &'a PurchaseRequest, key: &str) -> Option<&'a str> {
    r.options
        .get(key)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
}

fn opt_int(r: &PurchaseRequest, key: &str) -> Result<Option<i64>> {
    opt(r, key)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| Error::invalid(key, format!("{v:?} is not a whole number")))
        })
        .transpose()
}

fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> Option<&'a Value> {
    rows.iter().find(|r| s(r, key) == value)
}

/// A line that is enabled and open for purchase (`flag`: `buyStatus` on cloud lines,
/// `buy_status` on the others); refused naming the field that chose it.
fn open_line<'a>(lines: &'a [Value], guid: &str, flag: &str, field: &str) -> Result<&'a Value> {
    find(lines, "guid", guid)
        .filter(|l| i(l, "status") == 1 && i(l, flag) == 1)
        .ok_or_else(|| Error::invalid(field, format!("line {guid:?} is not open for purchase")))
}

/// A decimal catalog value; absent or empty reads as zero (as the finance system's
/// database defaults do), anything else unreadable is refused rather than priced wrong.
fn dec(v: &Value, key: &str) -> Result<Decimal> {
    let text = s(v, key);
    if text.trim().is_empty() {
        return Ok(Decimal::ZERO);
    }
    text.trim().parse().map_err(|_| Error::Transport {
        vendor: Vendor::Zonkvm.to_string(),
        message: format!("{key} {text:?} is not an amount"),
    })
}

/// Yuan to fen, half up at the fen: the finance system's one rounding step.
fn fen(yuan: Decimal) -> Result<i64> {
    let f = yuan
        .checked_mul(Decimal::ONE_HUNDRED)
        .map(|f| f.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
        .and_then(|f| i64::try_from(f).ok());
    f.ok_or_else(|| Error::invalid("price", format!("{yuan} is out of range")))
}

/// Whether a row's comma list of purchasable months has `months`.
fn term(row: &Value, months: u32) -> Result<i64> {
    let list = s(row, "months");
    if months == 0
        || !list
            .split(',')
            .any(|m| m.trim().parse::<u32>().ok() == Some(months))
    {
        return Err(Error::invalid(
            "months",
            format!("{months} months: this product is sold for {list} months"),
        ));
    }
    Ok(i64::from(months))
}

fn renewal_months(r: &PurchaseRequest) -> Result<i64> {
    if r.months == 0 || r.months > MAX_MONTHS {
        return Err(Error::invalid("months", "renewals are 1 to 120 months"));
    }
    Ok(i64::from(r.months))
}

/// A cloud server's priced configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CloudConfig {
    cpu: i64,
    memory: i64,
    disks: Vec<i64>,
    bandwidth: i64,
    defense: i64,
}

impl CloudConfig {
    fn of(record: &Value) -> Result<Self> {
        Ok(CloudConfig {
            cpu: i(record, "cpu"),
            memory: i(record, "memory"),
            disks: disks(&s(record, "harddisks"), "harddisks")?,
            bandwidth: i(record, "bandwidth"),
            defense: i(record, "defense"),
        })
    }

    fn disk_list(&self) -> String {
        let d: Vec<String> = self.disks.iter().map(i64::to_string).collect();
        d.join(",")
    }

    fn record(&self, plan: &mut Plan) {
        plan.expect("cpu", self.cpu);
        plan.expect("memory", self.memory);
        plan.expect("harddisks", self.disk_list());
        plan.expect("bandwidth", self.bandwidth);
        plan.expect("defense", self.defense);
    }
}

fn disks(text: &str, field: &str) -> Result<Vec<i64>> {
    text.split(',')
        .map(|d| {
            d.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| {
                    Error::invalid(
                        field,
                        format!("{text:?}: disk sizes in GB, comma-separated"),
                    )
                })
        })
        .collect()
}

/// A cloud configuration's monthly price on a line: the package for its CPU and memory,
/// plus disk, bandwidth and defense beyond the package at the line's unit prices, times
/// the line's markup.
fn cloud_monthly(line: &Value, packages: &[Value], c: &CloudConfig) -> Result<Decimal> {
    let guid = s(line, "guid");
    let pkg = packages
        .iter()
        .find(|p| {
            s(p, "lines_guid") == guid
                && i(p, "cpu") == c.cpu
                && i(p, "memory") == c.memory
                && i(p, "status") == 1
        })
        .ok_or_else(|| {
            Error::invalid(
                "offer",
                format!(
                    "line {guid} has no package with {} CPU and {} GB",
                    c.cpu, c.memory
                ),
            )
        })?;
    let extra = |have: i64, base: i64| Decimal::from((have - base).max(0));
    let price = dec(pkg, "price")?
        + extra(
            c.disks.iter().sum(),
            i(pkg, "systemdisk") + i(pkg, "harddisk"),
        ) * dec(line, "harddiskPrice")?
        + extra(c.bandwidth, i(pkg, "bandwidth")) * dec(line, "bandwidth6Price")?
        + extra(c.defense, i(pkg, "defense")) * dec(line, "defensePrice")?;
    let markup = dec(line, "markup")?;
    Ok(if markup.is_zero() {
        price
    } else {
        price * markup
    })
}

/// A cloud line's discount for a term (`[{"month":"12","discount":"0.9"}]`, a ratio).
fn cloud_discount(line: &Value, months: i64) -> Result<Decimal> {
    let list: Vec<Value> = serde_json::from_str(&s(line, "discount")).unwrap_or_default();
    match list.iter().find(|d| i(d, "month") == months) {
        Some(d) => Ok(Some(dec(d, "discount")?)
            .filter(|d| !d.is_zero())
            .unwrap_or(Decimal::ONE)),
        None => Ok(Decimal::ONE),
    }
}

/// A dedicated or colocated machine's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Machine {
    bandwidth: i64,
    ipnum: i64,
    defense: i64,
    power: String,
}

impl Machine {
    fn of(record: &Value) -> Self {
        Machine {
            bandwidth: i(record, "bandwidth"),
            ipnum: i(record, "ipnum"),
            defense: i(record, "defense"),
            power: s(record, "power"),
        }
    }
}

/// The model's price plus bandwidth, IPs and defense beyond it at the line's prices, and
/// the chosen power spec (colocation).
fn machine_monthly(line: &Value, product: &Value, m: &Machine) -> Result<Decimal> {
    let extra = |have: i64, base: i64| Decimal::from((have - base).max(0));
    let mut price = dec(product, "price")?
        + extra(m.bandwidth, i(product, "bandwidth")) * dec(line, "bandwidth_price")?
        + extra(m.ipnum, i(product, "ipnum").max(i(line, "ip_free_size"))) * dec(line, "ip_price")?
        + extra(m.defense, i(product, "defense")) * dec(line, "defense_price")?;
    if !m.power.is_empty() {
        let specs: Vec<Value> = serde_json::from_str(&s(product, "power")).unwrap_or_default();
        let spec = find(&specs, "name", &m.power).ok_or_else(|| {
            Error::invalid(
                "content.power",
                format!("{:?} is not one of the model's power specs", m.power),
            )
        })?;
        price += dec(spec, "price")?;
    }
    Ok(price)
}

/// A neutral unit count (`units.ip`, ...): a whole number from 1 to `MAX_UNITS`.
fn units(r: &PurchaseRequest, unit: Unit) -> Result<Option<i64>> {
    let key = unit.option_key();
    opt(r, key)
        .map(|v| {
            v.parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_UNITS).contains(n))
                .map(i64::from)
                .ok_or_else(|| {
                    Error::invalid(key, format!("{v:?}: a whole number from 1 to {MAX_UNITS}"))
                })
        })
        .transpose()
}

/// Bandwidth, IPs and defense within the line's maxima (never below the model's own
/// bandwidth or defense, at least one IP), as the finance system refuses an order
/// beyond them (配置超出线路允许范围).
fn within_line(line: &Value, product: &Value, m: &Machine) -> Result<()> {
    let max = |k: &str, floor: i64| i(line, k).max(floor);
    let checks = [
        (
            "bandwidth",
            m.bandwidth,
            0,
            max("bandwidth_max_size", i(product, "bandwidth")),
        ),
        ("ipnum", m.ipnum, 1, max("ip_max_size", 1)),
        (
            "defense",
            m.defense,
            0,
            max("defense_max_size", i(product, "defense")),
        ),
    ];
    within(&checks)
}

/// Each `(field, value, least, most)` within its bounds, the first outside named.
fn within(checks: &[(&str, i64, i64, i64)]) -> Result<()> {
    for &(what, have, min, most) in checks {
        if !(min..=most).contains(&have) {
            return Err(Error::invalid(
                what,
                format!("{have}: the line sells {min} to {most}"),
            ));
        }
    }
    Ok(())
}

/// A cloud configuration's bandwidth and defense within the line's published limits
/// (`bandwidthMinSize`..`bandwidthMaxSize`, at most `defenseMaxSize` or the free
/// defense), as the finance system refuses an order beyond them (带宽/防御超出线路允许范围).
fn cloud_within_line(line: &Value, c: &CloudConfig) -> Result<()> {
    let checks = [
        (
            "bandwidth",
            c.bandwidth,
            i(line, "bandwidthMinSize").max(0),
            i(line, "bandwidthMaxSize"),
        ),
        (
            "defense",
            c.defense,
            0,
            i(line, "defenseMaxSize").max(i(line, "defenseFreeSize")),
        ),
    ];
    within(&checks)
}

/// A cloud value from its document field or, in idcgate's neutral units, as that many
/// beyond `base` (a create: the package's; an upgrade: the order's), as [`with_units`].
/// A cloud line prices no IP, so `units.ip` is refused.
fn cloud_value(r: &PurchaseRequest, key: &str, unit: Unit, base: i64) -> Result<i64> {
    if opt(r, Unit::Ip.option_key()).is_some() {
        return Err(Error::invalid(
            Unit::Ip.option_key(),
            "a Zonkvm cloud line sells no IPs per unit (only bandwidth and defense)",
        ));
    }
    with_units(r, key, unit, base)
}

/// A create's value from its document field `key` or as that many `unit`s beyond
/// `base` (idcgate's neutral option); not both.
fn with_units(r: &PurchaseRequest, key: &str, unit: Unit, base: i64) -> Result<i64> {
    match (opt_int(r, key)?, units(r, unit)?) {
        (Some(_), Some(_)) => Err(Error::invalid(
            unit.option_key(),
            format!("give {key} or {}, not both", unit.option_key()),
        )),
        (Some(v), None) => Ok(v),
        (None, extra) => base
            .checked_add(extra.unwrap_or(0))
            .ok_or_else(|| Error::invalid(unit.option_key(), "out of range")),
    }
}

/// discount1/2/3 from 12/24/36 months; 0 means none.
fn machine_discount(line: &Value, months: i64) -> Result<Decimal> {
    let key = match months {
        36.. => "discount3",
        24.. => "discount2",
        12.. => "discount1",
        _ => return Ok(Decimal::ONE),
    };
    Ok(Some(dec(line, key)?)
        .filter(|d| !d.is_zero())
        .unwrap_or(Decimal::ONE))
}

/// The monthly price of hosting traffic from `have` to `want` GB: whole `up_flow` steps
/// (a started one counts) at `up_flow_price`, never beyond the product's `max_flow`.
fn extra_flow(product: &Value, have: i64, want: i64) -> Result<Decimal> {
    let max = i(product, "max_flow").max(have);
    if want > max {
        return Err(Error::invalid(
            "flow",
            format!("{want} GB: the product sells at most {max}"),
        ));
    }
    let step = i(product, "up_flow").max(1);
    let steps = ((want - have).max(0) + step - 1) / step;
    Ok(dec(product, "up_flow_price")? * Decimal::from(steps))
}

/// Hosting and database products' discounts, in percent (`[{"month":12,"discount":85}]`).
fn percent_discount(product: &Value, months: i64) -> Result<Decimal> {
    let list: Vec<Value> = serde_json::from_str(&s(product, "discount")).unwrap_or_default();
    match list.iter().find(|d| i(d, "month") == months) {
        Some(d) => Ok(Some(dec(d, "discount")? / Decimal::ONE_HUNDRED)
            .filter(|d| !d.is_zero())
            .unwrap_or(Decimal::ONE)),
        None => Ok(Decimal::ONE),
    }
}

/// The unused share of a monthly price difference: whole days left until `end` (a
/// started day counts) over a 30-day month, rounded down; never negative.
fn prorate(delta_fen: i64, end: Timestamp, now: Timestamp) -> i64 {
    let left = end.duration_since(now).as_secs().max(0);
    let days = (left + 86_399) / 86_400;
    let fen = i128::from(delta_fen) * i128::from(days) / 30;
    i64::try_from(fen.max(0)).unwrap_or(i64::MAX)
}

fn china() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::fixed(jiff::tz::offset(8))
}

/// `months` calendar months after `t` in China time (the day clamped to the month).
fn add_months(t: Timestamp, months: i64) -> Result<Timestamp> {
    Span::new()
        .try_months(months)
        .and_then(|span| t.to_zoned(china()).checked_add(span))
        .map(|z| z.timestamp())
        .map_err(|e| Error::invalid("months", e.to_string()))
}

/// A record's time field, which every order has.
fn time_of(fam: Fam, record: &Value, end: bool) -> Result<Timestamp> {
    let key = fam.time_key(end);
    parse_china_time(&s(record, key)).ok_or_else(|| Error::Transport {
        vendor: Vendor::Zonkvm.to_string(),
        message: format!("{} record without a readable {key}", fam.noun()),
    })
}

/// The marker a hosting or database order carries in its FTP / database name: Zonkvm
/// names them `prefix` + order id, and idcgate's prefix comes from the order's key.
fn marker(client_order_id: &str) -> String {
    let digest = hex::encode(Md5::digest(client_order_id.as_bytes()));
    format!("ig{}", &digest[..10])
}

/// Whether a listed order carries the marker of `client_order_id`.
fn carries_marker(fam: Fam, row: &Value, client_order_id: &str) -> bool {
    let (key, name) = match fam {
        Fam::Hosting => (
            "ftp_name",
            format!("{}{}", marker(client_order_id), i(row, "id")),
        ),
        Fam::Sql => (
            "name",
            format!("{}_{}", marker(client_order_id), i(row, "id")),
        ),
        _ => return true,
    };
    s(row, key) == name
}

fn shows(row: &Value, expect: &Map<String, Value>) -> bool {
    expect
        .iter()
        .all(|(k, v)| v.as_str().is_some_and(|v| s(row, k) == v))
}

/// What an answer says was charged (`money`), or zero when it does not say.
fn money_of(v: &Value) -> Money {
    v.get("money")
        .and_then(Value::as_str)
        .and_then(|m| m.trim().parse().ok())
        .unwrap_or(Money::ZERO)
}

impl ZonkvmClient {
    async fn record(&self, fam: Fam, num: &str) -> Result<Value> {
        self.order_record(fam.get(), num).await
    }

    /// The purchase `r` as the finance system would charge it now. `client_order_id` is
    /// empty for a quote (it changes nothing in the price).
    async fn plan(&self, r: &PurchaseRequest, client_order_id: &str) -> Result<Plan> {
        r.validate()?;
        let (fam, num) = family_of(r)?;
        match (r.operation, fam) {
            (Operation::Create, Fam::Cloud) => self.plan_cloud(r, client_order_id).await,
            (Operation::Create, Fam::Lease | Fam::Idc) => {
                self.plan_machine(fam, r, client_order_id).await
            }
            (Operation::Create, _) => self.plan_site(fam, r, client_order_id).await,
            (Operation::Renew, _) => self.renewal(fam, &num, r, client_order_id).await,
            (Operation::Upgrade, Fam::Cloud) => self.upgrade_cloud(&num, r).await,
            (Operation::Upgrade, Fam::Lease | Fam::Idc) => {
                self.upgrade_machine(fam, &num, r, client_order_id).await
            }
            (Operation::Upgrade, _) => self.upgrade_site(fam, &num, r).await,
            (Operation::Transfer, _) => Err(not_sold(Vendor::Zonkvm, r)),
        }
    }

    async fn plan_cloud(&self, r: &PurchaseRequest, client_order_id: &str) -> Result<Plan> {
        let name = r.need_offer()?;
        let packages = self.on_sale("getproduct").await?;
        let pkg = packages
            .iter()
            .find(|p| s(p, "name") == name)
            .ok_or_else(|| Error::invalid("offer", format!("no cloud package named {name:?}")))?;
        let line_guid = opt(r, "line_guid").map_or_else(|| s(pkg, "lines_guid"), str::to_string);
        let lines = self.list("getlines", &[]).await?;
        let line = open_line(&lines, &line_guid, "buyStatus", "line_guid")?;
        let system = r.need_option("system_guid")?;
        self.image_on_line(system, line).await?;
        let default_disks = match i(pkg, "harddisk") {
            0 => i(pkg, "systemdisk").to_string(),
            data => format!("{},{data}", i(pkg, "systemdisk")),
        };
        let config = CloudConfig {
            cpu: i(pkg, "cpu"),
            memory: i(pkg, "memory"),
            disks: disks(
                opt(r, "content.harddisksValues").unwrap_or(&default_disks),
                "content.harddisksValues",
            )?,
            bandwidth: cloud_value(r, "content.bandwidth", Unit::Bandwidth, i(pkg, "bandwidth"))?,
            defense: cloud_value(r, "content.defense", Unit::Defense, i(pkg, "defense"))?,
        };
        cloud_within_line(line, &config)?;
        let months = term(line, r.months)?;
        let monthly = cloud_monthly(line, &packages, &config)?;
        let mut plan = Plan::new(
            Fam::Cloud,
            Fam::Cloud.create(),
            format!("cloud server {name}"),
        );
        plan.price_fen = fen(monthly * Decimal::from(months) * cloud_discount(line, months)?)?;
        plan.send("order_id", client_order_id);
        plan.send("line_guid", &line_guid);
        plan.send("system_guid", system);
        plan.send("content.cpu", config.cpu);
        plan.send("content.ram", config.memory);
        plan.send("content.harddisksValues", config.disk_list());
        plan.send("content.bandwidth", config.bandwidth);
        plan.send("content.defense", config.defense);
        plan.send("content.months", months);
        plan.pass_rest(
            r,
            &[
                "line_guid",
                "system_guid",
                "content.harddisksValues",
                "content.bandwidth",
                "content.defense",
                Unit::Bandwidth.option_key(),
                Unit::Defense.option_key(),
            ],
            &["content.cpu", "content.ram"],
        )?;
        plan.expect("line_guid", &line_guid);
        plan.expect("system_guid", system);
        config.record(&mut plan);
        Ok(plan)
    }

    /// Refuses an image the line's zone does not offer (getsystems' `lines`; an image
    /// listing no zone is offered everywhere), as the system would refuse the order.
    async fn image_on_line(&self, guid: &str, line: &Value) -> Result<()> {
        let systems = self.list("getsystems", &[]).await?;
        let sys = find(&systems, "guid", guid)
            .filter(|x| i(x, "status") == 1)
            .ok_or_else(|| Error::invalid("system_guid", format!("no image {guid:?}")))?;
        let zones: Vec<String> = serde_json::from_str(&s(sys, "lines")).unwrap_or_default();
        let zone = s(line, "line_guid");
        if zones.is_empty() || zones.contains(&zone) {
            Ok(())
        } else {
            Err(Error::invalid(
                "system_guid",
                format!("image {guid:?} is not offered in the line's zone {zone:?}"),
            ))
        }
    }

    /// The catalogs of a dedicated or colocation family: (lines, products).
    async fn machine_catalog(&self, fam: Fam) -> Result<(Vec<Value>, Vec<Value>)> {
        let (lines, products) = if fam == Fam::Lease {
            ("lease_lines", "lease_product")
        } else {
            ("idc_lines", "idc_product")
        };
        Ok((
            self.list(lines, &[]).await?,
            self.list(products, &[]).await?,
        ))
    }

    async fn plan_machine(
        &self,
        fam: Fam,
        r: &PurchaseRequest,
        client_order_id: &str,
    ) -> Result<Plan> {
        let offer = r.need_offer()?;
        let guid = offer.split_once(':').map_or(offer, |(_, g)| g);
        let (lines, products) = self.machine_catalog(fam).await?;
        let product = find(&products, "guid", guid)
            .filter(|p| i(p, "status") == 1)
            .ok_or_else(|| Error::invalid("offer", format!("no {} model {guid:?}", fam.noun())))?;
        let line_guid = s(product, "line_guid");
        let line = open_line(&lines, &line_guid, "buy_status", "offer")?;
        let ip_key = if fam == Fam::Lease {
            "content.ip_num"
        } else {
            "content.ipnum"
        };
        // Units beyond the model (idcgate's neutral options) add to its own values.
        let with_units = |key: &str, unit: Unit, base: i64| with_units(r, key, unit, base);
        let machine = Machine {
            bandwidth: with_units(
                "content.bandwidth",
                Unit::Bandwidth,
                i(product, "bandwidth"),
            )?,
            ipnum: with_units(ip_key, Unit::Ip, 1)?,
            defense: with_units("content.defense", Unit::Defense, i(product, "defense"))?,
            power: opt(r, "content.power").unwrap_or_default().to_string(),
        };
        within_line(line, product, &machine)?;
        let months = term(line, r.months)?;
        let monthly = machine_monthly(line, product, &machine)?;
        let mut plan = Plan::new(
            fam,
            fam.create(),
            format!("{} {}", fam.noun(), s(product, "name")),
        );
        plan.price_fen = fen(monthly * Decimal::from(months) * machine_discount(line, months)?)?;
        plan.send("order_id", client_order_id);
        plan.send("line_guid", &line_guid);
        plan.send("product_guid", guid);
        plan.expect("product_guid", guid);
        plan.expect("line_guid", &line_guid);
        if fam == Fam::Lease {
            let system = r.need_option("system_guid")?;
            self.image_on_line(system, line).await?;
            plan.send("system_guid", system);
            plan.expect("system_guid", system);
        } else {
            plan.expect("power", &machine.power);
            if !machine.power.is_empty() {
                plan.send("content.power", &machine.power);
            }
        }
        plan.send("content.bandwidth", machine.bandwidth);
        plan.send("content.defense", machine.defense);
        plan.send(ip_key, machine.ipnum);
        plan.send("content.months", months);
        plan.pass_rest(
            r,
            &[
                "system_guid",
                "content.bandwidth",
                "content.defense",
                "content.power",
                ip_key,
                Unit::Ip.option_key(),
                Unit::Bandwidth.option_key(),
                Unit::Defense.option_key(),
            ],
            &["line_guid", "product_guid"],
        )?;
        plan.expect("bandwidth", machine.bandwidth);
        plan.expect("defense", machine.defense);
        plan.expect("ipnum", machine.ipnum);
        Ok(plan)
    }

    fn site_products(fam: Fam) -> &'static str {
        if fam == Fam::Hosting {
            "hosting_product"
        } else {
            "sql_product"
        }
    }

    async fn plan_site(
        &self,
        fam: Fam,
        r: &PurchaseRequest,
        client_order_id: &str,
    ) -> Result<Plan> {
        let guid = r.need_offer()?;
        let products = self.list(Self::site_products(fam), &[]).await?;
        let product = find(&products, "guid", guid)
            .filter(|p| i(p, "status") == 1 && i(p, "stock") == 1)
            .ok_or_else(|| {
                Error::invalid(
                    "offer",
                    format!("no {} product {guid:?} in stock", fam.noun()),
                )
            })?;
        let on = s(product, "lines_guid");
        let line_guid = opt(r, "line_guid")
            .or_else(|| on.split(',').next())
            .unwrap_or_default()
            .to_string();
        let lines = self.list("hosting_lines", &[]).await?;
        if !on.split(',').any(|l| l == line_guid)
            || find(&lines, "guid", &line_guid).is_none_or(|l| i(l, "status") != 1)
        {
            return Err(Error::invalid(
                "line_guid",
                format!("{guid:?} is not sold on line {line_guid:?}"),
            ));
        }
        let months = term(product, r.months)?;
        let mut plan = Plan::new(
            fam,
            fam.create(),
            format!("{} {}", fam.noun(), s(product, "name")),
        );
        let mut monthly = dec(product, "price")?;
        if fam == Fam::Hosting {
            // Traffic beyond the product's, up to its max_flow, in up_flow steps.
            let included = i(product, "flow");
            let flow = opt_int(r, "content.flow")?.unwrap_or(included);
            if flow < included {
                return Err(Error::invalid(
                    "content.flow",
                    format!("{flow} GB: the product includes {included}"),
                ));
            }
            monthly += extra_flow(product, included, flow)?;
            plan.send("content.flow", flow);
            plan.expect("flow", flow);
        }
        plan.price_fen = fen(monthly * Decimal::from(months) * percent_discount(product, months)?)?;
        plan.send("order_id", client_order_id);
        plan.send("line_guid", &line_guid);
        plan.send("product_guid", guid);
        plan.send("prefix", marker(client_order_id));
        plan.send("content.months", months);
        if fam == Fam::Sql {
            // The database's size is the product's; the system refuses any other.
            plan.send("content.db", i(product, "db"));
        }
        plan.pass_rest(
            r,
            &["line_guid", "content.flow"],
            &["product_guid", "content.db"],
        )?;
        plan.expect("product_guid", guid);
        plan.expect("line_guid", &line_guid);
        Ok(plan)
    }

    async fn renewal(
        &self,
        fam: Fam,
        num: &str,
        r: &PurchaseRequest,
        client_order_id: &str,
    ) -> Result<Plan> {
        let months = renewal_months(r)?;
        let record = self.record(fam, num).await?;
        let id = fam.upstream_id(i(&record, "id"));
        let closed = || Error::invalid("target", format!("{id}: its line takes no renewals"));
        // A renewal takes a term its line (or product) sells, with that term's discount,
        // as a purchase does; the monthly price is the order's list price.
        let (action, monthly, discount) = match fam {
            Fam::Cloud => {
                let (lines, packages) = (
                    self.list("getlines", &[]).await?,
                    self.list("getproduct", &[]).await?,
                );
                let line = find(&lines, "guid", &s(&record, "line_guid"))
                    .filter(|l| i(l, "renewStatus") == 1)
                    .ok_or_else(closed)?;
                term(line, r.months)?;
                let monthly = cloud_monthly(line, &packages, &CloudConfig::of(&record)?)?;
                ("server_renew", monthly, cloud_discount(line, months)?)
            }
            Fam::Lease | Fam::Idc => {
                let (lines, products) = self.machine_catalog(fam).await?;
                let (line, product) = machine_rows(&lines, &products, &record, &id)?;
                // The colocation lines carry no renew_status.
                if line.get("renew_status").is_some() && i(line, "renew_status") != 1 {
                    return Err(closed());
                }
                term(line, r.months)?;
                let monthly = machine_monthly(line, product, &Machine::of(&record))?;
                let action = if fam == Fam::Lease {
                    "lease_renew"
                } else {
                    "idc_renew"
                };
                (action, monthly, machine_discount(line, months)?)
            }
            Fam::Hosting | Fam::Sql => {
                let action = if fam == Fam::Hosting {
                    "hosting_operate#hosting_renew"
                } else {
                    "sql_operate#sql_renew"
                };
                let products = self.list(Self::site_products(fam), &[]).await?;
                // A bundled database (or a product no longer listed) has no term list.
                let discount = match find(&products, "guid", &s(&record, "product_guid")) {
                    Some(product) => {
                        term(product, r.months)?;
                        percent_discount(product, months)?
                    }
                    None => Decimal::ONE,
                };
                (action, dec(&record, "renew_price")?, discount)
            }
        };
        let mut plan = Plan::new(
            fam,
            action,
            format!("{} {id} renewal, {months} months", fam.noun()),
        );
        plan.price_fen = fen(monthly * Decimal::from(months) * discount)?;
        plan.send("guid", num);
        match fam {
            Fam::Cloud => {
                plan.send("renewLength", months);
                plan.send("client_order_id", client_order_id);
            }
            Fam::Lease => {
                plan.send("months", months);
                plan.send("client_order_id", client_order_id);
            }
            Fam::Idc => plan.send("months", months),
            Fam::Hosting | Fam::Sql => {
                // These renew to a date. The term runs on from the end, or from now for
                // an order already expired; then a few minutes are given up so that a
                // clock a little ahead of the system's does not ask for more than
                // `months` (which it would refuse).
                let end = time_of(fam, &record, true)?;
                let now = Timestamp::now();
                let from = if end > now {
                    end
                } else {
                    now.checked_sub(jiff::SignedDuration::from_mins(5))
                        .unwrap_or(now)
                };
                let new_end = add_months(from, months)?;
                plan.send(
                    "newEndTimeStr",
                    new_end.to_zoned(china()).strftime("%Y-%m-%d %H:%M:%S"),
                );
                plan.send("renewLength", months);
            }
        }
        plan.pass_rest(r, &[], &[])?;
        Ok(plan)
    }

    async fn upgrade_cloud(&self, num: &str, r: &PurchaseRequest) -> Result<Plan> {
        let record = self.record(Fam::Cloud, num).await?;
        let id = Fam::Cloud.upstream_id(i(&record, "id"));
        let (lines, packages) = (
            self.list("getlines", &[]).await?,
            self.list("getproduct", &[]).await?,
        );
        let line = find(&lines, "guid", &s(&record, "line_guid"))
            .filter(|l| i(l, "upgradeStatus") == 1)
            .ok_or_else(|| Error::invalid("target", format!("{id}: its line takes no upgrades")))?;
        let old = CloudConfig::of(&record)?;
        let mut new = old.clone();
        if let Some(name) = r.offer.as_deref().filter(|o| !o.trim().is_empty()) {
            let pkg = packages
                .iter()
                .find(|p| s(p, "name") == name && s(p, "lines_guid") == s(line, "guid"))
                .ok_or_else(|| {
                    Error::invalid("offer", format!("no package {name:?} on the order's line"))
                })?;
            (new.cpu, new.memory) = (i(pkg, "cpu"), i(pkg, "memory"));
        }
        new.cpu = opt_int(r, "cpu")?.unwrap_or(new.cpu);
        new.memory = opt_int(r, "memory")?.unwrap_or(new.memory);
        new.bandwidth = cloud_value(r, "bandwidth", Unit::Bandwidth, old.bandwidth)?;
        new.defense = cloud_value(r, "defense", Unit::Defense, old.defense)?;
        if let Some(d) = opt(r, "harddisks") {
            new.disks = disks(d, "harddisks")?;
        }
        if new == old {
            return Err(Error::invalid(
                "options",
                "nothing to upgrade: give cpu, memory, bandwidth, defense or harddisks, or a package as the offer",
            ));
        }
        if new.bandwidth != old.bandwidth || new.defense != old.defense {
            cloud_within_line(line, &new)?;
        }
        let delta = fen(cloud_monthly(line, &packages, &new)?)?
            - fen(cloud_monthly(line, &packages, &old)?)?;
        let mut plan = Plan::new(
            Fam::Cloud,
            "server_upgrade",
            format!("cloud server {id} upgrade"),
        );
        plan.price_fen = prorate(delta, time_of(Fam::Cloud, &record, true)?, Timestamp::now());
        plan.send("guid", num);
        plan.send("cpu", new.cpu);
        plan.send("memory", new.memory);
        plan.send("bandwidth", new.bandwidth);
        plan.send("defense", new.defense);
        plan.send("harddisks", new.disk_list());
        plan.pass_rest(
            r,
            &[
                "cpu",
                "memory",
                "bandwidth",
                "defense",
                "harddisks",
                Unit::Bandwidth.option_key(),
                Unit::Defense.option_key(),
            ],
            &[],
        )?;
        new.record(&mut plan);
        Ok(plan)
    }

    async fn upgrade_machine(
        &self,
        fam: Fam,
        num: &str,
        r: &PurchaseRequest,
        client_order_id: &str,
    ) -> Result<Plan> {
        let record = self.record(fam, num).await?;
        let id = fam.upstream_id(i(&record, "id"));
        let (lines, products) = self.machine_catalog(fam).await?;
        let (line, product) = machine_rows(&lines, &products, &record, &id)?;
        // The lease line says whether it takes upgrades; colocation lines do not say.
        if fam == Fam::Lease && i(line, "upgrade_status") != 1 {
            return Err(Error::invalid(
                "target",
                format!("{id}: its line takes no upgrades"),
            ));
        }
        let adds = ["ipnumAdd", "bandwidthAdd", "defenseAdd"];
        let neutral = [Unit::Ip, Unit::Bandwidth, Unit::Defense];
        let mut add = [0i64; 3];
        for (n, key) in adds.iter().enumerate() {
            add[n] = match (opt_int(r, key)?, units(r, neutral[n])?) {
                (Some(_), Some(_)) => {
                    return Err(Error::invalid(
                        neutral[n].option_key(),
                        format!("give {key} or {}, not both", neutral[n].option_key()),
                    ))
                }
                (Some(v), None) | (None, Some(v)) => v,
                (None, None) => 0,
            };
        }
        if add == [0; 3] {
            return Err(Error::invalid(
                "options",
                "nothing to upgrade: give ipnumAdd, bandwidthAdd or defenseAdd",
            ));
        }
        let old = Machine::of(&record);
        let sum = |have: i64, more: i64| {
            have.checked_add(more)
                .ok_or_else(|| Error::invalid("options", "the upgrade is out of range"))
        };
        let new = Machine {
            ipnum: sum(old.ipnum, add[0])?,
            bandwidth: sum(old.bandwidth, add[1])?,
            defense: sum(old.defense, add[2])?,
            power: old.power.clone(),
        };
        within_line(line, product, &new)?;
        let delta = fen(machine_monthly(line, product, &new)?)?
            - fen(machine_monthly(line, product, &old)?)?;
        let (action, noun) = if fam == Fam::Lease {
            ("lease_upgrade", "dedicated server")
        } else {
            ("idc_upgrade", "colocation")
        };
        let mut plan = Plan::new(fam, action, format!("{noun} {id} upgrade"));
        plan.price_fen = prorate(delta, time_of(fam, &record, true)?, Timestamp::now());
        plan.send("guid", num);
        for (key, n) in adds.iter().zip(add) {
            plan.send(key, n);
        }
        if fam == Fam::Lease {
            plan.send("client_order_id", client_order_id);
        }
        plan.pass_rest(
            r,
            &[
                adds[0],
                adds[1],
                adds[2],
                Unit::Ip.option_key(),
                Unit::Bandwidth.option_key(),
                Unit::Defense.option_key(),
            ],
            &[],
        )?;
        plan.expect("bandwidth", new.bandwidth);
        plan.expect("ipnum", new.ipnum);
        plan.expect("defense", new.defense);
        Ok(plan)
    }

    /// Hosting (traffic, then product) and database (product) upgrades.
    async fn upgrade_site(&self, fam: Fam, num: &str, r: &PurchaseRequest) -> Result<Plan> {
        let record = self.record(fam, num).await?;
        let id = fam.upstream_id(i(&record, "id"));
        let products = self.list(Self::site_products(fam), &[]).await?;
        let flow = if fam == Fam::Hosting {
            opt_int(r, "flow")?
        } else {
            None
        };
        let to = r.offer.as_deref().filter(|o| !o.trim().is_empty());
        if flow.is_none() && to.is_none() {
            return Err(Error::invalid(
                "offer",
                "give the new product as the offer (or, for hosting, a flow)",
            ));
        }
        let end = time_of(fam, &record, true)?;
        let now = Timestamp::now();
        let mut cost = 0;
        let action = if fam == Fam::Hosting {
            "hosting_operate#hosting_upgrade"
        } else {
            "sql_operate#sql_upgrade"
        };
        let mut plan = Plan::new(fam, action, format!("{} {id} upgrade", fam.noun()));
        plan.send("guid", num);
        let from = find(&products, "guid", &s(&record, "product_guid"));
        if let Some(flow) = flow {
            let product = from.ok_or_else(|| {
                Error::invalid("target", format!("{id}: its product is no longer sold"))
            })?;
            let have = i(&record, "flow");
            if flow <= have || flow > i(product, "max_flow").max(have) {
                return Err(Error::invalid(
                    "flow",
                    format!(
                        "{flow} GB: more than {have} and at most {}",
                        i(product, "max_flow")
                    ),
                ));
            }
            let add = fen(extra_flow(product, have, flow)?)?;
            cost += prorate(add, end, now);
            plan.send("flow", flow);
            plan.expect("flow", flow);
        }
        if let Some(to) = to {
            let from = from.ok_or_else(|| {
                Error::invalid("target", format!("{id}: its product is no longer sold"))
            })?;
            let line = s(&record, "line_guid");
            let row = find(&products, "guid", to)
                .filter(|p| i(p, "status") == 1 && s(p, "lines_guid").split(',').any(|l| l == line))
                .ok_or_else(|| {
                    Error::invalid("offer", format!("no product {to:?} on the order's line"))
                })?;
            if i(from, "upgradation") != 1 || dec(row, "price")? <= dec(from, "price")? {
                return Err(Error::invalid(
                    "offer",
                    format!("{id} cannot move to {to:?}: only to a dearer product, where its product allows upgrades"),
                ));
            }
            // The list prices' difference; traffic bought on top stays as it was.
            let delta = fen(dec(row, "price")? - dec(from, "price")?)?;
            cost += prorate(delta, end, now);
            plan.send("new_product_guid", to);
            plan.expect("product_guid", to);
        }
        plan.price_fen = cost;
        plan.pass_rest(r, &["flow"], &["new_product_guid"])?;
        Ok(plan)
    }

    /// Every order of a family, and the highest id among them.
    async fn highest_id(&self, fam: Fam) -> Result<i64> {
        let rows = self.list_all(fam.list()).await?;
        Ok(rows.iter().map(|v| i(v, "id")).max().unwrap_or(0))
    }

    /// What each order bought since `since` cost, by its record (see
    /// `Billing::charges` in `capability.rs`).
    pub(crate) async fn purchases_since(&self, since: Timestamp) -> Result<Vec<Charge>> {
        let mut out = Vec::new();
        for fam in Fam::ALL {
            let rows: Vec<Value> = self
                .list_all(fam.list())
                .await?
                .into_iter()
                // Records keep whole seconds: compare at that precision.
                .filter(|v| {
                    time_of(fam, v, false).is_ok_and(|t| t.as_second() >= since.as_second())
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            // (lines, products): hosting and databases price by product alone.
            let (lines, products) = match fam {
                Fam::Cloud => (
                    self.list("getlines", &[]).await?,
                    self.list("getproduct", &[]).await?,
                ),
                Fam::Lease | Fam::Idc => self.machine_catalog(fam).await?,
                Fam::Hosting | Fam::Sql => {
                    (Vec::new(), self.list(Self::site_products(fam), &[]).await?)
                }
            };
            for row in rows {
                let at = time_of(fam, &row, false)?;
                let id = fam.upstream_id(i(&row, "id"));
                let months = months_between(at, time_of(fam, &row, true)?)?;
                let amount_fen = match fam {
                    Fam::Cloud => {
                        let line =
                            find(&lines, "guid", &s(&row, "line_guid")).ok_or_else(|| {
                                Error::invalid("line_guid", format!("{id}: its line is not listed"))
                            })?;
                        let monthly = cloud_monthly(line, &products, &CloudConfig::of(&row)?)?;
                        fen(monthly * Decimal::from(months) * cloud_discount(line, months)?)?
                    }
                    Fam::Lease | Fam::Idc => {
                        let (line, product) = machine_rows(&lines, &products, &row, &id)?;
                        let monthly = machine_monthly(line, product, &Machine::of(&row))?;
                        fen(monthly * Decimal::from(months) * machine_discount(line, months)?)?
                    }
                    // The monthly list price for the months bought, at their discount.
                    Fam::Hosting | Fam::Sql => {
                        let bought = i(&row, "buymonths");
                        let discount = match find(&products, "guid", &s(&row, "product_guid")) {
                            Some(product) => percent_discount(product, bought)?,
                            None => Decimal::ONE,
                        };
                        fen(dec(&row, "renew_price")? * Decimal::from(bought) * discount)?
                    }
                };
                if amount_fen > 0 {
                    out.push(Charge {
                        at,
                        amount: Money::from_fen(amount_fen),
                        reference: Some(fam.order_ref(i(&row, "id"))),
                        memo: format!("{} {id} bought for {months} months", fam.noun()),
                    });
                }
            }
        }
        out.sort_by_key(|c| c.at);
        Ok(out)
    }
}

/// The line and model of a dedicated or colocation order.
fn machine_rows<'a>(
    lines: &'a [Value],
    products: &'a [Value],
    record: &Value,
    id: &str,
) -> Result<(&'a Value, &'a Value)> {
    let line = find(lines, "guid", &s(record, "line_guid"));
    let product = find(products, "guid", &s(record, "product_guid"));
    line.zip(product).ok_or_else(|| {
        Error::invalid(
            "target",
            format!("{id}: its line or model is no longer sold"),
        )
    })
}

/// Whole calendar months from `from` to `to` (the term an order's record shows).
fn months_between(from: Timestamp, to: Timestamp) -> Result<i64> {
    for m in 0..=i64::from(MAX_MONTHS) * 10 {
        if add_months(from, m)? >= to {
            return Ok(m);
        }
    }
    Ok(i64::from(MAX_MONTHS) * 10)
}

#[async_trait]
impl Purchasing for ZonkvmClient {
    /// Dedicated servers and colocation: IPs, bandwidth and defense; cloud servers:
    /// bandwidth and defense (a cloud line prices no IP).
    fn units_provisioned(&self, request: &PurchaseRequest) -> Vec<Unit> {
        match family_of(request) {
            Ok((Fam::Cloud, _)) => vec![Unit::Bandwidth, Unit::Defense],
            Ok((Fam::Lease | Fam::Idc, _)) => vec![Unit::Ip, Unit::Bandwidth, Unit::Defense],
            _ => Vec::new(),
        }
    }

    fn sells(&self) -> Vec<(ResourceKind, Operation)> {
        let kinds = [
            ResourceKind::Server,
            ResourceKind::HostingSite,
            ResourceKind::Database,
        ];
        let ops = [Operation::Create, Operation::Renew, Operation::Upgrade];
        kinds
            .into_iter()
            .flat_map(|k| ops.into_iter().map(move |o| (k, o)))
            .collect()
    }

    async fn quote(&self, request: &PurchaseRequest) -> Result<PriceQuote> {
        let plan = self.plan(request, "").await?;
        Ok(PriceQuote {
            product: plan.product,
            period_months: if request.operation == Operation::Upgrade {
                0
            } else {
                request.months
            },
            price: Money::from_fen(plan.price_fen),
        })
    }

    async fn before(&self, request: &PurchaseRequest) -> Result<Value> {
        let (fam, num) = family_of(request)?;
        Ok(match request.operation {
            Operation::Create => json!({
                "max_id": self.highest_id(fam).await?,
                "expect": self.plan(request, "").await?.expect,
            }),
            Operation::Renew => {
                let record = self.record(fam, &num).await?;
                json!({"end_time": s(&record, fam.time_key(true))})
            }
            Operation::Upgrade => {
                let plan = self.plan(request, "").await?;
                let record = self.record(fam, &num).await?;
                let from: BTreeMap<&str, String> =
                    fam.upgraded().iter().map(|k| (*k, s(&record, k))).collect();
                json!({"from": from, "expect": plan.expect})
            }
            Operation::Transfer => return Err(not_sold(Vendor::Zonkvm, request)),
        })
    }

    async fn buy(&self, request: &PurchaseRequest, client_order_id: &str) -> Result<Order> {
        if client_order_id.trim().is_empty() {
            return Err(Error::invalid("client_order_id", "a purchase needs one"));
        }
        let plan = self.plan(request, client_order_id).await?;
        // The order a renewal or upgrade acts on, named before anything is sent.
        let (fam, num) = family_of(request)?;
        let acted_on = match request.operation {
            Operation::Create => String::new(),
            _ => fam.upstream_id(
                num.parse::<i64>()
                    .map_err(|_| Error::invalid("target", "not an order id"))?,
            ),
        };
        let params: Vec<(&str, &str)> = plan
            .params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (id, upstream_id, amount) = if request.operation == Operation::Create {
            // An answer without the new order's id is unreadable: the exchange makes it
            // an unknown outcome, settled by listing.
            let (created, amount) = self
                .call_kv_as(plan.action, &params, |v| {
                    Ok((created_id(v.clone())?, money_of(&v)))
                })
                .await?;
            (
                plan.fam.order_ref(created),
                plan.fam.upstream_id(created),
                amount,
            )
        } else {
            let answer = self.call_kv(plan.action, &params).await?;
            // The order keeps its id; the renewal or upgrade is this journal entry's.
            (client_order_id.to_string(), acted_on, money_of(&answer))
        };
        Ok(Order {
            id,
            product: plan.product,
            amount,
            state: OrderState::Succeeded,
            upstream_id: Some(upstream_id),
            created_at: Timestamp::now(),
        })
    }

    async fn settle(
        &self,
        request: &PurchaseRequest,
        client_order_id: &str,
        before: &Value,
    ) -> Result<Settled> {
        let (fam, num) = family_of(request)?;
        let expect = before["expect"].as_object().cloned().unwrap_or_default();
        match request.operation {
            Operation::Create => {
                let max = before["max_id"].as_i64().ok_or_else(|| {
                    Error::invalid("before", "no highest order id was read before buying")
                })?;
                let rows = self.list_all(fam.list()).await?;
                let ours: Vec<i64> = rows
                    .iter()
                    .filter(|v| {
                        i(v, "id") > max
                            && shows(v, &expect)
                            && carries_marker(fam, v, client_order_id)
                    })
                    .map(|v| i(v, "id"))
                    .collect();
                let what = match fam {
                    Fam::Hosting | Fam::Sql => {
                        format!("carrying marker {}", marker(client_order_id))
                    }
                    _ => "with the configuration bought".to_string(),
                };
                let seen = format!(
                    "read {}: {} {} order(s) above {max} {what}",
                    fam.list(),
                    ours.len(),
                    fam.noun()
                );
                match ours.as_slice() {
                    [] => Ok(Settled::DidNotHappen {
                        evidence: format!("{seen}: it did not happen"),
                    }),
                    [id] => Ok(Settled::Happened {
                        upstream_ref: Some(fam.order_ref(*id)),
                        charged: None,
                        evidence: format!("{seen} ({}): it happened", fam.upstream_id(*id)),
                    }),
                    _ => Err(self.exchange.unconfirmed(
                        fam.create(),
                        format!("{seen} ({ours:?}); which one is ours cannot be read, so a person must decide"),
                    )),
                }
            }
            Operation::Renew => {
                let record = self.record(fam, &num).await?;
                let key = fam.time_key(true);
                let was = before["end_time"].as_str().and_then(parse_china_time);
                let now = parse_china_time(&s(&record, key));
                let id = fam.upstream_id(i(&record, "id"));
                let seen = format!(
                    "read {id}: ends {} (before: {})",
                    s(&record, key),
                    before["end_time"].as_str().unwrap_or("unknown")
                );
                Ok(match (was, now) {
                    (Some(was), Some(now)) if now > was => Settled::Happened {
                        upstream_ref: Some(client_order_id.to_string()),
                        charged: None,
                        evidence: format!("{seen}: it happened"),
                    },
                    _ => Settled::DidNotHappen {
                        evidence: format!("{seen}: it did not happen"),
                    },
                })
            }
            Operation::Upgrade => {
                let record = self.record(fam, &num).await?;
                let id = fam.upstream_id(i(&record, "id"));
                let seen: Vec<String> = fam
                    .upgraded()
                    .iter()
                    .map(|k| format!("{k} {}", s(&record, k)))
                    .collect();
                let seen = format!("read {id}: {}", seen.join(", "));
                Ok(if !expect.is_empty() && shows(&record, &expect) {
                    Settled::Happened {
                        upstream_ref: Some(client_order_id.to_string()),
                        charged: None,
                        evidence: format!("{seen}: upgraded as asked, it happened"),
                    }
                } else {
                    Settled::DidNotHappen {
                        evidence: format!(
                            "{seen}: not the configuration asked for, it did not happen"
                        ),
                    }
                })
            }
            Operation::Transfer => Err(not_sold(Vendor::Zonkvm, request)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_day_counts_and_a_month_is_thirty_days() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let end = |secs: i64| now + jiff::SignedDuration::from_secs(secs);
        assert_eq!(prorate(3_000, end(30 * 86_400), now), 3_000);
        assert_eq!(prorate(3_000, end(86_400 + 1), now), 200, "two days");
        assert_eq!(prorate(3_000, end(-5), now), 0, "expired");
        assert_eq!(prorate(-3_000, end(86_400), now), 0, "never negative");
    }

    #[test]
    fn markers_are_stable_short_names() {
        assert_eq!(marker("idg-1"), marker("idg-1"));
        assert_ne!(marker("idg-1"), marker("idg-2"));
        assert_eq!(marker("idg-1").len(), 12);
        assert!(marker("x").bytes().all(|b| b.is_ascii_alphanumeric()));
    }

    #[test]
    fn terms_and_discounts_read_the_catalog_rows() {
        let line = json!({"months": "1,3,12", "discount": "[{\"month\":\"12\",\"discount\":\"0.9\"}]",
            "discount1": "0.95", "discount2": "0.00"});
        assert_eq!(term(&line, 3).unwrap(), 3);
        assert!(
            matches!(term(&line, 2), Err(Error::InvalidInput { ref field, .. }) if field == "months")
        );
        assert_eq!(cloud_discount(&line, 12).unwrap(), "0.9".parse().unwrap());
        assert_eq!(cloud_discount(&line, 3).unwrap(), Decimal::ONE);
        assert_eq!(
            machine_discount(&line, 12).unwrap(),
            "0.95".parse().unwrap()
        );
        assert_eq!(
            machine_discount(&line, 24).unwrap(),
            Decimal::ONE,
            "0 is none"
        );
        assert_eq!(fen("12.345".parse().unwrap()).unwrap(), 1235, "half up");
        let t: Timestamp = "2026-01-31T04:00:00Z".parse().unwrap();
        assert_eq!(months_between(t, add_months(t, 13).unwrap()).unwrap(), 13);
    }
}
