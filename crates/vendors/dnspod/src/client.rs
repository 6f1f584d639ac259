//! The DNSPod client: login parameters, form encoding, JSON/XML decoding, error mapping
//! and the protections that keep an account out of DNSPod's abuse rules:
//!
//! - after an authentication failure the credentials are halted process-wide until they
//!   change (DNSPod bans login after 30 failures in 5 minutes; a retry storm from a sync
//!   loop would lock the customer out of their own account);
//! - `Record.Modify`/`Record.Ddns` that would change nothing are not sent (5 no-op
//!   modifications in an hour lock the record);
//! - every call goes through `HttpClient`, which holds the per-account rate limit.

use crate::spec::{check_err, spec, AGENT_ACTIONS};
use crate::xml;
use idcgate_core::capability::Params;
use idcgate_core::spec::ActionKind;
use idcgate_core::{Error, Result, UpstreamAccount, Vendor};
use idcgate_wire::{Charset, HttpClient, Redactor, WireConfig, WireRequest};
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

struct Inner {
    http: HttpClient,
    read_retries: u32,
    base_url: String,
    login: Login,
    /// Identifies the credentials (salted hash) in the halt registry.
    fingerprint: String,
    /// A D令牌 code to send with the next call (one-shot).
    login_code: Mutex<Option<String>>,
    /// The remembered D令牌 cookie (`t<user_id>`, value).
    cookie: Mutex<Option<(String, String)>>,
}

/// A handle on one DNSPod account. Cheap to clone; clones share the login state.
#[derive(Clone)]
pub struct DnspodClient {
    inner: Arc<Inner>,
    format: Format,
    lang: &'static str,
    /// Agent acting for one of its users (DNSPod's common `user_id` parameter).
    user_id: Option<String>,
}

impl std::fmt::Debug for DnspodClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DnspodClient")
            .field("base_url", &self.inner.base_url)
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

