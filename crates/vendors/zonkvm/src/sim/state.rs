//! The finance system's data: one reseller account (balance, credit, ledger), the
//! catalogs it sells from, and its orders. Money is integer fen; prices are computed in
//! `Decimal` and rounded once, to the fen.

use idcgate_wire::sim::{Clock, SimState};
use jiff::{SignedDuration, Timestamp};
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A refusal, sent as `{"code":0,"msg":..}`.
pub(crate) type Fail = String;

pub(crate) const NOT_FOUND: &str = "未找到产品记录";
pub(crate) const NO_BALANCE: &str = "余额不足";
pub(crate) const BAD_LINE: &str = "该线路节点不存在或已下架";
pub(crate) const REFUND_WINDOW_PASSED: &str = "产品超出可退款时间";

/// How long after purchase an unexpired product may be refunded (the document names a
/// no-reason refund window without its length; ours is 7 days).
pub(crate) const REFUND_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);

/// One ledger row: every charge and refund, with the balance after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinanceRecord {
    pub id: i64,
    pub time: Timestamp,
    /// `buy`, `renew`, `upgrade` or `refund`.
    pub kind: String,
    /// `server`, `lease`, `idc`, `hosting` or `sql`.
    pub product: String,
    pub order_id: i64,
    /// Negative for charges, positive for refunds.
    pub amount_fen: i64,
    pub balance_fen: i64,
    pub client_order_id: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Account {
    pub appid: String,
    pub appkey: String,
    pub api_enabled: bool,
    pub balance_fen: i64,
    /// 授信额度: purchases may take the balance down to minus this.
    pub credit_fen: i64,
    pub ledger: Vec<FinanceRecord>,
}

impl Account {
    /// Takes `fen` or refuses with 余额不足 and changes nothing.
    pub fn charge(&mut self, now: Timestamp, fen: i64, what: Entry<'_>) -> Result<(), Fail> {
        if i128::from(self.balance_fen) + i128::from(self.credit_fen) < i128::from(fen) {
            return Err(NO_BALANCE.into());
        }
        self.post(now, -fen, what);
        Ok(())
    }

    pub fn refund(&mut self, now: Timestamp, fen: i64, what: Entry<'_>) {
        self.post(now, fen, what);
    }

    fn post(&mut self, now: Timestamp, delta: i64, what: Entry<'_>) {
        self.balance_fen = self.balance_fen.saturating_add(delta);
        let id = self.ledger.len() as i64 + 1;
        self.ledger.push(FinanceRecord {
            id,
            time: now,
            kind: what.kind.into(),
            product: what.product.into(),
            order_id: what.order_id,
            amount_fen: delta,
            balance_fen: self.balance_fen,
            client_order_id: what.client_order_id.into(),
        });
    }
}

/// What a ledger row is about.
pub(crate) struct Entry<'a> {
    pub kind: &'a str,
    pub product: &'a str,
    pub order_id: i64,
    pub client_order_id: &'a str,
}

/// What every order has: its owner reference, term, price and the two statuses.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub id: i64,
    pub client_user_id: i64,
    pub client_order_id: String,
    pub buy_time: Timestamp,
    pub end_time: Timestamp,
    /// Monthly list price (before a term's discount), for renewals and upgrades.
    pub monthly_fen: i64,
    /// What the current term cost; a refund returns its unused share.
    pub paid_fen: i64,
    pub months: i64,
    /// 0 provisioning, 1 normal, 3 expired, -1 recycled, -2 deleted.
    pub order_status: i64,
    /// 1 running, -1 stopped, -2 locked.
    pub run_status: i64,
}

impl Base {
    pub fn new(id: i64, now: Timestamp, months: i64, monthly_fen: i64, paid_fen: i64) -> Self {
        Base {
            id,
            client_user_id: 0,
            client_order_id: String::new(),
            buy_time: now,
            end_time: add_months(now, months),
            monthly_fen,
            paid_fen,
            months,
            order_status: 1,
            run_status: 1,
        }
    }

    /// Refuses work on deleted or expired orders (the state machine's guard).
    pub fn usable(&self) -> Result<(), Fail> {
        match self.order_status {
            -1 | -2 => Err("产品已删除".into()),
            3 => Err("产品已过期,请先续费".into()),
            0 => Err("产品开通中,请稍后".into()),
            _ if self.run_status == -2 => Err("产品已锁定".into()),
            _ => Ok(()),
        }
    }

    pub fn expire_if_due(&mut self, now: Timestamp) {
        if self.order_status == 1 && self.end_time <= now {
            self.order_status = 3;
            self.run_status = -1;
        }
    }

