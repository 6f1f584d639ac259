//! The DNSPod client: login parameters, form encoding, JSON/XML decoding and the
//! protections that keep an account out of DNSPod's abuse rules:
//!
//! - after an authentication failure the credentials are halted process-wide until they
//!   change (DNSPod bans login after 30 failures in 5 minutes; a retry storm from a sync
//!   loop would lock the customer out of their own account);
//! - `Record.Modify`/`Record.Ddns` that would change nothing are not sent (5 no-op
//!   modifications in an hour lock the record);
//! - every call goes through one [`Exchange`], which holds the per-account rate limit,
//!   the retries of reads and the unknown outcome of writes.

use crate::errors::ERRORS;
use crate::spec::{spec, AGENT_ACTIONS};
use crate::xml;
use idcgate_core::capability::Params;
use idcgate_core::error::ErrorTable;
use idcgate_core::spec::{ActionSpec, Args, VendorSpec};
use idcgate_core::{Error, Result, UpstreamAccount};
use idcgate_wire::exchange::{Decoded, Exchange, Protocol, Refusal};
use idcgate_wire::{Charset, Redactor, WireConfig, WireRequest, WireResponse};
use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, Weak};

const VENDOR: &str = "dnspod";

/// Response format asked of the upstream. JSON is what DNSPod recommends; XML is its
/// default and fully supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

#[derive(Clone)]
enum Login {
    Token(String),
    Email { email: String, password: String },
}

/// DNSPod on the shared call path: the login of one account and what its answers leave
/// behind (the D令牌 cookie, a halt). Per-handle choices (format, language, the agent's
/// `user_id`) are ordinary parameters the client puts before the caller's.
pub struct DnspodProtocol {
    base_url: String,
    login: Login,
    /// Identifies the credentials (salted hash) in the halt registry.
    fingerprint: String,
    /// A D令牌 code to send with the next call (one-shot).
    login_code: Mutex<Option<String>>,
    /// The remembered D令牌 cookie (`t<user_id>`, value).
    cookie: Mutex<Option<(String, String)>>,
}

impl DnspodProtocol {
    fn is_halted(&self) -> bool {
        lock(halted()).contains(&self.fingerprint)
    }

    /// Keeps a `t<user_id>` D令牌 cookie the answer sets.
    fn remember_cookie(&self, response: &WireResponse) {
        for sc in response.header("set-cookie") {
            let first = sc.split(';').next().unwrap_or("");
            if let Some((n, v)) = first.split_once('=') {
                let n = n.trim();
                if n.len() > 1 && n.starts_with('t') && n[1..].bytes().all(|b| b.is_ascii_digit()) {
                    *lock(&self.cookie) = Some((n.to_string(), v.trim().to_string()));
                }
            }
        }
    }
}

impl Protocol for DnspodProtocol {
    const SPEC: fn() -> &'static VendorSpec = spec;
    const ERRORS: &'static ErrorTable = &ERRORS;

    fn admit(&self, _action: &ActionSpec, _args: &Args<'_>) -> Result<()> {
        if self.is_halted() {
            return Err(Error::Authentication {
                vendor: VENDOR.into(),
                message: "login halted after an authentication failure; update the credentials (DNSPod bans login after repeated failures)".into(),
            });
        }
        Ok(())
    }

    fn encode(&self, action: &ActionSpec, args: &Args<'_>) -> Result<WireRequest> {
        let mut form: Vec<(String, String)> = Vec::new();
        match &self.login {
            Login::Token(t) => form.push(("login_token".into(), t.clone())),
            Login::Email { email, password } => {
                form.push(("login_email".into(), email.clone()));
                form.push(("login_password".into(), password.clone()));
            }
        }
        if let Some(code) = lock(&self.login_code).clone() {
            form.push(("login_code".into(), code));
            form.push(("login_remember".into(), "yes".into()));
        }
        form.extend(args.pairs().iter().cloned());
        let body = idcgate_wire::form::encode(&form, Charset::Utf8);
        let mut req =
            WireRequest::form_post(format!("{}{}", self.base_url, action.path), body, "UTF-8");
        if let Some((n, v)) = lock(&self.cookie).clone() {
            req.headers.push(("Cookie".into(), format!("{n}={v}")));
        }
        Ok(req)
    }

