//! The CNDNS simulator: one account state behind every module, so money and resources
//! stay consistent (every charge is a finance record; a refused purchase changes
//! nothing).
//!
//! Routing and required-parameter checks derive from `spec()`: a request is matched by
//! its (normalised) path against the table, authenticated, validated, then handed to its
//! module's handler. Handlers check everything first and charge last, so an error never
//! leaves a half-made change. Answers are compact UTF-8 JSON served as `text/html`, as
//! ASP.NET serves them; [`Quirk`] switches on the malformations live answers show.

mod cdn;
mod cloud;
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
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State as AxState};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use idcgate_core::spec::ActionSpec;
use idcgate_core::{Money, Vendor};
use idcgate_wire::{form, Simulator};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

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

/// One request's parameters, with the spec's defaults filled in.
pub(crate) struct Req {
    pairs: Vec<(String, String)>,
    action: &'static ActionSpec,
    pub now: i64,
}

impl Req {
    /// The value, or the spec default; empty counts as absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        form::get(&self.pairs, k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or_else(|| self.action.param(k).and_then(|p| p.default.as_deref()))
    }
    pub fn or<'a>(&'a self, k: &str, default: &'a str) -> &'a str {
        self.get(k).unwrap_or(default)
    }
    /// A required value (the spec check ran already; this covers conditional ones).
    pub fn req(&self, k: &str) -> Result<&str, SimErr> {
        self.get(k)
            .ok_or_else(|| SimErr::field(10012, "参数不能为空", k))
    }
    /// Years (or another period) in `1..=max`; `code` is the endpoint's own code.
    pub fn period(&self, k: &str, max: i64, code: u32) -> Result<i64, SimErr> {
        match self.get(k).map(str::parse::<i64>) {
            None => Ok(1),
            Some(Ok(n)) if (1..=max).contains(&n) => Ok(n),
            _ => Err(SimErr::field(code, &format!("年限错误(1-{max})"), k)),
        }
    }
    pub fn domain(&self) -> Result<String, SimErr> {
        Ok(self.req("domainname")?.trim().to_ascii_lowercase())
    }
}

