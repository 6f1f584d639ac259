//! The DNSPod simulator: answers `POST /<Method>` exactly as dnsapi.cn does (envelope,
//! typing, key order, codes, texts, XML default, abuse rules), on the shared simulator
//! host (`idcgate_wire::sim::Host`).
//!
//! Request pipeline: the host reads and decodes the form (the body of a POST, else the
//! query string), then [`Dnspod::resolve`] refuses anything but POST (code 2) and a
//! browser or missing User-Agent (-7), finds the method, logs in (token or
//! email/password, D令牌, failed-login ban) and applies the agent's `user_id` act-as;
//! the host checks the spec and runs one handler per method (modules by API module);
//! [`Dnspod::render`] writes JSON or XML per `format`.
//!
//! Test hooks (`set_now`, `advance`, `dtoken_code`, `acquire_code`, `monitor_outage`,
//! ...) stand in for what DNSPod's operator, the user's phone or mailbox would see.

mod acquire;
mod agent;
mod alias;
mod batch;
mod common;
mod domain;
mod group;
mod login;
mod monitor;
mod record;
pub mod render;
mod seed;
mod share;
pub mod state;
mod user;

pub use seed::SANDBOX_EMAIL;
pub use state::GRADES;

use crate::errors::{text, Text};
use crate::spec::{spec, AGENT_ACTIONS};
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::Vendor;
use idcgate_wire::sim::{
    Call, FieldOrder, Handlers, Incoming, Mount, Outcome, Refusal, Route, SimVendor,
};
use jiff::Timestamp;
use render::{obj, V};
use state::{Account, Agent, State};
use std::net::IpAddr;

/// dnsapi.cn as the simulator host drives it.
pub(crate) struct Dnspod;

pub(crate) type Req<'a> = Call<'a, Dnspod>;
pub(crate) type Handler = idcgate_wire::sim::Handler<Dnspod>;
/// What every handler answers.
pub(crate) type R = Result<Out, Fail>;

/// Who is calling, as the login found out.
#[derive(Debug)]
pub(crate) struct Caller {
    /// The logged-in account.
    pub auth: u64,
    /// The account acted upon (`user_id` of an agent's user, else `auth`).
    pub actor: u64,
    /// `error_on_empty=no` turns an empty listing from a refusal into an empty answer.
    pub error_on_empty: bool,
    /// The remembered D令牌 cookie this login issued.
    pub set_cookie: Option<String>,
}

impl SimVendor for Dnspod {
    type State = State;
    type Ctx = Caller;
    type Ok = Out;
    type Fail = Fail;

    const VENDOR: Vendor = Vendor::Dnspod;
    const MOUNTS: &'static [Mount] = &[Mount::Any("/{method}")];
    const MAX_BODY: usize = 4 << 20;
    /// dnsapi.cn reads the body of a POST only; other methods are refused, in the
    /// format and language their query string asks for.
    const FIELD_ORDER: FieldOrder = FieldOrder::BodyOnPostElseQuery;

    const HANDLERS: &'static [Handlers<Self>] = MODULES;

