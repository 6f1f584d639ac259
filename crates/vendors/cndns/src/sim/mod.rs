//! The CNDNS simulator: one account state behind every module, so money and resources
//! stay consistent (every charge is a finance record; a refused purchase changes
//! nothing).
//!
//! The simulator sits on [`idcgate_wire::sim::Host`]: a request is matched by its
//! (normalised) path and `type#=` discriminator against the spec table, authenticated
//! (in `resolve`), validated, then handed to its action's handler from the dispatch
//! table each module contributes. A refused write changes nothing (the host restores
//! the state). Answers are compact UTF-8 JSON served as `text/html`, as ASP.NET serves
//! them; [`Quirk`] switches on the malformations live answers show.

mod cdn;
mod cloud;
pub use cloud::SAMPLE_HOST_2C2G;
mod dns;
mod domain;
mod finance;
mod marketing;
mod present;
mod products;
mod promo;
mod resold;
mod seed;
mod sitestar;
mod support;
mod transfer;

use crate::spec::{norm_path, spec};
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::{Money, Vendor};
use idcgate_wire::sim::money::debit;
use idcgate_wire::sim::{
    china, ip_allowed, Call, Clock, Handlers, Incoming, Mount, Outcome, Refusal, Route, SimState,
    SimVendor,
};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::IpAddr;

pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;
/// How many recent `otime`s are remembered for the duplicate check (10036).
const SEEN_OTIMES: usize = 100_000;

/// Malformations of live answers the simulator can reproduce (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quirk {
    #[default]
    None,
    /// The envelope inside an HTML page.
    HtmlWrapped,
    /// The envelope as a JSONP call: `jsonp1({...});`.
    Jsonp,
    /// Every quote escaped once too often: `{\"action\":...}`.
    OverEscaped,
    /// In a list of two or more items, the second item is not valid JSON.
    BrokenItem,
}

/// A CNDNS failure: the 5-digit code and its text, sent as `"<code> <text>"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimErr {
    pub code: u32,
    pub msg: String,
}

impl SimErr {
    /// A failure with `code` from [`crate::errors::ERRORS`] (every code the simulator
    /// sends is there, which that module's tests check) and the handler's own wording,
    /// or the table's when the handler has none.
    pub fn new(code: u32, msg: impl Into<String>) -> Self {
        let msg = msg.into();
        let msg = match crate::errors::by_number(code) {
            Some(entry) if msg.is_empty() => entry.message.to_string(),
            _ => msg,
        };
        SimErr { code, msg }
    }
    /// A failure of the modules that answer with text alone (bcc, ali, cdn, ddos).
    pub fn text(msg: impl Into<String>) -> Self {
        SimErr {
            code: 0,
            msg: msg.into(),
        }
    }
    /// A refusal naming the offending field the way the client reads it: `text(field)`.
    pub fn field(code: u32, text: &str, field: &str) -> Self {
        Self::new(code, format!("{text}({field})"))
    }
}

pub(crate) type R = Result<Value, SimErr>;

/// One resolved request: query fields before the body's.
pub(crate) type Req<'a> = Call<'a, Cndns>;
pub(crate) type Handler = idcgate_wire::sim::Handler<Cndns>;

/// CNDNS's readings of a field, with its own error texts. `arg` (the trimmed value or
/// the spec default) comes from the host.
pub(crate) trait Fields {
    /// The value or the spec's default; empty when there is neither (free text, or a
    /// value the handler refuses with its own wording).
    fn text(&self, k: &str) -> &str;
    /// A value the spec cannot require (conditional ones, or a second check of a
    /// field the handler itself names in its refusal).
    fn req(&self, k: &str) -> Result<&str, SimErr>;
    /// A required value `ok` accepts; `text(k)` with the endpoint's `code` otherwise.
    fn checked(
        &self,
        k: &str,
        ok: impl FnOnce(&str) -> bool,
        code: u32,
        text: &str,
    ) -> Result<&str, SimErr> {
        let v = self.req(k)?;
        if ok(v) {
            Ok(v)
        } else {
            Err(SimErr::field(code, text, k))
        }
    }
    /// Years (or another period) in `1..=max`; `code` is the endpoint's own code.
    fn period(&self, k: &str, max: i64, code: u32) -> Result<i64, SimErr>;
    fn domain(&self) -> Result<String, SimErr>;
}

impl Fields for Req<'_> {
    fn text(&self, k: &str) -> &str {
        self.arg(k).unwrap_or_default()
    }
    fn req(&self, k: &str) -> Result<&str, SimErr> {
        self.arg(k)
            .ok_or_else(|| SimErr::field(10012, "参数不能为空", k))
    }
    fn period(&self, k: &str, max: i64, code: u32) -> Result<i64, SimErr> {
        match self.arg(k).map(str::parse::<i64>) {
            None => Ok(1),
            Some(Ok(n)) if (1..=max).contains(&n) => Ok(n),
            _ => Err(SimErr::field(code, &format!("年限错误(1-{max})"), k)),
        }
    }
    fn domain(&self) -> Result<String, SimErr> {
        Ok(self.req("domainname")?.trim().to_ascii_lowercase())
    }
}

/// Runs `op` on a copy of the product `key` of `items` (so `op` may charge the account
/// while it edits the product, and other products are seen as they were) and stores
/// the copy back when `op` succeeds; `missing` when there is no such product.
pub(crate) fn edit<T: Clone>(
    st: &mut State,
    items: fn(&mut State) -> &mut BTreeMap<String, T>,
    key: String,
    missing: SimErr,
    op: impl FnOnce(&mut State, &mut T) -> R,
) -> R {
    let mut item = items(st).get(&key).cloned().ok_or(missing)?;
    let out = op(st, &mut item)?;
    items(st).insert(key, item);
    Ok(out)
}

