//! The Zonkvm simulator: one reseller account on a ThinkPHP finance system, behind the
//! real wire format.
//!
//! `POST /api/same/index` takes the form (urlencoded or multipart) with `appid`, `appkey`,
//! `action` (+ `obj_type` / `operate` for dispatchers). Routing and required-parameter
//! checks derive from `spec()`. Answers are ThinkPHP's envelope, byte for byte: keys in
//! the order `code, msg, data, url, wait`, compact JSON, Chinese unescaped and `/`
//! escaped (PHP's `json_encode` with `JSON_UNESCAPED_UNICODE`), HTTP 200 on errors too,
//! `data: ""` and `url: "javascript:history.back(-1);"` on failures (ThinkPHP's
//! `error()` defaults for a non-AJAX caller).
//!
//! Business rules: purchases, renewals and upgrades charge the balance (plus credit);
//! a refused one changes nothing — the simulator host restores the state of any write
//! that answers `code: 0`. Terms are 1..=[`MAX_MONTHS`] months and sizes stay within the
//! line's published limits, which also keeps every price far from overflow. Every charge and refund is a ledger row. Repeating a
//! `create_order` `order_id` (or a renew `client_order_id`) replays the first answer
//! without charging again — the document names these ids but not their semantics; this
//! is our assumption, and clients must not rely on it. `create_order` answers
//! `{"order_id":..,"ids":[..],"money":".."}` (the document shows no answer).
//!
//! Test hooks (`set_now`, `advance`, `balance_fen`, `ledger`, ...) stand in for what the
//! system's operator would see.

mod catalog;
mod cloud;
mod hosting;
mod orders;
mod physical;
mod seed;
mod site;
mod sql;
mod ssl;
mod state;
mod x509;

pub use state::FinanceRecord;

use crate::spec::{discriminator_field, is_dispatcher, spec};
use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use idcgate_core::spec::{ActionSpec, VendorSpec};
use idcgate_core::{Money, Vendor};
use idcgate_wire::sim::{
    parsed, Call, FieldOrder, Handlers, Incoming, Mount, Outcome, Refusal, Route, SimVendor,
};
use serde_json::{Map, Value};
use state::{Fail, State};

/// The longest term accepted anywhere; the document's month lists stop at 36.
pub(crate) const MAX_MONTHS: i64 = 120;