    fn spec() -> &'static VendorSpec {
        spec()
    }

    fn resolve(st: &mut State, req: &Incoming) -> Result<Route<Self>, Refusal<Fail>> {
        let mut set_cookie = None;
        match admit(st, req, &mut set_cookie) {
            Ok((action, auth, actor)) => Ok(Route {
                action,
                ctx: Caller {
                    auth,
                    actor,
                    error_on_empty: !req
                        .get("error_on_empty")
                        .is_some_and(|v| v.eq_ignore_ascii_case("no")),
                    set_cookie,
                },
            }),
            // A login that passed the D令牌 still remembers the device, whatever came next.
            Err(f) => Err(Refusal::Fail(Fail {
                set_cookie: set_cookie.map(String::into_boxed_str),
                ..f
            })),
        }
    }

    fn invalid(_: &Incoming, action: &ActionSpec, field: &str, reason: &str) -> Fail {
        if let Some(t) = crate::errors::invalid_param(&action.action, field) {
            return fail(t);
        }
        match field {
            "domain_id|domain" | "domain_id" => fail(text::DOMAIN_ID_INVALID_6),
            "record_id" => fail(text::RECORD_ID_INVALID_8),
            _ => {
                let mut f = fail(text::PARAMETER_INVALID);
                f.en = format!("{}: {reason}", f.en);
                f.cn = format!("{}：{reason}", f.cn);
                f
            }
        }
    }

    fn unrouted(_: &ActionSpec) -> Fail {
        fail(text::SUSPENDED)
    }

    fn oversize(_: &Incoming) -> Refusal<Fail> {
        Refusal::Fail(fail(text::REQUEST_TOO_LARGE))
    }

    fn keep_refused(fail: &Fail, restored: &mut State, refused: State) {
        if fail.keep_changes {
            *restored = refused;
        }
    }

    fn render(st: &mut State, req: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        // Every request ends here, refused early or not: this is the upstream's count.
        st.requests += 1;
        let cn = req
            .raw("lang")
            .is_some_and(|l| l.eq_ignore_ascii_case("cn"));
        let mut cookie = outcome.route.and_then(|r| r.ctx.set_cookie.clone());
        let (code, message, payload) = match outcome.result {
            Ok(out) => {
                let msg = out.message.unwrap_or_else(|| {
                    if cn {
                        "操作已经成功完成".into()
                    } else {
                        "Action completed successful".into()
                    }
                });
                ("1".to_string(), msg, out.payload)
            }
            Err(f) => {
                cookie = cookie.or(f.set_cookie.map(String::from));
                (f.code, if cn { f.cn } else { f.en }, f.payload)
            }
        };
        let created_at = common::fmt_time(st.clock.now());
        let mut fields = vec![(
            "status".to_string(),
            obj!("code" => code, "message" => message, "created_at" => created_at),
        )];
        fields.extend(payload);
        let doc = V::Obj(fields);
        let json = req
            .raw("format")
            .is_some_and(|f| f.eq_ignore_ascii_case("json"));
        let text = if json {
            render::to_json(&doc)
        } else {
            render::to_xml(&doc)
        };
        let mut resp = (StatusCode::OK, Body::from(text)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html;charset=UTF-8"),
        );
        if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            resp.headers_mut().insert(header::SET_COOKIE, c);
        }
        resp
    }

    /// `login_token` = `ID,Token` of the sandbox agent. `login_email`/`login_password`
    /// also work but are not returned: token auth is what the doc recommends.
    fn sandbox_credentials(_: &State) -> Vec<(String, String)> {
        vec![("login_token".to_string(), seed::sandbox_token())]
    }
}

/// Everything before the handler, in dnsapi.cn's order: method, User-Agent, the method
/// name, login, agent rights, act-as; then due batch work. Returns (action, auth, actor).
fn admit(
    st: &mut State,
    req: &Incoming,
    set_cookie: &mut Option<String>,
) -> Result<(&'static ActionSpec, u64, u64), Fail> {
    if req.method() != Method::POST {
        return Err(fail(text::POST_REQUEST_ONLY));
    }
    // The doc bans clients without a `Program/Version (email)` UA or with a browser's.
    let ua = req.header(header::USER_AGENT.as_str()).unwrap_or("");
    if ua.trim().is_empty() || ua.starts_with("Mozilla") || !ua.contains('/') {
        return Err(fail(text::USER_AGENT_INVALID));
    }
    let method = req.path().trim_start_matches('/');
    let action = spec()
        .actions
        .iter()
        .find(|a| a.action == method)
        .ok_or_else(|| fail(text::UNKNOWN_ERROR))?;
    if !action.implemented {
        return Err(fail(text::SUSPENDED));
    }
    let cookies = req.header(header::COOKIE.as_str()).unwrap_or("");
    let now = st.clock.now();
    let auth = login::login(st, req, cookies, now, set_cookie)?;
    let is_agent_action = AGENT_ACTIONS.contains(&action.action.as_str());
    let agent = st.accounts.get(&auth).is_some_and(|a| a.agent.is_some());
    if is_agent_action && !agent {
        return Err(fail(text::NOT_A_VALID_AGENT));
    }
    let mut actor = auth;
    // Agent methods take `user_id` as an argument of their own.
    if let Some(uid) = req.get("user_id").filter(|_| !is_agent_action) {
        if !agent {
            return Err(fail(text::NOT_A_VALID_AGENT));
        }
        let uid: u64 = uid.parse().map_err(|_| fail(text::USER_ID_INVALID_6))?;
        let user = st
            .accounts
            .get(&uid)
            .ok_or_else(|| fail(text::USER_ID_INVALID_6))?;
        if user.under_agent != Some(auth) {
            return Err(fail(text::ACT_AS_USER_NOT_UNDER));
        }
        actor = uid;
    }
    // Batch jobs progress with the clock; what they did stands whatever this call does.
    batch::advance_jobs(st, now);
    Ok((action, auth, actor))
}

