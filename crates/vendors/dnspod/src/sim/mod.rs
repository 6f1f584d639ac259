//! The DNSPod simulator: a stateful axum router answering `POST /<Method>` exactly as
//! dnsapi.cn does (envelope, typing, key order, codes, texts, XML default, abuse rules).
//!
//! Request pipeline (one place, before any handler): POST only (else code 2), a
//! non-browser User-Agent, action lookup in `spec()`, login (token or email/password,
//! D令牌, failed-login ban), the agent's `user_id` act-as, required params from the spec,
//! then the handler, then one renderer for JSON or XML.

mod handlers;
mod monitor;
pub mod render;
pub mod state;

use crate::errors::{text, Text};
use crate::spec::{spec, AGENT_ACTIONS};
use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Path, Request, State as AxState};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use idcgate_core::Vendor;
use jiff::{SignedDuration, Timestamp};
use render::{obj, V};
use state::{Account, Agent, State};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

pub use state::GRADES;

/// Source of "now" for every time-based rule, injectable so tests can jump an hour.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: std::time::Duration) {
        let mut t = idcgate_core::lock(&self.0);
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        *t = t.checked_add(by).unwrap_or(*t);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *idcgate_core::lock(&self.0)
    }
}

/// The simulator. Cloning shares the same world.
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<State>>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").finish_non_exhaustive()
    }
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

/// (name, owner, grade, records as (host, type, line, value)).
type SeedDomain<'a> = (
    &'a str,
    u64,
    &'static str,
    &'a [(&'a str, &'a str, &'a str, &'a str)],
);

/// Sandbox agent account (see [`Sim::sandbox`]).
pub const SANDBOX_EMAIL: &str = "agent@sandbox.idcgate.test";
const SANDBOX_PASSWORD: &str = "Sandbox-Agent-2026";
const SANDBOX_TOKEN_ID: u64 = 10_001;
const SANDBOX_TOKEN: &str = "5f1d0c2a9be34e7f8a6b2c4d6e8f0a1b";

/// The sandbox agent's login and agent terms (80% discount, 5000 yuan).
fn sandbox_agent() -> Account {
    let mut a = Account::new(0, SANDBOX_EMAIL, SANDBOX_PASSWORD, "enterprise");
    a.tokens.push((SANDBOX_TOKEN_ID, SANDBOX_TOKEN.into()));
    a.agent = Some(Agent {
        discount: 80,
        balance_fen: 500_000,
        points: 0,
    });
    a
}