/// Money as CNDNS prints it: a string with two decimals.
pub(crate) fn m(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

pub(crate) fn yuan(units: i64, cents: i64) -> Decimal {
    Decimal::new(units * 100 + cents, 2)
}

/// `2014/1/15 18:21:14`, the unpadded China-time format of DomainDetail and others.
pub(crate) fn fmt_time(ms: i64) -> String {
    crate::china(ms).strftime("%Y/%-m/%-d %H:%M:%S").to_string()
}

pub(crate) fn fmt_date(ms: i64) -> String {
    crate::china(ms).strftime("%Y-%m-%d").to_string()
}

pub(crate) fn add_years(ms: i64, years: i64) -> i64 {
    add_months(ms, years * 12)
}

pub(crate) fn add_months(ms: i64, months: i64) -> i64 {
    crate::china(ms)
        .checked_add(jiff::Span::new().months(months))
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(ms)
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

pub(crate) fn valid_hostname(h: &str) -> bool {
    let h = h.trim_end_matches('.');
    h.contains('.')
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

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

/// The whole account. Every module reads and writes this one value under one lock.
pub(crate) struct State {
    pub username: String,
    pub api_password: String,
    pub email: String,
    pub allowlist: Option<Vec<IpAddr>>,
    pub quirk: Quirk,
    pub clock_offset_ms: i64,
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
            clock_offset_ms: 0,
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
        crate::now_ms() + self.clock_offset_ms
    }

    /// One id sequence for contacts and records: ids are unique account-wide.
    pub fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Takes `amount` from the balance and books it; refuses (changing nothing) when the
    /// balance is short. Call it after every other check of the handler.
    pub fn charge(&mut self, now: i64, amount: Decimal, memo: String) -> Result<(), SimErr> {
        // A negative price can only come from a pricing bug; it must never pay money in.
        if amount.is_sign_negative() {
            return Err(SimErr::new(10011, format!("金额非法({})", m(amount))));
        }
        if amount > self.balance {
            return Err(SimErr::new(
                10021,
                format!(
                    "您帐户金额不足,需要{}元,可用{}元",
                    m(amount),
                    m(self.balance)
                ),
            ));
        }
        self.balance -= amount;
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
        if q.get(voucher_key).is_some() {
            return Err(SimErr::field(10046, "代金券不存在", voucher_key));
        }
        let coupon = match q.get(coupon_key) {
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
                if t.used || q.now > t.exp || q.now < t.apply || !fits {
                    return Err(SimErr::field(10043, "当前优惠券码不能使用", coupon_key));
                }
                Some(i)
            }
        };
        let discount = coupon.map_or(Decimal::ZERO, |i| self.tickets[i].money.min(amount));
        self.charge(q.now, amount - discount, memo)?;
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
            Per::Year => years_left(q.now, exp),
            Per::Month => months_left(q.now, exp),
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

/// The simulator handle; clones share one account.
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").finish_non_exhaustive()
    }
}

pub const SANDBOX_USERNAME: &str = "idcgate-demo";
pub const SANDBOX_API_PASSWORD: &str = "Sandbox-Pass-2024";
pub const SANDBOX_EMAIL: &str = "demo@idcgate.invalid";

impl Sim {
    /// An empty account (no balance, no resources).
    pub fn new(username: &str, api_password: &str, email: &str) -> Self {
        Sim {
            state: Arc::new(Mutex::new(State::new(username, api_password, email))),
        }
    }

    /// The sandbox account: balance, contacts (one audited), five domains with DNS
    /// records (one .cn awaiting real-name documents), hosting, a database and a mail
    /// domain.
    pub fn sandbox() -> Self {
        let sim = Sim::new(SANDBOX_USERNAME, SANDBOX_API_PASSWORD, SANDBOX_EMAIL);
        seed::sandbox(&mut sim.lock());
        sim
    }

    /// Adds `domains` domains with `records_per_domain` records each, cheaply (no
    /// request per item), for benchmarks.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize) {
        seed::bulk(&mut self.lock(), domains, records_per_domain);
    }

    /// `None` = every caller IP allowed; otherwise others get 10001.
    pub fn set_ip_allowlist(&self, ips: Option<Vec<IpAddr>>) {
        self.lock().allowlist = ips;
    }

    /// Switches the malformation applied to every answer from now on.
    pub fn set_quirk(&self, quirk: Quirk) {
        self.lock().quirk = quirk;
    }

    /// Moves the simulator's clock (expiry, the same-day `otime` rule) forward.
    pub fn advance_clock(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        let mut st = self.lock();
        st.clock_offset_ms = st.clock_offset_ms.saturating_add(ms);
    }

    pub fn balance(&self) -> Money {
        Money(self.lock().balance)
    }

    /// Sets the balance directly (booked as a remittance or an adjustment).
    pub fn set_balance(&self, to: Money) {
        let mut st = self.lock();
        let now = st.now_ms();
        let diff = to.0 - st.balance;
        st.deposit(now, diff, "余额调整");
    }

    /// Finance records (every charge and deposit) whose memo mentions `needle`.
    pub fn charges_mentioning(&self, needle: &str) -> Vec<Money> {
        self.lock()
            .finance
            .iter()
            .filter(|f| f.memo.contains(needle))
            .map(|f| Money(f.amount))
            .collect()
    }

    /// `(username, api_password, email)` of the simulated account.
    pub fn credentials(&self) -> (String, String, String) {
        let st = self.lock();
        (
            st.username.clone(),
            st.api_password.clone(),
            st.email.clone(),
        )
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        idcgate_core::lock(&self.state)
    }
}

