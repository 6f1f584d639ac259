//! The CNDNS client: the auth triple on every call (a fresh `otime` each time), UTF-8
//! query encoding, tolerant decoding and the mapping of `"<code> <text>"` failures to
//! core errors.

use crate::decode::decode_body;
use crate::spec::spec;
use idcgate_core::capability::Params;
use idcgate_core::spec::{ActionKind, ActionSpec};
use idcgate_core::{Error, Result, UpstreamAccount, Vendor};
use idcgate_wire::charset::decode_lenient;
use idcgate_wire::{form, Charset, HttpClient, Redactor, WireConfig, WireRequest};
use serde_json::Value;
use std::sync::Mutex;

const VENDOR: &str = "cndns";

/// One authenticated CNDNS account. `Debug` shows the account name only.
pub struct CndnsClient {
    http: HttpClient,
    base: String,
    username: String,
    api_password: String,
    email: String,
    pub(crate) contact_id: Option<String>,
    /// Extra attempts for a read whose answer held no envelope (wire retries only
    /// transport failures; a 5xx page or a broken body arrives as a response).
    read_retries: u32,
    /// Last `otime` sent, in ms: the next one is always later, because CNDNS refuses a
    /// repeated submission (10036) and two calls can fall in the same millisecond.
    last_otime: Mutex<i64>,
}

impl std::fmt::Debug for CndnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CndnsClient")
            .field("base", &self.base)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl CndnsClient {
    pub fn new(account: &UpstreamAccount, cfg: &WireConfig) -> Result<Self> {
        let username = account.credentials.require("username")?.to_string();
        let api_password = account.credentials.require("api_password")?.to_string();
        let email = account.credentials.require("email")?.to_string();
        let contact_id = account.credentials.get("contact_id").map(str::to_string);
        // md5(api_password) is a checksum input and as good as the password itself; the
        // e-mail is the other input never sent, so it stays out of logs too.
        let redactor = Redactor::new([
            api_password.clone(),
            crate::md5_hex(&api_password),
            email.clone(),
        ]);
        let http = HttpClient::new(Vendor::Cndns, cfg, account.rate_limit_per_sec, redactor)?;
        Ok(CndnsClient {
            http,
            base: account.base_url.trim_end_matches('/').to_string(),
            username,
            api_password,
            email,
            contact_id,
            read_retries: cfg.read_retries,
            last_otime: Mutex::new(0),
        })
    }

    /// Runs an implemented action by id or short name with spec validation. A list
    /// item the answer broke is skipped (and logged): the rest is still good.
    pub async fn call(&self, action: &str, params: &Params) -> Result<Value> {
        self.call_with(action, params, Lists::Tolerant).await
    }

    async fn call_with(&self, action: &str, params: &Params, lists: Lists) -> Result<Value> {
        let a = spec().require(action)?;
        a.validate(params.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|(field, reason)| Error::invalid(field, reason))?;
        self.send(a, params, lists).await
    }

    /// Convenience for typed callers: `&[("domainname", "x.com")]`.
    pub(crate) async fn call_kv(&self, action: &str, kv: &[(&str, &str)]) -> Result<Value> {
        self.call_with(action, &to_params(kv), Lists::Tolerant)
            .await
    }

    /// A listing the inventory trusts as complete (sync marks what it lacks as gone):
    /// an answer with a broken item is retried like an unreadable one, then refused.
    pub(crate) async fn list_kv(&self, action: &str, kv: &[(&str, &str)]) -> Result<Value> {
        self.call_with(action, &to_params(kv), Lists::Whole).await
    }

    /// `yyyyMMddHHmmssfff` in China time, strictly later than the previous one.
    fn next_otime(&self) -> String {
        let mut last = idcgate_core::lock(&self.last_otime);
        let ms = crate::now_ms().max(*last + 1);
        *last = ms;
        crate::china(ms).strftime("%Y%m%d%H%M%S%3f").to_string()
    }

    async fn send(&self, a: &ActionSpec, params: &Params, lists: Lists) -> Result<Value> {
        // Transport failures were already retried (reads only) inside `HttpClient`; what
        // is retried here is a read answered with a body that holds no envelope.
        let attempts = match a.kind {
            ActionKind::Read => 1 + self.read_retries,
            ActionKind::Write => 1,
        };
        let mut attempt = 1;
        loop {
            match self.send_once(a, params, lists).await? {
                Answer::Envelope(result) => return result,
                Answer::Unreadable(message) if attempt < attempts => {
                    tracing::debug!(action = %a.id, attempt, %message, "retrying a read");
                    tokio::time::sleep(std::time::Duration::from_millis(200 << attempt.min(5)))
                        .await;
                    attempt += 1;
                }
                Answer::Unreadable(message) => return Err(bad_body(a, message)),
            }
        }
    }

    /// One signed request (a fresh otime each time, so a retry is never a replay).
    async fn send_once(&self, a: &ActionSpec, params: &Params, lists: Lists) -> Result<Answer> {
        let otime = self.next_otime();
        let mut pairs: Vec<(String, String)> = vec![
            ("username".into(), self.username.clone()),
            ("otime".into(), otime.clone()),
            (
                "checksum".into(),
                crate::checksum(&self.username, &self.api_password, &otime, &self.email),
            ),
        ];
        pairs.extend(params.iter().cloned());
        // Fixed sub-query selectors (GetstatTop's `type`) come from the spec's defaults.
        for p in &a.params {
            if let Some(d) = &p.default {
                if form::get(&pairs, &p.name).is_none() && p.required {
                    pairs.push((p.name.clone(), d.clone()));
                }
            }
        }
        let path: String = a.path.chars().filter(|c| !c.is_whitespace()).collect();
        let url = format!("{}/{}", self.base, path.trim_start_matches('/'));
        let body = form::encode(&pairs, Charset::Utf8);
        let req = if a.method.eq_ignore_ascii_case("POST") {
            WireRequest::form_post(url, body, "utf-8")
        } else {
            WireRequest::get(format!("{url}?{body}"))
        };
        let resp = self.http.send(&a.id, a.kind, &req).await?;
        let text = decode_lenient(&resp.body);
        let Some(d) = decode_body(&text) else {
            return Ok(Answer::Unreadable(format!(
                "HTTP {} with a body that holds no CNDNS envelope",
                resp.status
            )));
        };
        if d.skipped > 0 {
            if lists == Lists::Whole {
                return Ok(Answer::Unreadable(format!(
                    "{} unreadable item(s) in a listing that must be complete",
                    d.skipped
                )));
            }
            tracing::warn!(action = %a.id, skipped = d.skipped, "unreadable list items skipped");
        }
        if d.success {
            if d.extra.is_empty() {
                return Ok(Answer::Envelope(Ok(d.message)));
            }
            // Keys beside `message` (ReplyDetail) are part of the answer.
            let mut o = d.extra;
            o.insert("message".into(), d.message);
            return Ok(Answer::Envelope(Ok(Value::Object(o))));
        }
        let text = match &d.message {
            Value::String(s) => s.trim().to_string(),
            other => other.to_string(),
        };
        Ok(Answer::Envelope(Err(map_failure(a, &text))))
    }
}

