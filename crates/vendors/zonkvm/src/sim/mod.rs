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
//! a refused one changes nothing — `dispatch` restores the state of any write that
//! answers `code: 0`. Terms are 1..=[`MAX_MONTHS`] months and sizes stay within the
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
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use idcgate_core::spec::{ActionKind, ActionSpec};
use idcgate_core::Vendor;
use idcgate_wire::Simulator;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Map, Value};
use state::{Fail, State};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

const MAX_BODY: usize = 4 << 20;

/// The longest term accepted anywhere; the document's month lists stop at 36.
pub(crate) const MAX_MONTHS: i64 = 120;

/// What a handler answers: the success message and `data` (`""` when there is none).
pub(crate) type Answer = Result<(&'static str, Value), Fail>;
pub(crate) type Handler = fn(&mut State, &Req<'_>) -> Answer;

pub(crate) const OK_READ: &str = "获取成功";
pub(crate) const OK_WRITE: &str = "操作成功";

/// A simulated Zonkvm finance system. Clones share the same system.
#[derive(Clone)]
pub struct Sim {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").finish_non_exhaustive()
    }
}

impl Sim {
    /// An empty system (no catalog, zero balance) for one reseller account.
    pub fn new(appid: &str, appkey: &str) -> Self {
        Sim {
            state: Arc::new(Mutex::new(State::new(appid, appkey))),
        }
    }

    /// A believable demo system: zones, OS images, cloud lines and packages, dedicated
    /// and colocation lines and models, hosting and database products, a funded account
    /// with credit, and a few orders of every kind.
    pub fn sandbox() -> Self {
        let sim = Sim::new(seed::APPID, seed::APPKEY);
        seed::sandbox(&mut sim.lock());
        sim
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicked handler leaves the data as consistent as its last statement; keep
        // serving rather than poisoning every later request.
        idcgate_core::lock(&self.state)
    }

    /// Adds `n` running cloud servers on the first cloud line (for benchmarks).
    pub fn seed_bulk_servers(&self, n: usize) {
        seed::bulk_servers(&mut self.lock(), n);
    }

    pub fn balance_fen(&self) -> i64 {
        self.lock().account.balance_fen
    }

    pub fn set_balance_fen(&self, fen: i64) {
        self.lock().account.balance_fen = fen;
    }

    pub fn set_credit_fen(&self, fen: i64) {
        self.lock().account.credit_fen = fen;
    }

    /// Turns the account's API permission off or on (off answers 权限不足).
    pub fn set_api_enabled(&self, on: bool) {
        self.lock().account.api_enabled = on;
    }

    /// Every charge and refund so far.
    pub fn ledger(&self) -> Vec<FinanceRecord> {
        self.lock().account.ledger.clone()
    }

    /// Whether a hosting order forces HTTPS (what the site's web server config says;
    /// the API has no read for it). `None` if there is no such order.
    pub fn hosting_forces_https(&self, id: i64) -> Option<bool> {
        self.lock().hostings.get(&id).map(|h| h.panel.force_https)
    }

    /// A cloud server's VNC password (server_setvnc sets it; no documented read shows it).
    pub fn vnc_password(&self, id: i64) -> Option<String> {
        self.lock().servers.get(&id).map(|s| s.vnc_password.clone())
    }

    pub fn server_count(&self) -> usize {
        self.lock().servers.len()
    }

    /// Freezes the clock at `now`.
    pub fn set_now(&self, now: Timestamp) {
        let mut st = self.lock();
        st.fixed_now = Some(now);
        st.offset = SignedDuration::ZERO;
    }

    /// Moves the clock forward (orders expire on the next request).
    pub fn advance(&self, by: Duration) {
        let mut st = self.lock();
        let by = SignedDuration::try_from(by).unwrap_or(SignedDuration::MAX);
        st.offset = st.offset.checked_add(by).unwrap_or(st.offset);
    }

    async fn handle(AxState(sim): AxState<Sim>, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
            return envelope(Err("请求内容过大".into()));
        };
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let mut fields = match multipart_boundary(content_type) {
            Some(b) => parse_multipart(&bytes, &b),
            None => idcgate_wire::form::decode(&bytes),
        };
        // ThinkPHP's input() reads the query string too.
        fields.extend(idcgate_wire::form::decode(
            parts.uri.query().unwrap_or_default().as_bytes(),
        ));
        let answer = dispatch(&mut sim.lock(), &fields);
        envelope(answer)
    }
}

/// ThinkPHP's `success()` / `error()` JSON.
fn envelope(answer: Answer) -> Response {
    let body = match answer {
        Ok((msg, data)) => json!({"code": 1, "msg": msg, "data": data, "url": "", "wait": 3}),
        Err(msg) => {
            json!({"code": 0, "msg": msg, "data": "", "url": "javascript:history.back(-1);", "wait": 3})
        }
    };
    // PHP's json_encode escapes '/', which only ever occurs inside strings.
    let text = body.to_string().replace('/', "\\/");
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        Body::from(text),
    )
        .into_response()
}

/// The request's fields, for one resolved action.
pub(crate) struct Req<'a> {
    pub fields: &'a [(String, String)],
}

