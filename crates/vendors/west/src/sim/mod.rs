//! The West.cn simulator: one account state behind every module, so money and
//! resources stay consistent (every charge is a finance record; a refused purchase
//! changes nothing — the simulator host restores the state of any write that fails).
//!
//! It sits on [`idcgate_wire::sim::Host`]: `resolve` checks the caller-IP whitelist and
//! authenticates (the token of the main API, or the older record API's keys), then finds
//! the spec row by (path, act); the host validates the parameters against the spec and
//! calls the action's handler, one function per action. Both APIs answer in their own
//! envelope — `result/clientid/data` or `code/msg/body` — as compact JSON in GBK with the
//! live Content-Type.

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
use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::{Money, Vendor};
use idcgate_wire::sim::money::debit;
use idcgate_wire::sim::{
    ip_allowed, parsed, Call, Clock, Handlers, Incoming, Mount, Outcome, Refusal, Route, SimState,
    SimVendor,
};
use idcgate_wire::Charset;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::IpAddr;

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

/// One resolved request: query string first, then the body, as West's ASP reads them.
pub(crate) type Req<'a> = Call<'a, West>;
pub(crate) type Handler = idcgate_wire::sim::Handler<West>;

/// West's readings of a field, with its own error texts. `arg` (a trimmed, non-empty
/// value or the spec's default) and `raw` (as sent, `""` included) come from the host;
/// the spec has already checked required fields and integer types.
pub(crate) trait Args {
    fn need(&self, k: &str) -> Result<&str, SimErr>;
    fn opt_int(&self, k: &str) -> Result<Option<i64>, SimErr>;
    fn int(&self, k: &str) -> Result<i64, SimErr>;
    fn id(&self, k: &str) -> Result<u64, SimErr>;
    /// `password`, refused (20000) unless West would accept it: 8-32 characters with
    /// letters and digits.
    fn password(&self) -> Result<String, SimErr>;
    /// Years/months in `1..=max`.
    fn period(&self, k: &str, max: i64) -> Result<i64, SimErr>;
    /// `pageno` (or `page`) and `limit`, clamped to what the live API accepts.
    fn paging(&self) -> Result<(usize, usize), SimErr>;
}

impl Args for Req<'_> {
    fn need(&self, k: &str) -> Result<&str, SimErr> {
        self.arg(k)
            .ok_or_else(|| SimErr::invalid(k, &format!("{k}必传")))
    }
    fn opt_int(&self, k: &str) -> Result<Option<i64>, SimErr> {
        parsed(self.arg(k), || SimErr::invalid(k, "必须是整数"))
    }
    fn int(&self, k: &str) -> Result<i64, SimErr> {
        self.opt_int(k)?
            .ok_or_else(|| SimErr::invalid(k, &format!("{k}必传")))
    }
    fn id(&self, k: &str) -> Result<u64, SimErr> {
        u64::try_from(self.int(k)?).map_err(|_| SimErr::bad_id(k))
    }
    fn password(&self) -> Result<String, SimErr> {
        let p = self.need("password")?;
        if !strong_password(p) {
            return Err(SimErr::invalid("password", "密码需8-32位且包含字母和数字"));
        }
        Ok(p.to_string())
    }
    fn period(&self, k: &str, max: i64) -> Result<i64, SimErr> {
        let n = self.int(k)?;
        if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(SimErr::invalid(k, &format!("必须在1到{max}之间")))
        }
    }
    fn paging(&self) -> Result<(usize, usize), SimErr> {
        // Every paged row declares `pageno` or `page` and `limit` with defaults.
        let p = match self.opt_int("pageno")? {
            Some(p) => p,
            None => self.int("page")?,
        };
        let l = self.int("limit")?;
        Ok((p.max(1) as usize, l.clamp(1, 1000) as usize))
    }
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

/// A registration the registry refused: (domain, time, reason).
pub(crate) type Failure = (String, i64, String);

/// What a refused write keeps ([`West::keep_refused`]). The id sequence, like a database
/// sequence, never hands an id out twice (a refused call still drew its ids, so later ids
/// are West's); a registration the registry refused is listed by getfaileddomains
/// although the call failed.
#[derive(Debug, Clone, Default)]
struct Kept {
    seq: u64,
    failed: Vec<Failure>,
}