/// [`edit`] for a product that must also be `mine` (of the module called: products of
/// sibling modules share one map); `missing` otherwise too.
pub(crate) fn edit_mine<T: Clone>(
    st: &mut State,
    items: fn(&mut State) -> &mut BTreeMap<String, T>,
    key: String,
    mine: impl FnOnce(&T) -> bool,
    missing: fn() -> SimErr,
    op: impl FnOnce(&mut State, &mut T) -> R,
) -> R {
    edit(st, items, key, missing(), |st, t| {
        if mine(t) {
            op(st, t)
        } else {
            Err(missing())
        }
    })
}

/// A two-state switch (running, mounted, ...) moved from `from` to `to`; `refusal`
/// when it is not at `from`.
pub(crate) fn flip(flag: &mut bool, from: bool, to: bool, refusal: SimErr) -> Result<(), SimErr> {
    if *flag != from {
        return Err(refusal);
    }
    *flag = to;
    Ok(())
}

/// Moves a renamed product to its new key.
pub(crate) fn rekey<T>(items: &mut BTreeMap<String, T>, old: &str, new: String, item: T) {
    items.remove(old);
    items.insert(new, item);
}

/// The empty answer of most writes.
pub(crate) fn done() -> R {
    Ok(json!(""))
}

/// Money as CNDNS prints it (two decimals), and an amount in yuan and fen.
pub(crate) use idcgate_wire::sim::money::{two_dp as m, yuan};

/// `2014/1/15 18:21:14`, the unpadded China-time format of DomainDetail and others:
/// the hour too (`2013/8/9 9:06:46` in the hosting samples), as .NET's zh-CN default
/// `yyyy/M/d H:mm:ss` prints it.
pub(crate) fn fmt_time(ms: i64) -> String {
    china::at_ms(ms)
        .strftime("%Y/%-m/%-d %-H:%M:%S")
        .to_string()
}

/// `2012-9-14 16:17:00`: ContactList's `regtime` (dashes, unpadded month and day).
pub(crate) fn fmt_time_dashed(ms: i64) -> String {
    china::at_ms(ms).strftime("%Y-%-m-%-d %H:%M:%S").to_string()
}

/// `2012-10-25 10:23:20.123`: the gift database's (openssl) dates, with milliseconds.
pub(crate) fn fmt_time_ms(ms: i64) -> String {
    china::at_ms(ms)
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// `2014-12-03 0:0:0`: SMS accounts' `buytime` (a padded date, an unpadded time).
pub(crate) fn fmt_time_sms(ms: i64) -> String {
    china::at_ms(ms)
        .strftime("%Y-%m-%d %-H:%-M:%-S")
        .to_string()
}

pub(crate) use china::{add_months_ms as add_months, date_ms as fmt_date};

pub(crate) fn add_years(ms: i64, years: i64) -> i64 {
    add_months(ms, years * 12)
}

/// Whole years left until `exp` (at least 1), for prorated upgrades; two days of slack
/// so that a term bought today for N years counts as N, leap day or not.
pub(crate) fn years_left(now: i64, exp: i64) -> i64 {
    ((exp - now).max(0) + 363 * DAY_MS)
        .div_euclid(365 * DAY_MS)
        .max(1)
}

/// Whole 30-day months left until `exp` (at least 1), for prorated upgrades.
pub(crate) fn months_left(now: i64, exp: i64) -> i64 {
    (exp - now).max(0).div_euclid(30 * DAY_MS).max(1)
}

pub(crate) use idcgate_wire::sim::valid_hostname;

/// What an order is, for the coupon types (`tktype` 1 购买, 2 续费; 0 fits both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    Buy,
    Renew,
}

/// The period a price is quoted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Per {
    Year,
    Month,
}