/// What a handler answers: the success message and `data` (`""` when there is none).
pub(crate) type Answer = Result<(&'static str, Value), Fail>;
pub(crate) type Handler = idcgate_wire::sim::Handler<Zonk>;

pub(crate) const OK_READ: &str = "获取成功";
pub(crate) const OK_WRITE: &str = "操作成功";

/// The finance system as the simulator host drives it.
pub(crate) struct Zonk;

impl SimVendor for Zonk {
    type State = State;
    type Ctx = ();
    type Ok = (&'static str, Value);
    type Fail = Fail;

    const VENDOR: Vendor = Vendor::Zonkvm;
    const MOUNTS: &'static [Mount] = &[Mount::Post("/api/same/index")];
    const MAX_BODY: usize = 4 << 20;
    /// ThinkPHP's `input()` reads the body before the query string.
    const FIELD_ORDER: FieldOrder = FieldOrder::BodyFirst;
    /// ThinkPHP validates the input as sent.
    const CHECK_TRIMMED: bool = false;
    /// hosting_upload documents the upload's name as `filename`.
    const FILE_NAME_FIELD: Option<&'static str> = Some("filename");

    const HANDLERS: &'static [Handlers<Self>] = MODULES;

    fn spec() -> &'static VendorSpec {
        spec()
    }

    /// Authenticates and finds the spec row (following `obj_type` / `operate` for
    /// dispatchers); unknown and unimplemented actions are 请求错误, as an unknown
    /// controller method is.
    fn resolve(st: &mut State, req: &Incoming) -> Result<Route<Self>, Refusal<Fail>> {
        let fail = |m: String| Refusal::Fail(m);
        let (Some(appid), Some(appkey), Some(action)) =
            (req.get("appid"), req.get("appkey"), req.get("action"))
        else {
            return Err(fail("缺少必要参数".into()));
        };
        if appid != st.account.appid || appkey != st.account.appkey || !st.account.api_enabled {
            return Err(fail("权限不足".into()));
        }
        let name = if is_dispatcher(action) {
            let field = discriminator_field(action);
            let sub = req
                .get(field)
                .ok_or_else(|| fail(format!("缺少必要参数：{field}")))?;
            format!("{action}#{sub}")
        } else {
            action.to_string()
        };
        let row = spec()
            .find(&name)
            .filter(|a| a.implemented && a.action == action)
            .ok_or_else(|| fail("请求错误".into()))?;
        // Orders expire on the first request after their term.
        st.tick();
        Ok(Route {
            action: row,
            ctx: (),
        })
    }

    fn invalid(_: &Incoming, _: &ActionSpec, field: &str, reason: &str) -> Fail {
        if reason.ends_with("is required") {
            format!("缺少必要参数：{field}")
        } else {
            format!("参数错误：{field}格式不正确")
        }
    }

    fn unrouted(_: &ActionSpec) -> Fail {
        "请求错误".into()
    }

    fn oversize(_: &Incoming) -> Refusal<Fail> {
        Refusal::Fail("请求内容过大".into())
    }

    /// A write may not leave a site over its quota with more than it had.
    fn after_write(before: &State, after: &State) -> Result<(), Fail> {
        if after.grew_past_quota(before) {
            Err("网站空间不足".to_string())
        } else {
            Ok(())
        }
    }

    fn render(_: &mut State, _: &Incoming, outcome: Outcome<'_, Self>) -> Response {
        envelope(outcome.result)
    }

    fn sandbox_credentials(st: &State) -> Vec<(String, String)> {
        vec![
            ("appid".into(), st.account.appid.clone()),
            ("appkey".into(), st.account.appkey.clone()),
        ]
    }
}

idcgate_wire::sim_handle! {
    /// A simulated Zonkvm finance system. Clones share the same system.
    pub struct Sim(Host<Zonk>);
}

impl Sim {
    /// An empty system (no catalog, zero balance) for one reseller account.
    pub fn new(appid: &str, appkey: &str) -> Self {
        Sim::from_state(State::new(appid, appkey))
    }

    /// A believable demo system: zones, OS images, cloud lines and packages, dedicated
    /// and colocation lines and models, hosting and database products, a funded account
    /// with credit, and a few orders of every kind.
    pub fn sandbox() -> Self {
        let sim = Sim::new(seed::APPID, seed::APPKEY);
        seed::sandbox(&sim.host);
        sim
    }

    /// Adds `n` running cloud servers on the first cloud line (for benchmarks).
    pub fn seed_bulk_servers(&self, n: usize) {
        self.host.with_state(|st| seed::bulk_servers(st, n));
    }

    pub fn balance(&self) -> Money {
        Money::from_fen(self.host.with_state(|st| st.account.balance_fen))
    }

    /// Sets the balance (a test hook: fractions of a fen are dropped).
    pub fn set_balance(&self, to: Money) {
        let fen = fen_of(to);
        self.host.with_state(|st| st.account.balance_fen = fen);
    }

    pub fn set_credit(&self, to: Money) {
        let fen = fen_of(to);
        self.host.with_state(|st| st.account.credit_fen = fen);
    }

    /// Turns the account's API permission off or on (off answers 权限不足).
    pub fn set_api_enabled(&self, on: bool) {
        self.host.with_state(|st| st.account.api_enabled = on);
    }

    /// Every charge and refund so far.
    pub fn ledger(&self) -> Vec<FinanceRecord> {
        self.host.with_state(|st| st.account.ledger.clone())
    }

    /// Whether a hosting order forces HTTPS (what the site's web server config says;
    /// the API has no read for it). `None` if there is no such order.
    pub fn hosting_forces_https(&self, id: i64) -> Option<bool> {
        self.host
            .with_state(|st| st.hostings.get(&id).map(|h| h.panel.force_https))
    }

    /// The bytes of a hosting order's file at `path` (what the site's disk holds; the
    /// API reads text only). `None` if there is no such order or file.
    pub fn hosting_file(&self, id: i64, path: &str) -> Option<Vec<u8>> {
        self.host.with_state(|st| {
            let node = st.hostings.get(&id)?.panel.files.get(path)?;
            (!node.dir).then(|| node.content.clone())
        })
    }

    /// A cloud server's VNC password (server_setvnc sets it; no documented read shows it).
    pub fn vnc_password(&self, id: i64) -> Option<String> {
        self.host
            .with_state(|st| st.servers.get(&id).map(|s| s.vnc_password.clone()))
    }

    pub fn server_count(&self) -> usize {
        self.host.with_state(|st| st.servers.len())
    }
}

/// ThinkPHP's `success()` / `error()` JSON, HTTP 200 either way.
fn envelope(answer: Answer) -> Response {
    let body = match answer {
        Ok(ok) => crate::codec::envelope(Ok(ok)),
        Err(msg) => crate::codec::envelope(Err(&msg)),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Body::from(body),
    )
        .into_response()
}

/// One resolved request (body fields before the query string's).
pub(crate) type Req<'a> = Call<'a, Zonk>;

/// The system's readings of a field, with its own error texts. `get` (a trimmed,
/// non-empty value) and `raw` come from the host.
pub(crate) trait Fields {
    fn need(&self, key: &str) -> Result<&str, Fail>;
    fn int(&self, key: &str) -> Result<Option<i64>, Fail>;
    fn int_or(&self, key: &str, default: i64) -> Result<i64, Fail>;
    /// The order id: the server strips any `prefix_` ("自动去除前缀").
    fn guid(&self) -> Result<i64, Fail>;
    /// A JSON-object field (`content`, `post`, `proxyData`).
    fn object(&self, key: &str) -> Result<Map<String, Value>, Fail>;
}

impl Fields for Req<'_> {
    fn need(&self, key: &str) -> Result<&str, Fail> {
        self.get(key).ok_or_else(|| format!("缺少必要参数：{key}"))
    }

    fn int(&self, key: &str) -> Result<Option<i64>, Fail> {
        parsed(self.get(key), || format!("参数错误：{key}格式不正确"))
    }

    fn int_or(&self, key: &str, default: i64) -> Result<i64, Fail> {
        Ok(self.int(key)?.unwrap_or(default))
    }

    fn guid(&self) -> Result<i64, Fail> {
        let raw = self.need("guid")?;
        let tail = raw.rsplit('_').next().unwrap_or(raw);
        tail.parse().map_err(|_| "参数错误：guid格式不正确".into())
    }

    fn object(&self, key: &str) -> Result<Map<String, Value>, Fail> {
        match self.get(key).map(serde_json::from_str::<Value>) {
            None => Ok(Map::new()),
            Some(Ok(Value::Object(m))) => Ok(m),
            Some(_) => Err(format!("参数错误：{key}格式不正确")),
        }
    }
}

/// The modules serving the actions, asked in this order.
const MODULES: &[Handlers<Zonk>] = &[
    catalog::handler,
    cloud::handler,
    physical::handler,
    hosting::handler,
    sql::handler,
    ssl::handler,
];

/// A test hook's amount in fen (the state keeps fen, as the finance system's ledger
/// does); fractions of a fen are dropped and out-of-range amounts saturate.
fn fen_of(m: Money) -> i64 {
    let fen = (m.0 * rust_decimal::Decimal::ONE_HUNDRED).trunc();
    i64::try_from(fen).unwrap_or(if m.is_negative() { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod routing {
    use super::*;
    use idcgate_wire::sim::Host;

    #[test]
    fn every_implemented_row_has_a_handler_and_no_todo_row_does() {
        assert_eq!(Host::<Zonk>::misrouted(), Vec::<&str>::new());
    }
}