    fn decode(&self, _action: &ActionSpec, response: &WireResponse) -> Decoded {
        self.remember_cookie(response);
        if response.status != 200 {
            // DNSPod answers 200 even for refusals; anything else came from a proxy or a
            // crash, before or after the change.
            return Decoded::Unreadable("not an answer from DNSPod".into());
        }
        let doc = match decode(&response.body) {
            Ok(doc) => doc,
            Err(e) => return Decoded::Unreadable(format!("malformed response: {e}")),
        };
        match doc.pointer("/status/code").map(scalar) {
            Some(code) if code == "1" => Decoded::Data(doc),
            Some(code) => {
                let message = doc
                    .pointer("/status/message")
                    .map(scalar)
                    .unwrap_or_default();
                Decoded::Refused(Refusal::new(code, message))
            }
            None => Decoded::Unreadable("response without status.code".into()),
        }
    }

    /// DNSPod numbers refusals per method, so the table is read with the method's name
    /// (scoped codes, see `errors`), which `ErrorTable::error` cannot see.
    fn refused(&self, action: &ActionSpec, refusal: &Refusal) -> Error {
        crate::errors::error(&action.action, &refusal.code, &refusal.message)
    }

    fn observe(&self, action: &ActionSpec, outcome: &Result<Value>) {
        match outcome {
            // A D令牌 code is single-use; the remembered cookie carries the login on.
            Ok(_) => *lock(&self.login_code) = None,
            Err(Error::Authentication { .. }) => {
                tracing::warn!(vendor = VENDOR, action = %action.action, "authentication failed; halting these credentials");
                lock(halted()).insert(self.fingerprint.clone());
                *lock(&self.login_code) = None;
            }
            Err(_) => {}
        }
    }
}

/// A handle on one DNSPod account. Cheap to clone; clones share the login state.
#[derive(Clone)]
pub struct DnspodClient {
    exchange: Arc<Exchange<DnspodProtocol>>,
    format: Format,
    lang: &'static str,
    /// Agent acting for one of its users (DNSPod's common `user_id` parameter).
    user_id: Option<String>,
}

// A raw call goes through [`DnspodClient::call`], which adds this handle's
// format/language/act-as parameters and answers a no-op `Record.Modify`/`Record.Ddns`
// locally (DNSPod locks a record after 5 of them in an hour).
idcgate_wire::impl_connection!(
    DnspodClient,
    exchange,
    call = call,
    [dns, billing, purchasing]
);

impl std::fmt::Debug for DnspodClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnspodClient")
            .field("base_url", &self.protocol().base_url)
            .field("format", &self.format)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

/// Credentials halted after an authentication failure, by salted fingerprint.
fn halted() -> &'static Mutex<HashSet<String>> {
    static HALTED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    HALTED.get_or_init(|| Mutex::new(HashSet::new()))
}

/// Live exchanges by account (salted fingerprint + wire settings).
fn shared_exchanges() -> &'static Mutex<HashMap<String, Weak<Exchange<DnspodProtocol>>>> {
    static SHARED: OnceLock<Mutex<HashMap<String, Weak<Exchange<DnspodProtocol>>>>> =
        OnceLock::new();
    SHARED.get_or_init(|| Mutex::new(HashMap::new()))
}

fn salt() -> &'static str {
    static SALT: OnceLock<String> = OnceLock::new();
    SALT.get_or_init(|| format!("{:032x}", rand::random::<u128>()))
}

use idcgate_core::lock;

/// Parameters the client owns; a caller's value for these is ignored.
const RESERVED: &[&str] = &[
    "login_token",
    "user_token",
    "login_email",
    "login_password",
    "login_code",
    "login_remember",
];