/// A refusal in the vendor's own terms: code and both language texts.
#[derive(Debug, Clone)]
pub(crate) struct Fail {
    pub code: String,
    pub en: String,
    pub cn: String,
    /// Payload still shown next to the error status (e.g. `Record.List` code 10).
    pub payload: Vec<(String, V)>,
    /// A D令牌 cookie issued by a login that a later check refused (boxed: a refusal
    /// travels in every handler's `Result`, so it stays small).
    pub set_cookie: Option<Box<str>>,
    /// A refusal whose changes stand (the no-op modification lock): see
    /// [`Dnspod::keep_refused`].
    pub keep_changes: bool,
}

/// A refusal with DNSPod's code and texts, from the crate's error table.
pub(crate) fn fail(t: Text) -> Fail {
    Fail {
        code: t.code.to_string(),
        en: t.en.to_string(),
        cn: t.cn.to_string(),
        payload: Vec::new(),
        set_cookie: None,
        keep_changes: false,
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

/// DNSPod's readings of a call, for handlers and the rules they share. `arg` (the
/// trimmed, non-empty value, else the spec's default) and `now` come from the host; a
/// batch job replays single calls as real [`Call`]s (`Call::new`), so one rule serves both.
pub(crate) trait Args {
    /// The method's wire name (`Record.Create`).
    fn method(&self) -> &str;
    /// The trimmed value even when empty (an empty value clears a setting).
    fn present(&self, key: &str) -> Option<&str>;
    fn ip(&self) -> IpAddr;
    /// The logged-in account.
    fn auth(&self) -> u64;
    /// The account acted upon.
    fn actor(&self) -> u64;
    fn error_on_empty(&self) -> bool;
    /// [`Call::arg`], or `""`.
    fn str(&self, key: &str) -> &str;
}

/// Requests served without a peer address (in-process) come from the host itself.
const LOCAL: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

impl Args for Req<'_> {
    fn method(&self) -> &str {
        self.action().action.as_str()
    }

    fn present(&self, key: &str) -> Option<&str> {
        self.raw(key).map(str::trim)
    }

    fn ip(&self) -> IpAddr {
        self.client_ip().unwrap_or(LOCAL)
    }

    fn auth(&self) -> u64 {
        self.ctx().auth
    }

    fn actor(&self) -> u64 {
        self.ctx().actor
    }

    fn error_on_empty(&self) -> bool {
        self.ctx().error_on_empty
    }

    fn str(&self, key: &str) -> &str {
        self.arg(key).unwrap_or("")
    }
}

/// The modules serving the methods, asked in this order.
const MODULES: &[Handlers<Dnspod>] = &[
    user::handler,
    agent::handler,
    domain::handler,
    share::handler,
    alias::handler,
    group::handler,
    acquire::handler,
    record::handler,
    batch::handler,
    monitor::handler,
];

idcgate_wire::sim_handle! {
    /// The simulator. Cloning shares the same world.
    pub struct Sim(Host<Dnspod>);
}

impl Default for Sim {
    fn default() -> Self {
        Sim::new()
    }
}

impl Sim {
    /// An empty world on the wall clock.
    pub fn new() -> Self {
        Sim::from_state(State::new())
    }

    /// A believable agent account: balance, three users, four domains with records.
    pub fn sandbox() -> Self {
        let sim = Sim::new();
        sim.host.with_state(seed::sandbox);
        sim
    }

    /// The sandbox with the clock frozen at `now` first (seeded times are `now`).
    pub fn sandbox_at(now: Timestamp) -> Self {
        let sim = Sim::new();
        sim.set_now(now);
        sim.host.with_state(seed::sandbox);
        sim
    }

    /// Requests that reached the router (for tests asserting "no network call").
    pub fn request_count(&self) -> u64 {
        self.host.with_state(|st| st.requests)
    }

    /// Adds `domains` domains with `records_per_domain` A records each to the sandbox
    /// agent (or to a fresh bulk account). Direct inserts, no logs: 10k/100k is cheap.
    pub fn seed_bulk(&self, domains: usize, records_per_domain: usize) {
        self.host
            .with_state(|st| seed::bulk(st, domains, records_per_domain));
    }

    /// Test helper: adds an account and an API token; returns (account id, `login_token`).
    pub fn add_user(&self, email: &str, password: &str, agent: bool) -> (u64, String) {
        self.host.with_state(|st| {
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
        })
    }

    /// Test helper: switches the D令牌 on for an account.
    pub fn enable_dtoken(&self, account_id: u64, secret: &str) {
        self.host.with_state(|st| {
            if let Some(a) = st.accounts.get_mut(&account_id) {
                a.dtoken = Some(secret.to_string());
            }
        });
    }

    /// The D令牌 code an account's device shows now (the sim's stand-in for TOTP).
    pub fn dtoken_code(&self, account_id: u64) -> Option<String> {
        self.host.with_state(|st| {
            let secret = st.accounts.get(&account_id)?.dtoken.as_deref()?;
            Some(login::dtoken_code(secret, st.clock.now()))
        })
    }

    /// Test helper: the code mailed by `Domain.Acquiresend`.
    pub fn acquire_code(&self, domain: &str) -> Option<String> {
        self.host
            .with_state(|st| st.acquires.get(domain).map(|(_, _, code)| code.clone()))
    }

    /// Test helper: the WHOIS contact clicks the link sent by `Domain.Acquiresend.New`.
    pub fn click_acquire_link(&self, domain: &str) -> bool {
        self.host.with_state(|st| {
            let now = st.clock.now();
            acquire::complete(st, domain, now)
        })
    }

    /// Test hook: a D监控 monitor sees its target go down (`reason` as `short|long`).
    pub fn monitor_outage(&self, monitor_id: &str, reason: &str) -> bool {
        self.host.with_state(|st| {
            let now = st.clock.now();
            monitor::outage(st, monitor_id, reason, now)
        })
    }

    /// An agent's balance (for tests of `Domain.Upgrade`).
    pub fn agent_balance(&self, email: &str) -> Option<idcgate_core::Money> {
        self.host.with_state(|st| {
            let id = st.by_email.get(email)?;
            let agent = st.accounts.get(id)?.agent.as_ref()?;
            Some(idcgate_core::Money::from_fen(agent.balance_fen))
        })
    }

    /// Test helper: a new zone `name` of the same owner and grade as the zone `like` (a
    /// VIP grade with a year of service from today); false if `like` is unknown or `name`
    /// taken.
    pub fn add_zone_like(&self, name: &str, like: &str) -> bool {
        self.host.with_state(|st| {
            let Some(d) = st.by_name.get(like).and_then(|id| st.domains.get(id)) else {
                return false;
            };
            let (owner, grade) = (d.owner, d.grade);
            if st.by_name.contains_key(name) {
                return false;
            }
            let now = st.clock.now();
            st.add_domain(name, owner, grade, now);
            true
        })
    }

    /// Sets an agent's balance (to fund many `Domain.Upgrade`s); false if `email` is no
    /// agent.
    pub fn set_agent_balance(&self, email: &str, to: idcgate_core::Money) -> bool {
        let Ok(fen) = to.to_fen() else {
            return false;
        };
        self.host.with_state(|st| {
            let Some(id) = st.by_email.get(email).copied() else {
                return false;
            };
            match st.accounts.get_mut(&id).and_then(|a| a.agent.as_mut()) {
                Some(agent) => {
                    agent.balance_fen = fen;
                    true
                }
                None => false,
            }
        })
    }

    /// An agent's `Domain.Upgrade` bills, oldest first: (journal number, memo naming the
    /// zone, grade and term, what the agent paid).
    pub fn agent_bills(&self, email: &str) -> Vec<(String, String, idcgate_core::Money)> {
        self.host.with_state(|st| {
            let Some(id) = st.by_email.get(email).copied() else {
                return Vec::new();
            };
            st.bills
                .iter()
                .filter(|b| b.agent == id)
                .map(|b| {
                    (
                        b.journal_number.clone(),
                        b.memo.clone(),
                        idcgate_core::Money::from_fen(b.agent_price_fen),
                    )
                })
                .collect()
        })
    }

    pub fn domain_count(&self) -> usize {
        self.host.with_state(|st| st.domains.len())
    }

    pub fn record_count(&self) -> usize {
        self.host.with_state(|st| st.record_domain.len())
    }
}

#[cfg(test)]
mod routing {
    use super::*;
    use idcgate_wire::sim::Host;

    #[test]
    fn every_implemented_method_has_a_handler() {
        assert_eq!(Host::<Dnspod>::misrouted(), Vec::<&str>::new());
    }
}