/// A coupon (优惠券) of the account, redeemed through `signature` on buy/renew calls.
#[derive(Debug, Clone)]
pub(crate) struct Ticket {
    pub signature: String,
    pub title: String,
    pub money: Decimal,
    pub tktype: u8,
    pub apply: i64,
    pub exp: i64,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct FinRec {
    /// When it was booked (kept for the finance history the live account shows).
    #[allow(dead_code)]
    pub time: i64,
    pub amount: Decimal,
    pub memo: String,
}

/// The whole account. Every module reads and writes this one value under the host's lock.
#[derive(Clone)]
pub(crate) struct State {
    pub username: String,
    pub api_password: String,
    pub email: String,
    pub allowlist: Option<Vec<IpAddr>>,
    pub quirk: Quirk,
    clock: Clock,
    seen: HashSet<String>,
    seen_order: VecDeque<String>,
    seq: u64,
    pub balance: Decimal,
    pub frozen: Decimal,
    pub borrow: Decimal,
    pub used: Decimal,
    pub remitted: Decimal,
    pub finance: Vec<FinRec>,
    pub contacts: BTreeMap<u64, domain::Contact>,
    pub domains: BTreeMap<String, domain::Domain>,
    /// Names registered by others (dmcheck says unavailable, CreateDom refuses).
    pub taken: HashSet<String>,
    pub hosts: BTreeMap<String, products::Host>,
    pub dbs: BTreeMap<String, products::Db>,
    pub mails: BTreeMap<String, products::MailDomain>,
    pub clouds: BTreeMap<String, cloud::Cloud>,
    pub tickets: Vec<Ticket>,
    pub questions: BTreeMap<u64, support::Question>,
    pub transfers: BTreeMap<String, transfer::Transfer>,
    pub marketing: BTreeMap<String, marketing::PointsAccount>,
    pub resold: BTreeMap<String, resold::Instance>,
    pub cdns: BTreeMap<String, cdn::Package>,
    pub ddos: BTreeMap<String, cdn::Ddos>,
    pub sites: BTreeMap<String, sitestar::Site>,
    pub promos: BTreeMap<String, promo::Order>,
}

impl State {
    fn new(username: &str, api_password: &str, email: &str) -> Self {
        State {
            username: username.into(),
            api_password: api_password.into(),
            email: email.into(),
            allowlist: None,
            quirk: Quirk::None,
            clock: Clock::default(),
            seen: HashSet::new(),
            seen_order: VecDeque::new(),
            seq: 100,
            balance: Decimal::ZERO,
            frozen: Decimal::ZERO,
            borrow: Decimal::ZERO,
            used: Decimal::ZERO,
            remitted: Decimal::ZERO,
            finance: Vec::new(),
            contacts: BTreeMap::new(),
            domains: BTreeMap::new(),
            taken: HashSet::new(),
            hosts: BTreeMap::new(),
            dbs: BTreeMap::new(),
            mails: BTreeMap::new(),
            clouds: BTreeMap::new(),
            tickets: Vec::new(),
            questions: BTreeMap::new(),
            transfers: BTreeMap::new(),
            marketing: BTreeMap::new(),
            resold: BTreeMap::new(),
            cdns: BTreeMap::new(),
            ddos: BTreeMap::new(),
            sites: BTreeMap::new(),
            promos: BTreeMap::new(),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// One id sequence for contacts and records: ids are unique account-wide.
    pub fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Takes `amount` from the balance and books it; refuses when the balance is short
    /// (the host then undoes whatever else the handler changed).
    pub fn charge(&mut self, now: i64, amount: Decimal, memo: String) -> Result<(), SimErr> {
        // A negative price can only come from a pricing bug; it must never pay money in.
        if amount.is_sign_negative() {
            return Err(SimErr::new(10011, format!("金额非法({})", m(amount))));
        }
        debit(&mut self.balance, amount).map_err(|s| {
            SimErr::new(
                10021,
                format!(
                    "您帐户金额不足,需要{}元,可用{}元",
                    m(s.needed),
                    m(s.available)
                ),
            )
        })?;
        self.used += amount;
        self.finance.push(FinRec {
            time: now,
            amount: -amount,
            memo,
        });
        Ok(())
    }

    /// Charges an order after applying the request's coupon (`signature`, case
    /// sensitive); the coupon is spent only if the charge goes through. The simulated
    /// account holds no 代金券, so any `voucherid` is unknown (10046).
    pub fn charge_order(
        &mut self,
        q: &Req,
        purpose: Purpose,
        amount: Decimal,
        memo: String,
    ) -> Result<(), SimErr> {
        self.charge_with(q, ("signature", "voucherid"), purpose, amount, memo)
    }

    /// [`State::charge_order`] with the module's own names for the coupon and the
    /// voucher (DDOS, 百度云 and 阿里云 call them `ticketid` and `voucherids`).
    pub fn charge_with(
        &mut self,
        q: &Req,
        (coupon_key, voucher_key): (&str, &str),
        purpose: Purpose,
        amount: Decimal,
        memo: String,
    ) -> Result<(), SimErr> {
        if q.arg(voucher_key).is_some() {
            return Err(SimErr::field(10046, "代金券不存在", voucher_key));
        }
        let coupon = match q.arg(coupon_key) {
            None => None,
            Some(sig) => {
                let i = self
                    .tickets
                    .iter()
                    .position(|t| t.signature == sig)
                    .ok_or_else(|| SimErr::field(10042, "优惠券不存在", coupon_key))?;
                let t = &self.tickets[i];
                let fits = match t.tktype {
                    0 => true,
                    1 => purpose == Purpose::Buy,
                    2 => purpose == Purpose::Renew,
                    _ => false,
                };
                if t.used || q.now_ms() > t.exp || q.now_ms() < t.apply || !fits {
                    return Err(SimErr::field(10043, "当前优惠券码不能使用", coupon_key));
                }
                Some(i)
            }
        };
        let discount = coupon.map_or(Decimal::ZERO, |i| self.tickets[i].money.min(amount));
        self.charge(q.now_ms(), amount - discount, memo)?;
        if let Some(i) = coupon {
            self.tickets[i].used = true;
        }
        Ok(())
    }

    /// Charges an upgrade from a plan priced `old` to one priced `new` (per year or per
    /// month) for every whole period left until `exp`; a plan that is not dearer is
    /// refused with `refusal` and nothing is charged.
    #[allow(clippy::too_many_arguments)]
    pub fn charge_upgrade(
        &mut self,
        q: &Req,
        old: Decimal,
        new: Decimal,
        exp: i64,
        per: Per,
        refusal: SimErr,
        memo: String,
    ) -> Result<(), SimErr> {
        if new <= old {
            return Err(refusal);
        }
        let left = match per {
            Per::Year => years_left(q.now_ms(), exp),
            Per::Month => months_left(q.now_ms(), exp),
        };
        self.charge_order(q, Purpose::Buy, (new - old) * Decimal::from(left), memo)
    }

    pub fn deposit(&mut self, now: i64, amount: Decimal, memo: &str) {
        self.balance += amount;
        self.remitted += amount;
        self.finance.push(FinRec {
            time: now,
            amount,
            memo: memo.into(),
        });
    }

    /// Remembers an accepted `otime`; `false` if it was seen before (10036).
    fn first_use(&mut self, otime: &str) -> bool {
        if !self.seen.insert(otime.to_string()) {
            return false;
        }
        self.seen_order.push_back(otime.to_string());
        if self.seen_order.len() > SEEN_OTIMES {
            if let Some(old) = self.seen_order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }
}

impl SimState for State {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

/// CNDNS as the simulator host drives it.
pub(crate) struct Cndns;

impl SimVendor for Cndns {
    type State = State;
    type Ctx = ();
    type Ok = Value;
    type Fail = SimErr;

    const VENDOR: Vendor = Vendor::Cndns;
    /// The api, dmcheck and support hosts all answer at the account's base URL.
    const MOUNTS: &'static [Mount] = &[Mount::Fallback];
    const MAX_BODY: usize = 8 << 20;
    /// ASP.NET checks parameters as sent; handlers read them trimmed.
    const CHECK_TRIMMED: bool = false;

    const HANDLERS: &'static [Handlers<Self>] = MODULES;

    fn spec() -> &'static VendorSpec {
        spec()
    }

    /// An unknown page is ASP.NET's 404; a known one is authenticated first.
    fn resolve(st: &mut State, req: &Incoming) -> Result<Route<Self>, Refusal<SimErr>> {
        let action = find_action(req).ok_or_else(|| Refusal::answer(not_found()))?;
        authenticate(st, req).map_err(|e| Refusal::FailAt(action, e))?;
        Ok(Route { action, ctx: () })
    }

    fn invalid(req: &Incoming, action: &ActionSpec, field: &str, _: &str) -> SimErr {
        let required = action.param(field).is_some_and(|p| p.required);
        // Left empty: the action's own code for that parameter where it has one.
        let empty = required && req.get(field).is_none();
        let code = match crate::errors::empty_code(action.name(), field) {
            Some(code) if empty => code,
            _ if on_support_host(action) => support::param_code(field),
            _ if required => 10012,
            _ => 10011,
        };
        SimErr::field(code, "参数为空或格式错误", field)
    }

    fn unrouted(action: &ActionSpec) -> SimErr {
        unhandled(action.name())
    }

    /// The page the request named still labels the answer.
    fn oversize(req: &Incoming) -> Refusal<SimErr> {
        match find_action(req) {
            Some(action) => Refusal::FailAt(action, SimErr::new(10011, "提交的数据过大")),
            None => Refusal::answer(not_found()),
        }
    }

    fn render(st: &mut State, _: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        // Refused after routing (authentication, an oversize body), the action is known.
        let Some(action) = outcome.action else {
            return not_found();
        };
        let mut result = outcome.result;
        if on_support_host(action) {
            if let Err(e) = &mut result {
                e.code = support::auth_code(e.code);
            }
        }
        // GetstatTop's samples are the statistics object itself, no envelope (its
        // failures keep one: the document shows none, and a bare error has no shape).
        if action.name().starts_with("/cdn/getstattop#") {
            if let Ok(v) = &result {
                return respond(render(v, st.quirk));
            }
        }
        respond(render(&envelope(&label(action), &result), st.quirk))
    }

    fn sandbox_credentials(st: &State) -> Vec<(String, String)> {
        vec![
            ("username".into(), st.username.clone()),
            ("api_password".into(), st.api_password.clone()),
            ("email".into(), st.email.clone()),
        ]
    }
}

idcgate_wire::sim_handle! {
    /// The simulator handle; clones share one account.
    pub struct Sim(Host<Cndns>);
}

pub const SANDBOX_USERNAME: &str = "idcgate-demo";
pub const SANDBOX_API_PASSWORD: &str = "Sandbox-Pass-2024";
pub const SANDBOX_EMAIL: &str = "demo@idcgate.invalid";

impl Sim {
    /// An empty account (no balance, no resources).
    pub fn new(username: &str, api_password: &str, email: &str) -> Self {
        Sim::from_state(State::new(username, api_password, email))
    }

    /// The sandbox account: balance, contacts (one audited), five domains with DNS
    /// records (one .cn awaiting real-name documents), hosting, a database and a mail
    /// domain.
    pub fn sandbox() -> Self {
        let sim = Sim::new(SANDBOX_USERNAME, SANDBOX_API_PASSWORD, SANDBOX_EMAIL);
        sim.host.with_state(seed::sandbox);
        sim
    }

    /// Adds `domains` domains with `records_per_domain` records each, cheaply (no
    /// request per item), for benchmarks.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize) {
        self.host
            .with_state(|st| seed::bulk(st, domains, records_per_domain));
    }

    /// `None` = every caller IP allowed; otherwise others get 10001.
    pub fn set_ip_allowlist(&self, ips: Option<Vec<IpAddr>>) {
        self.host.with_state(|st| st.allowlist = ips);
    }

    /// Switches the malformation applied to every answer from now on.
    pub fn set_quirk(&self, quirk: Quirk) {
        self.host.with_state(|st| st.quirk = quirk);
    }

    pub fn balance(&self) -> Money {
        self.host.with_state(|st| Money(st.balance))
    }

    /// Sets the balance directly (booked as a remittance or an adjustment).
    pub fn set_balance(&self, to: Money) {
        self.host.with_state(|st| {
            let now = st.now_ms();
            let diff = to.0 - st.balance;
            st.deposit(now, diff, "余额调整");
        });
    }

    /// Finance records (every charge and deposit) whose memo mentions `needle`.
    pub fn charges_mentioning(&self, needle: &str) -> Vec<Money> {
        self.host.with_state(|st| {
            st.finance
                .iter()
                .filter(|f| f.memo.contains(needle))
                .map(|f| Money(f.amount))
                .collect()
        })
    }

    /// What CNDNS's web panel shows of the product named `name` and no call of the
    /// document answers: a hosting's web and FTP switches and bound domains, a
    /// database's run state and backup slots, a mail domain's fetching rules, a resold
    /// cloud server's disks (mounted, last backup); `name` is looked up in that order.
    /// The API's answers carry only the document's keys; tests observe these writes here.
    pub fn panel(&self, name: &str) -> Option<Value> {
        let switch = |on: bool| if on { "1" } else { "2" };
        self.host.with_state(|st| {
            if let Some(h) = st.hosts.get(name) {
                return Some(json!({
                    "webstate": switch(h.web_on),
                    "ftpstate": switch(h.ftp_on),
                    "domains": h.domains.join(","),
                }));
            }
            if let Some(d) = st.dbs.get(name) {
                let slots: Vec<String> = d.backups.keys().map(u8::to_string).collect();
                return Some(json!({
                    "dbstate": switch(d.running),
                    "backupnumber": slots.join(","),
                }));
            }
            if let Some(m) = st.mails.get(name) {
                let fetch: serde_json::Map<String, Value> = m
                    .fetch
                    .iter()
                    .map(|(a, (s, p, r))| (a.clone(), format!("{r}@{s}:{p}").into()))
                    .collect();
                return Some(json!({ "fetch": fetch }));
            }
            st.resold.get(name).map(|i| {
                let disks: serde_json::Map<String, Value> = i
                    .disks
                    .iter()
                    .map(|d| {
                        let backup = d.backup.map(fmt_time).unwrap_or_default();
                        let mounted = if d.mounted { "1" } else { "0" };
                        let v = json!({"mounted": mounted, "backup": backup});
                        (d.extid.to_string(), v)
                    })
                    .collect();
                json!({ "disks": disks })
            })
        })
    }

    /// The 建站之星 sites of the account, as the panel lists them (getCorysite's answer,
    /// as documented, does not name the copy it makes).
    pub fn site_names(&self) -> Vec<String> {
        self.host
            .with_state(|st| st.sites.keys().cloned().collect())
    }

    /// `(username, api_password, email)` of the simulated account.
    pub fn credentials(&self) -> (String, String, String) {
        self.host.with_state(|st| {
            (
                st.username.clone(),
                st.api_password.clone(),
                st.email.clone(),
            )
        })
    }
}

/// The label CNDNS puts in `action` for each action, as the document writes it (its
/// samples and [结果] tables, blanks and copying slips included: ModifyPassword answers
/// "domain renew", SetCharset "check product attr", several 企推宝/EDM/SMS calls
/// " get rest points "). Nothing routes on it; tests/it/conformance.rs holds each to the
/// document.
const LABELS: &[(&str, &str)] = &[
    ("dmcheck/check", "check domain"),
    ("/domains/createcontact", "add contact"),
    ("/domains/modifycontact", "modify contact"),
    ("/domains/deletecontact", "delete contact"),
    ("/domains/contactlist", "contact list"),
    ("/domains/contactinfo", "contact info"),
    ("/domains/domainguohu", "Domain guohu"),
    ("/domains/domainzhuanru", "Domain zhuanru"),
    ("/domains/domainzhuanrustate", "Domain guohu"),
    ("/domains/cancelzhuanru", "Domain cancel zhuanru"),
    ("/domains/updateauthcode", "Domain zhuanru again"),
    ("/domains/createdom", "create domain"),
    ("/domains/domainrenew", "domain renew"),
    ("/domains/modifypassword", "domain renew"),
    ("/domains/dnslist", "DNS list"),
    ("/domains/modifydns", "modify dns"),
    ("/domains/resetdns", "reset dns"),
    ("/domains/reclist", "Rec list"),
    ("/domains/addrec", "add rec"),
    ("/domains/modifyrec", "modify rec"),
    ("/domains/deleterec", "delete rec"),
    ("/domains/domaindetail", "Domain Detail"),
    ("/domains/domainaudit", "Domain Document Upload"),
    ("/domains/checkauditresult", "check domain audit state"),
    ("/hosting/hostlist", "hosting list"),
    ("/hosting/createhosting", "create hosting order"),
    ("/hosting/renewhosting", "renew hosting"),
    ("/hosting/gethostupgradelist", "get upgrade list"),
    ("/hosting/hostingupgrade", "hosting upgrade"),
    ("/hosting/modifyftpstate", "modify ftp state"),
    ("/hosting/modifywebstate", "modify web state"),
    ("/hosting/modifypassword", "modify ftp password"),
    ("/hosting/setdefaultpage", "set default page"),
    ("/hosting/set404page", "set 404 page"),
    ("/hosting/modifynetversion", "modify .net framework version"),
    ("/hosting/setdefaultipaccess", "set default ip access"),
    ("/hosting/denydefineip", "deny define ip"),
    ("/hosting/grantdefineip", "grant define ip"),
    ("/hosting/modifyerrtype", "modify error type"),
    ("/hosting/packfile", "pack file"),
    ("/hosting/unpackfile", "unpack file"),
    ("/hosting/setfolderipaccess", "set folder ip access"),
    ("/hosting/hostingsize", "hosting log info"),
    ("/hosting/deletefile", "del file(folder)"),
    ("/hosting/logaccess", "set log file access"),
    ("/hosting/resettomcat", "reset tomcat"),
    ("/hosting/binddomain", "bind domain"),
    ("/hosting/unbinddomain", "unbind domain"),
    ("/hosting/gethostinglog", "hosting log info"),
    ("/hosting/hostdetail", "get hosting detail"),
    ("/hosting/proroomlist", "pro_room list"),
    ("/hosting/getprice", "get hosting price"),
    ("/database/dblist", "get db list"),
    ("/database/createodr", "create db order"),
    ("/database/renewdb", "renew db"),
    ("/database/getupgradelist", "get upgrade list"),
    ("/database/upgrade", "db upgrade"),
    ("/database/dbsize", "get db size"),
    ("/database/modifydbstate", "modify db state"),
    ("/database/modifydbpass", "modify db password"),
    ("/database/modifyftppass", "modify ftp password"),
    ("/database/backup", "db backup"),
    ("/database/restore", "db restore"),
    ("/database/delbackupfile", " del db backup file "),
    ("/database/dbdetail", "get db detail"),
    ("/database/ispresent", "check product attr"),
    ("/database/setcharset", "check product attr"),
    ("/mail/createoder", "create mail odr"),
    ("/mail/renewalmail", "mail renewals"),
    ("/mail/mailupgrade", "mail upgrade"),
    ("/mail/modifymailpassword", "modify mail password"),
    ("/mail/mailadduser", "create mail box"),
    ("/mail/modifymailaccountstate", "modify mailbox state"),
    ("/mail/modifymailusermemo", "modify mailbox memo"),
    ("/mail/modifymailboxsize", "modify mailbox size"),
    ("/mail/modifymailboxpassword", "modify mailbox password"),
    ("/mail/modifymaildomain", "modify mail domain"),
    ("/mail/deletemailbox", "delete mailbox"),
    ("/mail/getmailboxlist", "get mailbox list"),
    ("/mail/setadminmailbox", "set admin mailbox"),
    ("/mail/ispresent", " check product attr "),
    ("/mail/getmaildetail", "get mail detail"),
    ("/mail/getmailloginurl", "get admin url"),
    ("/mail/chengmailadduser", "create cheng mail box"),
    ("/mail/chengmaildeleteuser", "delete cheng mail box"),
    (
        "/mail/chengmailmodifyuserpassword",
        "modify chengmailbox password",
    ),
    ("/mail/setmailserver", "set mailserver"),
    ("/present/openmail", "open present mail"),
    ("/present/openssl", "open present mail"),
    ("/present/ticketlist", "get ticketlist"),
    ("/cloud/cloudlist", "cloud list"),
    ("/cloud/buycloud", "buy cloud"),
    ("/cloud/createhost", "create cloud"),
    ("/cloud/modplatformpassword", "modify platform password"),
    ("/cloud/getsvrstt", "get cloud server state"),
    ("/cloud/restartcloud", "restart cloud server"),
    ("/cloud/shutdown", "shutdown cloud server"),
    ("/cloud/poweroff", "cloud server poweroff"),
    ("/cloud/starthost", "start cloud server"),
    ("/cloud/bkup", "backup cloud server"),
    ("/cloud/delbkupfile", "delete cloud server backup file"),
    ("/cloud/rstcloud", "restore cloud server"),
    ("/cloud/getrebuildsystem", "get cloud rebuild system"),
    ("/cloud/rebuildcloud", "rebuild cloud server"),
    ("/cloud/modpassword", "modify cloud server password"),
    ("/cloud/binddomain", "bind domain"),
    ("/cloud/deldomain", "delete domain"),
    ("/cloud/getupgradelist", "get upgrade list"),
    ("/cloud/upgradecloud", "upgrade cloud server"),
    ("/cloud/buyip", "buy ip for cloud server"),
    ("/cloud/renewalcloud", "renewal cloud server"),
    ("/cloud/cloudinfo", "get cloud detail"),
    ("/cloud/changeport", "change port"),
    ("/cloud/getprice", "buy cloud"),
    ("support/api/question", "ask question"),
    ("support/api/reply", "reply it"),
    ("support/api/replydetail", "evalute services"),
    ("/sitestarpro/getcatalist", "get product categories"),
    ("/sitestarpro/gettemplate", "website template"),
    ("/sitetarpro/createsite", "create sitestar"),
    ("/sitetarpro/createothpro", "buy other product"),
    ("/sitestarpro/renewalsite", "website renew"),
    ("/sitestarpro/getupgradelist", "get upgrade list"),
    ("/sitestarpro/siteupgrade", "website upgrade"),
    ("/sitestarpro/binddomain", "sitestar bind domain"),
    ("/sitestarpro/deletedomain", "sitestar delete domain"),
    ("/sitestarpro/getdomainlst", "sitestar get domainlist"),
    ("/sitestarpro/geteditweburl", " get web edit url "),
    ("/sitestarpro/changename", " change site name"),
    ("/sitestarpro/getprodetail", "get website detail"),
    ("/sitestarpro/getcaseparamlist", "get case filter info"),
    ("/sitestarpro/getsitecaselist", "get case list"),
    ("/sitestarpro/buytemplate", "buy template"),
    ("/sitestarpro/getcorysite", "create sitestar"),
    ("/edm/createorder", "create edm order"),
    ("/edm/modifypass", "modify edm password"),
    ("/edm/upoints", "buy points"),
    ("/edm/getdetail", "get edm detail"),
    ("/edm/getrestpoints", " get rest points "),
    ("/edm/getloginurl", " get rest points "),
    ("/sms/createorder", "create_sms_order"),
    ("/sms/modifypass", "modify sms password"),
    ("/sms/upoints", "buy points"),
    ("/sms/getdetail", "get sms detail"),
    ("/sms/getrestpoints", " get rest points "),
    ("/sms/getloginurl", " get rest points "),
    ("/qituibao/createorder", " create qituibao order"),
    ("/qituibao/reneworder", "renew qituibao odr"),
    ("/qituibao/upgradeorder", "upgrade qituibao odr"),
    ("/qituibao/getdetails", "get qituibao details"),
    ("/qituibao/getupgradelist", " get rest points "),
    ("/qituibao/checkkeyword", " get rest points "),
    ("/qituibao/checkdomain", " get rest points "),
    ("/soukeyi/createorder", " create soukeyi order"),
    ("/soukeyi/reneworder", "renew soukeyi order"),
    ("/soukeyi/upgradeorder", "upgrade soukeyi order"),
    ("/soukeyi/getdetails", "get soukeyi details"),
    ("/soukeyi/getupdatelist", " get soukeyi Updatelist"),
    ("/product/checkpraname", "check product name"),
    ("/product/getproductprice", "get product price"),
    ("/product/getrenewprice", "get product price"),
    ("/user/userdetail", "get user finance "),
    ("/cdn/index", "GetInfo"),
    ("/cdn/purge", "Purge"),
    ("/cdn/createcdn", "CreateCDN"),
    ("/cdn/renewcdn", "RenewCDN"),
    ("/cdn/upgradecdn", "UpgradeCDN"),
    ("/cdn/adddomain", "Adddomain"),
    ("/cdn/deldomain", "Deldomain"),
    ("/cdn/setdomainorigin", "SetDomainOrigin"),
    ("/cdn/dmelist", "Dmelist"),
    ("/cdn/getdmelog", "Adddomain"),
    // getStatFlow's body (its [结果] table included) is a copy of GetdmeLog's.
    ("/cdn/getstatflow", "Adddomain"),
    ("/ddos/productinfo", "get ddos info"),
    ("/ddos/createorder", "create ddos odr"),
    ("/ddos/orderdetails", "get ddos details"),
    ("/bcc/productinfo", "bcc info"),
    ("/bcc/createorder", "create bcc odr"),
    ("/bcc/reneworder", "renew bcc odr"),
    ("/bcc/upgradeorder", "renew bcc odr"),
    ("/bcc/orderdetails", "get bcc details"),
    ("/bcc/backups", "bcc backups"),
    ("/bcc/deletebackups", "bcc delete backups"),
    ("/bcc/restorebackups", "bcc restorebackups"),
    ("/bcc/shutdown", "bcc shutdown"),
    ("/bcc/startingup", "bcc startingup"),
    ("/bcc/restart", "bcc restart"),
    ("/bcc/mount", "bcc mount"),
    ("/bcc/uninstall", "bcc uninstall"),
    ("/bcc/rebuildsystemlist", "bcc rebuildsystemlist"),
    ("/bcc/rebuildsystem", "bcc rebuildsystem"),
    ("/bcc/modifypassword", "bcc modifypassword"),
    ("/bcc/getvncurl", "bcc getvncurl"),
    ("/ali/productinfo", "ali info"),
    ("/ali/createorder", "create ali odr"),
    ("/ali/reneworder", "renew ali odr"),
    ("/ali/orderdetails", "get ali details"),
    ("/ali/backups", "ali backups"),
    ("/ali/deletebackups", "ali delete backups"),
    ("/ali/restorebackups", "ali restorebackups"),
    ("/ali/shutdown", "ali shutdown"),
    ("/ali/startingup", "ali startingup"),
    ("/ali/restart", "ali restart"),
    ("/ali/mount", "ali mount"),
    ("/ali/uninstall", "ali uninstall"),
    ("/ali/rebuildsystemlist", "ali rebuildsystemlist"),
    ("/ali/rebuildsystem", "ali rebuildsystem"),
    ("/ali/modifypassword", "ali modifypassword"),
    ("/ali/getvncurl", "ali getvncurl"),
];

/// An action's `action` label: the document's, else its name in lower case.
fn label(a: &ActionSpec) -> String {
    match LABELS.iter().find(|(name, _)| *name == a.name()) {
        Some((_, l)) => (*l).to_string(),
        None => a.action.to_ascii_lowercase(),
    }
}

fn envelope(action: &str, result: &Result<Value, SimErr>) -> Value {
    match result {
        // ReplyDetail: `state` and `hasReply` sit beside `message`.
        Ok(Value::Object(o)) if o.contains_key("hasReply") => {
            let mut env = serde_json::Map::new();
            env.insert("action".into(), json!(action));
            env.insert("status".into(), json!("success"));
            for (k, v) in o {
                env.insert(k.clone(), v.clone());
            }
            Value::Object(env)
        }
        Ok(v) => json!({"action":action,"status":"success","message":v}),
        // Code 0: modules that answer failures with text alone (bcc, ali, cdn, ddos).
        Err(e) if e.code == 0 => json!({"action":action,"status":"failed","message":e.msg}),
        Err(e) => {
            json!({"action":action,"status":"failed","message":format!("{} {}", e.code, e.msg)})
        }
    }
}

/// Renders an envelope with the current quirk.
fn render(v: &Value, quirk: Quirk) -> String {
    let clean = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
    match quirk {
        Quirk::None => clean,
        Quirk::HtmlWrapped => format!(
            "<!DOCTYPE html>\r\n<html><head><title></title></head><body>{clean}</body></html>"
        ),
        Quirk::Jsonp => format!("jsonp1({clean});"),
        Quirk::OverEscaped => clean.replace('"', "\\\""),
        Quirk::BrokenItem => match v.get("message").and_then(Value::as_array) {
            Some(items) if items.len() >= 2 => {
                let parts: Vec<String> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let text = serde_json::to_string(item).unwrap_or_default();
                        if i == 1 {
                            // An unquoted placeholder value, as in the document's samples.
                            text.replacen('{', "{\"memo\":数据异常,", 1)
                        } else {
                            text
                        }
                    })
                    .collect();
                format!(
                    "{{\"action\":{},\"status\":{},\"message\":[{}]}}",
                    v["action"],
                    v["status"],
                    parts.join(",")
                )
            }
            _ => clean,
        },
    }
}

fn respond(text: String) -> Response {
    (
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from(text),
    )
        .into_response()
}

/// ASP.NET's answer to a page that does not exist.
fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        "<html><body>404 - File or directory not found.</body></html>",
    )
        .into_response()
}