impl Simulator for Sim {
    fn vendor(&self) -> Vendor {
        Vendor::Cndns
    }

    fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        let (u, p, e) = self.credentials();
        vec![
            ("username".into(), u),
            ("api_password".into(), p),
            ("email".into(), e),
        ]
    }
}

/// The label CNDNS puts in `action` (the document's, where it gives one; it is often
/// copied from another endpoint on the live API, so nothing routes on it).
fn label(a: &ActionSpec) -> String {
    let l = match a.name() {
        "dmcheck/check" => "check domain",
        "/domains/createcontact" => "add contact",
        "/domains/modifycontact" => "modify contact",
        "/domains/deletecontact" => "delete contact",
        "/domains/contactlist" => "contact list",
        "/domains/contactinfo" => "contact info",
        "/domains/domainguohu" => "Domain guohu",
        "/domains/createdom" => "create domain",
        // Sic: the live ModifyPassword answers with the renew label.
        "/domains/domainrenew" | "/domains/modifypassword" => "domain renew",
        "/domains/dnslist" => "DNS list",
        "/domains/modifydns" => "modify dns",
        "/domains/resetdns" => "reset dns",
        "/domains/reclist" => "Rec list",
        "/domains/addrec" => "add rec",
        "/domains/modifyrec" => "modify rec",
        "/domains/deleterec" => "delete rec",
        "/domains/domaindetail" => "Domain Detail",
        "/domains/domainaudit" => "Domain Document Upload",
        "/domains/checkauditresult" => "check domain audit state",
        "/domains/domainzhuanru" => "Domain zhuanru",
        // Sic: the document's label for the transfer state.
        "/domains/domainzhuanrustate" => "Domain guohu",
        "/domains/cancelzhuanru" => "Domain cancel zhuanru",
        "/domains/updateauthcode" => "Domain zhuanru again",
        "/user/userdetail" => "get user finance ",
        "/product/getproductprice" | "/product/getrenewprice" => "get product price",
        "/product/checkpraname" => "check product name",
        "/cdn/index" => "GetInfo",
        "/cdn/purge" => "Purge",
        "support/api/question" => "ask question",
        "support/api/reply" => "reply it",
        // Sic: the document's ReplyDetail label.
        "support/api/replydetail" => "evalute services",
        _ => return a.action.to_ascii_lowercase(),
    };
    l.to_string()
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

fn find_action(path: &str, pairs: &[(String, String)]) -> Option<&'static ActionSpec> {
    let mut hits = spec()
        .implemented()
        .filter(|a| norm_path(&a.path) == path)
        .peekable();
    let first = hits.next()?;
    // Several rows share a path only when their discriminator (`type#=N`) selects the
    // sub-query.
    std::iter::once(first)
        .chain(hits)
        .find(|a| match a.discriminator() {
            Some((field, value)) => form::get(pairs, field) == Some(value),
            None => true,
        })
}

async fn handle(AxState(sim): AxState<Sim>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 8 << 20).await.unwrap_or_default();
    let mut pairs = parts
        .uri
        .query()
        .map(|q| form::decode(q.as_bytes()))
        .unwrap_or_default();
    pairs.extend(form::decode(&body));
    let path = norm_path(parts.uri.path());
    let Some(action) = find_action(&path, &pairs) else {
        // ASP.NET's answer to a page that does not exist.
        return (
            StatusCode::NOT_FOUND,
            "<html><body>404 - File or directory not found.</body></html>",
        )
            .into_response();
    };
    let mut st = sim.lock();
    let now = st.now_ms();
    let mut result = serve(&mut st, action, pairs, now, peer);
    if action.name().starts_with("support/") {
        if let Err(e) = &mut result {
            e.code = support::auth_code(e.code);
        }
    }
    let quirk = st.quirk;
    drop(st);
    respond(render(&envelope(&label(action), &result), quirk))
}

