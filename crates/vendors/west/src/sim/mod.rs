//! The West.cn simulator: one account state behind every module, so money and
//! resources stay consistent (every charge is a finance record; a refused purchase
//! changes nothing).
//!
//! Routing and required-parameter checks derive from `spec()`: a request is matched by
//! (path, act) against the table, validated, then handed to its module's handler.
//! Handlers validate everything first and charge last-but-one, so an error never leaves
//! a half-made change. Responses are compact JSON in GBK with the live Content-Type.

mod dns;
mod domain;
mod finance;
mod hosting;
mod mail;
mod misc;
mod seed;
mod server;

use crate::errors::{code, ERRORS};
use crate::spec::{norm_path, spec};
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request, State as AxState};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::Router;
use idcgate_core::spec::ActionSpec;
use idcgate_core::{Money, Vendor};
use idcgate_wire::{form, Charset, Simulator};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

/// How long a token stays valid, as the live API enforces.
const TOKEN_TTL_MS: i64 = 10 * 60 * 1000;
pub(crate) const DAY_MS: i64 = 24 * 3600 * 1000;

/// A West error: `errcode` and `msg` as the live API sends them. The code is one of
/// [`crate::errors::code`], so the client classifies what the simulator answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimErr {
    pub code: &'static str,
    pub msg: String,
}

pub(crate) type R = Result<Value, SimErr>;

impl SimErr {
    /// `code` (a table code) with a message more precise than the table's.
    pub fn new(code: &'static str, msg: impl Into<String>) -> Self {
        SimErr {
            code,
            msg: msg.into(),
        }
    }
    /// `code` with the table's message.
    pub fn table(code: &'static str) -> Self {
        Self::new(code, ERRORS.entry(code).message)
    }
    /// The code as West sends it, a JSON number (the table's tests check every code is one).
    pub fn errcode(&self) -> i64 {
        number(self.code)
    }
    /// 20000: a bad or missing parameter, named as `field: reason`.
    pub fn invalid(field: &str, reason: &str) -> Self {
        Self::new(code::INVALID, format!("{field}: {reason}"))
    }
    /// 20102: an id that is not in this account.
    pub fn bad_id(field: &str) -> Self {
        Self::new(code::BAD_ID, format!("{field}: 不存在或不属于当前用户"))
    }
    /// 20113: the request is valid but the state refuses it.
    pub fn refused(field: &str, reason: &str) -> Self {
        Self::new(code::REFUSED, format!("{field}: {reason}"))
    }
    pub fn no_domain() -> Self {
        Self::table(code::NO_DOMAIN)
    }
    pub fn empty() -> Self {
        Self::table(code::NO_DATA)
    }
}

/// A table code as the number West sends.
pub(crate) fn number(code: &str) -> i64 {
    code.parse().unwrap_or_default()
}

/// One request's parameters, with the spec's defaults filled in.
pub(crate) struct Req {
    pairs: Vec<(String, String)>,
    action: &'static ActionSpec,
    pub now: i64,
}