    /// Extends the term by `months`; an expired order comes back stopped (the owner
    /// starts it again), as hosting's resume-after-renew describes.
    pub fn extend(&mut self, now: Timestamp, months: i64, paid_fen: i64) {
        let from = self.end_time.max(now);
        self.end_time = add_months(from, months);
        self.paid_fen += paid_fen;
        self.months += months;
        if self.order_status == 3 {
            self.order_status = 1;
        }
    }

    /// The unused share of what was paid, to the fen (rounded down).
    pub fn remaining_value_fen(&self, now: Timestamp) -> i64 {
        let total = self.end_time.duration_since(self.buy_time).as_secs();
        let left = self.end_time.duration_since(now).as_secs();
        if total <= 0 || left <= 0 {
            return 0;
        }
        (i128::from(self.paid_fen) * i128::from(left) / i128::from(total)) as i64
    }

    /// Unused share of a month's price for a price difference (upgrades): whole days
    /// left (a started day counts) over a 30-day month. Counting days, not seconds, lets
    /// a quote made from the order's `end_time` moments before still be the charge.
    pub fn prorate_fen(&self, now: Timestamp, monthly_delta_fen: i64) -> i64 {
        let left = self.end_time.duration_since(now).as_secs().max(0);
        let days = (left + 24 * 3600 - 1) / (24 * 3600);
        (i128::from(monthly_delta_fen) * i128::from(days) / 30).max(0) as i64
    }