impl Sim {
    /// An empty world on the system clock.
    pub fn new() -> Self {
        Sim::with_clock(Arc::new(SystemClock))
    }

    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Sim {
            state: Arc::new(Mutex::new(State::new())),
            clock,
        }
    }

    /// A believable agent account: balance, three users, four domains with records.
    pub fn sandbox() -> Self {
        Sim::sandbox_with_clock(Arc::new(SystemClock))
    }

    pub fn sandbox_with_clock(clock: Arc<dyn Clock>) -> Self {
        let sim = Sim::with_clock(clock);
        sim.seed_sandbox();
        sim
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        idcgate_core::lock(&self.state)
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Requests that reached the router (for tests asserting "no network call").
    pub fn request_count(&self) -> u64 {
        self.lock().requests
    }

    fn seed_sandbox(&self) {
        let now = self.now();
        let mut st = self.lock();
        let mut agent = sandbox_agent();
        agent.real_name = "沙箱网络科技有限公司".into();
        agent.nick = "Sandbox Agent".into();
        agent.telephone = "13800138000".into();
        agent.email_verified = true;
        agent.telephone_verified = true;
        let agent_id = st.add_account(agent);
        let users = [
            ("zhang.wei@example.cn", "personal", "张伟", "13912345678"),
            ("li.na@example.cn", "personal", "李娜", "13687654321"),
            (
                "ops@shop-example.cn",
                "enterprise",
                "示例商城有限公司",
                "13500001111",
            ),
        ];
        let mut user_ids = Vec::new();
        for (email, ty, name, tel) in users {
            let mut u = Account::new(0, email, "User-Pass-2026", ty);
            u.real_name = name.into();
            u.telephone = tel.into();
            u.under_agent = Some(agent_id);
            u.email_verified = true;
            user_ids.push(st.add_account(u));
        }
        let seeds: [SeedDomain; 4] = [
            (
                "sandbox-agent.cn",
                agent_id,
                "DP_Free",
                &[
                    ("@", "A", "默认", "203.0.113.10"),
                    ("www", "CNAME", "默认", "sandbox-agent.cn."),
                    ("@", "MX", "默认", "mx.sandbox-agent.cn."),
                ],
            ),
            (
                "agent-status.com",
                agent_id,
                "DP_Free",
                &[
                    ("@", "A", "电信", "203.0.113.20"),
                    ("@", "A", "联通", "198.51.100.20"),
                    ("@", "TXT", "默认", "v=spf1 -all"),
                ],
            ),
            (
                "zhangwei.net",
                user_ids[0],
                "DP_Free",
                &[
                    ("@", "A", "默认", "198.51.100.7"),
                    ("blog", "A", "默认", "198.51.100.8"),
                ],
            ),
            (
                "shop-example.cn",
                user_ids[2],
                "DP_Extra",
                &[
                    ("@", "A", "默认", "203.0.113.80"),
                    ("www", "A", "默认", "203.0.113.80"),
                    ("api", "AAAA", "默认", "2001:db8::80"),
                ],
            ),
        ];
        for (name, owner, grade, recs) in seeds {
            let did = st.add_domain(name, owner, grade, now);
            for (host, ty, line, value) in recs {
                let line_id = state::BASE_LINES
                    .iter()
                    .find(|(n, _)| n == line)
                    .map_or("0", |(_, id)| id);
                let mx = if *ty == "MX" { 10 } else { 0 };
                let rec = state::new_record(0, host, ty, value, line, line_id, 600, mx, now, false);
                st.add_record(did, rec);
            }
        }
    }

    /// Adds `domains` domains with `records_per_domain` A records each to the sandbox
    /// agent (or to a fresh bulk account). Direct inserts, no logs: 10k/100k is cheap.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize) {
        let now = self.now();
        let mut st = self.lock();
        let owner = match st.by_email.get(SANDBOX_EMAIL) {
            Some(id) => *id,
            None => st.add_account(sandbox_agent()),
        };
        let base = st.next_domain;
        for i in 0..domains {
            let name = format!("bulk{}-{i}.com", base);
            let did = st.add_domain(&name, owner, "DP_Ultra", now);
            for r in 0..records_per_domain {
                let value = format!("10.{}.{}.{}", (r >> 16) & 255, (r >> 8) & 255, r & 255);
                let host = format!("h{r}");
                let rec = state::new_record(0, &host, "A", &value, "默认", "0", 600, 0, now, false);
                st.add_record(did, rec);
            }
        }
    }

    /// Test helper: adds an account and an API token; returns (account id, `login_token`).
    pub fn add_user(&self, email: &str, password: &str, agent: bool) -> (u64, String) {
        let mut st = self.lock();
        let mut a = Account::new(0, email, password, "personal");
        if agent {
            a.agent = Some(Agent {
                discount: 90,
                balance_fen: 100_000,
                points: 0,
            });
        }
        let id = st.add_account(a);
        let tid = st.misc_id();
        let token = format!(
            "{:032x}",
            u128::from(tid) * 0x9e37_79b9_7f4a_7c15 + u128::from(id)
        );
        if let Some(acc) = st.accounts.get_mut(&id) {
            acc.tokens.push((tid, token.clone()));
        }
        st.by_token.insert(tid, id);
        (id, format!("{tid},{token}"))
    }

    /// Test helper: switches the D令牌 on for an account.
    pub fn enable_dtoken(&self, account_id: u64, secret: &str) {
        if let Some(a) = self.lock().accounts.get_mut(&account_id) {
            a.dtoken = Some(secret.to_string());
        }
    }

    /// The D令牌 code an account's device shows now (the sim's stand-in for TOTP).
    pub fn dtoken_code(&self, account_id: u64) -> Option<String> {
        let now = self.now();
        let st = self.lock();
        let secret = st.accounts.get(&account_id)?.dtoken.clone()?;
        Some(handlers::dtoken_code(&secret, now))
    }

    /// Test helper: the code mailed by `Domain.Acquiresend`.
    pub fn acquire_code(&self, domain: &str) -> Option<String> {
        self.lock()
            .acquires
            .get(domain)
            .map(|(_, _, code)| code.clone())
    }

    /// Test helper: the WHOIS contact clicks the link sent by `Domain.Acquiresend.New`.
    pub fn click_acquire_link(&self, domain: &str) -> bool {
        let now = self.now();
        let mut st = self.lock();
        handlers::complete_acquire(&mut st, domain, now)
    }

    /// Test hook: a D监控 monitor sees its target go down (`reason` as `short|long`).
    pub fn monitor_outage(&self, monitor_id: &str, reason: &str) -> bool {
        let now = self.now();
        let mut st = self.lock();
        monitor::outage(&mut st, monitor_id, reason, now)
    }

    /// Agent balance in fen (for tests of `Domain.Upgrade`).
    pub fn agent_balance_fen(&self, email: &str) -> Option<i64> {
        let st = self.lock();
        let id = st.by_email.get(email)?;
        st.accounts.get(id)?.agent.as_ref().map(|a| a.balance_fen)
    }

    pub fn domain_count(&self) -> usize {
        self.lock().domains.len()
    }

    pub fn record_count(&self) -> usize {
        self.lock().record_domain.len()
    }

    fn app(&self) -> Router {
        Router::new()
            .route("/{method}", any(entry))
            .with_state(self.clone())
    }
}