impl Req {
    /// Checks the spec's required and typed params (20000 naming the field).
    pub fn new(
        pairs: Vec<(String, String)>,
        action: &'static ActionSpec,
        now: i64,
    ) -> Result<Self, SimErr> {
        action
            .validate(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|(field, reason)| SimErr::invalid(&field, &reason))?;
        Ok(Req { pairs, action, now })
    }
    /// The value, or the spec default; empty counts as absent.
    pub fn get(&self, k: &str) -> Option<&str> {
        form::get(&self.pairs, k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .or_else(|| self.action.param(k).and_then(|p| p.default.as_deref()))
    }
    /// The raw value including an explicit empty string (DNS lines use "" for default).
    pub fn raw(&self, k: &str) -> Option<&str> {
        form::get(&self.pairs, k)
    }
    pub fn req(&self, k: &str) -> Result<&str, SimErr> {
        self.get(k)
            .ok_or_else(|| SimErr::invalid(k, &format!("{k}必传")))
    }
    pub fn opt_int(&self, k: &str) -> Result<Option<i64>, SimErr> {
        match self.get(k) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| SimErr::invalid(k, "必须是整数")),
        }
    }
    pub fn int(&self, k: &str) -> Result<i64, SimErr> {
        self.opt_int(k)?
            .ok_or_else(|| SimErr::invalid(k, &format!("{k}必传")))
    }
    pub fn id(&self, k: &str) -> Result<u64, SimErr> {
        u64::try_from(self.int(k)?).map_err(|_| SimErr::bad_id(k))
    }
    /// `password`, refused (20000) unless West would accept it: 8-32 characters with
    /// letters and digits.
    pub fn password(&self) -> Result<String, SimErr> {
        let p = self.req("password")?;
        if !strong_password(p) {
            return Err(SimErr::invalid("password", "密码需8-32位且包含字母和数字"));
        }
        Ok(p.to_string())
    }
    /// Years/months in `1..=max`.
    pub fn period(&self, k: &str, max: i64) -> Result<i64, SimErr> {
        let n = self.opt_int(k)?.unwrap_or(1);
        if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(SimErr::invalid(k, &format!("必须在1到{max}之间")))
        }
    }
    /// `pageno` (or `page`) and `limit`, clamped to what the live API accepts.
    pub fn paging(&self) -> Result<(usize, usize), SimErr> {
        let p = match self.opt_int("pageno")? {
            Some(p) => p,
            None => self.opt_int("page")?.unwrap_or(1),
        };
        let l = self.opt_int("limit")?.unwrap_or(20);
        Ok((p.max(1) as usize, l.clamp(1, 1000) as usize))
    }
}

/// A page of `all` in the shape every West list uses.
pub(crate) fn page<T>(
    all: &[T],
    (pageno, limit): (usize, usize),
    f: impl Fn(&T) -> Value,
) -> Value {
    let total = all.len();
    let items: Vec<Value> = all
        .iter()
        .skip((pageno - 1).saturating_mul(limit))
        .take(limit)
        .map(f)
        .collect();
    json!({"pageno":pageno,"limit":limit,"total":total,"totalpages":total.div_ceil(limit),"items":items})
}