    /// Refund rule of the document (stated for hosting and databases, applied to every
    /// product): expired -> deleted outright; within the window -> the unused value goes
    /// back to the balance; after it -> 产品超出可退款时间.
    pub fn refund_amount(&self, now: Timestamp) -> Result<i64, Fail> {
        match self.order_status {
            -1 | -2 => return Err("产品已删除".into()),
            3 => return Ok(0),
            _ => {}
        }
        if now.duration_since(self.buy_time) > REFUND_WINDOW {
            return Err(REFUND_WINDOW_PASSED.into());
        }
        Ok(self.remaining_value_fen(now))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub id: i64,
    pub guid: String,
    pub name: String,
    pub weight: i64,
    pub direction: String,
    pub protocol: String,
    pub action: String,
    pub remote_ip: String,
    pub local_port: String,
    pub created: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct Cloud {
    pub base: Base,
    pub line_guid: String,
    pub line_id: i64,
    pub system_guid: String,
    pub ip: String,
    pub local_ip: String,
    pub cpu: i64,
    pub memory: i64,
    pub harddisks: String,
    pub bandwidth: i64,
    pub in_bandwidth: i64,
    pub defense: i64,
    pub login_name: String,
    pub login_password: String,
    pub act_status: i64,
    pub vnc_port: i64,
    pub vnc_password: String,
    pub login_port: i64,
    pub policies: Vec<Policy>,
}

/// A dedicated server (lease) or a colocated one (idc); one shape, two families.
#[derive(Debug, Clone)]
pub(crate) struct Physical {
    pub base: Base,
    pub product_guid: String,
    pub line_guid: String,
    pub name: String,
    pub system_guid: String,
    pub bandwidth: i64,
    pub defense: i64,
    pub ipnum: i64,
    pub ips: Vec<String>,
    pub power: String,
    pub login_name: String,
    pub login_password: String,
    pub system_port: String,
    pub act_status: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct SiteDomain {
    pub id: i64,
    pub name: String,
    pub port: String,
    pub added: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct BackupFile {
    pub id: i64,
    pub name: String,
    pub size: i64,
    pub added: Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) struct Hosting {
    pub base: Base,
    pub name: String,
    pub product_guid: String,
    pub line_guid: String,
    pub domain: String,
    pub domains: Vec<SiteDomain>,
    pub disk: i64,
    pub use_disk: i64,
    pub db_size: i64,
    pub db_type: String,
    pub db_code: String,
    pub program: String,
    pub program_version: String,
    pub flow: i64,
    pub ftp_id: i64,
    pub ftp_name: String,
    pub ftp_password: String,
    pub renew_auto: i64,
    pub index: String,
    pub run_path: String,
    pub backups: Vec<BackupFile>,
    /// The BT-panel side of the site: files, WAF, proxies, redirects, settings.
    pub panel: Panel,
}

/// One file or directory of a site (paths are absolute, under the site root).
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub dir: bool,
    /// A file's bytes: uploads are images and archives as often as text.
    pub content: Vec<u8>,
    pub modified: Timestamp,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Panel {
    /// Hotlink protection: allowed domains, suffixes, on/off, blocking status.
    pub security: (String, String, i64, String),
    /// WAF switches by object name (`cc`, `xss_injection`, ...) and tamper-proofing.
    pub waf: BTreeMap<String, i64>,
    pub cc: serde_json::Map<String, Value>,
    pub retry: serde_json::Map<String, Value>,
    pub proxies: Vec<serde_json::Map<String, Value>>,
    pub redirects: Vec<serde_json::Map<String, Value>>,
    /// open_basedir, log_access, password_access.
    pub user_ini: [i64; 3],
    pub files: BTreeMap<String, Node>,
    /// Marked by set_batch_data: (Copy|Cut, directory, names).
    pub clipboard: Option<(String, String, Vec<String>)>,
    /// What the deployed certificate says (hosting_set_ssl), if one is deployed. The
    /// key and PEM are not kept: no documented read returns them.
    pub ssl: Option<super::x509::CertInfo>,
    /// HTTP -> HTTPS 301 (hosting_http_to_https / hosting_close_to_https).
    pub force_https: bool,
    /// IIS sites: the certificate file (.pfx/.p12 path) each bound domain serves HTTPS
    /// with (hosting_set_domain_iis_byfile).
    pub iis_ssl: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub base: Base,
    pub hosting_id: i64,
    pub name: String,
    pub product_guid: String,
    pub line_guid: String,
    pub db_size: i64,
    pub db_type: String,
    pub db_code: String,
    pub db_name: String,
    pub db_user: String,
    pub db_password: String,
    pub renew_auto: i64,
    pub access: String,
    pub backups: Vec<BackupFile>,
    /// Progress (percent) of the last backup and import; they finish on the next query.
    pub backup_progress: i64,
    pub import_progress: i64,
    /// The password it was created with: sql_reissue re-creates the database from the
    /// saved creation parameters, so a later reset password does not survive it.
    pub created_password: String,
}

/// Static catalogs, kept as the JSON rows the API serves (key order as documented).
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub zones: Vec<Value>,
    pub systems: Vec<Value>,
    pub lines: Vec<Value>,
    pub packages: Vec<Value>,
    pub lease_lines: Vec<Value>,
    pub lease_disks: Vec<Value>,
    pub lease_products: Vec<Value>,
    pub idc_lines: Vec<Value>,
    pub idc_products: Vec<Value>,
    pub hosting_lines: Vec<Value>,
    pub hosting_products: Vec<Value>,
    /// PHP versions (`81`) per hosting line guid.
    pub php_versions: BTreeMap<String, Vec<String>>,
    pub sql_products: Vec<Value>,
}

#[derive(Debug, Clone)]
pub(crate) struct State {
    pub account: Account,
    pub catalog: Catalog,
    pub servers: BTreeMap<i64, Cloud>,
    pub leases: BTreeMap<i64, Physical>,
    pub idcs: BTreeMap<i64, Physical>,
    pub hostings: BTreeMap<i64, Hosting>,
    pub sqls: BTreeMap<i64, Sql>,
    pub next_id: HashMap<&'static str, i64>,
    /// Answers of create_order / renew calls by client order id, replayed (without a
    /// second charge) when the same id comes again.
    pub idempotent: HashMap<(String, String), Value>,
    pub clock: Clock,
    pub counter: u64,
}

impl SimState for State {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

impl State {
    pub fn new(appid: &str, appkey: &str) -> Self {
        State {
            account: Account {
                appid: appid.into(),
                appkey: appkey.into(),
                api_enabled: true,
                balance_fen: 0,
                credit_fen: 0,
                ledger: Vec::new(),
            },
            catalog: Catalog::default(),
            servers: BTreeMap::new(),
            leases: BTreeMap::new(),
            idcs: BTreeMap::new(),
            hostings: BTreeMap::new(),
            sqls: BTreeMap::new(),
            next_id: HashMap::new(),
            idempotent: HashMap::new(),
            clock: Clock::default(),
            counter: 0,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Next id of a family (`server` ids start at 1001, the rest at 1, as the examples).
    pub fn alloc(&mut self, family: &'static str) -> i64 {
        let id = self.peek(family);
        self.next_id.insert(family, id + 1);
        id
    }

    /// The id `alloc` would hand out next, without taking it.
    pub fn peek(&self, family: &'static str) -> i64 {
        let start = if family == "server" { 1001 } else { 1 };
        self.next_id.get(family).copied().unwrap_or(start)
    }

    /// A fresh, deterministic-enough token (passwords, VNC tokens).
    pub fn token(&mut self, prefix: &str) -> String {
        self.counter += 1;
        let n = self
            .counter
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(17);
        format!("{prefix}{:012x}", n & 0xffff_ffff_ffff)
    }

    /// Expires everything whose term has run out.
    pub fn tick(&mut self) {
        let now = self.now();
        for b in self.servers.values_mut().map(|x| &mut x.base) {
            b.expire_if_due(now);
        }
        for b in self
            .leases
            .values_mut()
            .chain(self.idcs.values_mut())
            .map(|x| &mut x.base)
        {
            b.expire_if_due(now);
        }
        for b in self.hostings.values_mut().map(|x| &mut x.base) {
            b.expire_if_due(now);
        }
        for b in self.sqls.values_mut().map(|x| &mut x.base) {
            b.expire_if_due(now);
        }
    }
}

/// The most file bytes the simulator keeps for one site, below any product's disk
/// quota: every write is copied for rollback, so this bounds both memory and the copy.
pub(crate) const SITE_BYTES_MAX: usize = 16 << 20;

impl Hosting {
    pub fn used_bytes(&self) -> usize {
        self.panel
            .files
            .values()
            .map(|n| n.content.len())
            .fold(0, usize::saturating_add)
    }

    /// The product's disk (MB), capped at [`SITE_BYTES_MAX`].
    pub fn quota_bytes(&self) -> usize {
        usize::try_from(self.disk)
            .unwrap_or(0)
            .saturating_mul(1 << 20)
            .min(SITE_BYTES_MAX)
    }
}

impl State {
    /// Whether a write left a site over its quota with more than it had before (a site
    /// already over it, e.g. after a downgrade, may still shrink or stay).
    pub fn grew_past_quota(&self, before: &State) -> bool {
        self.hostings.values().any(|h| {
            let used = h.used_bytes();
            used > h.quota_bytes()
                && before
                    .hostings
                    .get(&h.base.id)
                    .is_none_or(|b| used > b.used_bytes())
        })
    }
}

/// What every product family's order carries.
pub(crate) trait Order {
    fn base(&self) -> &Base;
}

macro_rules! orders {
    ($($t:ty),*) => {$(impl Order for $t { fn base(&self) -> &Base { &self.base } })*};
}
orders!(Cloud, Physical, Hosting, Sql);

/// An order by id, or 未找到产品记录.
pub(crate) fn order<T>(table: &BTreeMap<i64, T>, id: i64) -> Result<&T, Fail> {
    table.get(&id).ok_or_else(|| NOT_FOUND.into())
}

/// An order that may be worked on now (see `Base::usable`).
pub(crate) fn live<T: Order>(table: &mut BTreeMap<i64, T>, id: i64) -> Result<&mut T, Fail> {
    let o = table.get_mut(&id).ok_or_else(|| NOT_FOUND.to_string())?;
    o.base().usable()?;
    Ok(o)
}

/// Appends a backup with the next id; `name` gets that id.
pub(crate) fn push_backup(
    list: &mut Vec<BackupFile>,
    now: Timestamp,
    size: i64,
    name: impl FnOnce(i64) -> String,
) {
    let id = list.iter().map(|b| b.id).max().unwrap_or(0) + 1;
    list.push(BackupFile {
        id,
        name: name(id),
        size,
        added: now,
    });
}

/// `Y-m-d H:i:s` in China time (`fmt_time`), as the system prints every datetime.
pub(crate) use idcgate_wire::sim::china::{add_months, datetime as fmt_time, zone as china};

pub(crate) fn parse_time(s: &str) -> Option<Timestamp> {
    let dt = jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s.trim()).ok()?;
    dt.to_zoned(china()).ok().map(|z| z.timestamp())
}

/// Yuan to fen, half-up at the fen (the only rounding step).
pub(crate) fn to_fen(yuan: Decimal) -> i64 {
    let fen = (yuan * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(fen).unwrap_or(i64::MAX)
}

/// Fen as the system prints prices: `"168.00"`.
pub(crate) fn yuan(fen: i64) -> String {
    Decimal::new(fen, 2).to_string()
}

// ---- catalog row accessors (rows are JSON; absent keys read as empty/zero) ----

pub(crate) fn vs(v: &Value, k: &str) -> String {
    match v.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn vi(v: &Value, k: &str) -> i64 {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(0),
        _ => 0,
    }
}

pub(crate) fn vd(v: &Value, k: &str) -> Decimal {
    vs(v, k).trim().parse().unwrap_or(Decimal::ZERO)
}

pub(crate) fn find<'a>(rows: &'a [Value], key: &str, value: &str) -> Option<&'a Value> {
    rows.iter().find(|r| vs(r, key) == value)
}

/// Whether `months` is in a row's comma list of purchasable months.
pub(crate) fn months_allowed(row: &Value, months: i64) -> bool {
    vs(row, "months")
        .split(',')
        .any(|m| m.trim().parse::<i64>().ok() == Some(months))
}