fn to_params(kv: &[(&str, &str)]) -> Params {
    kv.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Whether a list item the answer broke may be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lists {
    Tolerant,
    Whole,
}

/// What one request brought back: an envelope (success or a CNDNS failure), or a body
/// with none in it.
enum Answer {
    Envelope(Result<Value>),
    Unreadable(String),
}

/// A body we cannot read: retry-safe for reads, an unknown outcome for writes (the
/// change may have been committed before the answer broke).
fn bad_body(a: &ActionSpec, message: String) -> Error {
    match a.kind {
        ActionKind::Read => Error::Transport {
            vendor: VENDOR.into(),
            message,
        },
        ActionKind::Write => Error::UnknownOutcome {
            vendor: VENDOR.into(),
            action: a.id.clone(),
            message,
        },
    }
}

/// Codes the auth chapter defines (and the support host's own 4000x auth codes).
fn is_auth(a: &ActionSpec, code: u32) -> bool {
    matches!(code, 10001..=10008 | 10022 | 10023 | 10035 | 10036 | 10041)
        && !a.id.contains("getproductprice")
        && !a.id.contains("getrenewprice")
        || (a.id.starts_with("cndns:support/") && (40001..=40007).contains(&code))
}

/// Maps `"<5-digit code> <text>"` (codes are per endpoint; the text is kept verbatim).
pub(crate) fn map_failure(a: &ActionSpec, message: &str) -> Error {
    let digits: String = message.chars().take_while(char::is_ascii_digit).collect();
    let text = message[digits.len()..].trim().to_string();
    let Ok(code) = digits.parse::<u32>() else {
        // getProductPrice / getRenewPrice and the CDN/DDOS/百度云/阿里云 modules fail
        // with free text only: classify by the text, keep it verbatim.
        return if message.contains("余额不足") || message.contains("金额不足") {
            Error::InsufficientBalance {
                vendor: VENDOR.into(),
                message: message.into(),
            }
        } else if message.contains("不存在") {
            Error::NotFound {
                what: message.into(),
            }
        } else {
            Error::upstream(VENDOR, "", message)
        };
    };
    let verbatim = format!("{code} {text}");
    if is_auth(a, code) {
        return Error::Authentication {
            vendor: VENDOR.into(),
            message: verbatim,
        };
    }
    if matches!(code, 10021 | 11738) || text.contains("余额不足") || text.contains("金额不足")
    {
        return Error::InsufficientBalance {
            vendor: VENDOR.into(),
            message: verbatim,
        };
    }
    if matches!(
        code,
        10019 | 10025 | 11109 | 11302 | 11318 | 11701 | 11722 | 11744 | 11750 | 11752 | 17102
    ) || (code == 10014 && text.contains("不存在"))
    {
        return Error::NotFound { what: verbatim };
    }
    if let Some(field) = field_of(a, code, &text) {
        return Error::InvalidInput {
            field,
            reason: verbatim,
        };
    }
    Error::upstream(VENDOR, code, text)
}

/// The field an invalid-input failure points at: named in the text as `(field ...)`
/// (the simulator does this, and it is the only sure way since codes are per endpoint),
/// else the documented meaning of the code.
fn field_of(a: &ActionSpec, code: u32, text: &str) -> Option<String> {
    for p in &a.params {
        if text.contains(&format!("({}", p.name)) {
            return Some(p.name.clone());
        }
    }
    let check = a.id == "cndns:dmcheck/check";
    let f = match code {
        10011 | 10012 => "params",
        11101 | 11104 if check => "domain-name",
        11102 | 11105 | 11107 if check => "tld",
        11105 | 11131 => "userid",
        11106 | 11301 | 11728 => "domainname",
        11107 | 11132 => "domainpass",
        11108 | 11133 | 11601 => "years",
        11303 | 11309 | 11310 => "rec_item",
        11304 | 11311 => "rec_level",
        11305 | 11312..=11316 => "rec_value",
        11306 => "rec_type",
        11317 => "rec_id",
        11401 => "dns_hst1",
        11402 => "dns_hst2",
        11403 => "dns_hst",
        11501 => "password",
        11605 => "exptme",
        11729 => "userid",
        11001..=11028 | 11048 | 11049 => "contact",
        _ => return None,
    };
    Some(f.to_string())
}