/// Money as West prints it: a string with two decimals.
pub(crate) fn m(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

pub(crate) fn dec(units: i64, cents: i64) -> Decimal {
    Decimal::new(units * 100 + cents, 2)
}

fn zoned(ms: i64) -> jiff::Zoned {
    let ts = jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
}

/// China time, as every West timestamp.
pub(crate) fn fmt_time(ms: i64) -> String {
    zoned(ms).strftime("%Y-%m-%d %H:%M:%S").to_string()
}

pub(crate) fn fmt_date(ms: i64) -> String {
    zoned(ms).strftime("%Y-%m-%d").to_string()
}

pub(crate) fn add_months(ms: i64, months: i64) -> i64 {
    zoned(ms)
        .checked_add(jiff::Span::new().months(months))
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(ms)
}

/// When a new product lapses: after the paid `months`, or after a free trial.
pub(crate) fn term_end(now: i64, months: i64, trial: bool, trial_days: i64) -> i64 {
    if trial {
        now + trial_days * DAY_MS
    } else {
        add_months(now, months)
    }
}

/// Whole months left until `expire` (at least 1), for prorated upgrades.
pub(crate) fn months_left(now: i64, expire: i64) -> i64 {
    ((expire - now).max(0) + 30 * DAY_MS - 1)
        .div_euclid(30 * DAY_MS)
        .max(1)
}

/// Whole years left until `expire` (at least 1), for prorated yearly upgrades.
pub(crate) fn years_left(now: i64, expire: i64) -> i64 {
    ((expire - now).max(0) + 365 * DAY_MS - 1)
        .div_euclid(365 * DAY_MS)
        .max(1)
}

pub(crate) fn strong_password(p: &str) -> bool {
    p.len() >= 8
        && p.len() <= 32
        && p.chars().any(|c| c.is_ascii_alphabetic())
        && p.chars().any(|c| c.is_ascii_digit())
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

#[derive(Debug, Clone)]
pub(crate) struct FinRec {
    pub id: u64,
    pub time: i64,
    pub kind: &'static str,
    pub amount: Decimal,
    pub balance: Decimal,
    pub memo: String,
    pub orderid: String,
}

/// The whole account. Every module reads and writes this one value under one lock.
pub(crate) struct State {
    pub username: String,
    pub api_password: String,
    pub clock_offset_ms: i64,
    pub whitelist: Option<Vec<IpAddr>>,
    seq: u64,
    pub balance: Decimal,
    pub finance: Vec<FinRec>,
    pub templates: BTreeMap<u64, domain::Template>,
    pub domains: BTreeMap<String, domain::Domain>,
    pub transfers: Vec<domain::Transfer>,
    pub failed: Vec<(String, i64, String)>,
    pub servers: BTreeMap<u64, server::Server>,
    pub secgroups: BTreeMap<u64, server::SecGroup>,
    pub lsws: BTreeMap<u64, server::Lsw>,
    pub hosts: BTreeMap<u64, hosting::Host>,
    pub mails: BTreeMap<u64, mail::MailDomain>,
    pub miniapps: BTreeMap<u64, misc::MiniApp>,
    pub mssqls: BTreeMap<u64, misc::Mssql>,
    pub listings: BTreeMap<String, misc::Listing>,
    pub filings: BTreeMap<u64, misc::Filing>,
}

impl State {
    fn new(username: &str, api_password: &str) -> Self {
        State {
            username: username.into(),
            api_password: api_password.into(),
            clock_offset_ms: 0,
            whitelist: None,
            seq: 1000,
            balance: Decimal::ZERO,
            finance: Vec::new(),
            templates: BTreeMap::new(),
            domains: BTreeMap::new(),
            transfers: Vec::new(),
            failed: Vec::new(),
            servers: BTreeMap::new(),
            secgroups: BTreeMap::new(),
            lsws: BTreeMap::new(),
            hosts: BTreeMap::new(),
            mails: BTreeMap::new(),
            miniapps: BTreeMap::new(),
            mssqls: BTreeMap::new(),
            listings: BTreeMap::new(),
            filings: BTreeMap::new(),
        }
    }

    pub fn now_ms(&self) -> i64 {
        crate::client::now_ms() + self.clock_offset_ms
    }

    /// One id sequence for every object: ids are unique account-wide, as West's are.
    pub fn next_id(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Takes `amount` from the balance and books it; refuses (changing nothing) when the
    /// balance is short. Call it after every other check of the handler.
    pub fn charge(&mut self, now: i64, amount: Decimal, memo: String) -> Result<String, SimErr> {
        if amount > self.balance {
            return Err(SimErr::new(
                code::BALANCE,
                format!(
                    "账户余额不足，需要{}元，可用{}元",
                    m(amount),
                    m(self.balance)
                ),
            ));
        }
        let id = self.next_id();
        let orderid = format!("W{}{id}", fmt_date(now).replace('-', ""));
        self.balance -= amount;
        self.finance.push(FinRec {
            id,
            time: now,
            kind: "消费",
            amount: -amount,
            balance: self.balance,
            memo,
            orderid: orderid.clone(),
        });
        Ok(orderid)
    }

    /// Books money in (`kind` 充值 for a top-up, 调整 for an adjustment).
    pub fn deposit(&mut self, now: i64, amount: Decimal, kind: &'static str, memo: &str) {
        let id = self.next_id();
        self.balance += amount;
        self.finance.push(FinRec {
            id,
            time: now,
            kind,
            amount,
            balance: self.balance,
            memo: memo.into(),
            orderid: format!("D{id}"),
        });
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

impl Sim {
    /// An empty account (no balance, no resources).
    pub fn new(username: &str, api_password: &str) -> Self {
        Sim {
            state: Arc::new(Mutex::new(State::new(username, api_password))),
        }
    }

    /// The sandbox account: balance, five domains with DNS records, two cloud servers,
    /// a hosting site, a mail domain, an MSSQL database, templates and auction listings.
    pub fn sandbox() -> Self {
        let sim = Sim::new(SANDBOX_USERNAME, SANDBOX_API_PASSWORD);
        seed::sandbox(&mut sim.lock());
        sim
    }

    /// Adds `domains` domains with `records_per_domain` records each and `servers`
    /// servers, cheaply (no per-item request), for benchmarks.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize, servers: usize) {
        seed::bulk(&mut self.lock(), domains, records_per_domain, servers);
    }

    /// `None` = every caller IP allowed; otherwise others get errcode 10002.
    pub fn set_ip_whitelist(&self, ips: Option<Vec<IpAddr>>) {
        self.lock().whitelist = ips;
    }

    /// Moves the simulator's clock (token expiry, expiry dates, migrations) forward.
    pub fn advance_clock(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX / 4);
        self.lock().clock_offset_ms += ms;
    }

    pub fn now_ms(&self) -> i64 {
        self.lock().now_ms()
    }

    pub fn balance(&self) -> Money {
        Money(self.lock().balance)
    }

    /// Sets the balance directly (booked as a deposit or an adjustment).
    pub fn set_balance(&self, to: Money) {
        let mut st = self.lock();
        let now = st.now_ms();
        let diff = to.0 - st.balance;
        st.deposit(now, diff, "调整", "余额调整");
    }

    /// Number of finance records (every charge and deposit).
    pub fn finance_len(&self) -> usize {
        self.lock().finance.len()
    }

    pub fn credentials(&self) -> (String, String) {
        let st = self.lock();
        (st.username.clone(), st.api_password.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        idcgate_core::lock(&self.state)
    }
}

impl Simulator for Sim {
    fn vendor(&self) -> Vendor {
        Vendor::West
    }

    fn router(&self) -> Router {
        Router::new().fallback(handle).with_state(self.clone())
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        let (u, p) = self.credentials();
        vec![("username".into(), u), ("api_password".into(), p)]
    }
}

fn respond(v: &Value) -> Response {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "{}".into());
    (
        [(CONTENT_TYPE, "application/json; Charset=gb2312")],
        Body::from(Charset::Gbk.encode(&text)),
    )
        .into_response()
}

pub(crate) fn find_action(path: &str, act: &str) -> Option<&'static ActionSpec> {
    let hit = |p: &str| {
        spec()
            .implemented()
            .find(|a| norm_path(&a.path) == p && a.action.eq_ignore_ascii_case(act))
    };
    // The doc places auction acts under "v2/domain/ or v2/auction/": serve both.
    hit(path).or_else(|| (path == "v2/domain").then(|| hit("v2/auction")).flatten())
}

async fn handle(AxState(sim): AxState<Sim>, req: Request) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 4 << 20).await.unwrap_or_default();
    // Honour a declared charset (many short GBK strings, `一为要时`, are also valid
    // UTF-8). A query string declares none of its own: a sender that declared one for its
    // body used it for the query too; without any (a GET) the value is guessed, as the
    // live server has to.
    let declared = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let mut pairs = parts
        .uri
        .query()
        .map(|q| form::decode_declared(q.as_bytes(), declared))
        .unwrap_or_default();
    pairs.extend(form::decode_declared(&body, declared));
    let path = norm_path(parts.uri.path());
    let act = form::get(&pairs, "act")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut st = sim.lock();
    let now = st.now_ms();
    let clientid = format!("{now}{:04}", st.next_id() % 10000);
    // Both APIs sit behind the one caller-IP whitelist, each answering in its own envelope.
    let allowed = ip_allowed(&st, peer);
    if path == "v2/domain/dns" || act.starts_with("dnsrec.") {
        return respond(&if allowed {
            dns::legacy(&mut st, &path, &act, pairs, now)
        } else {
            dns::legacy_env(SimErr::table(code::LEGACY_IP_DENIED), json!({}))
        });
    }
    let out = if allowed {
        serve(&mut st, &path, &act, pairs, now)
    } else {
        let ip = peer.map(|p| p.to_string()).unwrap_or_default();
        Err(SimErr::new(
            code::IP_DENIED,
            format!("IP[{ip}]不在API白名单中"),
        ))
    };
    respond(&match out {
        Ok(data) => json!({"result":200,"clientid":clientid,"data":data}),
        Err(e) => json!({"result":500,"clientid":clientid,"msg":e.msg,"errcode":e.errcode()}),
    })
}