impl Req<'_> {
    /// A non-empty value.
    pub fn get(&self, key: &str) -> Option<&str> {
        idcgate_wire::form::get(self.fields, key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    }

    pub fn need(&self, key: &str) -> Result<&str, Fail> {
        self.get(key).ok_or_else(|| format!("缺少必要参数：{key}"))
    }

    pub fn int(&self, key: &str) -> Result<Option<i64>, Fail> {
        self.get(key)
            .map(|v| v.parse().map_err(|_| format!("参数错误：{key}格式不正确")))
            .transpose()
    }

    pub fn int_or(&self, key: &str, default: i64) -> Result<i64, Fail> {
        Ok(self.int(key)?.unwrap_or(default))
    }

    /// The order id: the server strips any `prefix_` ("自动去除前缀").
    pub fn guid(&self) -> Result<i64, Fail> {
        let raw = self.need("guid")?;
        let tail = raw.rsplit('_').next().unwrap_or(raw);
        tail.parse().map_err(|_| "参数错误：guid格式不正确".into())
    }

    /// A JSON-object field (`content`, `post`, `proxyData`).
    pub fn object(&self, key: &str) -> Result<Map<String, Value>, Fail> {
        match self.get(key).map(serde_json::from_str::<Value>) {
            None => Ok(Map::new()),
            Some(Ok(Value::Object(m))) => Ok(m),
            Some(_) => Err(format!("参数错误：{key}格式不正确")),
        }
    }
}

/// Resolves, authenticates, validates and runs one request.
fn dispatch(st: &mut State, fields: &[(String, String)]) -> Answer {
    let get = |k: &str| {
        idcgate_wire::form::get(fields, k)
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let (Some(appid), Some(appkey), Some(action)) = (get("appid"), get("appkey"), get("action"))
    else {
        return Err("缺少必要参数".into());
    };
    if appid != st.account.appid || appkey != st.account.appkey || !st.account.api_enabled {
        return Err("权限不足".into());
    }
    let row = resolve(action, &get)?;
    row.validate(fields.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(|(field, reason)| {
            if reason.ends_with("is required") {
                format!("缺少必要参数：{field}")
            } else {
                format!("参数错误：{field}格式不正确")
            }
        })?;
    let handler = handler_for(row.name()).ok_or_else(|| "请求错误".to_string())?;
    st.tick();
    if row.kind == ActionKind::Read {
        return handler(st, &Req { fields });
    }
    // A refused write must change nothing, whatever step of a handler refused it (a
    // hosting upgrade charges traffic before it checks the new product, a file batch
    // may fail half way). Keeping a copy is cheaper than proving every handler
    // validates before it mutates.
    let before = st.clone();
    let answer = handler(st, &Req { fields }).and_then(|ok| {
        if st.grew_past_quota(&before) {
            Err("网站空间不足".to_string())
        } else {
            Ok(ok)
        }
    });
    if answer.is_err() {
        *st = before;
    }
    answer
}

/// The spec row of a wire action (following `obj_type` / `operate` for dispatchers);
/// unknown and unimplemented actions are 请求错误, as an unknown controller method is.
fn resolve<'f>(
    action: &str,
    get: &impl Fn(&str) -> Option<&'f str>,
) -> Result<&'static ActionSpec, Fail> {
    let name = if is_dispatcher(action) {
        let field = discriminator_field(action);
        let sub = get(field).ok_or_else(|| format!("缺少必要参数：{field}"))?;
        format!("{action}#{sub}")
    } else {
        action.to_string()
    };
    spec()
        .find(&name)
        .filter(|a| a.implemented && a.action == action)
        .ok_or_else(|| "请求错误".into())
}

fn handler_for(name: &str) -> Option<Handler> {
    catalog::handler(name)
        .or_else(|| cloud::handler(name))
        .or_else(|| physical::handler(name))
        .or_else(|| hosting::handler(name))
        .or_else(|| sql::handler(name))
        .or_else(|| ssl::handler(name))
}

fn multipart_boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.starts_with("multipart/form-data") {
        return None;
    }
    let at = lower.find("boundary=")?;
    Some(content_type[at + 9..].trim().trim_matches('"').to_string())
}

/// Reads the fields of a multipart body; file parts are kept as (lossy UTF-8) text.
fn parse_multipart(body: &[u8], boundary: &str) -> Vec<(String, String)> {
    let delim = format!("--{boundary}");
    let text = String::from_utf8_lossy(body);
    let mut out = Vec::new();
    for part in text.split(delim.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let attr = |key: &str| {
            head.split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(key))
                .map(|n| n.split(['\r', '\n']).next().unwrap_or(n).trim_matches('"'))
        };
        if let Some(name) = attr("name=") {
            let value = value.strip_suffix("\r\n").unwrap_or(value);
            out.push((name.to_string(), value.to_string()));
        }
        // A file part's own name is the upload's `filename` (hosting_upload).
        if let Some(filename) = attr("filename=") {
            out.push(("filename".to_string(), filename.to_string()));
        }
    }
    out
}

impl Simulator for Sim {
    fn vendor(&self) -> Vendor {
        Vendor::Zonkvm
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/api/same/index", post(Sim::handle))
            .with_state(self.clone())
    }

    fn sandbox_credentials(&self) -> Vec<(String, String)> {
        let st = self.lock();
        vec![
            ("appid".into(), st.account.appid.clone()),
            ("appkey".into(), st.account.appkey.clone()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_fields_are_read() {
        let body = b"--XYZ\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\ngetzones\r\n--XYZ--\r\n";
        let b = multipart_boundary("multipart/form-data; boundary=XYZ").unwrap();
        assert_eq!(
            parse_multipart(body, &b),
            vec![("action".into(), "getzones".into())]
        );
    }
}

#[cfg(test)]
mod routing {
    use super::*;

    #[test]
    fn every_implemented_row_has_a_handler_and_no_todo_row_does() {
        for a in &spec().actions {
            assert_eq!(handler_for(a.name()).is_some(), a.implemented, "{}", a.id);
        }
    }
}