impl idcgate_wire::Simulator for Sim {
    fn vendor(&self) -> Vendor {
        Vendor::Dnspod
    }

    fn router(&self) -> Router {
        self.app()
    }

    /// `login_token` = `ID,Token` of the sandbox agent. `login_email`/`login_password`
    /// also work but are not returned: token auth is what the doc recommends.
    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        vec![(
            "login_token".to_string(),
            format!("{SANDBOX_TOKEN_ID},{SANDBOX_TOKEN}"),
        )]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fmt {
    Json,
    Xml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Cn,
}

/// A refusal in the vendor's own terms: code and both language texts.
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub code: String,
    pub en: String,
    pub cn: String,
    /// Payload still shown next to the error status (e.g. `Record.List` code 10).
    pub payload: Vec<(String, V)>,
}

/// A refusal with DNSPod's code and texts, from the crate's error table.
pub(crate) fn fail(t: Text) -> Fail {
    Fail {
        code: t.code.to_string(),
        en: t.en.to_string(),
        cn: t.cn.to_string(),
        payload: Vec::new(),
    }
}

/// A refusal whose code the method chooses (DNSPod numbers some refusals per method:
/// "not the owner" is 7, 8 or 9, paging codes follow the listing's own numbering).
pub(crate) fn fail_as(code: &str, t: Text) -> Fail {
    Fail {
        code: code.to_string(),
        ..fail(t)
    }
}

/// What a handler returns on success.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub payload: Vec<(String, V)>,
    /// Replaces the success text (Info.Version puts the version there).
    pub message: Option<String>,
}

/// One request as handlers see it.
pub(crate) struct Rq {
    pub action: &'static str,
    pub params: Vec<(String, String)>,
    pub ip: IpAddr,
    pub now: Timestamp,
    pub error_on_empty: bool,
    /// The logged-in account.
    pub auth: u64,
    /// The account acted upon (`user_id` of an agent's user, else `auth`).
    pub actor: u64,
}

impl Rq {
    pub fn get(&self, key: &str) -> Option<&str> {
        idcgate_wire::form::get(&self.params, key).map(str::trim)
    }