fn ip_allowed(st: &State, peer: Option<IpAddr>) -> bool {
    match (&st.whitelist, peer) {
        (None, _) => true,
        (Some(list), Some(ip)) => list.contains(&ip),
        (Some(_), None) => false,
    }
}

fn check_token(st: &State, pairs: &[(String, String)], now: i64) -> Result<(), SimErr> {
    let user = form::get(pairs, "username").filter(|s| !s.is_empty());
    // The live API names the field `time`; the document says `timestamp`: accept both.
    let time = form::get(pairs, "time")
        .or_else(|| form::get(pairs, "timestamp"))
        .filter(|s| !s.is_empty());
    let token = form::get(pairs, "token").filter(|s| !s.is_empty());
    let (Some(user), Some(time), Some(token)) = (user, time, token) else {
        return Err(SimErr::table(code::AUTH_MISSING));
    };
    let t: i64 = time
        .parse()
        .map_err(|_| SimErr::new(code::AUTH_FAILED, "time格式错误"))?;
    if user != st.username
        || !crate::token(user, &st.api_password, time).eq_ignore_ascii_case(token)
    {
        return Err(SimErr::table(code::AUTH_FAILED));
    }
    // abs_diff: a hostile `time` (i64::MIN) must not overflow.
    if now.abs_diff(t) > TOKEN_TTL_MS.unsigned_abs() {
        return Err(SimErr::new(code::AUTH_FAILED, "token已过期"));
    }
    Ok(())
}