fn ip_allowed(st: &State, peer: Option<IpAddr>) -> bool {
    match (&st.allowlist, peer) {
        (None, _) => true,
        (Some(list), Some(ip)) => list.contains(&ip),
        (Some(_), None) => false,
    }
}

/// The auth chapter: IP allow-list, `otime` format and day, checksum, replay.
fn authenticate(
    st: &mut State,
    pairs: &[(String, String)],
    now: i64,
    peer: Option<IpAddr>,
) -> Result<(), SimErr> {
    if !ip_allowed(st, peer) {
        return Err(SimErr::new(
            10001,
            "您提交的IP被禁止,请到API管理处添加您的IP地址",
        ));
    }
    let get = |k: &str| form::get(pairs, k).map(str::trim).filter(|s| !s.is_empty());
    let Some(user) = get("username") else {
        return Err(SimErr::new(10007, "用户信息读取失败"));
    };
    if user != st.username {
        return Err(SimErr::new(10007, "用户信息读取失败"));
    }
    let otime = get("otime").unwrap_or_default();
    // 17 digits (with ms) as documented, or the 14 live clients also send.
    if !(otime.len() == 14 || otime.len() == 17) || !otime.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SimErr::new(10035, "提交时间非法"));
    }
    if otime[..8] != crate::china(now).strftime("%Y%m%d").to_string() {
        return Err(SimErr::new(10041, "只能是当天操作时间"));
    }
    let expected = crate::checksum(&st.username, &st.api_password, otime, &st.email);
    if !get("checksum").is_some_and(|c| c.eq_ignore_ascii_case(&expected)) {
        return Err(SimErr::new(10008, "提交的验证串错误"));
    }
    if !st.first_use(otime) {
        return Err(SimErr::new(10036, "请求已经受理,请勿重复提交"));
    }
    Ok(())
}

fn serve(
    st: &mut State,
    action: &'static ActionSpec,
    pairs: Vec<(String, String)>,
    now: i64,
    peer: Option<IpAddr>,
) -> R {
    authenticate(st, &pairs, now, peer)?;
    let supplied: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Err((field, _)) = action.validate(supplied.iter().copied()) {
        let code = if action.name().starts_with("support/") {
            support::param_code(&field)
        } else if action.param(&field).is_some_and(|p| p.required) {
            10012
        } else {
            10011
        };
        return Err(SimErr::field(code, "参数为空或格式错误", &field));
    }
    let q = Req { pairs, action, now };
    let name = action.name();
    let module = name
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match module {
        "dmcheck" | "domains" if dns::owns(name) => dns::handle(st, name, &q),
        "domains" if name.contains("zhuanru") || name.ends_with("updateauthcode") => {
            transfer::handle(st, name, &q)
        }
        "dmcheck" | "domains" => domain::handle(st, name, &q),
        "user" | "product" => finance::handle(st, name, &q),
        "cloud" => cloud::handle(st, name, &q),
        "support" => support::handle(st, name, &q),
        "present" => present::handle(st, name, &q),
        "edm" | "sms" => marketing::handle(st, name, &q),
        "bcc" | "ali" => resold::handle(st, name, &q),
        "cdn" | "ddos" => cdn::handle(st, name, &q),
        // `sitetarpro` (sic) is how the document spells two of its addresses.
        "sitestarpro" | "sitetarpro" => sitestar::handle(st, name, &q),
        "qituibao" | "soukeyi" => promo::handle(st, name, &q),
        _ => products::handle(st, name, &q),
    }
}

/// Every implemented action must have a handler; this is what an unrouted one answers
/// (a test calls every action, so it cannot ship silently).
pub(crate) fn unhandled(name: &str) -> SimErr {
    SimErr::new(10022, format!("{name} 未实现"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_china_time() {
        // 2019-04-08 02:52:30 UTC is 10:52:30 in Beijing.
        assert_eq!(fmt_time(1_554_691_950_854), "2019/4/8 10:52:30");
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