/// The support host answers with its own codes.
fn on_support_host(action: &ActionSpec) -> bool {
    action.name().starts_with("support/")
}

fn find_action(req: &Incoming) -> Option<&'static ActionSpec> {
    let path = norm_path(req.path());
    // Several rows share a path only when their discriminator (`type#=N`) selects the
    // sub-query.
    spec()
        .implemented()
        .filter(|a| norm_path(&a.path) == path)
        .find(|a| match a.discriminator() {
            Some((field, value)) => req.raw(field) == Some(value),
            None => true,
        })
}

/// The auth chapter: IP allow-list, `otime` format and day, checksum, replay.
fn authenticate(st: &mut State, req: &Incoming) -> Result<(), SimErr> {
    if !ip_allowed(st.allowlist.as_deref(), req.client_ip()) {
        return Err(SimErr::new(
            10001,
            "您提交的IP被禁止,请到API管理处添加您的IP地址",
        ));
    }
    if req.get("username") != Some(st.username.as_str()) {
        return Err(SimErr::new(10007, "用户信息读取失败"));
    }
    let otime = req.get("otime").unwrap_or_default();
    // 17 digits (with ms) as documented, or the 14 live clients also send.
    if !(otime.len() == 14 || otime.len() == 17) || !otime.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SimErr::new(10035, "提交时间非法"));
    }
    if otime[..8] != crate::china(st.now_ms()).strftime("%Y%m%d").to_string() {
        return Err(SimErr::new(10041, "只能是当天操作时间"));
    }
    let expected = crate::checksum(&st.username, &st.api_password, otime, &st.email);
    if !req
        .get("checksum")
        .is_some_and(|c| c.eq_ignore_ascii_case(&expected))
    {
        return Err(SimErr::new(10008, "提交的验证串错误"));
    }
    if !st.first_use(otime) {
        return Err(SimErr::new(10036, "请求已经受理,请勿重复提交"));
    }
    Ok(())
}