/// The whole account. Every module reads and writes this one value under the host's lock.
#[derive(Clone)]
pub(crate) struct State {
    pub clock: Clock,
    pub username: String,
    pub api_password: String,
    pub whitelist: Option<Vec<IpAddr>>,
    kept: Kept,
    pub balance: Decimal,
    pub finance: Vec<FinRec>,
    pub templates: BTreeMap<u64, domain::Template>,
    pub domains: BTreeMap<String, domain::Domain>,
    pub transfers: Vec<domain::Transfer>,
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

impl SimState for State {
    fn clock(&mut self) -> &mut Clock {
        &mut self.clock
    }
}

impl State {
    fn new(username: &str, api_password: &str) -> Self {
        State {
            clock: Clock::default(),
            username: username.into(),
            api_password: api_password.into(),
            whitelist: None,
            kept: Kept {
                seq: 1000,
                failed: Vec::new(),
            },
            balance: Decimal::ZERO,
            finance: Vec::new(),
            templates: BTreeMap::new(),
            domains: BTreeMap::new(),
            transfers: Vec::new(),
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
        self.clock.now_ms()
    }

    /// One id sequence for every object: ids are unique account-wide, as West's are.
    pub fn next_id(&mut self) -> u64 {
        self.kept.seq += 1;
        self.kept.seq
    }

    /// Every answer of the main API carries one: the time and a drawn id.
    fn clientid(&mut self, now: i64) -> String {
        format!("{now}{:04}", self.next_id() % 10000)
    }

    /// Books a registration the registry refused (kept although the call fails).
    pub fn record_failure(&mut self, domain: &str, now: i64, reason: &str) {
        self.kept.failed.push((domain.into(), now, reason.into()));
    }

    pub fn failures(&self) -> &[Failure] {
        &self.kept.failed
    }

    /// Takes `amount` from the balance and books it; refuses when the balance is short.
    pub fn charge(&mut self, now: i64, amount: Decimal, memo: String) -> Result<String, SimErr> {
        debit(&mut self.balance, amount).map_err(|s| {
            SimErr::new(
                code::BALANCE,
                format!(
                    "账户余额不足，需要{}元，可用{}元",
                    m(s.needed),
                    m(s.available)
                ),
            )
        })?;
        let id = self.next_id();
        let orderid = format!("W{}{id}", fmt_date(now).replace('-', ""));
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

/// What `resolve` learnt: the answer's clientid (drawn before the handler runs, as the
/// live server numbers the request first) and which API, so which envelope, it is.
pub(crate) struct Ctx {
    clientid: String,
    legacy: bool,
}

/// West.cn as the simulator host drives it.
pub(crate) struct West;

impl SimVendor for West {
    type State = State;
    type Ctx = Ctx;
    type Ok = Value;
    type Fail = SimErr;

    const VENDOR: Vendor = Vendor::West;
    /// Every path: the live server reads the API path out of any prefix (`/api/v2/...`).
    const MOUNTS: &'static [Mount] = &[Mount::Fallback];
    const MAX_BODY: usize = 4 << 20;
    /// Values are checked as sent, as West's own validation sees them.
    const CHECK_TRIMMED: bool = false;

    const HANDLERS: &'static [Handlers<Self>] = MODULES;

    fn spec() -> &'static VendorSpec {
        spec()
    }

    /// Both APIs sit behind the one caller-IP whitelist; then the main API checks the
    /// token before looking at `act`, the older one finds its act and checks its keys.
    fn resolve(st: &mut State, req: &Incoming) -> Result<Route<Self>, Refusal<SimErr>> {
        let now = st.now_ms();
        let path = norm_path(req.path());
        let act = act_of(req);
        let legacy = is_legacy(&path, &act);
        if !ip_allowed(st.whitelist.as_deref(), req.client_ip()) {
            return Err(Refusal::Fail(if legacy {
                SimErr::table(code::LEGACY_IP_DENIED)
            } else {
                let ip = req.client_ip().map(|p| p.to_string()).unwrap_or_default();
                SimErr::new(code::IP_DENIED, format!("IP[{ip}]不在API白名单中"))
            }));
        }
        let action = if legacy {
            dns::legacy_route(st, req, &path, &act)
        } else {
            check_token(st, req, now).and_then(|()| {
                find_action(&path, &act).ok_or_else(|| SimErr::invalid("act", "不支持的操作"))
            })
        }
        .map_err(Refusal::Fail)?;
        // Migrations finish on the clock, not on a request: complete the due ones before
        // anything reads (or refuses to change) a server.
        server::finish_migrations(st, now);
        let clientid = st.clientid(now);
        Ok(Route {
            action,
            ctx: Ctx { clientid, legacy },
        })
    }

    fn invalid(_: &Incoming, _: &ActionSpec, field: &str, reason: &str) -> SimErr {
        SimErr::invalid(field, reason)
    }

    /// A test proves every implemented row has a handler, so this is never answered.
    fn unrouted(action: &ActionSpec) -> SimErr {
        SimErr::new(code::INVALID, format!("act: {} 未实现", action.name()))
    }

    fn oversize(_: &Incoming) -> Refusal<SimErr> {
        Refusal::Fail(SimErr::invalid("body", "请求内容超过4MB"))
    }

    fn keep_refused(_: &SimErr, restored: &mut State, refused: State) {
        restored.kept = refused.kept;
    }

    fn render(st: &mut State, req: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        let (clientid, legacy) = match outcome.route {
            Some(r) => (r.ctx.clientid.clone(), r.ctx.legacy),
            None => {
                let now = st.now_ms();
                (
                    st.clientid(now),
                    is_legacy(&norm_path(req.path()), &act_of(req)),
                )
            }
        };
        respond(&match (legacy, outcome.result) {
            (true, Ok(body)) => json!({"code":200,"msg":"success","body":body}),
            (true, Err(e)) => dns::legacy_err(e),
            (false, Ok(data)) => json!({"result":200,"clientid":clientid,"data":data}),
            (false, Err(e)) => {
                json!({"result":500,"clientid":clientid,"msg":e.msg,"errcode":e.errcode()})
            }
        })
    }

    fn sandbox_credentials(st: &State) -> Vec<(String, String)> {
        vec![
            ("username".into(), st.username.clone()),
            ("api_password".into(), st.api_password.clone()),
        ]
    }
}

idcgate_wire::sim_handle! {
    /// The simulator handle; clones share one account.
    pub struct Sim(Host<West>);
}

pub const SANDBOX_USERNAME: &str = "idcgate-demo";
pub const SANDBOX_API_PASSWORD: &str = "Sandbox-Pass-2024";

impl Sim {
    /// An empty account (no balance, no resources).
    pub fn new(username: &str, api_password: &str) -> Self {
        Sim::from_state(State::new(username, api_password))
    }

    /// The sandbox account: balance, five domains with DNS records, two cloud servers,
    /// a hosting site, a mail domain, an MSSQL database, templates and auction listings.
    pub fn sandbox() -> Self {
        let sim = Sim::new(SANDBOX_USERNAME, SANDBOX_API_PASSWORD);
        sim.host.with_state(seed::sandbox);
        sim
    }

    /// Adds `domains` domains with `records_per_domain` records each and `servers`
    /// servers, cheaply (no per-item request), for benchmarks.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize, servers: usize) {
        self.host
            .with_state(|st| seed::bulk(st, domains, records_per_domain, servers));
    }

    /// Test helper: an empty zone `name` on West's DNS (a domain of this account with no
    /// records); false if the account holds it already.
    pub fn add_zone(&self, name: &str) -> bool {
        self.host.with_state(|st| {
            let name = name.to_lowercase();
            if st.domains.contains_key(&name) {
                return false;
            }
            let now = st.now_ms();
            let d = domain::Domain::new(&name, 1, now, 1, "ZonePass123".into());
            st.domains.insert(name, d);
            true
        })
    }

    /// `None` = every caller IP allowed; otherwise others get errcode 10002.
    pub fn set_ip_allowlist(&self, ips: Option<Vec<IpAddr>>) {
        self.host.with_state(|st| st.whitelist = ips);
    }

    pub fn balance(&self) -> Money {
        Money(self.host.with_state(|st| st.balance))
    }

    /// Sets the balance directly (booked as a deposit or an adjustment).
    pub fn set_balance(&self, to: Money) {
        self.host.with_state(|st| {
            let now = st.now_ms();
            let diff = to.0 - st.balance;
            st.deposit(now, diff, "调整", "余额调整");
        });
    }

    /// Number of finance records (every charge and deposit).
    pub fn finance_len(&self) -> usize {
        self.host.with_state(|st| st.finance.len())
    }

    pub fn credentials(&self) -> (String, String) {
        self.host
            .with_state(|st| (st.username.clone(), st.api_password.clone()))
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

fn act_of(req: &Incoming) -> String {
    req.raw("act").unwrap_or_default().to_ascii_lowercase()
}

/// The older record API: its path, or one of its acts sent to any path.
fn is_legacy(path: &str, act: &str) -> bool {
    path == "v2/domain/dns" || act.starts_with("dnsrec.")
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

fn check_token<'a>(st: &State, req: &'a Incoming, now: i64) -> Result<(), SimErr> {
    let given = |v: Option<&'a str>| v.filter(|s| !s.is_empty());
    // The live API names the field `time`; the document says `timestamp`: accept both.
    let (Some(user), Some(time), Some(token)) = (
        given(req.raw("username")),
        given(req.raw("time").or_else(|| req.raw("timestamp"))),
        given(req.raw("token")),
    ) else {
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

/// The modules serving the actions, by spec name (`module.act`), asked in this order.
const MODULES: &[Handlers<West>] = &[
    domain::handler,
    dns::handler,
    server::handler,
    hosting::handler,
    mail::handler,
    finance::handler,
    misc::handler,
];

/// The object `field` names in `map`: 20102 when this account has no such id.
pub(crate) fn by_id<'a, T>(
    map: &'a mut BTreeMap<u64, T>,
    q: &Req,
    field: &str,
) -> Result<&'a mut T, SimErr> {
    map.get_mut(&q.id(field)?)
        .ok_or_else(|| SimErr::bad_id(field))
}

/// `detail` of a product the document gives no list action: the one `id` names, or
/// without it every one, paged.
pub(crate) fn one_or_page<T>(map: &mut BTreeMap<u64, T>, q: &Req, json: impl Fn(&T) -> Value) -> R {
    if q.arg("id").is_some() {
        return Ok(json(by_id(map, q, "id")?));
    }
    let all: Vec<&T> = map.values().collect();
    if all.is_empty() {
        return Err(SimErr::empty());
    }
    Ok(page(&all, q.paging()?, |x| json(x)))
}

/// A price quote as every `get…price` answers it: the product, one detail, the price.
pub(crate) fn quote(id: u64, (what, value): (&str, Value), price: Decimal) -> Value {
    let mut v = json!({ "id": id });
    v[what] = value;
    v["price"] = json!(m(price));
    v
}

/// A management page's address for product `id`, signed with the time it was asked
/// for and good for `minutes`: the answer of getconsole and miniapp.getmanageurl.
pub(crate) fn signed_url(page: &str, id: u64, now: i64, minutes: i64) -> Value {
    let key = crate::md5_hex(&format!("{id}{now}"));
    json!({"id":id,"url":format!("{page}/{id}?key={}", &key[..16]),"expire":fmt_time(now + minutes * 60 * 1000)})
}

/// The row of a price list whose name (`key`) is `name`; 20000 naming `field` else.
pub(crate) fn row<T: Copy>(
    rows: &[T],
    key: fn(&T) -> &str,
    name: &str,
    (field, missing): (&str, &str),
) -> Result<T, SimErr> {
    rows.iter()
        .copied()
        .find(|r| key(r) == name)
        .ok_or_else(|| SimErr::invalid(field, missing))
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

/// Money as West prints it (two decimals), and an amount in yuan and fen.
pub(crate) use idcgate_wire::sim::money::{two_dp as m, yuan as dec};

/// China time, as every West timestamp (stored as Unix milliseconds).
pub(crate) use idcgate_wire::sim::china::{
    add_months_ms as add_months, date_ms as fmt_date, datetime_ms as fmt_time,
};

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

pub(crate) use idcgate_wire::sim::remove_where;
pub(crate) use idcgate_wire::sim::valid_hostname;

#[cfg(test)]
mod tests {
    use super::*;
    use idcgate_wire::sim::Host;

    #[test]
    fn every_implemented_row_has_a_handler_and_no_todo_row_does() {
        assert_eq!(Host::<West>::misrouted(), Vec::<&str>::new());
    }

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
    fn a_rollback_keeps_drawn_ids_and_refused_registrations() {
        let mut st = State::new("u", "p");
        let before = st.clone();
        let id = st.next_id();
        st.record_failure("baidu.com", 0, "taken");
        let refused = std::mem::replace(&mut st, before);
        West::keep_refused(&SimErr::empty(), &mut st, refused);
        assert_eq!(st.next_id(), id + 1);
        assert_eq!(st.failures().len(), 1);
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