impl DnspodClient {
    /// Credential keys: `login_token` (`ID,Token`) or `login_email` + `login_password`;
    /// optional `user_id` (agent acting for a user), `login_code` (a D令牌 code for the
    /// first call) and `d_token_cookie` (`t<id>=value` remembered earlier).
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let creds = &account.credentials;
        let login = match creds.get("login_token").filter(|t| !t.trim().is_empty()) {
            Some(token) => Login::Token(token.trim().to_string()),
            None => Login::Email {
                email: creds.require("login_email")?.trim().to_string(),
                password: creds.require("login_password")?.to_string(),
            },
        };
        // Only secrets: redacting ids (user_id) would blank them out of every message.
        let mut redactor = Redactor::default();
        for key in [
            "login_token",
            "login_password",
            "login_code",
            "d_token_cookie",
        ] {
            if let Some(v) = creds.get(key) {
                redactor.add(v);
            }
        }
        if let Some((_, value)) = creds.get("d_token_cookie").and_then(|c| c.split_once('=')) {
            redactor.add(value);
        }
        if let Login::Token(t) = &login {
            if let Some((_, secret)) = t.split_once(',') {
                redactor.add(secret);
            }
        }
        let cookie = creds
            .get("d_token_cookie")
            .and_then(|c| c.split_once('='))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()));
        let identity = match &login {
            Login::Token(t) => format!("token\0{t}"),
            Login::Email { email, password } => format!("email\0{email}\0{password}"),
        };
        let fingerprint = hex::encode(Md5::digest(
            format!(
                "{}\0{}\0{identity}",
                salt(),
                account.base_url.trim_end_matches('/')
            )
            .as_bytes(),
        ));
        // Connections to the same account share one exchange, so the account's rate
        // limit and its remembered D令牌 cookie hold however many handles the engine opens.
        let share_key = format!(
            "{fingerprint}\0{}\0{:?}\0{}\0{}",
            cfg.user_agent, cfg.timeout, cfg.read_retries, account.rate_limit_per_sec
        );
        let mut shared = lock(shared_exchanges());
        shared.retain(|_, w| w.strong_count() > 0);
        let exchange = match shared.get(&share_key).and_then(Weak::upgrade) {
            Some(exchange) => {
                let protocol = exchange.protocol();
                if let Some(code) = creds.get("login_code") {
                    *lock(&protocol.login_code) = Some(code.to_string());
                }
                if cookie.is_some() && lock(&protocol.cookie).is_none() {
                    *lock(&protocol.cookie) = cookie;
                }
                exchange
            }
            None => {
                let protocol = DnspodProtocol {
                    base_url: account.base_url.trim_end_matches('/').to_string(),
                    login,
                    fingerprint,
                    login_code: Mutex::new(creds.get("login_code").map(str::to_string)),
                    cookie: Mutex::new(cookie),
                };
                let exchange = Arc::new(Exchange::for_account(protocol, account, cfg, redactor)?);
                shared.insert(share_key, Arc::downgrade(&exchange));
                exchange
            }
        };
        drop(shared);
        Ok(DnspodClient {
            exchange,
            format: Format::Json,
            lang: "en",
            user_id: creds
                .get("user_id")
                .map(str::to_string)
                .filter(|u| !u.is_empty()),
        })
    }

    fn protocol(&self) -> &DnspodProtocol {
        self.exchange.protocol()
    }

    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// `en` or `cn`: the language of DNSPod's error messages.
    pub fn with_lang(mut self, cn: bool) -> Self {
        self.lang = if cn { "cn" } else { "en" };
        self
    }

    /// The same login acting for one of the agent's users.
    pub fn for_user(&self, user_id: &str) -> Self {
        DnspodClient {
            user_id: Some(user_id.to_string()),
            ..self.clone()
        }
    }

    /// The user this handle acts for, if any (the agent's `user_id`).
    pub fn acting_for(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Supplies a D令牌 code for the next call. New credentials material lifts a halt.
    pub fn set_login_code(&self, code: &str) {
        *lock(&self.protocol().login_code) = Some(code.to_string());
        lock(halted()).remove(&self.protocol().fingerprint);
    }

    /// The remembered D令牌 cookie as `t<id>=value`, for the caller to store (encrypted)
    /// as the `d_token_cookie` credential.
    pub fn remembered_cookie(&self) -> Option<String> {
        lock(&self.protocol().cookie)
            .as_ref()
            .map(|(n, v)| format!("{n}={v}"))
    }

    /// Whether these credentials are halted after an authentication failure.
    pub fn is_halted(&self) -> bool {
        self.protocol().is_halted()
    }

    /// What this handle sends for `action`: its format, language, `error_on_empty` and
    /// act-as `user_id` unless the caller chose them, then the caller's parameters
    /// (the login ones, which the protocol owns, dropped).
    fn pairs(&self, action: &ActionSpec, params: &Params) -> Vec<(String, String)> {
        let has = |k: &str| params.iter().any(|(p, _)| p.eq_ignore_ascii_case(k));
        let mut form: Vec<(String, String)> = Vec::new();
        if !has("format") {
            let f = match self.format {
                Format::Json => "json",
                Format::Xml => "xml",
            };
            form.push(("format".into(), f.into()));
        }
        if !has("lang") {
            form.push(("lang".into(), self.lang.into()));
        }
        if !has("error_on_empty") {
            form.push(("error_on_empty".into(), "no".into()));
        }
        if let Some(uid) = &self.user_id {
            if !AGENT_ACTIONS.contains(&action.action.as_str()) && !has("user_id") {
                form.push(("user_id".into(), uid.clone()));
            }
        }
        form.extend(
            params
                .iter()
                .filter(|(k, _)| !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(k)))
                .cloned(),
        );
        form
    }

    /// Runs any implemented action; the decoded document (status included) as JSON. A
    /// `Record.Modify`/`Record.Ddns` that would change nothing is answered locally.
    pub async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let spec_action = spec().require(action)?;
        let pairs = self.pairs(spec_action, params);
        let args = spec_action.bind(&pairs)?;
        let name = spec_action.action.as_str();
        if name == "Record.Modify" || name == "Record.Ddns" {
            if let Some(skipped) = self.skip_noop(name, &args).await? {
                return Ok(skipped);
            }
        }
        self.exchange.run(&args).await
    }

    /// A call whose document must have a shape: an answer `read` cannot use is retried
    /// (a read) or an unknown outcome (a write) — the exchange decides. Never skipped.
    pub async fn call_as<T>(
        &self,
        action: &str,
        params: &Params,
        read: impl Fn(Value) -> std::result::Result<T, String>,
    ) -> Result<T> {
        let spec_action = spec().require(action)?;
        let pairs = self.pairs(spec_action, params);
        let args = spec_action.bind(&pairs)?;
        self.exchange.run_as(&args, read).await
    }

    /// Compares a Record.Modify/Ddns with the record as it is; `Some` = nothing would
    /// change, so the call is answered locally (marked `"skipped": true`).
    async fn skip_noop(&self, name: &str, args: &Args<'_>) -> Result<Option<Value>> {
        let get = |k: &str| args.get(k).map(str::to_string);
        let Some(value) = get("value") else {
            // Ddns without a value uses the caller's address, which only the server sees.
            return Ok(None);
        };
        let mut info_params: Params = Vec::new();
        for k in ["domain_id", "domain", "record_id"] {
            if let Some(v) = get(k) {
                info_params.push((k.to_string(), v));
            }
        }
        let info = self.call_as("Record.Info", &info_params, Ok).await?;
        let Some(rec) = info.get("record") else {
            return Ok(None);
        };
        let cur = |k: &str| rec.get(k).map(scalar).unwrap_or_default();
        let same_line = match (get("record_line_id"), get("record_line")) {
            (Some(id), _) => id == cur("record_line_id"),
            (None, Some(line)) => line == cur("record_line"),
            (None, None) => cur("record_line") == "默认",
        };
        let sub = get("sub_domain").unwrap_or_else(|| {
            if name == "Record.Ddns" {
                cur("sub_domain")
            } else {
                "@".into()
            }
        });
        let mut same =
            same_line && sub.eq_ignore_ascii_case(&cur("sub_domain")) && value == cur("value");
        if name == "Record.Modify" {
            let ty = get("record_type").unwrap_or_default().to_uppercase();
            same = same
                && ty == cur("record_type")
                && get("ttl").is_none_or(|t| t == cur("ttl"))
                // An MX without `mx` is refused upstream (30), so it is not a no-op.
                && (ty != "MX" || get("mx").is_some_and(|m| m == cur("mx")))
                && get("status").is_none_or(|s| (s == "enable") == (cur("enabled") == "1"))
                && get("weight").is_none();
        }
        if !same {
            return Ok(None);
        }
        tracing::debug!(
            vendor = VENDOR,
            action = name,
            "modification changes nothing; not sent"
        );
        let id = cur("id");
        let mut record = json!({"id": id.parse::<u64>().map_or(Value::String(id.clone()), Value::from), "name": cur("sub_domain"), "value": cur("value")});
        if name == "Record.Modify" {
            record["status"] = Value::from(if cur("enabled") == "1" {
                "enable"
            } else {
                "disable"
            });
        }
        let mut doc = json!({"status": info.get("status").cloned().unwrap_or(Value::Null), "record": record, "skipped": true});
        if let Some(m) = doc.get_mut("status") {
            if m.is_null() {
                *m = json!({"code": "1", "message": "Action completed successful"});
            }
        }
        Ok(Some(doc))
    }
}

/// A JSON scalar as text: XML gives strings, JSON sometimes numbers, for the same field.
pub fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Decodes either format by looking at the body: `format` defaults to XML upstream, and a
/// caller may pass `format` explicitly.
pub fn decode(body: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(body).map_err(|_| "body is not UTF-8".to_string())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('<') {
        xml::parse(trimmed)
    } else {
        serde_json::from_str(trimmed).map_err(|e| e.to_string())
    }
}