/// Live transports by account (salted fingerprint + wire settings).
fn shared_transports() -> &'static Mutex<HashMap<String, Weak<Inner>>> {
    static SHARED: OnceLock<Mutex<HashMap<String, Weak<Inner>>>> = OnceLock::new();
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
        // Connections to the same account share one transport, so the account's rate
        // limit and its remembered D令牌 cookie hold however many handles the engine opens.
        let share_key = format!(
            "{fingerprint}\0{}\0{:?}\0{}\0{}",
            cfg.user_agent, cfg.timeout, cfg.read_retries, account.rate_limit_per_sec
        );
        let mut shared = lock(shared_transports());
        shared.retain(|_, w| w.strong_count() > 0);
        let inner = match shared.get(&share_key).and_then(Weak::upgrade) {
            Some(inner) => {
                if let Some(code) = creds.get("login_code") {
                    *lock(&inner.login_code) = Some(code.to_string());
                }
                if cookie.is_some() && lock(&inner.cookie).is_none() {
                    *lock(&inner.cookie) = cookie;
                }
                inner
            }
            None => {
                let http =
                    HttpClient::new(Vendor::Dnspod, cfg, account.rate_limit_per_sec, redactor)?;
                let inner = Arc::new(Inner {
                    http,
                    read_retries: cfg.read_retries,
                    base_url: account.base_url.trim_end_matches('/').to_string(),
                    login,
                    fingerprint,
                    login_code: Mutex::new(creds.get("login_code").map(str::to_string)),
                    cookie: Mutex::new(cookie),
                });
                shared.insert(share_key, Arc::downgrade(&inner));
                inner
            }
        };
        drop(shared);
        Ok(DnspodClient {
            inner,
            format: Format::Json,
            lang: "en",
            user_id: creds
                .get("user_id")
                .map(str::to_string)
                .filter(|u| !u.is_empty()),
        })
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

    /// Supplies a D令牌 code for the next call. New credentials material lifts a halt.
    pub fn set_login_code(&self, code: &str) {
        *lock(&self.inner.login_code) = Some(code.to_string());
        lock(halted()).remove(&self.inner.fingerprint);
    }

    /// The remembered D令牌 cookie as `t<id>=value`, for the caller to store (encrypted)
    /// as the `d_token_cookie` credential.
    pub fn remembered_cookie(&self) -> Option<String> {
        lock(&self.inner.cookie)
            .as_ref()
            .map(|(n, v)| format!("{n}={v}"))
    }

    /// Whether these credentials are halted after an authentication failure.
    pub fn is_halted(&self) -> bool {
        lock(halted()).contains(&self.inner.fingerprint)
    }

    /// Runs any implemented action; the decoded document (status included) as JSON.
    pub async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        let spec_action = spec().require(action)?;
        check_err(
            spec_action,
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )?;
        let name = spec_action.action.as_str();
        if name == "Record.Modify" || name == "Record.Ddns" {
            if let Some(skipped) = self.skip_noop(name, params).await? {
                return Ok(skipped);
            }
        }
        self.send(name, params).await
    }

    /// One request: login params, form encoding, decoding, error mapping.
    pub(crate) async fn send(&self, name: &str, params: &Params) -> Result<Value> {
        let action = spec().require(name)?;
        if self.is_halted() {
            return Err(Error::Authentication {
                vendor: VENDOR.into(),
                message: "login halted after an authentication failure; update the credentials (DNSPod bans login after repeated failures)".into(),
            });
        }
        let mut form: Vec<(String, String)> = Vec::new();
        match &self.inner.login {
            Login::Token(t) => form.push(("login_token".into(), t.clone())),
            Login::Email { email, password } => {
                form.push(("login_email".into(), email.clone()));
                form.push(("login_password".into(), password.clone()));
            }
        }
        let code = lock(&self.inner.login_code).clone();
        if let Some(code) = &code {
            form.push(("login_code".into(), code.clone()));
            form.push(("login_remember".into(), "yes".into()));
        }
        let has = |k: &str| params.iter().any(|(p, _)| p.eq_ignore_ascii_case(k));
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
            if !AGENT_ACTIONS.contains(&name) && !has("user_id") {
                form.push(("user_id".into(), uid.clone()));
            }
        }
        form.extend(
            params
                .iter()
                .filter(|(k, _)| !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(k)))
                .cloned(),
        );
        let body = idcgate_wire::form::encode(&form, Charset::Utf8);
        let mut req = WireRequest::form_post(
            format!("{}{}", self.inner.base_url, action.path),
            body,
            "UTF-8",
        );
        if let Some((n, v)) = lock(&self.inner.cookie).clone() {
            req.headers.push(("Cookie".into(), format!("{n}={v}")));
        }
        // Reads whose answer arrives broken (non-200, not JSON/XML, no status) are retried
        // like transport failures; a broken answer to a write is an unknown outcome.
        let attempts = match action.kind {
            ActionKind::Read => 1 + self.inner.read_retries,
            ActionKind::Write => 1,
        };
        let mut last = String::new();
        let mut answer = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(200 << attempt.min(4))).await;
            }
            match self.exchange(action, &req).await? {
                Ok(doc) => {
                    answer = Some(doc);
                    break;
                }
                Err(what) => {
                    tracing::warn!(vendor = VENDOR, action = name, attempt, %what, "broken answer");
                    last = what;
                }
            }
        }
        let Some((doc, code)) = answer else {
            return Err(match action.kind {
                ActionKind::Read => Error::Transport {
                    vendor: VENDOR.into(),
                    message: last,
                },
                ActionKind::Write => Error::UnknownOutcome {
                    vendor: VENDOR.into(),
                    action: action.id.clone(),
                    message: last,
                },
            });
        };
        if code == "1" {
            // A D令牌 code is single-use; the remembered cookie carries the login on.
            *lock(&self.inner.login_code) = None;
            return Ok(doc);
        }
        let message = doc
            .pointer("/status/message")
            .map(scalar)
            .unwrap_or_default();
        let message = self.inner.http.redactor().redact(&message);
        let err = map_error(name, &code, &message);
        if is_login_failure(&code, &message) {
            tracing::warn!(vendor = VENDOR, action = name, code = %code, "authentication failed; halting these credentials");
            lock(halted()).insert(self.inner.fingerprint.clone());
            *lock(&self.inner.login_code) = None;
        }
        Err(err)
    }

    /// One HTTP exchange. `Ok(Err(_))` = an answer arrived but is not a DNSPod document.
    async fn exchange(
        &self,
        action: &idcgate_core::spec::ActionSpec,
        req: &WireRequest,
    ) -> Result<std::result::Result<(Value, String), String>> {
        let resp = self.inner.http.send(&action.id, action.kind, req).await?;
        for sc in resp.header("set-cookie") {
            let first = sc.split(';').next().unwrap_or("");
            if let Some((n, v)) = first.split_once('=') {
                let n = n.trim();
                if n.len() > 1 && n.starts_with('t') && n[1..].bytes().all(|b| b.is_ascii_digit()) {
                    *lock(&self.inner.cookie) = Some((n.to_string(), v.trim().to_string()));
                }
            }
        }
        if resp.status != 200 {
            // DNSPod answers 200 even for refusals; anything else came from a proxy or a
            // crash, before or after the change.
            return Ok(Err(format!("HTTP {}", resp.status)));
        }
        let doc = match decode(&resp.body) {
            Ok(doc) => doc,
            Err(e) => return Ok(Err(format!("malformed response: {e}"))),
        };
        match doc.pointer("/status/code").map(scalar) {
            Some(code) => Ok(Ok((doc, code))),
            None => Ok(Err("response without status.code".into())),
        }
    }

    /// Compares a Record.Modify/Ddns with the record as it is; `Some` = nothing would
    /// change, so the call is answered locally (marked `"skipped": true`).
    async fn skip_noop(&self, name: &str, params: &Params) -> Result<Option<Value>> {
        let get = |k: &str| {
            params
                .iter()
                .find(|(p, _)| p.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
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
        let info = self.send("Record.Info", &info_params).await?;
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

fn is_login_failure(code: &str, message: &str) -> bool {
    match code {
        "-1" | "10002" | "50" | "52" | "83" | "85" => true,
        // -8 is the login ban in the common list but "domain needs upgrade" per method.
        "-8" => {
            let m = message.to_lowercase();
            m.contains("login") || message.contains("登录")
        }
        _ => false,
    }
}

/// DNSPod codes mean different things per method; read them together.
pub fn map_error(action: &str, code: &str, message: &str) -> Error {
    let vendor = || VENDOR.to_string();
    if is_login_failure(code, message) {
        return Error::Authentication {
            vendor: vendor(),
            message: format!("{code} {message}"),
        };
    }
    let id_msg = |m: &str| {
        let l = m.to_lowercase();
        l.contains("domain id")
            || l.contains("record id")
            || m.contains("域名ID")
            || m.contains("记录ID")
            || m.contains("域名编号")
            || m.contains("记录编号")
            || l.contains("monitor id")
            || m.contains("监控编号")
    };
    match (action, code) {
        (_, "-2") => Error::RateLimited {
            vendor: vendor(),
            message: message.to_string(),
        },
        ("Domain.Upgrade", "13") => Error::InsufficientBalance {
            vendor: vendor(),
            message: message.to_string(),
        },
        ("Domain.Upgrade", "7")
        | ("User.Under", "7")
        | ("Batch.Detail", "8")
        | ("Monitor.Listsubdomain", "6")
        | ("Monitor.Listsubvalue", "6") => Error::not_found(format!("{action}: {message}")),
        // 13 is "Domain is not exists" wherever a domain is looked up by name, except in
        // the methods that number their own refusals up to it.
        (a, "13")
            if !a.starts_with("Domain.Acquire")
                && !matches!(
                    a,
                    "Domain.Upgrade" | "User.Create" | "Monitor.Create" | "Monitor.Modify"
                ) =>
        {
            Error::not_found(format!("{action}: {message}"))
        }
        (_, "6" | "7" | "8") if id_msg(message) => Error::not_found(format!("{action}: {message}")),
        (a, c) if a.starts_with("Record.") && a != "Record.List" => {
            let field = match c {
                "22" | "23" | "24" => Some("sub_domain"),
                "26" => Some("record_line"),
                "27" => Some("record_type"),
                "29" | "32" if a != "Record.Modify" || c == "29" => Some("ttl"),
                "30" => Some("mx"),
                "34" => Some("value"),
                _ => None,
            };
            match field {
                Some(f) => Error::invalid(f, format!("{code} {message}")),
                None => Error::upstream(vendor(), code, message),
            }
        }
        _ => Error::upstream(vendor(), code, message),
    }
}

#[cfg(test)]
mod tests {
    use super::map_error;
    use idcgate_core::Error;

    /// DNSPod reuses small codes with per-method meanings; each pair below is one the
    /// catalog documents.
    #[test]
    fn codes_are_read_per_method() {
        let kind = |action: &str, code: &str, msg: &str| match map_error(action, code, msg) {
            Error::Authentication { .. } => "auth".to_string(),
            Error::RateLimited { .. } => "rate".into(),
            Error::NotFound { .. } => "not_found".into(),
            Error::InsufficientBalance { .. } => "balance".into(),
            Error::InvalidInput { field, .. } => format!("invalid:{field}"),
            Error::Upstream { code, .. } => format!("upstream:{code}"),
            other => format!("{other:?}"),
        };
        for (action, code, msg, want) in [
            (
                "Domain.List",
                "-1",
                "Login fail, please check login info",
                "auth",
            ),
            (
                "User.Detail",
                "10002",
                "The login token ID is invalid",
                "auth",
            ),
            ("User.Detail", "-8", "Login failed too many times", "auth"),
            (
                "Record.Create",
                "-8",
                "agent user's domain needs upgrade",
                "upstream:-8",
            ),
            ("Record.Modify", "-2", "API usage is limited", "rate"),
            ("Domain.Info", "13", "Domain is not exists", "not_found"),
            (
                "Domain.Acquire",
                "13",
                "Personal account can not acquire",
                "upstream:13",
            ),
            (
                "Monitor.Create",
                "13",
                "Monitor points invalid",
                "upstream:13",
            ),
            ("Domain.Upgrade", "13", "Balance insufficient", "balance"),
            ("Record.Info", "8", "Record id invalid", "not_found"),
            ("Domain.Create", "7", "Domain is exists", "upstream:7"),
            (
                "Record.Create",
                "22",
                "Subdomain invalid",
                "invalid:sub_domain",
            ),
            ("Record.Create", "32", "TTL over limit", "invalid:ttl"),
            (
                "Record.Modify",
                "32",
                "NS record count exceeded",
                "upstream:32",
            ),
            ("Record.Modify", "29", "TTL too small", "invalid:ttl"),
            ("Record.List", "10", "No records", "upstream:10"),
        ] {
            assert_eq!(kind(action, code, msg), want, "{action} {code}");
        }
    }
}