fn serve(st: &mut State, path: &str, act: &str, pairs: Vec<(String, String)>, now: i64) -> R {
    check_token(st, &pairs, now)?;
    let Some(action) = find_action(path, act) else {
        return Err(SimErr::invalid("act", "不支持的操作"));
    };
    let q = Req::new(pairs, action, now)?;
    let (module, name) = action.name().split_once('.').unwrap_or(("", action.name()));
    match module {
        "domain" => domain::handle(st, name, &q),
        "server" => server::handle(st, name, &q),
        "host" => hosting::handle(st, name, &q),
        "mail" => mail::handle(st, name, &q),
        "info" | "invoice" => finance::handle(st, action.name(), &q),
        _ => misc::handle(st, action.name(), &q),
    }
}

/// Every implemented action must have a handler; this is what an unrouted one answers
/// (a test calls every action, so it cannot ship silently).
pub(crate) fn unhandled(name: &str) -> SimErr {
    SimErr::new(code::INVALID, format!("act: {name} 未实现"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_report_totals_and_slice() {
        let all: Vec<u32> = (1..=7).collect();
        let v = page(&all, (3, 3), |n| json!(n));
        assert_eq!(v["total"], 7);
        assert_eq!(v["totalpages"], 3);
        assert_eq!(v["items"], json!([7]));
        assert_eq!(page(&all, (9, 3), |n| json!(n))["items"], json!([]));
    }

    #[test]
    fn times_are_china_time_and_months_round_up() {
        // 2019-04-08 02:52:30.854 UTC is 10:52:30 in Beijing.
        assert_eq!(fmt_time(1_554_691_950_854), "2019-04-08 10:52:30");
        assert_eq!(fmt_date(add_months(1_554_691_950_854, 12)), "2020-04-08");
        assert_eq!(months_left(0, 31 * DAY_MS), 2);
        assert_eq!(months_left(100, 0), 1);
    }

    #[test]
    fn charge_refuses_without_changing_anything() {
        let mut st = State::new("u", "p");
        st.deposit(0, dec(10, 0), "充值", "t");
        let err = st.charge(1, dec(10, 1), "x".into()).unwrap_err();
        assert_eq!(err.code, code::BALANCE);
        assert_eq!((st.balance, st.finance.len()), (dec(10, 0), 1));
        st.charge(2, dec(9, 99), "y".into()).unwrap();
        assert_eq!(st.balance, dec(0, 1));
        assert_eq!(st.finance[1].amount, -dec(9, 99));
    }

    #[test]
    fn passwords_and_hostnames() {
        assert!(strong_password("Abcdefg1"));
        assert!(!strong_password("abcdefgh"));
        assert!(valid_hostname("ns1.example.com."));
        assert!(!valid_hostname("-bad.example.com"));
        assert!(!valid_hostname("localhost"));
    }
}