    /// Present and non-empty.
    pub fn opt(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    pub fn str(&self, key: &str) -> &str {
        self.get(key).unwrap_or("")
    }
}

async fn entry(AxState(sim): AxState<Sim>, Path(method): Path<String>, req: Request) -> Response {
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let http_method = req.method().clone();
    let ua = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let cookies = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let body = to_bytes(req.into_body(), 4 << 20).await.unwrap_or_default();
    let mut params = idcgate_wire::form::decode(&body);
    if http_method != Method::POST {
        // Only format/lang are honoured from the query, to answer in the asked form.
        params = idcgate_wire::form::decode(query.as_bytes());
    }
    let fmt = match idcgate_wire::form::get(&params, "format") {
        Some(f) if f.eq_ignore_ascii_case("json") => Fmt::Json,
        _ => Fmt::Xml,
    };
    let lang = match idcgate_wire::form::get(&params, "lang") {
        Some(l) if l.eq_ignore_ascii_case("cn") => Lang::Cn,
        _ => Lang::En,
    };
    let now = sim.now();
    let mut set_cookie = None;
    let result = {
        let mut st = sim.lock();
        st.requests += 1;
        process(
            &mut st,
            &method,
            &http_method,
            &ua,
            &cookies,
            params,
            ip,
            now,
            &mut set_cookie,
        )
    };
    let (code, message, payload) = match result {
        Ok(out) => {
            let msg = out.message.unwrap_or_else(|| match lang {
                Lang::En => "Action completed successful".into(),
                Lang::Cn => "操作已经成功完成".into(),
            });
            ("1".to_string(), msg, out.payload)
        }
        Err(f) => {
            let msg = match lang {
                Lang::En => f.en,
                Lang::Cn => f.cn,
            };
            (f.code, msg, f.payload)
        }
    };
    let mut fields = vec![(
        "status".to_string(),
        obj!("code" => code, "message" => message, "created_at" => handlers::fmt_time(now)),
    )];
    fields.extend(payload);
    let doc = V::Obj(fields);
    let text = match fmt {
        Fmt::Json => render::to_json(&doc),
        Fmt::Xml => render::to_xml(&doc),
    };
    let mut resp = (StatusCode::OK, Body::from(text)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=UTF-8"),
    );
    if let Some(c) = set_cookie.and_then(|c: String| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().insert(header::SET_COOKIE, c);
    }
    resp
}

#[allow(clippy::too_many_arguments)]
fn process(
    st: &mut State,
    method: &str,
    http_method: &Method,
    ua: &str,
    cookies: &str,
    params: Vec<(String, String)>,
    ip: IpAddr,
    now: Timestamp,
    set_cookie: &mut Option<String>,
) -> Result<Out, Fail> {
    if http_method != Method::POST {
        return Err(fail(text::POST_REQUEST_ONLY));
    }
    // The doc bans clients without a `Program/Version (email)` UA or with a browser's.
    if ua.trim().is_empty() || ua.starts_with("Mozilla") || !ua.contains('/') {
        return Err(fail(text::USER_AGENT_INVALID));
    }
    let action = spec()
        .actions
        .iter()
        .find(|a| a.action == method)
        .ok_or_else(|| fail(text::UNKNOWN_ERROR))?;
    if !action.implemented {
        return Err(fail(text::SUSPENDED));
    }
    let auth = handlers::login(st, &params, cookies, now, set_cookie)?;
    let is_agent_action = AGENT_ACTIONS.contains(&action.action.as_str());
    let agent = st.accounts.get(&auth).is_some_and(|a| a.agent.is_some());
    if is_agent_action && !agent {
        return Err(fail(text::NOT_A_VALID_AGENT));
    }
    let mut actor = auth;
    if !is_agent_action {
        if let Some(uid) =
            idcgate_wire::form::get(&params, "user_id").filter(|v| !v.trim().is_empty())
        {
            if !agent {
                return Err(fail(text::NOT_A_VALID_AGENT));
            }
            let uid: u64 = uid
                .trim()
                .parse()
                .map_err(|_| fail(text::USER_ID_INVALID_6))?;
            let user = st
                .accounts
                .get(&uid)
                .ok_or_else(|| fail(text::USER_ID_INVALID_6))?;
            if user.under_agent != Some(auth) {
                return Err(fail(text::ACT_AS_USER_NOT_UNDER));
            }
            actor = uid;
        }
    }
    // Listings check `offset`/`length` themselves, with their own codes (Record.List
    // answers 7/8 where Domain.List answers 6/7), so the generic check leaves them out.
    let pairs = params
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "offset" | "length"))
        .map(|(k, v)| (k.as_str(), v.trim()));
    if let Err((field, reason)) = action.validate(pairs) {
        return Err(match field.as_str() {
            "domain_id|domain" | "domain_id" => fail(text::DOMAIN_ID_INVALID_6),
            "record_id" => fail(text::RECORD_ID_INVALID_8),
            _ => {
                let mut f = fail(text::PARAMETER_INVALID);
                f.en = format!("{}: {reason}", f.en);
                f.cn = format!("{}：{reason}", f.cn);
                f
            }
        });
    }
    let error_on_empty = !idcgate_wire::form::get(&params, "error_on_empty")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("no"));
    handlers::advance_jobs(st, now);
    let rq = Rq {
        action: spec_action_name(action.action.as_str()),
        params,
        ip,
        now,
        error_on_empty,
        auth,
        actor,
    };
    handlers::dispatch(st, &rq)
}

/// The `'static` wire name (the spec lives for the program).
fn spec_action_name(name: &str) -> &'static str {
    spec()
        .actions
        .iter()
        .find(|a| a.action == name)
        .map_or("", |a| a.action.as_str())
}