/// Every module names the actions it serves; they are asked in this order.
const MODULES: &[Handlers<Cndns>] = &[
    dns::handler,
    domain::handler,
    transfer::handler,
    finance::handler,
    cloud::handler,
    support::handler,
    present::handler,
    marketing::handler,
    resold::handler,
    cdn::handler,
    sitestar::handler,
    promo::handler,
    products::handler,
];

/// What an implemented action without a handler answers (the routing test below makes
/// it unreachable).
fn unhandled(name: &str) -> SimErr {
    SimErr::new(10022, format!("{name} 未实现"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_wire::sim::Host;

    #[test]
    fn every_implemented_row_has_a_handler_and_no_todo_row_does() {
        assert_eq!(Host::<Cndns>::misrouted(), Vec::<&str>::new());
    }

    #[test]
    fn times_are_china_time() {
        // 2019-04-08 02:52:30 UTC is 10:52:30 in Beijing.
        assert_eq!(fmt_time(1_554_691_950_854), "2019/4/8 10:52:30");
        // An hour below ten unpadded, as the hosting samples print it: 2026-12-03
        // 16:19:09 UTC is 0:19:09 on the 4th in Beijing.
        assert_eq!(fmt_time(1_796_314_749_000), "2026/12/4 0:19:09");
        assert_eq!(fmt_date(add_years(1_554_691_950_854, 2)), "2021-04-08");
    }

    #[test]
    fn charge_refuses_without_changing_anything() {
        let mut st = State::new("u", "p", "e");
        st.deposit(0, yuan(10, 0), "t");
        let err = st.charge(1, yuan(10, 1), "x".into()).unwrap_err();
        assert_eq!(err.code, 10021);
        assert_eq!((st.balance, st.finance.len()), (yuan(10, 0), 1));
        st.charge(2, yuan(9, 99), "y".into()).unwrap();
        assert_eq!(st.balance, yuan(0, 1));
    }

    #[test]
    fn broken_item_quirk_breaks_only_the_second_item() {
        let v = json!({"action":"a","status":"success","message":[{"x":"1"},{"x":"2"},{"x":"3"}]});
        let text = render(&v, Quirk::BrokenItem);
        assert!(serde_json::from_str::<Value>(&text).is_err());
        let d = crate::decode::decode_body(&text).unwrap();
        assert_eq!(d.message, json!([{"x":"1"},{"x":"3"}]));
        assert_eq!(
            render(&json!({"message":"1"}), Quirk::BrokenItem),
            "{\"message\":\"1\"}"
        );
    }
}
